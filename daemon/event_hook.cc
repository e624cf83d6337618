#include "daemon/event_hook.h"

namespace vigil {

void classifyOutcome(const Event& event, const rules::Decision& decision, incidents::ApplyOutcome outcome,
                     incidents::IncidentId existing, const incidents::IncidentEngine& engine,
                     verdicts::Verdict& verdict) {
  using incidents::ApplyOutcome;
  using verdicts::Reason;
  verdict.rule = decision.rule;
  verdict.key = decision.key;
  switch (outcome) {
    case ApplyOutcome::kIgnored:
      verdict.reason = decision.rule.empty() ? Reason::kNoMatch : Reason::kNoState;
      return;
    case ApplyOutcome::kDropped:
      verdict.reason = Reason::kDropped;
      return;
    case ApplyOutcome::kOpened: {
      verdict.reason = Reason::kOpened;
      const auto* in = engine.findActive(event.partition, decision.key);
      verdict.incident = in ? in->id : 0;
      return;
    }
    case ApplyOutcome::kSymptom: {
      verdict.reason = Reason::kSymptom;
      const auto* in = engine.findActive(event.partition, decision.key);
      verdict.incident = in && in->parent ? *in->parent : 0;
      if (in) verdict.detail = "opened symptom incident " + std::to_string(in->id);
      return;
    }
    case ApplyOutcome::kUpdated:
      verdict.reason = Reason::kDeduplicated;
      verdict.incident = existing;
      return;
    case ApplyOutcome::kResolved:
      verdict.reason = Reason::kResolved;
      verdict.incident = existing;
      return;
    case ApplyOutcome::kUnmatchedResolve:
      verdict.reason = Reason::kUnmatchedResolve;
      return;
    case ApplyOutcome::kHeld:
      verdict.hold(decision.reason);
      return;
  }
}

}  // namespace vigil
