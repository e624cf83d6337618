// Decision: what the rules concluded about one event. Filled by RuleSet::evaluate().
// Thread-safety: a plain value owned by the caller, who reuses it between events so that its
// strings keep their capacity and the common case allocates nothing.
#pragma once

#include <cstdint>
#include <string>

namespace vigil::rules {

enum class Action : uint8_t {
  kNone,     // nothing to do for the incident step (the event has no state)
  kOpen,     // open, or update, the incident under `key`
  kResolve,  // resolve the incident under `key`
  kDrop,     // a rule dropped the event; count it and stop processing it
};

struct Decision {
  Action action = Action::kNone;
  std::string key;    // dedup key of the incident; empty for kDrop, and for kNone unless a rule set it
  std::string title;  // incident title; same as key
  std::string rule;   // name of the rule that decided ("" = the default incident step)

  // Clears every field but keeps the strings' capacity.
  void reset() {
    action = Action::kNone;
    key.clear();
    title.clear();
    rule.clear();
  }
};

}  // namespace vigil::rules
