#include "benchmarks/loadgen/workload.h"

#include <array>
#include <ctime>

namespace vigil::loadgen {

namespace {

// 2026-01-01T00:00:00Z: the stream's event time starts here and advances 1 ms per event.
constexpr uint64_t kEpochMs = 1767225600000ull;

constexpr std::array<const char*, 4> kNoise = {
    "%SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.{a})",
    "%SEC-6-IPACCESSLOGP: list 101 denied tcp 10.1.{a}.{b}(3345) -> 10.2.0.1(22), 1 packet",
    "%SSH-5-SSH2_SESSION: SSH2 Session request from 10.9.{a}.{b} (tty = 0) using crypto cipher 'aes256-ctr'",
    "%DOT1X-5-SUCCESS: Authentication successful for client (0011.2233.{a}) on Interface Gi1/0/{b}",
};

std::string fill(const char* pattern, uint64_t a, uint64_t b) {
  std::string out;
  for (const char* p = pattern; *p != '\0'; ++p) {
    if (p[0] == '{' && (p[1] == 'a' || p[1] == 'b') && p[2] == '}') {
      out += std::to_string(p[1] == 'a' ? a : b);
      p += 2;
    } else {
      out += *p;
    }
  }
  return out;
}

void appendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

Workload::Workload(const WorkloadOptions& options) : options_(options), rng_(options.seed) {
  active_.reserve(options.concurrent_episodes);
}

std::string Workload::hostName(uint32_t host) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "host-%05u", host);
  return buf;
}

std::string Workload::hostAddress(uint32_t host) {
  return "10." + std::to_string(100 + (host >> 16)) + "." + std::to_string((host >> 8) & 255) + "." +
         std::to_string(host & 255);
}

Workload::Episode Workload::startEpisode() {
  std::uniform_real_distribution<double> unit(0, 1);
  Episode e{};
  e.host = static_cast<uint32_t>(rng_() % options_.hosts);
  e.id = next_episode_id_++;
  const double disk_share = options_.threshold_share / (1.0 - options_.noise_share);
  if (unit(rng_) < disk_share) {
    e.kind = Kind::kDisk;
    e.qualifies = unit(rng_) < 0.5;
    e.remaining = e.qualifies ? options_.threshold + static_cast<uint32_t>(rng_() % 3)
                              : 1 + static_cast<uint32_t>(rng_() % (options_.threshold - 1));
  } else {
    e.kind = unit(rng_) < 0.6 ? Kind::kLink : Kind::kBgp;
    e.clears = unit(rng_) >= options_.unresolved_share;
    e.remaining = 1 + static_cast<uint32_t>(rng_() % 4) + (e.clears ? 1 : 0);
  }
  return e;
}

std::string Workload::message(const Episode& e, bool clear) const {
  switch (e.kind) {
    case Kind::kLink:
      return "%LINK-3-UPDOWN: Interface GigabitEthernet" + std::to_string(e.id / 48) + "/" +
             std::to_string(e.id % 48) + ", changed state to " + (clear ? "up" : "down");
    case Kind::kBgp: {
      const std::string peer = "172." + std::to_string(16 + ((e.id >> 16) & 15)) + "." +
                               std::to_string((e.id >> 8) & 255) + "." + std::to_string(e.id & 255);
      return "%BGP-5-ADJCHANGE: neighbor " + peer + (clear ? " Up" : " Down BGP Notification sent");
    }
    case Kind::kDisk:
      return "%FILESYS-4-USAGE: Filesystem /data" + std::to_string(e.id) + " is 95% full";
  }
  return {};
}

bool Workload::next(GeneratedEvent& out) {
  if (produced_ >= options_.events) return false;
  out.time_ms = kEpochMs + produced_;
  ++produced_;
  ++expect_.events;
  std::uniform_real_distribution<double> unit(0, 1);
  if (unit(rng_) < options_.noise_share) {
    ++expect_.noise;
    out.host = static_cast<uint32_t>(rng_() % options_.hosts);
    out.message = fill(kNoise[rng_() % kNoise.size()], rng_() % 250, rng_() % 48);
    return true;
  }
  size_t index;
  if (active_.empty() || (active_.size() < options_.concurrent_episodes && unit(rng_) < 0.3)) {
    active_.push_back(startEpisode());
    index = active_.size() - 1;
  } else {
    index = rng_() % active_.size();
  }
  Episode& e = active_[index];
  ++e.sent;
  --e.remaining;
  const bool clear = e.kind != Kind::kDisk && e.clears && e.remaining == 0;
  out.host = e.host;
  out.message = message(e, clear);
  if (e.kind == Kind::kDisk) {
    if (e.sent == options_.threshold) {
      ++expect_.opened;
      ++expect_.disk_opened;
    }
  } else {
    if (e.sent == 1) ++expect_.opened;
    if (clear) ++expect_.resolved;
  }
  if (e.remaining == 0) {
    if (e.kind == Kind::kDisk && e.sent < options_.threshold) ++expect_.disk_held;
    active_[index] = active_.back();
    active_.pop_back();
  }
  return true;
}

std::string rfc3339(uint64_t time_ms) {
  const std::time_t secs = static_cast<std::time_t>(time_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(time_ms % 1000));
  return buf;
}

std::string toJsonLine(const GeneratedEvent& e) {
  std::string out = "{\"time\":\"" + rfc3339(e.time_ms) + "\",\"host\":\"" + Workload::hostName(e.host) +
                    "\",\"source\":\"bench\",\"message\":";
  appendJsonString(out, e.message);
  out += "}\n";
  return out;
}

std::string toSyslogLine(const GeneratedEvent& e) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t secs = static_cast<std::time_t>(e.time_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof(stamp), "%s %2d %02d:%02d:%02d", kMonths[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  // <187> = local7.err, as Cisco devices log by default.
  return "<187>" + std::string(stamp) + " " + Workload::hostName(e.host) + " " + e.message;
}

}  // namespace vigil::loadgen
