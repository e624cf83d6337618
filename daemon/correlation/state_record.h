// The correlation state records (the kCorrelation column's values) as JSON text, written straight
// into a string. The bytes are the ones nlohmann::json's dump(-1, ' ', false,
// error_handler_t::replace) gave for the same record as a DOM (keys in sorted order, invalid UTF-8
// replaced by U+FFFD), so stores written before restore unchanged; building that DOM for every
// dirty key was a large share of the correlator thread's time.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "daemon/event.h"
#include "rules/decision.h"

namespace vigil::correlation {

// Appends `text` as a JSON string: quotes, backslashes and control characters escaped, bytes
// that are not valid UTF-8 replaced by U+FFFD.
void appendJsonString(std::string& out, std::string_view text);

// A threshold, pair, flapping, group or heartbeat key ('s' and 'k' records).
struct EntryRecord {
  std::string_view rule;
  std::string_view hash;  // of the primitive's spec: a changed rule drops the state
  std::string_view key;
  std::span<const TimePoint> times;
  std::span<const rules::TriggerEvent> held;
  std::optional<TimePoint> deadline;
  EventState last_state = EventState::kNone;
  bool flapping = false;
  bool opened = false;
  std::string_view target, title, host, ci, type;
  Severity severity = Severity::kMajor;
};
std::string encodeEntryRecord(const EntryRecord& entry);

// A resolved incident remembered for reopen_within / auto_close_after ('r' records).
struct ResolvedRecord {
  std::string_view rule;
  std::string_view key;
  uint64_t id = 0;
  TimePoint resolved_at{};
  std::optional<TimePoint> deadline;
};
std::string encodeResolvedRecord(const ResolvedRecord& resolved);

}  // namespace vigil::correlation
