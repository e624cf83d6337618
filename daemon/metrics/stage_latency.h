// Where an event's time from arrival to commit goes: vigil_pipeline_stage_seconds{stage}, one
// histogram per hand-over point of the pipeline, observed once per event like
// vigil_pipeline_event_to_commit_seconds, so an event's five stages add up to its event-to-commit
// time and the histograms say which stage a slow tail comes from:
//   intake      arrival (the source's read) → offered into the correlator queue
//   queue       waiting in the correlator queue
//   process     the correlator's work on the group of batches popped with it
//   commit_wait processed → handed to the committer (the commit before it still in flight)
//   commit      the store commit of its batch (WAL sync included) → durable
// Thread-safety: tally()/flush() on one thread at a time (the committer).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "daemon/event.h"

namespace vigil::metrics {

// The buckets of every pipeline latency histogram: fine around 10 ms, the event-to-commit target.
prometheus::Histogram::BucketBoundaries latencyBuckets();

// Observations of one histogram gathered bucket by bucket and added in one update by flush():
// quantiles over events, without a lock per event.
class HistogramTally {
 public:
  HistogramTally(prometheus::Histogram& histogram, prometheus::Histogram::BucketBoundaries bounds);
  void add(double seconds, double count = 1);
  // Whether anything was added since the last flush.
  bool pending() const { return pending_; }
  void flush();

 private:
  prometheus::Histogram& histogram_;
  const prometheus::Histogram::BucketBoundaries bounds_;
  std::vector<double> tally_;  // per bucket (+Inf last), since the last flush
  double sum_ = 0;
  bool pending_ = false;
};

enum class PipelineStage { kIntake, kQueue, kProcess, kCommitWait, kCommit };
inline constexpr size_t kPipelineStageCount = 5;
const char* pipelineStageName(PipelineStage stage);

// When a batch of events passed the pipeline's hand-over points (the real clock). The pipeline
// sets them all; an unset one makes the stages on either side of it count as no time.
struct StageMarks {
  TimePoint queued{};     // offered into the correlator queue
  TimePoint popped{};     // taken from it by the correlator
  TimePoint processed{};  // the correlator done with its group
  TimePoint handed{};     // handed to the committer
};

class StageLatency {
 public:
  explicit StageLatency(prometheus::Registry& registry);
  // Tallies the events of one batch, durable at `committed`: intake per event (from its
  // received_at), the later stages once with the batch's event count.
  void tally(const StageMarks& marks, TimePoint committed, std::span<const Event> events);
  // Adds what was tallied since the last flush to the histograms.
  void flush();

 private:
  void add(PipelineStage stage, TimePoint from, TimePoint to, double count);

  std::vector<HistogramTally> tallies_;  // by PipelineStage
};

}  // namespace vigil::metrics
