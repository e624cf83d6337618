// Event: the one data type that flows through the pipeline. Connectors decode their wire format
// into Events; binding, rules and the incident step read and refine them.
// Thread-safety: a plain value; moved from the io threads to the correlator thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// Ordered from most to least severe, so `a < b` means a is worse than b.
enum class Severity : uint8_t { kCritical, kMajor, kMinor, kWarning, kInfo };
enum class EventState : uint8_t { kNone, kProblem, kOk };

std::string_view severityName(Severity severity);
std::optional<Severity> parseSeverity(std::string_view name);
std::string_view eventStateName(EventState state);
std::optional<EventState> parseEventState(std::string_view name);

// A flat string map kept in insertion order. Events carry a handful of labels, so a vector beats a
// node-based map on both speed and memory.
class Labels {
 public:
  using Entry = std::pair<std::string, std::string>;

  const std::string* find(std::string_view key) const;
  void set(std::string_view key, std::string_view value);
  bool erase(std::string_view key);
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }
  void reserve(size_t n) { entries_.reserve(n); }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }
  bool operator==(const Labels& other) const = default;

 private:
  std::vector<Entry> entries_;
};

struct Event {
  std::string source;                  // "syslog/tcp", "replay", "http", "kafka/<topic>"
  TimePoint received_at{};             // when vigil took it in
  std::optional<TimePoint> occurred_at;  // the event's own timestamp, if it has one
  std::string host;                    // CI lookup key as the sender named it
  std::string ci;                      // explicit CI id, if the sender gave one
  std::string type;                    // "link", "bgp", "disk", ... (set by sender or rules)
  Severity severity = Severity::kInfo;
  EventState state = EventState::kNone;
  std::string message;
  Labels labels;                       // everything else; unknown JSON fields land here
  uint16_t partition = 0;              // state shard: Kafka partition, 0 for local sources

  // Event time: the event's own timestamp when it has one, else arrival time.
  TimePoint time() const { return occurred_at.value_or(received_at); }
};

// What events hold in memory: the structs and their strings' and labels' heap buffers. An
// estimate for memory bounds (the pipeline queue's pipeline.queue_bytes), not an exact count.
size_t approxMemoryBytes(std::span<const Event> events);

}  // namespace vigil
