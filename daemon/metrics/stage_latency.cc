#include "daemon/metrics/stage_latency.h"

#include <algorithm>

namespace vigil::metrics {

prometheus::Histogram::BucketBoundaries latencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

HistogramTally::HistogramTally(prometheus::Histogram& histogram, prometheus::Histogram::BucketBoundaries bounds)
    : histogram_(histogram), bounds_(std::move(bounds)), tally_(bounds_.size() + 1, 0.0) {}

void HistogramTally::add(double seconds, double count) {
  // Buckets count values <= their bound (le); the last one is +Inf.
  tally_[static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin())] += count;
  sum_ += seconds * count;
  pending_ = true;
}

void HistogramTally::flush() {
  if (!pending_) return;
  histogram_.ObserveMultiple(tally_, sum_);
  std::fill(tally_.begin(), tally_.end(), 0.0);
  sum_ = 0;
  pending_ = false;
}

const char* pipelineStageName(PipelineStage stage) {
  switch (stage) {
    case PipelineStage::kIntake: return "intake";
    case PipelineStage::kQueue: return "queue";
    case PipelineStage::kProcess: return "process";
    case PipelineStage::kCommitWait: return "commit_wait";
    case PipelineStage::kCommit: return "commit";
  }
  return "unknown";
}

StageLatency::StageLatency(prometheus::Registry& registry) {
  auto& family = prometheus::BuildHistogram()
                     .Name("vigil_pipeline_stage_seconds")
                     .Help("Per event, the time spent in each pipeline stage from arrival to commit "
                           "(intake, queue, process, commit_wait, commit; they add up to event_to_commit)")
                     .Register(registry);
  tallies_.reserve(kPipelineStageCount);
  for (size_t i = 0; i < kPipelineStageCount; ++i) {
    tallies_.emplace_back(family.Add({{"stage", pipelineStageName(static_cast<PipelineStage>(i))}}, latencyBuckets()),
                          latencyBuckets());
  }
}

void StageLatency::add(PipelineStage stage, TimePoint from, TimePoint to, double count) {
  // An unset mark, or a clock step back, counts as no time rather than a negative one.
  const double seconds =
      from == TimePoint{} || to == TimePoint{} ? 0.0 : std::max(0.0, std::chrono::duration<double>(to - from).count());
  tallies_[static_cast<size_t>(stage)].add(seconds, count);
}

void StageLatency::tally(const StageMarks& marks, TimePoint committed, std::span<const Event> events) {
  if (events.empty()) return;
  for (const auto& event : events) add(PipelineStage::kIntake, event.received_at, marks.queued, 1);
  const auto count = static_cast<double>(events.size());
  add(PipelineStage::kQueue, marks.queued, marks.popped, count);
  add(PipelineStage::kProcess, marks.popped, marks.processed, count);
  add(PipelineStage::kCommitWait, marks.processed, marks.handed, count);
  add(PipelineStage::kCommit, marks.handed, committed, count);
}

void StageLatency::flush() {
  for (auto& t : tallies_) t.flush();
}

}  // namespace vigil::metrics
