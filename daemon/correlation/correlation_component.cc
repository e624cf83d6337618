#include "daemon/correlation/correlation_component.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "daemon/correlation/state_record.h"

namespace vigil::correlation {

using incidents::IncidentEngine;
using nlohmann::json;
using rules::Action;
using rules::Primitive;

namespace {

constexpr std::string_view kClockKey = "clock";

int64_t toMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint fromMs(int64_t ms) {
  return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(ms)));
}

// Id of a record: u16 BE partition, then the record's key in the store.
void makeId(std::string& out, uint16_t partition, char kind, std::string_view a, std::string_view b = {}) {
  out.clear();
  out.push_back(static_cast<char>(partition >> 8));
  out.push_back(static_cast<char>(partition & 0xff));
  out.push_back(kind);
  out.append(a);
  if (kind == 's') {  // per rule and key
    out.push_back('\0');
    out.append(b);
  }
}
uint16_t partitionOfId(const std::string& id) {
  return static_cast<uint16_t>((static_cast<uint8_t>(id[0]) << 8) | static_cast<uint8_t>(id[1]));
}

std::string hashText(uint64_t h) { return std::to_string(h); }

}  // namespace

CorrelationComponent::CorrelationComponent(CorrelationOptions options, std::shared_ptr<const rules::RuleSet> rules)
    : options_(options) {
  onRules(rules);
}

const rules::Correlation* CorrelationComponent::correlationOf(const std::string& rule) const {
  auto it = by_rule_.find(rule);
  return it == by_rule_.end() ? nullptr : it->second;
}

void CorrelationComponent::onRules(const std::shared_ptr<const rules::RuleSet>& rules) {
  if (rules == rules_ || !rules) return;
  const bool first = rules_ == nullptr;
  // The entries point into the previous rule set until they are matched below: keep it alive.
  const std::shared_ptr<const rules::RuleSet> previous = std::exchange(rules_, rules);
  by_rule_.clear();
  has_lifecycle_ = false;
  for (const auto& rule : rules_->rules()) {
    if (!rule.correlation) continue;
    by_rule_.emplace(rule.name, rule.correlation.get());
    has_lifecycle_ |= rule.correlation->spec.reopen_within || rule.correlation->spec.auto_close_after;
  }
  if (first) return;
  // Keep the state of rules whose primitive is unchanged; drop the rest.
  std::vector<std::string> gone;
  for (auto& [id, e] : entries_) {
    const rules::Correlation* now = correlationOf(e.spec->rule);
    if (now && now->spec_hash == e.spec->spec_hash) {
      e.spec = now;
    } else {
      gone.push_back(id);
    }
  }
  for (const auto& id : gone) erase(id);
  std::vector<std::string> forgotten;
  for (const auto& [id, r] : resolved_) {
    const rules::Correlation* now = correlationOf(r.rule);
    if (!now || (!now->spec.reopen_within && !now->spec.auto_close_after)) forgotten.push_back(id);
  }
  for (const auto& id : forgotten) erase(id);
  if (!gone.empty() || !forgotten.empty()) {
    spdlog::info("correlation: rules changed, dropped the state of {} keys", gone.size() + forgotten.size());
  }
}

void CorrelationComponent::setDeadline(const std::string& id, std::optional<TimePoint>& slot,
                                       std::optional<TimePoint> deadline) {
  if (slot) timers_.erase({*slot, id});
  slot = deadline;
  if (slot) timers_.insert({*slot, id});
}

CorrelationComponent::Entry& CorrelationComponent::entry(const std::string& id, const rules::Correlation* spec,
                                                         uint16_t partition, const std::string& key) {
  auto [it, inserted] = entries_.try_emplace(id);
  Entry& e = it->second;
  if (inserted && id[2] == 'k') ++keyed_;
  if (inserted || e.spec != spec) {
    if (!inserted) setDeadline(id, e.deadline, std::nullopt);
    e = Entry{};
    e.spec = spec;
    e.partition = partition;
    e.key = key;
  }
  if (partitions_.insert(partition).second) partitions_dirty_ = true;
  dirty_.insert(id);
  return e;
}

void CorrelationComponent::erase(const std::string& id) {
  if (auto it = entries_.find(id); it != entries_.end()) {
    setDeadline(id, it->second.deadline, std::nullopt);
    if (id[2] == 'k') --keyed_;
    entries_.erase(it);
    dirty_.insert(id);
  } else if (auto r = resolved_.find(id); r != resolved_.end()) {
    setDeadline(id, r->second.deadline, std::nullopt);
    resolved_.erase(r);
    dirty_.insert(id);
  }
}

void CorrelationComponent::onTick(TimePoint now, IncidentEngine& engine) {
  if (options_.wall_clock) advance(now, engine);
}

void CorrelationComponent::advance(TimePoint to, IncidentEngine& engine) {
  if (to > clock_) clock_ = to;
  fireDue(engine);
}

void CorrelationComponent::fireDue(IncidentEngine& engine) {
  while (!timers_.empty() && timers_.begin()->first <= clock_) {
    const auto [at, id] = *timers_.begin();
    timers_.erase(timers_.begin());
    fire(id, at, engine);
  }
}

void CorrelationComponent::fire(const std::string& id, TimePoint at, IncidentEngine& engine) {
  if (auto it = entries_.find(id); it != entries_.end()) {
    it->second.deadline.reset();  // already off timers_
    dirty_.insert(id);
    if (!fireEntry(it->second, at, engine)) erase(id);
    return;
  }
  if (auto r = resolved_.find(id); r != resolved_.end()) {
    r->second.deadline.reset();
    const Resolved resolved = r->second;
    erase(id);
    fireResolved(resolved, at, engine);
  }
}

void CorrelationComponent::resolveSynthetic(const Entry& e, TimePoint at, std::string message, IncidentEngine& engine) {
  Event event;
  event.source = "correlation";
  event.received_at = at;
  event.occurred_at = at;
  event.state = EventState::kOk;
  event.partition = e.partition;
  event.message = std::move(message);
  rules::Decision decision;
  decision.action = Action::kResolve;
  decision.key = e.key;
  decision.rule = e.spec->rule;
  decision.rule_set_version = rules_->version();
  decision.primitive = e.spec->description;
  if (has_lifecycle_) noteResolved(e.partition, e.key, at, engine);
  engine.apply(event, decision);
}

bool CorrelationComponent::fireEntry(Entry& e, TimePoint at, IncidentEngine& engine) {
  const rules::CorrelationSpec& spec = e.spec->spec;
  const std::string actor = "rule:" + e.spec->rule;
  switch (spec.primitive) {
    case Primitive::kNone:
    case Primitive::kThreshold:  // the window passed without reaching the count
    case Primitive::kGroup:      // the group's window closed
      return false;
    case Primitive::kPair: {
      const std::string why = "no clear within " + rules::formatDuration(spec.timeout);
      if (spec.on_timeout == rules::TimeoutAction::kResolve) {
        if (engine.findActive(e.partition, e.key)) resolveSynthetic(e, at, why + " (pair timeout)", engine);
        return false;
      }
      incidents::Incident* in = engine.modifyActive(e.partition, e.key);
      if (!in) return false;
      if (spec.on_timeout == rules::TimeoutAction::kStale) {
        in->stale = true;
        in->timeline.push_back({at, "stale", actor, why});
      } else {
        if (in->severity != Severity::kCritical) {
          in->severity = static_cast<Severity>(static_cast<uint8_t>(in->severity) - 1);
        }
        in->priority = std::min(in->priority, incidents::defaultPriority(in->severity));
        in->timeline.push_back({at, "escalated", actor, why + "; severity " + std::string(severityName(in->severity))});
      }
      return false;
    }
    case Primitive::kFlapping: {
      if (!e.flapping) return false;  // the window passed without flapping: forget the key
      e.flapping = false;
      if (incidents::Incident* in = engine.modifyActive(e.partition, e.key)) {
        in->flapping = false;
        in->timeline.push_back({at, "calm", actor, "no state change for " + rules::formatDuration(spec.quiet)});
      }
      if (e.last_state == EventState::kOk && engine.findActive(e.partition, e.key)) {
        resolveSynthetic(e, at, "calm after flapping; last state ok", engine);
      }
      return false;
    }
    case Primitive::kHeartbeat: {
      if (e.opened || engine.findActive(e.partition, e.key)) return false;
      Event event;
      event.source = "correlation";
      event.received_at = at;
      event.occurred_at = at;
      event.host = e.host;
      event.ci = e.ci;
      event.type = e.type;
      event.severity = e.severity;
      event.state = EventState::kProblem;
      event.partition = e.partition;
      event.message = "no event within " + rules::formatDuration(spec.every);
      rules::Decision decision;
      decision.action = Action::kOpen;
      decision.key = e.key;
      decision.title = e.title;
      decision.rule = e.spec->rule;
      decision.rule_set_version = rules_->version();
      decision.primitive = e.spec->description;
      engine.apply(event, decision);
      e.opened = true;  // kept, without a timer, until the next event resolves it
      return true;
    }
  }
  return false;
}

void CorrelationComponent::fireResolved(const Resolved& r, TimePoint at, IncidentEngine& engine) {
  const rules::Correlation* c = correlationOf(r.rule);
  if (!c || !c->spec.auto_close_after) return;
  // Refused when a person reopened or closed it meanwhile: nothing to do then.
  (void)commandOnResolved(engine, incidents::IncidentCommand::Verb::kClose, r.id, r.rule,
                          "auto-closed " + rules::formatDuration(*c->spec.auto_close_after) +
                              " after it was resolved",
                          at);
}

// A rule's command on an incident that may no longer be active (then read from the store, as
// the engine requires).
bool CorrelationComponent::commandOnResolved(IncidentEngine& engine, incidents::IncidentCommand::Verb verb,
                                             incidents::IncidentId id, const std::string& rule, std::string text,
                                             TimePoint at) const {
  std::optional<incidents::Incident> stored;
  if (store_ && !engine.isActive(id)) {
    awaitCommitted();  // it may have been resolved in the batch still being committed
    auto read = store_->getIncident(id);
    if (read && *read) stored = std::move(**read);
  }
  incidents::IncidentCommand cmd;
  cmd.verb = verb;
  cmd.id = id;
  cmd.actor = "rule:" + rule;
  cmd.text = std::move(text);
  return engine.command(cmd, at, std::move(stored)).has_value();
}

bool CorrelationComponent::reopen(const Event& event, const rules::Decision& decision, TimePoint t,
                                  IncidentEngine& engine) {
  makeId(id_, event.partition, 'r', decision.key);
  auto it = resolved_.find(id_);
  if (it == resolved_.end()) return false;
  const Resolved r = it->second;
  erase(id_);  // either reopened now or too late: a new incident from here on
  if (t - r.resolved_at > *decision.correlation->spec.reopen_within) return false;
  return commandOnResolved(engine, incidents::IncidentCommand::Verb::kReopen, r.id, decision.rule,
                           "fired again within " +
                               rules::formatDuration(*decision.correlation->spec.reopen_within) +
                               " of being resolved",
                           t);
}

void CorrelationComponent::onEvent(Event& event, rules::Decision& decision, IncidentEngine& engine) {
  correlate(event, decision, engine);
  // Remembered now, not at the end of the batch, so that reopen and auto-close do not depend
  // on how events were batched.
  if (has_lifecycle_ && decision.action == Action::kResolve) {
    noteResolved(event.partition, decision.key, event.time(), engine);
  }
}

void CorrelationComponent::noteResolved(uint16_t partition, const std::string& key, TimePoint at,
                                        IncidentEngine& engine) {
  const incidents::Incident* in = engine.findActive(partition, key);
  if (!in) return;
  const rules::Correlation* c = correlationOf(in->rule);
  if (!c || (!c->spec.reopen_within && !c->spec.auto_close_after)) return;
  makeId(id_, partition, 'r', key);
  const std::string id = id_;
  Resolved& r = resolved_[id];
  setDeadline(id, r.deadline, std::nullopt);
  r = Resolved{in->rule, partition, key, in->id, at, std::nullopt};
  if (c->spec.auto_close_after) setDeadline(id, r.deadline, at + *c->spec.auto_close_after);
  if (partitions_.insert(partition).second) partitions_dirty_ = true;
  dirty_.insert(id);
}

void CorrelationComponent::correlate(Event& event, rules::Decision& decision, IncidentEngine& engine) {
  const TimePoint time = event.time();
  if (time > event_clock_) {
    event_clock_ = time;
    clock_dirty_ = true;
  }
  if (time > clock_) {
    clock_ = time;
    if (!timers_.empty()) fireDue(engine);
  }
  TimePoint t = time;
  if (time < clock_ - options_.allowed_lateness) {
    ++late_events_;
    if (options_.late_events) options_.late_events->Increment();
    t = clock_ - options_.allowed_lateness;
  }
  const rules::Correlation* c = decision.correlation;
  const bool opens_or_resolves = decision.action == Action::kOpen || decision.action == Action::kResolve;
  if (c == nullptr) {
    // The common case: the rule keeps no state. Only a key with a pair or flapping state still
    // listens (its clear usually comes from another rule).
    if (keyed_ > 0 && opens_or_resolves) keyed(event, decision, t, engine);
    return;
  }
  if (decision.action == Action::kOpen && c->spec.reopen_within &&
      !engine.findActive(event.partition, decision.key)) {
    reopen(event, decision, t, engine);
  }
  switch (c->primitive()) {
    case Primitive::kNone:
      if (keyed_ > 0 && opens_or_resolves) keyed(event, decision, t, engine);
      return;
    case Primitive::kGroup: group(event, decision, t, engine); return;
    case Primitive::kPair:
    case Primitive::kFlapping:
      if (opens_or_resolves) keyed(event, decision, t, engine);
      return;
    case Primitive::kThreshold:
    case Primitive::kHeartbeat:
      break;
  }
  if (decision.key.empty()) return;  // no key to count or expect on
  if (c->primitive() == Primitive::kThreshold && !opens_or_resolves) return;
  makeId(id_, event.partition, 's', c->rule, decision.key);
  const std::string id = id_;
  if (c->primitive() == Primitive::kThreshold) {
    threshold(id, event, decision, t, engine);
  } else {
    heartbeat(id, event, decision, t, engine);
  }
}

void CorrelationComponent::keyed(const Event& event, rules::Decision& decision, TimePoint t, IncidentEngine& engine) {
  if (decision.key.empty()) return;
  makeId(id_, event.partition, 'k', decision.key);
  const rules::Correlation* c = decision.correlation;
  if (c && c->primitive() != Primitive::kPair && c->primitive() != Primitive::kFlapping) c = nullptr;
  auto it = entries_.find(id_);
  // Rules that share a key share its state: the first rule's spec stays while the primitive agrees.
  if (it != entries_.end() && (!c || c->primitive() == it->second.spec->primitive())) c = it->second.spec;
  if (!c) return;
  const std::string id = id_;
  if (c->primitive() == Primitive::kPair) {
    pair(id, *c, decision, t);
  } else {
    flapping(id, *c, decision, t, engine);
  }
}

void CorrelationComponent::threshold(const std::string& id, const Event& event, rules::Decision& decision,
                                     TimePoint t, IncidentEngine& engine) {
  const rules::Correlation& c = *decision.correlation;
  if (decision.action == Action::kResolve) {
    erase(id);  // a clear starts the count afresh
    return;
  }
  if (engine.findActive(event.partition, decision.key)) return;  // open already: updates pass
  Entry& e = entry(id, &c, event.partition, decision.key);
  // Forget what fell out of the window (by event time, so a replay counts alike).
  const TimePoint since = t - c.spec.window;
  for (size_t i = 0; i < e.times.size();) {
    if (e.times[i] < since) {
      e.times.erase(e.times.begin() + static_cast<std::ptrdiff_t>(i));
      e.held.erase(e.held.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  e.times.push_back(t);
  e.held.push_back({event.time(), event.source, event.severity, event.state, event.message});
  if (e.times.size() >= c.spec.count) {
    triggers_ = std::move(e.held);
    decision.triggers = triggers_;
    decision.primitive = c.description;
    erase(id);
    return;
  }
  decision.action = Action::kHold;
  decision.reason = "below threshold " + std::to_string(e.times.size()) + "/" + std::to_string(c.spec.count);
  // Forget the key when even its latest event has left the window.
  const TimePoint latest = *std::max_element(e.times.begin(), e.times.end());
  setDeadline(id, e.deadline, latest + c.spec.window + std::chrono::milliseconds(1));
}

void CorrelationComponent::pair(const std::string& id, const rules::Correlation& c, rules::Decision& decision,
                                TimePoint t) {
  if (decision.action == Action::kResolve) {
    erase(id);  // the clear came
    return;
  }
  decision.primitive = c.description;
  if (entries_.contains(id)) return;  // the timeout runs from the first problem
  Entry& e = entry(id, &c, partitionOfId(id), decision.key);
  setDeadline(id, e.deadline, t + c.spec.timeout);
}

void CorrelationComponent::flapping(const std::string& id, const rules::Correlation& c, rules::Decision& decision,
                                    TimePoint t, IncidentEngine& engine) {
  const uint16_t partition = partitionOfId(id);
  const EventState state = decision.action == Action::kOpen ? EventState::kProblem : EventState::kOk;
  if (!entries_.contains(id) && state == EventState::kOk && !engine.findActive(partition, decision.key)) {
    return;  // a clear of nothing: no state to start
  }
  Entry& e = entry(id, &c, partition, decision.key);
  const bool changed = e.last_state != EventState::kNone && e.last_state != state;
  e.last_state = state;
  if (changed) e.times.push_back(t);
  const TimePoint since = t - c.spec.window;
  std::erase_if(e.times, [&](TimePoint x) { return x < since; });
  if (!e.flapping && e.times.size() >= c.spec.changes) e.flapping = true;
  if (!e.flapping) {
    // Forget the key once a whole window passes without a change.
    const TimePoint last = e.times.empty() ? t : *std::max_element(e.times.begin(), e.times.end());
    setDeadline(id, e.deadline, std::max(last, t) + c.spec.window + std::chrono::milliseconds(1));
    return;
  }
  if (changed || !e.deadline) setDeadline(id, e.deadline, t + c.spec.quiet);
  decision.flapping = true;
  decision.primitive = c.description;
  if (state == EventState::kOk) {
    // Held open: the incident is not resolved, but it says why.
    const incidents::Incident* active = engine.findActive(partition, decision.key);
    if (active && !active->flapping) {
      incidents::Incident* in = engine.modifyActive(partition, decision.key);
      in->flapping = true;
      in->timeline.push_back({t, "flapping", "rule:" + c.rule, c.description});
    }
    decision.action = Action::kHold;
    decision.reason = "flapping";
  }
}

void CorrelationComponent::group(const Event& event, rules::Decision& decision, TimePoint t, IncidentEngine& engine) {
  const rules::Correlation& c = *decision.correlation;
  if (decision.action != Action::kOpen) return;
  makeId(id_, event.partition, 's', c.rule, decision.group_key);
  const std::string id = id_;
  auto it = entries_.find(id);
  decision.primitive = c.description;
  if (it != entries_.end() && it->second.spec == &c && engine.findActive(event.partition, it->second.target)) {
    decision.key = it->second.target;  // joins the group's incident
    return;
  }
  Entry& e = entry(id, &c, event.partition, decision.group_key);
  e.target = decision.key;
  setDeadline(id, e.deadline, t + c.spec.window);
}

void CorrelationComponent::heartbeat(const std::string& id, const Event& event, rules::Decision& decision,
                                     TimePoint t, IncidentEngine& engine) {
  const rules::Correlation& c = *decision.correlation;
  const bool exists = entries_.contains(id);
  Entry& e = entry(id, &c, event.partition, decision.key);
  const bool was_open = exists && e.opened;
  e.opened = false;
  e.title = decision.title.empty() ? "No " + c.rule + " event from " + decision.key + " within " +
                                         rules::formatDuration(c.spec.every)
                                   : decision.title;
  e.host = event.host;
  e.ci = event.ci;
  e.type = event.type;
  e.severity = event.severity == Severity::kInfo ? Severity::kMajor : event.severity;
  setDeadline(id, e.deadline, t + c.spec.every);
  decision.primitive = c.description;
  if (was_open && engine.findActive(event.partition, decision.key)) {
    decision.action = Action::kResolve;  // the expected event is back
    return;
  }
  decision.action = Action::kHold;
  decision.reason = "heartbeat";
}

void CorrelationComponent::onChanges(const incidents::ChangeSet& changes) {
  for (const auto& changed : changes.incidents) {
    const incidents::Incident& in = *changed;
    makeId(id_, in.partition(), 'r', in.key);
    if (in.state != incidents::IncidentState::kResolved || !in.resolved_at) {
      if (auto it = resolved_.find(id_); it != resolved_.end() && it->second.id == in.id) erase(id_);
      continue;
    }
    const rules::Correlation* c = correlationOf(in.rule);
    if (!c || (!c->spec.reopen_within && !c->spec.auto_close_after)) continue;
    const std::string id = id_;
    Resolved& r = resolved_[id];
    if (r.id == in.id) continue;  // known already
    setDeadline(id, r.deadline, std::nullopt);
    r = Resolved{in.rule, in.partition(), in.key, in.id, *in.resolved_at, std::nullopt};
    if (c->spec.auto_close_after) setDeadline(id, r.deadline, *in.resolved_at + *c->spec.auto_close_after);
    if (partitions_.insert(in.partition()).second) partitions_dirty_ = true;
    dirty_.insert(id);
  }
}

void CorrelationComponent::collectStateOps(std::vector<store::StateOp>& out) {
  for (const std::string& id : dirty_) {
    const uint16_t partition = partitionOfId(id);
    std::string key = id.substr(2);
    if (auto it = entries_.find(id); it != entries_.end()) {
      const Entry& e = it->second;
      const std::string hash = hashText(e.spec->spec_hash);
      out.push_back(store::StateOp::put(
          store::Column::kCorrelation, partition, std::move(key),
          encodeEntryRecord({.rule = e.spec->rule, .hash = hash, .key = e.key, .times = e.times, .held = e.held,
                             .deadline = e.deadline, .last_state = e.last_state, .flapping = e.flapping,
                             .opened = e.opened, .target = e.target, .title = e.title, .host = e.host, .ci = e.ci,
                             .type = e.type, .severity = e.severity})));
    } else if (auto r = resolved_.find(id); r != resolved_.end()) {
      const Resolved& x = r->second;
      out.push_back(store::StateOp::put(store::Column::kCorrelation, partition, std::move(key),
                                        encodeResolvedRecord({.rule = x.rule, .key = x.key, .id = x.id,
                                                              .resolved_at = x.resolved_at, .deadline = x.deadline})));
    } else {
      out.push_back(store::StateOp::erase(store::Column::kCorrelation, partition, std::move(key)));
    }
  }
  dirty_.clear();
  if (clock_dirty_ || partitions_dirty_) {
    json j = {{"event_clock", toMs(event_clock_)}, {"partitions", partitions_}};
    out.push_back(store::StateOp::put(store::Column::kCorrelation, 0, std::string(kClockKey), j.dump()));
    clock_dirty_ = partitions_dirty_ = false;
  }
}

Status CorrelationComponent::restore(const store::Store& store) {
  store_ = &store;
  auto clock = store.get(store::Column::kCorrelation, 0, kClockKey);
  if (!clock) return clock.error();
  if (!*clock) return Status::ok();
  size_t kept = 0, dropped = 0;
  try {
    const json c = json::parse(**clock);
    event_clock_ = fromMs(c.at("event_clock").get<int64_t>());
    clock_ = std::max(clock_, event_clock_);
    for (uint16_t p : c.at("partitions").get<std::vector<uint16_t>>()) partitions_.insert(p);
  } catch (const json::exception& e) {
    return Status::corruption(std::string("correlation state: ") + e.what());
  }
  for (uint16_t partition : partitions_) {
    if (Status s = loadRecords(store, partition, kept, dropped); !s.isOk()) return s;
  }
  spdlog::info("correlation: restored {} keys (dropped {} of changed or removed rules), clock {}", kept, dropped,
               toMs(event_clock_));
  return Status::ok();
}

Status CorrelationComponent::loadPartition(const store::Store& store, uint16_t partition) {
  store_ = &store;
  forgetPartition(partition);
  size_t kept = 0, dropped = 0;
  if (Status s = loadRecords(store, partition, kept, dropped); !s.isOk()) return s;
  if (kept > 0 || dropped > 0) {
    if (partitions_.insert(partition).second) partitions_dirty_ = true;
  }
  spdlog::info("correlation: loaded {} keys of partition {} (dropped {} of changed or removed rules)", kept, partition,
               dropped);
  return Status::ok();
}

void CorrelationComponent::forgetPartition(uint16_t partition) {
  auto ofPartition = [&](const std::string& id) { return partitionOfId(id) == partition; };
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!ofPartition(it->first)) {
      ++it;
      continue;
    }
    setDeadline(it->first, it->second.deadline, std::nullopt);
    if (it->first[2] == 'k') --keyed_;
    it = entries_.erase(it);
  }
  for (auto it = resolved_.begin(); it != resolved_.end();) {
    if (!ofPartition(it->first)) {
      ++it;
      continue;
    }
    setDeadline(it->first, it->second.deadline, std::nullopt);
    it = resolved_.erase(it);
  }
  std::erase_if(dirty_, ofPartition);  // its records belong to the new owner now
  if (partitions_.erase(partition) > 0) partitions_dirty_ = true;
}

Status CorrelationComponent::loadRecords(const store::Store& store, uint16_t partition, size_t& kept, size_t& dropped) {
  try {
    return store.scan(store::Column::kCorrelation, partition, "", [&](std::string_view key, std::string_view value) {
      if (key.empty() || (key[0] != 's' && key[0] != 'k' && key[0] != 'r')) return true;
      std::string id;
      id.push_back(static_cast<char>(partition >> 8));
      id.push_back(static_cast<char>(partition & 0xff));
      id.append(key);
      const json j = json::parse(value, nullptr, false);
      const rules::Correlation* spec = j.is_object() && j.contains("rule") ? correlationOf(j["rule"].get<std::string>()) : nullptr;
      if (key[0] != 'r') {
        if (!spec || j.value("hash", std::string()) != hashText(spec->spec_hash)) {
          ++dropped;
          dirty_.insert(id);  // erased at the next commit
          return true;
        }
        Entry e;
        e.spec = spec;
        e.partition = partition;
        e.key = j.at("key").get<std::string>();
        for (int64_t ms : j.at("times")) e.times.push_back(fromMs(ms));
        for (const auto& h : j.at("held")) {
          e.held.push_back({fromMs(h.at(0).get<int64_t>()), h.at(1).get<std::string>(),
                            static_cast<Severity>(h.at(2).get<int>()), static_cast<EventState>(h.at(3).get<int>()),
                            h.at(4).get<std::string>()});
        }
        e.last_state = static_cast<EventState>(j.at("last_state").get<int>());
        e.flapping = j.at("flapping").get<bool>();
        e.opened = j.at("opened").get<bool>();
        e.target = j.at("target").get<std::string>();
        e.title = j.at("title").get<std::string>();
        e.host = j.at("host").get<std::string>();
        e.ci = j.at("ci").get<std::string>();
        e.type = j.at("type").get<std::string>();
        e.severity = static_cast<Severity>(j.at("severity").get<int>());
        std::optional<TimePoint> deadline;
        if (!j.at("deadline").is_null()) deadline = fromMs(j.at("deadline").get<int64_t>());
        if (key[0] == 'k') ++keyed_;
        Entry& stored = entries_[id] = std::move(e);
        setDeadline(id, stored.deadline, deadline);
      } else {
        if (!spec) {
          ++dropped;
          dirty_.insert(id);
          return true;
        }
        Resolved r{j.at("rule").get<std::string>(), partition, j.at("key").get<std::string>(),
                   j.at("id").get<incidents::IncidentId>(), fromMs(j.at("resolved_at").get<int64_t>()), std::nullopt};
        std::optional<TimePoint> deadline;
        if (!j.at("deadline").is_null()) deadline = fromMs(j.at("deadline").get<int64_t>());
        Resolved& stored = resolved_[id] = std::move(r);
        setDeadline(id, stored.deadline, deadline);
      }
      ++kept;
      return true;
    });
  } catch (const json::exception& e) {
    return Status::corruption(std::string("correlation state of partition ") + std::to_string(partition) + ": " +
                              e.what());
  }
}

}  // namespace vigil::correlation
