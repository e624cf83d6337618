// Metrics: the one prometheus-cpp registry vigild exposes at /metrics, and the metric sets of the
// core components. Each set resolves its label values once, so the hot path only increments.
// Naming: vigil_<component>_<what>_<unit|total>.
// Thread-safety: prometheus-cpp metrics are thread-safe; the per-source caches are correlator-only.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "daemon/event.h"
#include "daemon/incidents/incident_engine.h"
#include "daemon/metrics/assurance_metrics.h"
#include "daemon/metrics/stage_latency.h"

namespace vigil::metrics {

// Owns the registry and the collectors read at scrape time; renders the Prometheus text format.
class MetricsRegistry {
 public:
  MetricsRegistry();  // with vigil_build_info and the process collector
  prometheus::Registry& registry() { return *registry_; }
  // Adds a collector asked for its families on every render(). Thread-safe.
  void addCollectable(std::shared_ptr<prometheus::Collectable> collectable);
  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex collectables_mu_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;  // GUARDED_BY(collectables_mu_)
};

// Metrics of the pipeline and the incidents it changes. Called on: the correlator thread.
class PipelineMetrics {
 public:
  explicit PipelineMetrics(prometheus::Registry& registry);

  // The counters of one event source, labelled once. Lookups by name are per event, so they
  // must not allocate: only a source or match kind seen for the first time does.
  class SourceCounters {
   public:
    prometheus::Counter& received;
    prometheus::Counter& outcome(incidents::ApplyOutcome outcome) { return *outcomes_[static_cast<size_t>(outcome)]; }
    prometheus::Counter& binding(std::string_view match);

   private:
    friend class PipelineMetrics;
    SourceCounters(PipelineMetrics& owner, std::string source);
    PipelineMetrics& owner_;
    std::string source_;
    std::array<prometheus::Counter*, incidents::kApplyOutcomeCount> outcomes_{};
    std::vector<std::pair<std::string, prometheus::Counter*>> bindings_;  // a handful of match kinds
  };
  // Cached: an event from the same source as the previous one costs a string compare.
  SourceCounters& source(std::string_view source);

  prometheus::Gauge& queue_depth;
  prometheus::Gauge& active_incidents;
  prometheus::Gauge& ready;
  prometheus::Histogram& batch_events;
  prometheus::Histogram& commit_seconds;
  prometheus::Histogram& event_to_commit_seconds;  // through tallyEventToCommit()
  prometheus::Counter& commit_failures;
  // One observation of event_to_commit_seconds per event of a committed batch, tallied here and
  // added in one update by flushEventsToCommit(): the quantiles are over events, not batches,
  // without a lock per event. Called on: the committer thread.
  void tallyEventToCommit(double seconds);
  void flushEventsToCommit();
  AssuranceMetrics assurance;  // services and incidents
  StageLatency stages;         // where event_to_commit goes; on the committer thread

 private:
  prometheus::Family<prometheus::Counter>& received_family_;
  prometheus::Family<prometheus::Counter>& outcome_family_;
  prometheus::Family<prometheus::Counter>& binding_family_;
  std::unordered_map<std::string, std::unique_ptr<SourceCounters>> sources_;
  SourceCounters* last_source_ = nullptr;
  HistogramTally event_to_commit_tally_;
};

}  // namespace vigil::metrics
