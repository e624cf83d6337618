// Metrics: the one prometheus-cpp registry vigild exposes at /metrics, and the metric sets of the
// core components. Each set resolves its label values once, so the hot path only increments.
// Naming: vigil_<component>_<what>_<unit|total>.
// Thread-safety: prometheus-cpp metrics are thread-safe; the per-source caches are correlator-only.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "daemon/event.h"
#include "daemon/incidents/incident_engine.h"

namespace vigil::metrics {

// Owns the registry; renders the Prometheus text format.
class MetricsRegistry {
 public:
  MetricsRegistry();
  prometheus::Registry& registry() { return *registry_; }
  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* start_time_ = nullptr;
};

// Metrics of the pipeline and the incidents it changes. Called on: the correlator thread.
class PipelineMetrics {
 public:
  explicit PipelineMetrics(prometheus::Registry& registry);

  prometheus::Counter& received(std::string_view source);
  prometheus::Counter& outcome(std::string_view source, incidents::ApplyOutcome outcome);
  void incidentChanged(incidents::ChangeKind kind, Severity severity);
  prometheus::Counter& binding(std::string_view source, std::string_view match);
  void setServiceHealth(const std::string& service, int health);

  prometheus::Gauge& queue_depth;
  prometheus::Gauge& active_incidents;
  prometheus::Gauge& ready;
  prometheus::Histogram& batch_events;
  prometheus::Histogram& commit_seconds;
  prometheus::Histogram& event_to_commit_seconds;
  prometheus::Counter& commit_failures;

 private:
  prometheus::Family<prometheus::Counter>& received_family_;
  prometheus::Family<prometheus::Counter>& outcome_family_;
  prometheus::Family<prometheus::Counter>& incidents_family_;
  prometheus::Family<prometheus::Counter>& binding_family_;
  prometheus::Family<prometheus::Gauge>& health_family_;
  std::unordered_map<std::string, prometheus::Counter*> received_;
  std::unordered_map<std::string, prometheus::Counter*> outcomes_;
  std::unordered_map<std::string, prometheus::Counter*> bindings_;
};

}  // namespace vigil::metrics
