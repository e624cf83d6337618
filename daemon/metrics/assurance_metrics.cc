#include "daemon/metrics/assurance_metrics.h"

#include <algorithm>

namespace vigil::metrics {

namespace {

using incidents::ChangeKind;

// From a quick acknowledgement to a week-long fix.
prometheus::Histogram::BucketBoundaries responseBuckets() {
  return {10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200, 604800};
}

size_t priorityIndex(uint8_t priority) { return std::clamp<size_t>(priority, 1, AssuranceMetrics::kPriorities) - 1; }

double secondsBetween(TimePoint from, TimePoint to) {
  return std::max(0.0, std::chrono::duration<double>(to - from).count());
}

const std::string kNoService = "none";

}  // namespace

AssuranceMetrics::AssuranceMetrics(prometheus::Registry& r)
    : health_family_(prometheus::BuildGauge()
                         .Name("vigil_service_health")
                         .Help("Health of each business service: 0 up, 1 degraded, 2 down")
                         .Register(r)),
      open_family_(prometheus::BuildGauge()
                       .Name("vigil_service_open_incidents")
                       .Help("Active incidents affecting each business service, by severity")
                       .Register(r)),
      down_family_(prometheus::BuildCounter()
                       .Name("vigil_service_down_seconds_total")
                       .Help("Seconds each business service spent down while vigil ran")
                       .Register(r)),
      degraded_family_(prometheus::BuildCounter()
                           .Name("vigil_service_degraded_seconds_total")
                           .Help("Seconds each business service spent degraded while vigil ran")
                           .Register(r)),
      ack_family_(prometheus::BuildHistogram()
                      .Name("vigil_service_time_to_acknowledge_seconds")
                      .Help("From an incident's first event to its acknowledgement, per affected service and priority")
                      .Register(r)),
      resolve_family_(prometheus::BuildHistogram()
                          .Name("vigil_service_time_to_resolve_seconds")
                          .Help("From an incident's first event to its resolution, per affected service and priority")
                          .Register(r)),
      changes_family_(prometheus::BuildCounter()
                          .Name("vigil_incidents_total")
                          .Help("Incident changes committed, by change, severity and priority")
                          .Register(r)),
      open_state_(prometheus::BuildGauge()
                      .Name("vigil_incidents_open")
                      .Help("Active incidents by state")
                      .Register(r)
                      .Add({{"state", "open"}})),
      acknowledged_state_(prometheus::BuildGauge()
                              .Name("vigil_incidents_open")
                              .Help("Active incidents by state")
                              .Register(r)
                              .Add({{"state", "acknowledged"}})),
      symptoms_attached_(prometheus::BuildCounter()
                             .Name("vigil_incident_symptoms_attached_total")
                             .Help("Incidents opened as a symptom of an incident on a CI they depend on")
                             .Register(r)
                             .Add({})) {}

size_t AssuranceMetrics::changeSlot(const incidents::IncidentChange& change) {
  const size_t kind = static_cast<size_t>(change.kind);
  const size_t severity = std::min(static_cast<size_t>(change.severity), kSeverities - 1);
  return (kind * kSeverities + severity) * kPriorities + priorityIndex(change.priority);
}

prometheus::Counter& AssuranceMetrics::changeCounter(size_t slot) {
  auto*& counter = change_counters_[slot];
  if (counter == nullptr) {
    const auto kind = static_cast<ChangeKind>(slot / (kSeverities * kPriorities));
    const auto severity = static_cast<Severity>(slot / kPriorities % kSeverities);
    const size_t priority = slot % kPriorities;
    counter = &changes_family_.Add({{"change", std::string(incidents::changeKindName(kind))},
                                    {"severity", std::string(severityName(severity))},
                                    {"priority", incidents::priorityName(static_cast<uint8_t>(priority + 1))}});
  }
  return *counter;
}

const incidents::Incident* AssuranceMetrics::findIncident(const incidents::ChangeSet& changes,
                                                          incidents::IncidentId id) const {
  auto it = std::lower_bound(index_.begin(), index_.end(), std::make_pair(id, uint32_t{0}));
  if (it == index_.end() || it->first != id) return nullptr;
  return changes.incidents[it->second].get();
}

void AssuranceMetrics::committed(const incidents::ChangeSet& changes) {
  // Counted per batch: a Counter's update is an atomic read-modify-write.
  bool lifecycle = false;
  for (const auto& change : changes.changes) {
    ++changes_in_batch_[changeSlot(change)];
    lifecycle = lifecycle || change.kind == ChangeKind::kOpened || change.kind == ChangeKind::kAcknowledged ||
                change.kind == ChangeKind::kResolved;
  }
  for (size_t slot = 0; slot < kChangeSlots; ++slot) {
    if (changes_in_batch_[slot] != 0) changeCounter(slot).Increment(static_cast<double>(changes_in_batch_[slot]));
  }
  changes_in_batch_.fill(0);
  if (!lifecycle) return;
  // The incidents in their final state, found by id (the vector keeps its capacity).
  index_.clear();
  for (uint32_t i = 0; i < changes.incidents.size(); ++i) index_.emplace_back(changes.incidents[i]->id, i);
  std::sort(index_.begin(), index_.end());
  for (const auto& change : changes.changes) {
    if (change.kind != ChangeKind::kOpened && change.kind != ChangeKind::kAcknowledged &&
        change.kind != ChangeKind::kResolved) {
      continue;
    }
    const incidents::Incident* in = findIncident(changes, change.id);
    if (in == nullptr) continue;
    if (change.kind == ChangeKind::kOpened) {
      if (in->parent) symptoms_attached_.Increment();
    } else {
      observe(*in, change.kind == ChangeKind::kAcknowledged);
    }
  }
  for (HistogramTally* tally : observed_) tally->flush();
  observed_.clear();
}

void AssuranceMetrics::observe(const incidents::Incident& in, bool acknowledged) {
  const auto& at = acknowledged ? in.acknowledged_at : in.resolved_at;
  if (!at) return;  // reopened later in the same batch
  const double seconds = secondsBetween(in.first_seen, *at);
  auto observeFor = [&](const std::string& service) {
    HistogramTally& tally = histogram(service, in.priority, acknowledged);
    if (!tally.pending()) observed_.push_back(&tally);  // flushed at the batch's end, once
    tally.add(seconds);
  };
  if (in.services.empty()) {
    observeFor(kNoService);
    return;
  }
  for (const auto& service : in.services) observeFor(service);
}

HistogramTally& AssuranceMetrics::histogram(const std::string& service, uint8_t priority, bool acknowledge) {
  auto it = latency_.find(service);
  if (it == latency_.end()) it = latency_.emplace(service, Latency{}).first;
  const size_t p = priorityIndex(priority);
  auto& slot = acknowledge ? it->second.acknowledge[p] : it->second.resolve[p];
  if (slot == nullptr) {
    auto& family = acknowledge ? ack_family_ : resolve_family_;
    auto buckets = responseBuckets();
    auto& histogram =
        family.Add({{"service", service}, {"priority", incidents::priorityName(static_cast<uint8_t>(p + 1))}}, buckets);
    slot = std::make_unique<HistogramTally>(histogram, std::move(buckets));
  }
  return *slot;
}

uint32_t AssuranceMetrics::serviceIndex(const std::string& service) {
  auto [it, inserted] = service_ids_.try_emplace(service, static_cast<uint32_t>(service_names_.size()));
  if (inserted) {
    service_names_.push_back(service);
    open_by_service_.emplace_back();
  }
  return it->second;
}

AssuranceMetrics::Counted AssuranceMetrics::countedOf(const incidents::Incident& in) {
  Counted c;
  c.acknowledged = in.state == incidents::IncidentState::kAcknowledged;
  c.severity = static_cast<uint8_t>(std::min(static_cast<size_t>(in.severity), kSeverities - 1));
  c.services.reserve(in.services.size());
  for (const auto& service : in.services) c.services.push_back(serviceIndex(service));
  return c;
}

bool AssuranceMetrics::countedAs(const Counted& c, const incidents::Incident& in) const {
  if (c.acknowledged != (in.state == incidents::IncidentState::kAcknowledged) ||
      c.severity != std::min(static_cast<size_t>(in.severity), kSeverities - 1) ||
      c.services.size() != in.services.size()) {
    return false;
  }
  for (size_t i = 0; i < c.services.size(); ++i) {
    if (service_names_[c.services[i]] != in.services[i]) return false;
  }
  return true;
}

void AssuranceMetrics::add(const Counted& c) {
  (c.acknowledged ? acknowledged_ : open_)++;
  for (uint32_t s : c.services) {
    open_by_service_[s][c.severity]++;
    touched_services_.push_back(s);
  }
}

void AssuranceMetrics::remove(const Counted& c) {
  (c.acknowledged ? acknowledged_ : open_)--;
  for (uint32_t s : c.services) {
    open_by_service_[s][c.severity]--;
    touched_services_.push_back(s);
  }
}

void AssuranceMetrics::recount(const incidents::IncidentEngine& engine) {
  counted_.clear();
  open_ = 0;
  acknowledged_ = 0;
  for (auto& counts : open_by_service_) counts.fill(0);
  engine.forEachActive([&](const incidents::Incident& in) { add(counted_[in.id] = countedOf(in)); });
  counted_at_ = engine.unrecordedChanges();
  publish(/*all=*/true);
}

void AssuranceMetrics::recount(const incidents::IncidentEngine& engine, const incidents::ChangeSet& changes) {
  if (counted_at_ != engine.unrecordedChanges()) {
    recount(engine);
    return;
  }
  for (const auto& changed : changes.incidents) {
    const incidents::Incident& in = *changed;
    const bool active = engine.isActive(in.id);
    auto it = counted_.find(in.id);
    if (it == counted_.end()) {
      if (active) add(counted_[in.id] = countedOf(in));
      continue;
    }
    if (active && countedAs(it->second, in)) continue;  // most changes: events counted, a sample added
    remove(it->second);
    if (active) {
      add(it->second = countedOf(in));
    } else {
      counted_.erase(it);
    }
  }
  publish(/*all=*/false);
}

void AssuranceMetrics::publish(bool all) {
  open_state_.Set(open_);
  acknowledged_state_.Set(acknowledged_);
  auto set = [&](Service& s, const std::string& name) {
    auto id = service_ids_.find(name);
    for (size_t i = 0; i < kSeverities; ++i) s.open[i]->Set(id == service_ids_.end() ? 0 : open_by_service_[id->second][i]);
  };
  if (all || publish_all_) {
    for (auto& [name, s] : services_) set(s, name);
  } else {
    std::sort(touched_services_.begin(), touched_services_.end());
    touched_services_.erase(std::unique(touched_services_.begin(), touched_services_.end()), touched_services_.end());
    for (uint32_t index : touched_services_) {
      if (auto s = services_.find(service_names_[index]); s != services_.end()) set(s->second, s->first);
    }
  }
  touched_services_.clear();
  publish_all_ = false;
}

void AssuranceMetrics::advance(SteadyTime now) {
  if (last_advance_ == SteadyTime{}) {
    last_advance_ = now;
    return;
  }
  const double elapsed = std::max(0.0, std::chrono::duration<double>(now - last_advance_).count());
  last_advance_ = now;
  for (auto& [id, s] : services_) {
    if (s.state == cmdb::Health::kDown) s.down_seconds->Increment(elapsed);
    if (s.state == cmdb::Health::kDegraded) s.degraded_seconds->Increment(elapsed);
  }
}

void AssuranceMetrics::setHealth(const std::vector<cmdb::ServiceHealth>& services, SteadyTime now) {
  advance(now);  // the time until now counts for the health as it was
  for (auto& [id, s] : services_) s.listed = false;
  for (const auto& h : services) {
    const std::string& id = h.service->id;
    auto [it, inserted] = services_.try_emplace(id);
    Service& s = it->second;
    if (inserted) {
      publish_all_ = true;  // its open-incident gauges start at 0 until the next recount
      s.health = &health_family_.Add({{"service", id}});
      s.down_seconds = &down_family_.Add({{"service", id}});
      s.degraded_seconds = &degraded_family_.Add({{"service", id}});
      for (size_t i = 0; i < kSeverities; ++i) {
        s.open[i] = &open_family_.Add({{"service", id}, {"severity", std::string(severityName(static_cast<Severity>(i)))}});
      }
    }
    s.listed = true;
    s.state = h.health;
    s.health->Set(static_cast<double>(h.health));
  }
  for (auto it = services_.begin(); it != services_.end();) {
    Service& s = it->second;
    if (s.listed) {
      ++it;
      continue;
    }
    health_family_.Remove(s.health);
    down_family_.Remove(s.down_seconds);
    degraded_family_.Remove(s.degraded_seconds);
    for (auto* g : s.open) open_family_.Remove(g);
    it = services_.erase(it);
  }
}

}  // namespace vigil::metrics
