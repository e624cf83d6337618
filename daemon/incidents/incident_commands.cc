// The lifecycle steps people take: acknowledge, resolve, close, reopen, assign, comment, and
// changing severity or priority. Every step is appended to the timeline with its actor.
#include "daemon/incidents/incident_engine.h"

namespace vigil::incidents {

using Verb = IncidentCommand::Verb;

std::string_view verbName(Verb verb) {
  switch (verb) {
    case Verb::kAcknowledge: return "acknowledge";
    case Verb::kResolve: return "resolve";
    case Verb::kClose: return "close";
    case Verb::kReopen: return "reopen";
    case Verb::kAssign: return "assign";
    case Verb::kComment: return "comment";
    case Verb::kSetSeverity: return "severity";
    case Verb::kSetPriority: return "priority";
  }
  return "comment";
}

namespace {

Status invalidTransition(const Incident& in, Verb verb) {
  return Status::failedPrecondition("cannot " + std::string(verbName(verb)) + " incident " + std::to_string(in.id) +
                                    ": it is " + std::string(incidentStateName(in.state)));
}

}  // namespace

Result<Incident> IncidentEngine::command(const IncidentCommand& cmd, TimePoint now, std::optional<Incident> stored) {
  Incident* in = nullptr;
  if (auto a = active_.find(cmd.id); a != active_.end()) {
    in = &own(a->second);
  } else if (auto r = retired_.find(cmd.id); r != retired_.end()) {
    in = r->second.get();  // already changed in this batch
  } else if (stored) {
    in = retired_.emplace(cmd.id, std::make_shared<Incident>(std::move(*stored))).first->second.get();
  } else {
    return fail(Status::notFound("no incident " + std::to_string(cmd.id)));
  }
  const std::string actor = cmd.actor.empty() ? "anonymous" : cmd.actor;
  auto record = [&](std::string action, std::string detail) {
    in->timeline.push_back({now, std::move(action), actor, std::move(detail)});
  };

  switch (cmd.verb) {
    case Verb::kAcknowledge:
      if (in->state != IncidentState::kOpen) return fail(invalidTransition(*in, cmd.verb));
      in->state = IncidentState::kAcknowledged;
      in->acknowledged_at = now;
      record("acknowledged", cmd.text);
      markDirty(*in, ChangeKind::kAcknowledged);
      break;
    case Verb::kResolve:
      if (!in->isActive()) return fail(invalidTransition(*in, cmd.verb));
      in->state = IncidentState::kResolved;
      in->resolved_at = now;
      record("resolved", cmd.text);
      markDirty(*in, ChangeKind::kResolved);
      deactivate(*in);
      break;
    case Verb::kClose:
      if (in->state != IncidentState::kResolved) return fail(invalidTransition(*in, cmd.verb));
      in->state = IncidentState::kClosed;
      in->closed_at = now;
      record("closed", cmd.text);
      markDirty(*in, ChangeKind::kClosed);
      break;
    case Verb::kReopen: {
      if (in->state != IncidentState::kResolved) return fail(invalidTransition(*in, cmd.verb));
      Partition& p = partitions_[in->partition()];
      if (const KeyIndex::Slot* other = p.by_key.find(in->key)) {
        return fail(Status::failedPrecondition("cannot reopen incident " + std::to_string(in->id) + ": incident " +
                                               std::to_string((*other)->id) + " is active under its key"));
      }
      in->state = IncidentState::kOpen;
      in->resolved_at.reset();
      in->acknowledged_at.reset();
      record("reopened", cmd.text);
      if (open_hook_) open_hook_(*in);
      markDirty(*in, ChangeKind::kReopened);
      putKey(in->partition(), in->key, in->id);
      p.by_key.insert(&active_.insert(retired_.extract(in->id)).position->second);
      if (in->parent && !active_.contains(*in->parent)) in->parent.reset();
      track(*in);
      break;
    }
    case Verb::kAssign:
      if (in->state == IncidentState::kClosed) return fail(invalidTransition(*in, cmd.verb));
      if (cmd.group) in->assignment_group = *cmd.group;
      if (cmd.assignee) in->assignee = *cmd.assignee;
      record("assigned", "group=" + in->assignment_group + " assignee=" + in->assignee);
      markDirty(*in, ChangeKind::kUpdated);
      break;
    case Verb::kComment:
      record("commented", cmd.text);
      markDirty(*in, ChangeKind::kUpdated);
      break;
    case Verb::kSetSeverity:
      if (!in->isActive()) return fail(invalidTransition(*in, cmd.verb));
      record("severity_changed", std::string(severityName(in->severity)) + " → " + std::string(severityName(cmd.severity)));
      in->severity = cmd.severity;
      markDirty(*in, ChangeKind::kUpdated);
      break;
    case Verb::kSetPriority:
      if (!in->isActive()) return fail(invalidTransition(*in, cmd.verb));
      if (cmd.priority < 1 || cmd.priority > 5) return fail(Status::invalidArgument("priority: expected P1..P5"));
      record("priority_changed", priorityName(in->priority) + " → " + priorityName(cmd.priority));
      in->priority = cmd.priority;
      markDirty(*in, ChangeKind::kUpdated);
      break;
  }
  Incident copy = *in;
  copy.revision++;  // as it will be once committed
  return copy;
}

}  // namespace vigil::incidents
