// Service assurance and incident metrics: what Prometheus needs to tell, from vigil alone, whether
// the business services are healthy and whether the NOC keeps up.
//   vigil_service_health{service}                        0 up, 1 degraded, 2 down
//   vigil_service_open_incidents{service,severity}       active incidents affecting the service
//   vigil_service_down_seconds_total{service}            time spent down (availability SLOs)
//   vigil_service_degraded_seconds_total{service}        time spent degraded
//   vigil_service_time_to_acknowledge_seconds{service,priority}  acknowledged_at - first_seen
//   vigil_service_time_to_resolve_seconds{service,priority}      resolved_at - first_seen
//   vigil_incidents_total{change,severity,priority}      committed incident changes
//   vigil_incidents_open{state}                          active incidents: open | acknowledged
//   vigil_incident_symptoms_attached_total               incidents opened as a symptom of a parent
// Labels are bounded: services come from the CMDB (an incident on no service observes its
// latencies under service="none"), severities and priorities are fixed sets.
// The down/degraded seconds advance at every health computation and on the correlator's tick, so
// they grow while a service stays down; after a restart health is recomputed from the restored
// incidents and the counters start again from 0 (a counter reset, which rate() handles).
// Thread-safety: committed() on the pipeline's committer thread, the others on the correlator
// thread; the two sides touch disjoint members, and the metrics themselves are thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "daemon/cmdb/service_health.h"
#include "daemon/event.h"
#include "daemon/incidents/incident_engine.h"
#include "daemon/metrics/stage_latency.h"

namespace vigil::metrics {

class AssuranceMetrics {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  static constexpr size_t kSeverities = static_cast<size_t>(Severity::kInfo) + 1;
  static constexpr size_t kPriorities = 5;  // P1 .. P5
  static constexpr size_t kChangeKinds = static_cast<size_t>(incidents::kLastChangeKind) + 1;

  explicit AssuranceMetrics(prometheus::Registry& registry);

  // After a batch committed: counts its changes and symptoms, observes time to acknowledge and to
  // resolve for each service of each incident acknowledged or resolved in it.
  void committed(const incidents::ChangeSet& changes);
  // Recomputes the gauges of active incidents (by state; per service by severity) from every
  // active incident.
  void recount(const incidents::IncidentEngine& engine);
  // The same gauges after a batch, from the incidents `changes` holds (engine.takeChanges(): every
  // incident changed since the last call), in time proportional to the batch rather than to the
  // active incidents. Counts in full when the engine changed otherwise (restore, dropPartition).
  void recount(const incidents::IncidentEngine& engine, const incidents::ChangeSet& changes);
  // Takes a new health computation. The time since the last call (or advance()) counts for the
  // health each service had until now. Services gone from the CMDB lose their series.
  void setHealth(const std::vector<cmdb::ServiceHealth>& services, SteadyTime now);
  // The tick: the time since the last call counts for each service's current health.
  void advance(SteadyTime now);

 private:
  struct Service {
    prometheus::Gauge* health = nullptr;
    prometheus::Counter* down_seconds = nullptr;
    prometheus::Counter* degraded_seconds = nullptr;
    std::array<prometheus::Gauge*, kSeverities> open{};
    cmdb::Health state = cmdb::Health::kUp;
    bool listed = false;  // scratch for setHealth()
  };
  // Latency histograms outlive CMDB reloads: they are cumulative. Observed through a tally,
  // added to the histogram once per batch (an observation takes the histogram's lock).
  struct Latency {
    std::array<std::unique_ptr<HistogramTally>, kPriorities> acknowledge;
    std::array<std::unique_ptr<HistogramTally>, kPriorities> resolve;
  };

  // What one active incident adds to the gauges of active incidents, as last counted.
  struct Counted {
    bool acknowledged = false;
    uint8_t severity = 0;
    std::vector<uint32_t> services;  // indexes into service_names_
  };
  Counted countedOf(const incidents::Incident& in);
  bool countedAs(const Counted& counted, const incidents::Incident& in) const;
  uint32_t serviceIndex(const std::string& service);
  void add(const Counted& counted);
  void remove(const Counted& counted);
  // Sets the gauges from the counts: every service's, or those of the services touched since.
  void publish(bool all);

  void observe(const incidents::Incident& in, bool acknowledged);
  HistogramTally& histogram(const std::string& service, uint8_t priority, bool acknowledge);
  static size_t changeSlot(const incidents::IncidentChange& change);
  prometheus::Counter& changeCounter(size_t slot);
  const incidents::Incident* findIncident(const incidents::ChangeSet& changes, incidents::IncidentId id) const;

  prometheus::Family<prometheus::Gauge>& health_family_;
  prometheus::Family<prometheus::Gauge>& open_family_;
  prometheus::Family<prometheus::Counter>& down_family_;
  prometheus::Family<prometheus::Counter>& degraded_family_;
  prometheus::Family<prometheus::Histogram>& ack_family_;
  prometheus::Family<prometheus::Histogram>& resolve_family_;
  prometheus::Family<prometheus::Counter>& changes_family_;
  prometheus::Gauge& open_state_;
  prometheus::Gauge& acknowledged_state_;
  prometheus::Counter& symptoms_attached_;

  std::unordered_map<std::string, Service> services_;
  std::unordered_map<std::string, Latency> latency_;
  static constexpr size_t kChangeSlots = kChangeKinds * kSeverities * kPriorities;
  std::array<prometheus::Counter*, kChangeSlots> change_counters_{};
  std::array<uint32_t, kChangeSlots> changes_in_batch_{};  // added to change_counters_ per batch
  std::vector<HistogramTally*> observed_;                  // the tallies observed in this batch
  std::vector<std::pair<incidents::IncidentId, uint32_t>> index_;  // reused: id → position in a ChangeSet
  // Active incidents counted by recount(), kept in step batch by batch. Services are counted
  // whether the CMDB lists them or not, so one listed later starts with its count.
  std::unordered_map<incidents::IncidentId, Counted> counted_;
  std::unordered_map<std::string, uint32_t> service_ids_;
  std::vector<std::string> service_names_;
  std::vector<std::array<uint32_t, kSeverities>> open_by_service_;  // by service index
  std::vector<uint32_t> touched_services_;  // since the last publish
  bool publish_all_ = true;                 // a service was listed since the last publish
  uint32_t open_ = 0;
  uint32_t acknowledged_ = 0;
  std::optional<uint64_t> counted_at_;  // the engine's unrecordedChanges() when counted in full
  SteadyTime last_advance_{};
};

}  // namespace vigil::metrics
