#include "daemon/incidents/incident_engine.h"

#include <algorithm>

namespace vigil::incidents {

std::string_view changeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kOpened: return "opened";
    case ChangeKind::kUpdated: return "updated";
    case ChangeKind::kAcknowledged: return "acknowledged";
    case ChangeKind::kResolved: return "resolved";
    case ChangeKind::kClosed: return "closed";
    case ChangeKind::kReopened: return "reopened";
  }
  return "updated";
}

void ChangeSet::clear() {
  incidents.clear();
  changes.clear();
  key_ops.clear();
  next_sequences.clear();
  state_ops.clear();
}

void IncidentEngine::restore(Incident incident) {
  ++unrecorded_changes_;
  forgetLookup();
  Partition& p = partitions_[incident.partition()];
  const IncidentId id = incident.id;
  IncidentPtr& slot = active_.emplace(id, std::make_shared<Incident>(std::move(incident))).first->second;
  p.by_key.insert(&slot);
  track(*slot);
}

Incident& IncidentEngine::own(IncidentPtr& slot) {
  // use_count() may be stale while the committer drops its reference: then the incident is
  // copied once more than needed, never shared while changed (only this thread adds references).
  if (slot.use_count() > 1) {
    superseded_.push_back(slot);
    slot = std::make_shared<Incident>(*slot);
  }
  return *slot;
}

void IncidentEngine::track(const Incident& in) {
  if (in.parent) {
    symptoms_[*in.parent].push_back(in.id);
  } else if (roots_indexed_ && !in.ci.empty()) {
    auto& roots = roots_by_ci_[in.ci];
    roots.insert(std::upper_bound(roots.begin(), roots.end(), in.id), in.id);
  }
}

void IncidentEngine::untrack(const Incident& in) {
  auto erase = [](auto& map, const auto& key, IncidentId id) {
    auto it = map.find(key);
    if (it == map.end()) return;
    std::erase(it->second, id);
    if (it->second.empty()) map.erase(it);
  };
  if (in.parent) {
    erase(symptoms_, *in.parent, in.id);
  } else if (roots_indexed_ && !in.ci.empty()) {
    erase(roots_by_ci_, in.ci, in.id);
  }
}

std::optional<IncidentId> IncidentEngine::rootIncidentOn(const std::string& ci) const {
  if (!roots_indexed_) {
    for (const auto& [id, in] : active_) {
      if (!in->parent && !in->ci.empty()) roots_by_ci_[in->ci].push_back(id);
    }
    for (auto& [name, roots] : roots_by_ci_) std::sort(roots.begin(), roots.end());
    roots_indexed_ = true;
  }
  auto it = roots_by_ci_.find(ci);
  if (it == roots_by_ci_.end() || it->second.empty()) return std::nullopt;
  return it->second.front();
}

const Incident* IncidentEngine::findById(IncidentId id) const {
  auto it = active_.find(id);
  return it == active_.end() ? nullptr : it->second.get();
}

void IncidentEngine::setNextSequence(uint16_t partition, uint64_t next) {
  Partition& p = partitions_[partition];
  p.next_sequence = std::max(p.next_sequence, next);
}

void IncidentEngine::dropPartition(uint16_t partition) {
  ++unrecorded_changes_;
  forgetLookup();
  for (auto it = active_.begin(); it != active_.end();) {
    if (it->second->partition() == partition) {
      untrack(*it->second);
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
  partitions_.erase(partition);
}

IncidentEngine::IncidentPtr* IncidentEngine::lookupActive(uint16_t partition, const std::string& key) const {
  if (last_lookup_.valid && last_lookup_.partition == partition && last_lookup_.key == key) {
    return last_lookup_.slot;
  }
  IncidentPtr* found = nullptr;
  if (auto p = partitions_.find(partition); p != partitions_.end()) {
    found = p->second.by_key.find(key);
  }
  remember(partition, key, found);
  return found;
}

void IncidentEngine::remember(uint16_t partition, const std::string& key, IncidentPtr* slot) const {
  last_lookup_.valid = true;
  last_lookup_.partition = partition;
  last_lookup_.key.assign(key);  // keeps its capacity
  last_lookup_.slot = slot;
}

const Incident* IncidentEngine::findActive(uint16_t partition, const std::string& key) const {
  IncidentPtr* slot = lookupActive(partition, key);
  return slot ? slot->get() : nullptr;
}

Incident* IncidentEngine::modifyActive(uint16_t partition, const std::string& key) {
  IncidentPtr* slot = lookupActive(partition, key);
  if (!slot) return nullptr;
  Incident& in = own(*slot);
  markDirty(in, ChangeKind::kUpdated);
  return &in;
}

void IncidentEngine::addSample(Incident& incident, const Event& event) {
  auto& samples = incident.recent_events;
  if (samples.size() >= Incident::kMaxRecentEvents) {
    // The oldest leaves and its strings' buffers take the newest: a full window allocates nothing.
    std::rotate(samples.begin(), samples.begin() + 1, samples.end());
    EventSample& newest = samples.back();
    newest.at = event.time();
    newest.source.assign(event.source);
    newest.severity = event.severity;
    newest.state = event.state;
    newest.message.assign(event.message);
    return;
  }
  if (samples.size() == samples.capacity()) {
    // Grow to the window's size in fewer steps than doubling from 1, and never past it.
    samples.reserve(std::min(Incident::kMaxRecentEvents, std::max<size_t>(2, samples.size() * 2)));
  }
  samples.push_back({event.time(), event.source, event.severity, event.state, event.message});
}

void IncidentEngine::annotate(Incident& incident, const rules::Decision& decision) {
  for (size_t i = 0; i < decision.annotation_count; ++i) {
    incident.labels.set(decision.annotations[i].first, decision.annotations[i].second);
  }
}

void IncidentEngine::markDirty(const Incident& incident, ChangeKind kind) {
  auto [it, first_change] = last_change_.try_emplace(incident.id, changes_.size());
  if (first_change) {
    dirty_order_.push_back(incident.id);
  } else if (kind == ChangeKind::kUpdated && changes_[it->second].kind != ChangeKind::kResolved) {
    return;  // an "opened" or "updated" already reports this batch's updates
  }
  it->second = changes_.size();
  changes_.push_back({kind, incident.id, incident.severity, 0, incident.priority});
}

Incident& IncidentEngine::open(const Event& event, const rules::Decision& decision,
                               Partition& partition, const OpenContext* context) {
  const IncidentId id = makeIncidentId(event.partition, partition.next_sequence++);
  partition.sequence_dirty = true;
  // Built in its place, not moved there: an incident has dozens of members.
  IncidentPtr& slot = active_.try_emplace(id, std::make_shared<Incident>()).first->second;
  Incident& in = *slot;
  in.id = id;
  in.key = decision.key;
  in.title = decision.title;
  in.description = decision.description;
  in.state = IncidentState::kOpen;
  in.severity = event.severity;
  in.priority = decision.priority != 0 ? decision.priority : defaultPriority(event.severity);
  in.host = event.host;
  in.type = event.type;
  in.ci = event.ci;
  in.first_seen = in.last_seen = event.time();
  in.rule = decision.rule;
  in.labels = event.labels;
  in.provenance.rule_set_version = decision.rule_set_version;
  in.provenance.primitive = decision.primitive;
  if (decision.triggers.empty()) {
    in.provenance.events.push_back({event.time(), event.source, event.severity, event.state, event.message});
  }
  for (const auto& t : decision.triggers.first(std::min(decision.triggers.size(), Provenance::kMaxEvents))) {
    in.provenance.events.push_back({t.at, t.source, t.severity, t.state, t.message});
  }
  in.timeline.push_back({event.time(), "opened",
                         decision.rule.empty() ? "rule:default" : "rule:" + decision.rule,
                         event.message});
  annotate(in, decision);
  if (context) {
    in.services = context->services;
    in.assignment_group = context->assignment_group;
    if (context->parent) {
      // A symptom: it belongs under the incident of the CI it depends on.
      if (auto parent = active_.find(*context->parent); parent != active_.end()) {
        in.parent = parent->first;
        Incident& p = own(parent->second);
        p.symptom_count++;
        p.timeline.push_back({event.time(), "symptom_attached", "topology",
                              "#" + std::to_string(id) + " " + decision.key});
        markDirty(p, ChangeKind::kUpdated);
      }
    }
  }
  if (!decision.assignment_group.empty()) in.assignment_group = decision.assignment_group;  // a rule's routing wins
  if (open_hook_) open_hook_(in);
  partition.by_key.insert(&slot);
  putKey(event.partition, decision.key, id);
  remember(event.partition, decision.key, &slot);  // its verdict asks next
  track(in);
  return in;
}

ApplyOutcome IncidentEngine::apply(const Event& event, const rules::Decision& decision, const OpenContext* context) {
  if (decision.action == rules::Action::kDrop) return ApplyOutcome::kDropped;
  if (decision.action == rules::Action::kNone) return ApplyOutcome::kIgnored;
  if (decision.action == rules::Action::kHold) return ApplyOutcome::kHeld;

  IncidentPtr* existing = lookupActive(event.partition, decision.key);
  if (decision.action == rules::Action::kOpen) {
    if (existing == nullptr) {
      Incident& in = open(event, decision, partitions_[event.partition], context);
      in.event_count = 1;
      in.flapping = decision.flapping;
      addSample(in, event);
      markDirty(in, ChangeKind::kOpened);
      return in.parent ? ApplyOutcome::kSymptom : ApplyOutcome::kOpened;
    }
    Incident& in = own(*existing);
    in.event_count++;
    in.last_seen = std::max(in.last_seen, event.time());
    in.severity = std::min(in.severity, event.severity);  // lower enum value = worse
    in.priority = std::min(in.priority, decision.priority != 0 ? decision.priority : defaultPriority(event.severity));
    annotate(in, decision);
    if (decision.flapping && !in.flapping) {
      in.flapping = true;
      in.timeline.push_back({event.time(), "flapping", "rule:" + decision.rule, std::string(decision.primitive)});
    }
    addSample(in, event);
    markDirty(in, ChangeKind::kUpdated);
    return ApplyOutcome::kUpdated;
  }

  // Resolve.
  if (existing == nullptr) return ApplyOutcome::kUnmatchedResolve;
  Incident& in = own(*existing);
  in.event_count++;
  in.last_seen = std::max(in.last_seen, event.time());
  in.state = IncidentState::kResolved;
  in.resolved_at = event.time();
  in.timeline.push_back({event.time(), "resolved",
                         decision.rule.empty() ? "rule:default" : "rule:" + decision.rule,
                         event.message});
  addSample(in, event);
  markDirty(in, ChangeKind::kResolved);
  deactivate(in);
  return ApplyOutcome::kResolved;
}

// Moves an incident that stopped being active out of the key index; it stays reachable for this
// batch's takeChanges().
void IncidentEngine::putKey(uint16_t partition, const std::string& key, IncidentId id) {
  forgetLookup();  // the key had no active incident (opened, or reopened by a person)
  key_put_in_batch_[id] = key_ops_.size();
  key_ops_.push_back({partition, key, id});
}

void IncidentEngine::deactivate(Incident& incident) {
  forgetLookup();
  untrack(incident);
  // Its symptoms are re-evaluated: still active, they now stand as incidents of their own.
  if (auto children = symptoms_.extract(incident.id)) {
    for (IncidentId child_id : children.mapped()) {
      auto child = active_.find(child_id);
      if (child == active_.end()) continue;
      Incident& c = own(child->second);
      c.parent.reset();
      c.timeline.push_back({Clock::now(), "parent_resolved", "topology",
                            "#" + std::to_string(incident.id) + " is no longer active; standing alone"});
      markDirty(c, ChangeKind::kUpdated);
      track(c);
    }
  }
  const uint16_t p = incident.partition();
  if (partitions_[p].by_key.erase(incident.key, incident.id)) {
    if (auto put = key_put_in_batch_.extract(incident.id)) {
      cancelled_key_ops_.push_back(put.mapped());
    } else {
      key_ops_.push_back({p, incident.key, std::nullopt});
    }
  }
  auto node = active_.extract(incident.id);
  retired_.insert(std::move(node));
}

bool IncidentEngine::update(IncidentId id, const std::function<void(Incident&)>& change) {
  auto it = active_.find(id);
  if (it == active_.end()) return false;
  Incident& in = own(it->second);
  change(in);
  markDirty(in, ChangeKind::kUpdated);
  return true;
}

void IncidentEngine::takeChanges(ChangeSet& out) {
  out.clear();
  out.incidents.reserve(dirty_order_.size());
  for (IncidentId id : dirty_order_) {
    auto a = active_.find(id);
    IncidentPtr& slot = a != active_.end() ? a->second : retired_.at(id);
    own(slot).revision++;  // changed in this batch, so already its own copy
    if (a == active_.end()) {
      out.incidents.push_back(std::move(slot));  // retired: dropped after this call anyway
    } else {
      out.incidents.push_back(slot);
    }
  }
  out.changes.swap(changes_);  // swapped, not moved: both keep their capacity for the next batch
  out.key_ops.swap(key_ops_);
  if (!cancelled_key_ops_.empty()) {
    std::sort(cancelled_key_ops_.begin(), cancelled_key_ops_.end());
    size_t kept = 0;
    auto cancelled = cancelled_key_ops_.begin();
    for (size_t i = 0; i < out.key_ops.size(); ++i) {
      if (cancelled != cancelled_key_ops_.end() && *cancelled == i) {
        ++cancelled;
        continue;
      }
      if (kept != i) out.key_ops[kept] = std::move(out.key_ops[i]);
      ++kept;
    }
    out.key_ops.resize(kept);
    cancelled_key_ops_.clear();
  }
  key_put_in_batch_.clear();
  for (auto& [partition, state] : partitions_) {
    if (state.sequence_dirty) {
      out.next_sequences.push_back({partition, state.next_sequence});
      state.sequence_dirty = false;
    }
  }
  dirty_order_.clear();
  last_change_.clear();
  retired_.clear();
  superseded_.clear();
  changes_.clear();
  key_ops_.clear();
}

}  // namespace vigil::incidents
