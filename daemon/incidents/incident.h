// Incident: what NOC staff work on. Opened, updated and resolved by the correlator from events;
// acknowledged, assigned and commented by people through the API.
// Thread-safety: a plain value. The live copy belongs to the correlator thread; everyone else
// reads committed copies from the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "daemon/event.h"
#include "daemon/status.h"

namespace vigil::incidents {

// The partition (state shard) lives in the top 16 bits of the id, so each partition owns a
// contiguous id range and a sorted store scan groups incidents by partition. Local sources use
// partition 0, whose ids are simply 1, 2, 3 ...
using IncidentId = uint64_t;
inline constexpr int kPartitionShift = 48;
inline uint16_t partitionOf(IncidentId id) { return static_cast<uint16_t>(id >> kPartitionShift); }
inline IncidentId makeIncidentId(uint16_t partition, uint64_t sequence) {
  return (static_cast<uint64_t>(partition) << kPartitionShift) | sequence;
}

enum class IncidentState : uint8_t { kOpen, kAcknowledged, kResolved, kClosed };
std::string_view incidentStateName(IncidentState state);
std::optional<IncidentState> parseIncidentState(std::string_view name);

// P1 (most urgent) … P5. Derived from severity until the rules engine sets it from impact × urgency.
std::string priorityName(uint8_t priority);
uint8_t defaultPriority(Severity severity);

// One line of the audit trail; appended, never rewritten.
struct TimelineEntry {
  TimePoint at{};
  std::string action;  // "opened", "updated", "resolved", "acknowledged", ...
  std::string actor;   // "rule:<name>" or a user name
  std::string detail;
  bool operator==(const TimelineEntry&) const = default;
};

// A few of the latest events, so the incident view shows what is happening without a search.
struct EventSample {
  TimePoint at{};
  std::string source;
  Severity severity = Severity::kInfo;
  EventState state = EventState::kNone;
  std::string message;
  bool operator==(const EventSample&) const = default;
};

// Why an incident exists: filled when it opens, from the rules' decision.
struct Provenance {
  std::string rule_set_version;     // RuleSet::version() of the set that opened it
  std::string primitive;            // the correlation that fired, e.g. "threshold 3 in 5m"; "" for none
  std::vector<EventSample> events;  // the first events that made it, oldest first

  static constexpr size_t kMaxEvents = 5;
  bool empty() const { return rule_set_version.empty() && primitive.empty() && events.empty(); }
  bool operator==(const Provenance&) const = default;
};

// SLA clocks (daemon/sla): when the incident is due to be acknowledged and resolved, from the
// targets of its priority, and whether it missed them. Unset dues: no target for its priority.
struct SlaStatus {
  std::optional<TimePoint> started_at;  // when the clocks started (open or reopen)
  std::optional<TimePoint> acknowledge_due;
  std::optional<TimePoint> resolve_due;
  bool acknowledge_breached = false;
  bool resolve_breached = false;
  bool operator==(const SlaStatus&) const = default;
};

struct Incident {
  IncidentId id = 0;
  std::string key;  // dedup key
  std::string title;
  std::string description;  // from the rule's `description:` template ("" = none)
  IncidentState state = IncidentState::kOpen;
  Severity severity = Severity::kInfo;
  uint8_t priority = 5;
  std::string host;
  std::string type;
  std::string ci;
  std::vector<std::string> services;
  std::string assignment_group;
  std::string assignee;
  uint64_t event_count = 0;
  TimePoint first_seen{};
  TimePoint last_seen{};
  std::optional<TimePoint> acknowledged_at;
  std::optional<TimePoint> resolved_at;
  std::optional<TimePoint> closed_at;
  std::string rule;
  std::optional<IncidentId> parent;  // the incident this one is a symptom of
  uint64_t symptom_count = 0;        // symptoms ever attached to this one
  Labels labels;
  std::vector<TimelineEntry> timeline;
  std::vector<EventSample> recent_events;  // newest last, at most kMaxRecentEvents
  uint64_t revision = 0;                   // bumped on every committed change
  Provenance provenance;
  bool flapping = false;  // the correlator holds it open while its key flaps
  bool stale = false;     // a pair's clear did not come within its timeout
  SlaStatus sla;                           // codec extension tag 16
  std::vector<std::string> escalations;    // escalation steps applied, in order (tag 17)

  static constexpr size_t kMaxRecentEvents = 10;

  bool isActive() const { return state == IncidentState::kOpen || state == IncidentState::kAcknowledged; }
  uint16_t partition() const { return partitionOf(id); }
  bool operator==(const Incident&) const = default;
};

// The JSON of DESIGN.md's contract. `with_details` adds the timeline and recent events.
void toJson(const Incident& incident, nlohmann::json& out, bool with_details);
std::string toJsonString(const Incident& incident, bool with_details);

}  // namespace vigil::incidents
