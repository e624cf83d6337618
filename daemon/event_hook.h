// EventHook: correlator work that looks at every event (maintenance suppression, the verdict
// log, shadow rules, `vigilctl rules test`). Hooks run on the correlator thread in the order
// they were added; they need no locks, and must be cheap.
#pragma once

#include "daemon/cmdb/ci_index.h"
#include "daemon/event.h"
#include "daemon/incidents/incident_engine.h"
#include "daemon/verdicts/verdict.h"
#include "rules/decision.h"
#include "rules/rule_set.h"

namespace vigil {

// Hands out event ids: intake reserves a range per batch, so an HTTP intake can answer with the
// ids before the correlator sees the events. Thread-safe.
class EventIdSource {
 public:
  virtual ~EventIdSource() = default;
  // The first of `count` consecutive new ids (never 0).
  virtual uint64_t reserve(size_t count) = 0;
};

class EventHook {
 public:
  virtual ~EventHook() = default;
  // Before binding and rules, with the event's id (0 when the pipeline has no id source).
  virtual void onIntake(const Event& /*event*/, uint64_t /*id*/) {}
  // After binding (`ci` null when unbound), before the rules.
  virtual void beforeRules(const Event& /*event*/, const cmdb::ConfigurationItem* /*ci*/) {}
  // After the rules, before the incident step. Returning true keeps the event from the incident
  // step; `verdict` then says why (e.g. suppressed by a maintenance window).
  virtual bool intercept(const Event& /*event*/, const cmdb::CiSnapshot& /*cmdb*/, const rules::Decision& /*decision*/,
                         const incidents::IncidentEngine& /*engine*/, verdicts::Verdict& /*verdict*/) {
    return false;
  }
  // What became of the event, whichever way it went.
  virtual void onVerdict(const Event& /*event*/, const verdicts::Verdict& /*verdict*/) {}
  // After the incident step. `rules` is the set that decided (Decision::matched indexes its
  // rules()); `outcome` is kIgnored when a hook intercepted the event.
  virtual void afterIncidentStep(const Event& /*event*/, const rules::RuleSet& /*rules*/,
                                 const rules::Decision& /*decision*/, incidents::ApplyOutcome /*outcome*/) {}
};

// The verdict of an event the incident step took: `existing` is the incident that was active
// under the decision's key before the step (0: none).
void classifyOutcome(const Event& event, const rules::Decision& decision, incidents::ApplyOutcome outcome,
                     incidents::IncidentId existing, const incidents::IncidentEngine& engine,
                     verdicts::Verdict& verdict);

}  // namespace vigil
