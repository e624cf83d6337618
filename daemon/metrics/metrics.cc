#include "daemon/metrics/metrics.h"

#include <algorithm>

#include <prometheus/text_serializer.h>

#include "daemon/build_info.h"
#include "daemon/metrics/collectors.h"

namespace vigil::metrics {

namespace {

std::string_view outcomeName(incidents::ApplyOutcome outcome) {
  switch (outcome) {
    case incidents::ApplyOutcome::kIgnored: return "no_incident";
    case incidents::ApplyOutcome::kDropped: return "dropped_by_rule";
    case incidents::ApplyOutcome::kOpened: return "opened";
    case incidents::ApplyOutcome::kUpdated: return "updated";
    case incidents::ApplyOutcome::kResolved: return "resolved";
    case incidents::ApplyOutcome::kUnmatchedResolve: return "resolve_unmatched";
    case incidents::ApplyOutcome::kSymptom: return "symptom";
    case incidents::ApplyOutcome::kHeld: return "held";
  }
  return "unknown";
}

}  // namespace

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::BuildGauge()
      .Name("vigil_build_info")
      .Help("Build information; the value is always 1")
      .Register(*registry_)
      .Add({{"version", kVersion}, {"revision", kRevision}, {"compiler", kCompiler}})
      .Set(1);
  addCollectable(makeProcessCollector());
}

void MetricsRegistry::addCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
  std::lock_guard lock(collectables_mu_);
  collectables_.push_back(std::move(collectable));
}

std::string MetricsRegistry::render() const {
  auto families = registry_->Collect();
  std::lock_guard lock(collectables_mu_);
  for (const auto& c : collectables_) {
    auto more = c->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

PipelineMetrics::PipelineMetrics(prometheus::Registry& r)
    : queue_depth(prometheus::BuildGauge()
                      .Name("vigil_pipeline_queue_depth_events")
                      .Help("Events waiting in the correlator queue")
                      .Register(r)
                      .Add({})),
      active_incidents(prometheus::BuildGauge()
                           .Name("vigil_incidents_active")
                           .Help("Incidents open or acknowledged")
                           .Register(r)
                           .Add({})),
      ready(prometheus::BuildGauge()
                .Name("vigil_ready")
                .Help("1 when the pipeline commits normally, 0 while the store refuses writes")
                .Register(r)
                .Add({})),
      batch_events(prometheus::BuildHistogram()
                       .Name("vigil_pipeline_batch_events")
                       .Help("Events per committed pipeline batch")
                       .Register(r)
                       .Add({}, prometheus::Histogram::BucketBoundaries{1, 4, 16, 64, 256, 1024,
                                                                        4096, 16384})),
      commit_seconds(prometheus::BuildHistogram()
                         .Name("vigil_store_commit_duration_seconds")
                         .Help("Time to write and sync one batch to RocksDB")
                         .Register(r)
                         .Add({}, latencyBuckets())),
      event_to_commit_seconds(prometheus::BuildHistogram()
                                  .Name("vigil_pipeline_event_to_commit_seconds")
                                  .Help("From an event's arrival to the commit of its batch")
                                  .Register(r)
                                  .Add({}, latencyBuckets())),
      commit_failures(prometheus::BuildCounter()
                          .Name("vigil_store_commit_failures_total")
                          .Help("Batch commits that failed and were retried")
                          .Register(r)
                          .Add({})),
      assurance(r),
      stages(r),
      received_family_(prometheus::BuildCounter()
                           .Name("vigil_events_received_total")
                           .Help("Events taken in by the correlator, by source")
                           .Register(r)),
      outcome_family_(prometheus::BuildCounter()
                          .Name("vigil_events_processed_total")
                          .Help("Events processed and committed, by source and outcome")
                          .Register(r)),
      binding_family_(prometheus::BuildCounter()
                          .Name("vigil_events_binding_total")
                          .Help("Events by source and how they bound to a configuration item (none = unbound)")
                          .Register(r)),
      event_to_commit_tally_(event_to_commit_seconds, latencyBuckets()) {}

void PipelineMetrics::tallyEventToCommit(double seconds) { event_to_commit_tally_.add(seconds); }

void PipelineMetrics::flushEventsToCommit() { event_to_commit_tally_.flush(); }

PipelineMetrics::SourceCounters::SourceCounters(PipelineMetrics& owner, std::string source)
    : received(owner.received_family_.Add({{"source", source}})), owner_(owner), source_(std::move(source)) {
  for (size_t i = 0; i < outcomes_.size(); ++i) {
    const auto name = outcomeName(static_cast<incidents::ApplyOutcome>(i));
    outcomes_[i] = &owner_.outcome_family_.Add({{"source", source_}, {"outcome", std::string(name)}});
  }
}

prometheus::Counter& PipelineMetrics::SourceCounters::binding(std::string_view match) {
  for (auto& [name, counter] : bindings_) {
    if (name == match) return *counter;
  }
  auto& c = owner_.binding_family_.Add({{"source", source_}, {"match", std::string(match)}});
  bindings_.emplace_back(std::string(match), &c);
  return c;
}

PipelineMetrics::SourceCounters& PipelineMetrics::source(std::string_view source) {
  if (last_source_ != nullptr && last_source_->source_ == source) return *last_source_;
  auto it = sources_.find(std::string(source));
  if (it == sources_.end()) {
    it = sources_.emplace(std::string(source),
                          std::unique_ptr<SourceCounters>(new SourceCounters(*this, std::string(source)))).first;
  }
  last_source_ = it->second.get();
  return *last_source_;
}

}  // namespace vigil::metrics
