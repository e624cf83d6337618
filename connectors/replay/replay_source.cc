#include "connectors/replay/replay_source.h"

#include <condition_variable>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>

#include <spdlog/spdlog.h>

#include "daemon/event_json.h"

namespace vigil::connectors {

namespace {

// Counts batches until all have been committed; shared with the commit callbacks.
struct CommitTracker {
  std::mutex mu;
  std::condition_variable done;
  uint64_t pending = 0;
  uint64_t committed = 0;
  uint64_t failed = 0;
};

}  // namespace

Result<ReplayStats> replayFile(const std::string& path, EventSink& sink, const ReplayOptions& options) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) return fail(Status::ioError("cannot open replay file " + path));
    in = &file;
  }
  auto tracker = std::make_shared<CommitTracker>();
  EventDecoder decoder;
  ReplayStats stats;
  EventBatch batch;
  auto flush = [&]() -> bool {
    if (batch.events.empty()) return true;
    const uint64_t n = batch.events.size();
    {
      std::lock_guard lock(tracker->mu);
      tracker->pending += n;
    }
    batch.on_commit = [tracker, n](const Status& s) {
      std::lock_guard lock(tracker->mu);
      tracker->pending -= n;
      (s.isOk() ? tracker->committed : tracker->failed) += n;
      tracker->done.notify_all();
    };
    stats.events += n;
    if (!sink.push(std::move(batch))) return false;
    batch = EventBatch{};
    batch.events.reserve(options.batch_events);
    return true;
  };
  std::string line;
  while (std::getline(*in, line)) {
    ++stats.lines;
    if (line.empty() || line[0] == '#') continue;
    if (line.size() > options.max_line_bytes) {
      ++stats.bad_lines;
      spdlog::warn("replay: {}:{}: line longer than {} bytes, skipped", path, stats.lines, options.max_line_bytes);
      continue;
    }
    Status s = decoder.decode(line, "replay", Clock::now(), batch.events);
    if (!s.isOk()) {
      ++stats.bad_lines;
      if (stats.bad_lines <= 10) {
        spdlog::warn("replay: {}:{}: {}: {}", path, stats.lines, s.message(), line.substr(0, 200));
      }
      continue;
    }
    if (batch.events.size() >= options.batch_events && !flush()) {
      return fail(Status::unavailable("pipeline closed during replay"));
    }
  }
  if (!flush()) return fail(Status::unavailable("pipeline closed during replay"));
  std::unique_lock lock(tracker->mu);
  tracker->done.wait(lock, [&] { return tracker->pending == 0; });
  stats.committed = tracker->committed;
  stats.failed = tracker->failed;
  return stats;
}

}  // namespace vigil::connectors
