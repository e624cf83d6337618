// Decision: what the rules concluded about one event. Filled by RuleSet::evaluate(), then refined
// by the correlator's stateful primitives (daemon/correlation/), which may hold the event back.
// Thread-safety: a plain value owned by the caller, who reuses it between events so that its
// strings keep their capacity and the common case allocates nothing.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/event.h"

namespace vigil::rules {

struct Correlation;

enum class Action : uint8_t {
  kNone,     // nothing to do for the incident step (the event has no state)
  kOpen,     // open, or update, the incident under `key`
  kResolve,  // resolve the incident under `key`
  kDrop,     // a rule dropped the event; count it and stop processing it
  kHold,     // a correlation primitive held the event back (`reason` says why)
};

constexpr std::string_view actionName(Action action) {
  switch (action) {
    case Action::kNone: return "none";
    case Action::kOpen: return "open";
    case Action::kResolve: return "resolve";
    case Action::kDrop: return "drop";
    case Action::kHold: return "hold";
  }
  return "none";
}

// An event that contributed to opening an incident (provenance), e.g. the held ones of a threshold.
struct TriggerEvent {
  TimePoint at{};
  std::string source;
  Severity severity = Severity::kInfo;
  EventState state = EventState::kNone;
  std::string message;
  bool operator==(const TriggerEvent&) const = default;
};

struct Decision {
  Action action = Action::kNone;
  std::string key;    // dedup key of the incident; empty for kDrop, and for kNone unless a rule set it
  std::string title;  // incident title; same as key
  std::string rule;   // name of the rule that decided ("" = the default incident step)
  // The stateful part of the deciding rule, if it has one (owned by the RuleSet).
  const Correlation* correlation = nullptr;
  std::string group_key;  // rendered `group.by` of that rule (group primitive only)
  std::string_view rule_set_version;  // RuleSet::version() of the set that decided
  // Set by the correlator:
  std::string reason;                  // kHold: "below threshold 2/3", "flapping", ...
  std::string_view primitive;          // what fired, e.g. "threshold 3 in 5m" (provenance)
  std::span<const TriggerEvent> triggers;  // the events that made it (empty: this event)
  bool flapping = false;               // mark the incident flapping
  std::string description;       // incident description ("" = none set by a rule)
  uint8_t priority = 0;          // 1..5 from a rule's priority/urgency or the CI's impact; 0 = by severity
  std::string assignment_group;  // set by a rule's `assign:`; overrides the CI's owner group
  // Labels a rule's `annotate:` adds to the incident: the first `annotation_count` entries count
  // (the vector keeps its strings between events so the common case allocates nothing).
  std::vector<std::pair<std::string, std::string>> annotations;
  size_t annotation_count = 0;
  // Indexes (in RuleSet::rules()) of every rule whose match held, in order; for `vigilctl rules
  // test`, shadow comparisons and metrics.
  std::vector<uint32_t> matched;

  // Clears every field but keeps the strings' capacity.
  void reset() {
    action = Action::kNone;
    key.clear();
    title.clear();
    rule.clear();
    correlation = nullptr;
    group_key.clear();
    rule_set_version = {};
    reason.clear();
    primitive = {};
    triggers = {};
    flapping = false;
    description.clear();
    priority = 0;
    assignment_group.clear();
    annotation_count = 0;
    matched.clear();
  }

  // Sets (or replaces) annotation `name`, reusing a slot's capacity.
  void annotate(std::string_view name, std::string_view value) {
    for (size_t i = 0; i < annotation_count; ++i) {
      if (annotations[i].first == name) {
        annotations[i].second.assign(value);
        return;
      }
    }
    if (annotation_count == annotations.size()) annotations.emplace_back();
    annotations[annotation_count].first.assign(name);
    annotations[annotation_count].second.assign(value);
    ++annotation_count;
  }
};

}  // namespace vigil::rules
