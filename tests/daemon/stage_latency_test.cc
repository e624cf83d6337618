// The per-stage latency accounting (daemon/metrics/stage_latency.h) on made-up time points: each
// event's stages add up to its arrival-to-commit time, bucket by bucket as Prometheus reads them.
#include "daemon/metrics/stage_latency.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace vigil::metrics {
namespace {

using std::chrono::milliseconds;

struct Observed {
  uint64_t count = 0;
  double sum = 0;
  std::vector<uint64_t> cumulative;  // per bucket, +Inf last
};

class StageLatencyTest : public ::testing::Test {
 protected:
  Observed stage(const std::string& name) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "vigil_pipeline_stage_seconds") continue;
      for (const auto& m : family.metric) {
        if (m.label.size() != 1 || m.label[0].name != "stage" || m.label[0].value != name) continue;
        Observed out{m.histogram.sample_count, m.histogram.sample_sum, {}};
        for (const auto& b : m.histogram.bucket) out.cumulative.push_back(b.cumulative_count);
        return out;
      }
    }
    ADD_FAILURE() << "no series for stage " << name;
    return {};
  }

  static Event receivedAt(TimePoint at) {
    Event e;
    e.received_at = at;
    return e;
  }

  prometheus::Registry registry_;
  StageLatency stages_{registry_};
  const TimePoint t0_ = TimePoint{} + std::chrono::hours(24 * 365 * 50);
};

TEST_F(StageLatencyTest, EveryStageIsObservedOncePerEventAndTheStagesAddUpToArrivalToCommit) {
  // Two events read 3 ms apart, offered together; each hand-over a few ms later.
  const std::vector<Event> events{receivedAt(t0_), receivedAt(t0_ + milliseconds(3))};
  StageMarks marks;
  marks.queued = t0_ + milliseconds(4);
  marks.popped = t0_ + milliseconds(6);
  marks.processed = t0_ + milliseconds(7);
  marks.handed = t0_ + milliseconds(19);
  const TimePoint committed = t0_ + milliseconds(24);
  stages_.tally(marks, committed, events);
  // Nothing reaches Prometheus before the flush: one update per committed batch.
  EXPECT_EQ(stage("queue").count, 0u);
  stages_.flush();

  const std::map<std::string, double> expected_sums{
      {"intake", 0.004 + 0.001}, {"queue", 2 * 0.002}, {"process", 2 * 0.001},
      {"commit_wait", 2 * 0.012}, {"commit", 2 * 0.005}};
  double total = 0;
  for (const auto& [name, sum] : expected_sums) {
    const Observed o = stage(name);
    EXPECT_EQ(o.count, 2u) << name;
    EXPECT_NEAR(o.sum, sum, 1e-9) << name;
    total += o.sum;
  }
  // Arrival to commit: 24 ms and 21 ms.
  EXPECT_NEAR(total, 0.024 + 0.021, 1e-9);
  // The buckets (0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, …): commit_wait's 12 ms
  // falls in le=0.015 and none below; intake's 1 ms in le=0.001 and its 4 ms in le=0.005.
  const Observed wait = stage("commit_wait");
  EXPECT_EQ(wait.cumulative[5], 0u);
  EXPECT_EQ(wait.cumulative[6], 2u);
  const Observed intake = stage("intake");
  EXPECT_EQ(intake.cumulative[0], 0u);
  EXPECT_EQ(intake.cumulative[1], 1u);
  EXPECT_EQ(intake.cumulative[3], 2u);
}

TEST_F(StageLatencyTest, FlushesAddUpAndAnEmptyFlushChangesNothing) {
  StageMarks marks{t0_, t0_ + milliseconds(1), t0_ + milliseconds(2), t0_ + milliseconds(3)};
  const std::vector<Event> one{receivedAt(t0_)};
  stages_.tally(marks, t0_ + milliseconds(4), one);
  stages_.flush();
  stages_.flush();
  stages_.tally(marks, t0_ + milliseconds(4), one);
  stages_.flush();
  EXPECT_EQ(stage("commit").count, 2u);
  EXPECT_NEAR(stage("commit").sum, 0.002, 1e-9);
}

TEST_F(StageLatencyTest, ABatchWithoutEventsIsNotObserved) {
  StageMarks marks{t0_, t0_ + milliseconds(1), t0_ + milliseconds(2), t0_ + milliseconds(3)};
  stages_.tally(marks, t0_ + milliseconds(4), {});
  stages_.flush();
  EXPECT_EQ(stage("queue").count, 0u);
}

TEST_F(StageLatencyTest, AnUnsetMarkOrAClockStepBackCountsAsNoTimeNeverNegative) {
  StageMarks marks;
  marks.queued = t0_ + milliseconds(5);
  marks.popped = t0_ + milliseconds(2);  // the wall clock stepped back between the two reads
  // processed unset
  marks.handed = t0_ + milliseconds(8);
  const std::vector<Event> one{receivedAt(t0_)};
  stages_.tally(marks, t0_ + milliseconds(10), one);
  stages_.flush();
  EXPECT_EQ(stage("queue").sum, 0);
  EXPECT_EQ(stage("process").sum, 0);
  EXPECT_EQ(stage("commit_wait").sum, 0);
  EXPECT_NEAR(stage("intake").sum, 0.005, 1e-9);
  EXPECT_NEAR(stage("commit").sum, 0.002, 1e-9);
  for (const char* name : {"intake", "queue", "process", "commit_wait", "commit"}) EXPECT_EQ(stage(name).count, 1u);
}

}  // namespace
}  // namespace vigil::metrics
