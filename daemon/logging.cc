#include "daemon/logging.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "daemon/time_util.h"

namespace vigil {

namespace {

// sd-daemon(3) priorities: <3> err … <7> debug.
int journalPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical: return 2;
    case spdlog::level::err: return 3;
    case spdlog::level::warn: return 4;
    case spdlog::level::info: return 6;
    default: return 7;
  }
}

std::string_view levelName(spdlog::level::level_enum level) {
  const auto name = spdlog::level::to_string_view(level);
  return {name.data(), name.size()};
}

void append(spdlog::memory_buf_t& dest, std::string_view s) { dest.append(s.data(), s.data() + s.size()); }

class LineFormatter : public spdlog::formatter {
 public:
  LineFormatter(bool json, bool journal) : json_(json), journal_(journal) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    if (journal_) append(dest, "<" + std::to_string(journalPriority(msg.level)) + ">");
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    if (json_) {
      const nlohmann::json record = {
          {"ts", formatRfc3339(std::chrono::time_point_cast<TimePoint::duration>(msg.time))},
          {"level", levelName(msg.level)},
          {"msg", payload}};
      append(dest, record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
      if (!journal_) {
        append(dest, "ts=");
        append(dest, formatRfc3339(std::chrono::time_point_cast<TimePoint::duration>(msg.time)));
        append(dest, " ");
      }
      append(dest, "level=");
      append(dest, levelName(msg.level));
      append(dest, " ");
      for (char c : payload) {
        if (c == '\n') {
          append(dest, "\\n");
        } else {
          dest.push_back(c);
        }
      }
    }
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<LineFormatter>(json_, journal_); }

 private:
  bool json_;
  bool journal_;
};

}  // namespace

bool stderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

Status setupLogging(const std::string& level, const std::string& format) {
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return Status::invalidArgument("unknown log level '" + level + "'");
  }
  if (format != "text" && format != "json") {
    return Status::invalidArgument("unknown log format '" + format + "' (expected text or json)");
  }
  auto logger = spdlog::get("vigil");
  if (!logger) logger = spdlog::stderr_logger_mt("vigil");
  logger->set_formatter(std::make_unique<LineFormatter>(format == "json", stderrIsJournal()));
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return Status::ok();
}

}  // namespace vigil
