// Verdict: why an event did or did not raise an incident. Every event that opened nothing keeps
// one (verdict_log.h); GET /api/v1/events/{id}/verdict answers with it.
// Thread-safety: plain values.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "daemon/event.h"

namespace vigil::verdicts {

enum class Reason : uint8_t {
  kOpened,            // opened an incident: nothing to explain, not stored
  kNoMatch,           // no rule matched and the event carried no state
  kNoState,           // a rule matched but left the event without a state: nothing to open
  kDropped,           // dropped by a rule (`rule`)
  kMaintenance,       // suppressed by a maintenance window (`window`)
  kSymptom,           // opened a symptom of incident `incident` (a failure behind it)
  kHeld,              // held by a correlation primitive (`detail` says which and why)
  kDeduplicated,      // updated the already open incident `incident`
  kResolved,          // resolved incident `incident`
  kUnmatchedResolve,  // a clear with no open incident under its key
};
inline constexpr size_t kReasonCount = static_cast<size_t>(Reason::kUnmatchedResolve) + 1;
// "opened", "no_match", "no_state", "dropped", "maintenance", "symptom", "held", "deduplicated",
// "resolved", "unmatched_resolve": the JSON values and the metric's `reason` label.
std::string_view reasonName(Reason reason);
std::optional<Reason> parseReason(std::string_view name);

struct Verdict {
  Reason reason = Reason::kOpened;
  std::string rule;      // the rule that decided ("" = the default incident step)
  std::string key;       // the incident key the rules chose, if any
  std::string window;    // kMaintenance: the window's id
  std::string detail;    // free text: what a correlation primitive or window said
  uint64_t incident = 0;  // kDeduplicated, kResolved, kSymptom (the parent), kOpened

  void reset() {
    reason = Reason::kOpened;
    rule.clear();
    key.clear();
    window.clear();
    detail.clear();
    incident = 0;
  }
  // For correlation primitives (rules::Action::kHold): the event is held, `detail` says why,
  // e.g. "threshold 2/3 within 5m".
  void hold(std::string_view why) {
    reason = Reason::kHeld;
    detail.assign(why);
  }
};

// `verdicts:` in the daemon config.
struct VerdictOptions {
  std::chrono::milliseconds retention{std::chrono::hours(24)};  // verdicts older than this are trimmed
  uint64_t max_records = 10000000;  // per partition: verdicts of events older than the last N ids are trimmed
  size_t trim_per_tick = 20000;     // deletions per timer round, so a backlog never stalls a batch
};

// A verdict as stored: the verdict plus which event, CI and when.
struct VerdictRecord {
  uint64_t event_id = 0;
  TimePoint at{};          // when the correlator decided (retention goes by this)
  TimePoint event_time{};  // the event's own time
  std::string ci;
  std::string host;
  Verdict verdict;
};

// Compact binary value for the store: version byte, varints, length-prefixed strings.
void encode(const VerdictRecord& record, std::string& out);
bool decode(std::string_view in, VerdictRecord& out);

// A record's fields where the correlator has them (the event, its verdict): appended to a chunk
// without copying its strings into a VerdictRecord first.
struct VerdictRecordRef {
  uint64_t event_id = 0;
  TimePoint at{};
  TimePoint event_time{};
  std::string_view ci;
  std::string_view host;
  const Verdict& verdict;
};

// The records of one correlator batch packed into one store value, so recording verdicts costs one
// put per batch rather than one per event.
void appendToChunk(const VerdictRecordRef& record, std::string& chunk);
// Visits a chunk's records in order until `visit` returns false; a value holding one encoded
// record (the layout before chunks) is visited as a chunk of one. False when unreadable.
bool forEachInChunk(std::string_view chunk, const std::function<bool(VerdictRecord&)>& visit);
void toJson(const VerdictRecord& record, nlohmann::json& out);

}  // namespace vigil::verdicts
