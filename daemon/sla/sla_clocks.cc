#include "daemon/sla/sla_clocks.h"

#include <algorithm>

#include "daemon/time_util.h"

namespace vigil::sla {

using incidents::Incident;
using incidents::IncidentState;

SlaClocks::SlaClocks(SlaPolicy policy, prometheus::Registry& registry)
    : policy_(std::move(policy)),
      breaches_family_(prometheus::BuildCounter()
                           .Name("vigil_sla_breaches_total")
                           .Help("SLA clocks breached, by incident priority and clock (acknowledge|resolve)")
                           .Register(registry)),
      escalations_family_(prometheus::BuildCounter()
                              .Name("vigil_escalations_total")
                              .Help("Escalation steps applied to incidents, by step name")
                              .Register(registry)) {
  for (uint8_t p = 1; p <= 5; ++p) {
    for (SlaClock clock : {SlaClock::kAcknowledge, SlaClock::kResolve}) {
      breaches_[p][static_cast<size_t>(clock)] =
          &breaches_family_.Add({{"priority", incidents::priorityName(p)}, {"clock", std::string(clockName(clock))}});
    }
  }
}

prometheus::Counter& SlaClocks::escalationCounter(const std::string& step) {
  auto [it, inserted] = escalations_.try_emplace(step, nullptr);
  if (inserted) it->second = &escalations_family_.Add({{"escalation", step}});
  return *it->second;
}

void SlaClocks::alignDues(Incident& in) const {
  // Until a clock breaches, its due time follows the incident's current priority.
  const SlaTargets& t = policy_.targets(in.priority);
  const TimePoint start = *in.sla.started_at;
  if (!in.sla.acknowledge_breached) {
    in.sla.acknowledge_due = t.acknowledge ? std::optional(start + *t.acknowledge) : std::nullopt;
  }
  if (!in.sla.resolve_breached) in.sla.resolve_due = t.resolve ? std::optional(start + *t.resolve) : std::nullopt;
}

void SlaClocks::onOpened(Incident& in) {
  if (policy_.empty()) return;
  in.sla = {};
  in.sla.started_at = now_;
  in.escalations.clear();  // a reopened incident escalates again
  alignDues(in);
  next_check_ = std::min(next_check_, nextDeadline(in));
}

bool SlaClocks::escalationPending(const EscalationStep& step, const Incident& in) const {
  if (std::find(in.escalations.begin(), in.escalations.end(), step.name) != in.escalations.end()) return false;
  if (step.unless_acknowledged && in.state == IncidentState::kAcknowledged) return false;
  return step.matches(in);
}

TimePoint SlaClocks::nextDeadline(const Incident& in) const {
  // Opened before the policy existed: start now (unless there is still no policy to start).
  if (!in.sla.started_at) return policy_.empty() ? TimePoint::max() : TimePoint::min();
  Incident aligned = in;
  alignDues(aligned);
  if (aligned.sla != in.sla) return TimePoint::min();  // its priority changed
  TimePoint next = TimePoint::max();
  if (in.sla.acknowledge_due && !in.sla.acknowledge_breached && in.state == IncidentState::kOpen) {
    next = std::min(next, *in.sla.acknowledge_due);
  }
  if (in.sla.resolve_due && !in.sla.resolve_breached) next = std::min(next, *in.sla.resolve_due);
  for (const auto& step : policy_.escalations) {
    if (!escalationPending(step, in)) continue;
    switch (step.trigger) {
      case EscalationStep::Trigger::kAfter: next = std::min(next, *in.sla.started_at + step.after); break;
      case EscalationStep::Trigger::kAcknowledgeBreach:
        if (in.sla.acknowledge_breached) return TimePoint::min();
        break;
      case EscalationStep::Trigger::kResolveBreach:
        if (in.sla.resolve_breached) return TimePoint::min();
        break;
    }
  }
  return next;
}

void SlaClocks::advance(Incident& in, TimePoint now) {
  if (!in.sla.started_at) in.sla.started_at = in.first_seen;
  alignDues(in);
  auto breach = [&](SlaClock clock, TimePoint due) {
    in.timeline.push_back({now, "sla_breached", "sla",
                           std::string(clockName(clock)) + " due " + formatRfc3339(due) + " (" +
                               incidents::priorityName(in.priority) + ")"});
    breaches_[std::min<uint8_t>(in.priority, 5)][static_cast<size_t>(clock)]->Increment();
  };
  if (in.sla.acknowledge_due && !in.sla.acknowledge_breached && in.state == IncidentState::kOpen &&
      now >= *in.sla.acknowledge_due) {
    in.sla.acknowledge_breached = true;
    breach(SlaClock::kAcknowledge, *in.sla.acknowledge_due);
  }
  if (in.sla.resolve_due && !in.sla.resolve_breached && now >= *in.sla.resolve_due) {
    in.sla.resolve_breached = true;
    breach(SlaClock::kResolve, *in.sla.resolve_due);
  }
  for (const auto& step : policy_.escalations) {
    if (!escalationPending(step, in)) continue;
    bool due = false;
    switch (step.trigger) {
      case EscalationStep::Trigger::kAfter: due = now >= *in.sla.started_at + step.after; break;
      case EscalationStep::Trigger::kAcknowledgeBreach: due = in.sla.acknowledge_breached; break;
      case EscalationStep::Trigger::kResolveBreach: due = in.sla.resolve_breached; break;
    }
    if (!due) continue;
    std::string detail = step.name + ":";
    if (step.severity && *step.severity != in.severity) {
      detail += " severity " + std::string(severityName(in.severity)) + " → " + std::string(severityName(*step.severity));
      in.severity = *step.severity;
    }
    if (step.priority && *step.priority != in.priority) {
      detail += " priority " + incidents::priorityName(in.priority) + " → " + incidents::priorityName(*step.priority);
      in.priority = *step.priority;
    }
    if (step.assignment_group && *step.assignment_group != in.assignment_group) {
      detail += " group " + (in.assignment_group.empty() ? "-" : in.assignment_group) + " → " + *step.assignment_group;
      in.assignment_group = *step.assignment_group;
    }
    if (step.assignee && *step.assignee != in.assignee) {
      detail += " assignee " + (in.assignee.empty() ? "-" : in.assignee) + " → " + *step.assignee;
      in.assignee = *step.assignee;
    }
    in.escalations.push_back(step.name);
    in.timeline.push_back({now, "escalated", "escalation", std::move(detail)});
    escalationCounter(step.name).Increment();
  }
  alignDues(in);  // an escalated priority moves the dues of clocks still running
}

void SlaClocks::setPolicy(SlaPolicy policy) {
  std::lock_guard lock(incoming_mu_);
  incoming_ = std::move(policy);
}

Status SlaClocks::loadPartition(const store::Store& /*store*/, uint16_t /*partition*/) {
  next_check_ = TimePoint::min();
  return Status::ok();
}

void SlaClocks::onTick(TimePoint now, incidents::IncidentEngine& engine) {
  now_ = now;
  bool replaced = false;
  {
    std::lock_guard lock(incoming_mu_);
    if (incoming_) {
      policy_ = std::move(*incoming_);
      incoming_.reset();
      replaced = true;
    }
  }
  // A new policy rescans at once: nextDeadline() sees the dues differ and re-aligns them.
  if (replaced) next_check_ = TimePoint::min();
  if (policy_.empty() && !replaced) return;
  if (now < next_check_ && now - last_scan_ < kRescanInterval) return;
  last_scan_ = now;
  TimePoint next = TimePoint::max();
  std::vector<incidents::IncidentId> due;
  engine.forEachActive([&](const Incident& in) {
    const TimePoint deadline = nextDeadline(in);
    if (deadline <= now) {
      due.push_back(in.id);
    } else {
      next = std::min(next, deadline);
    }
  });
  for (incidents::IncidentId id : due) {
    engine.update(id, [&](Incident& in) {
      advance(in, now);
      next = std::min(next, nextDeadline(in));
    });
  }
  next_check_ = next;
}

}  // namespace vigil::sla
