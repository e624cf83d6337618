#include "daemon/pipeline.h"

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "tests/daemon/pipeline_fixture.h"

namespace vigil {
namespace {

using testing::kLinkRules;
using testing::syslogLine;

class PipelineTest : public testing::PipelineFixture {
 protected:
  void SetUp() override { openStoreAndRules(kLinkRules); }

  std::unique_ptr<Pipeline> makePipeline() {
    auto p = std::make_unique<Pipeline>(PipelineOptions{}, rules_, *store_, metrics_);
    EXPECT_TRUE(p->start().isOk());
    return p;
  }

  // Hands over one batch and waits for its commit; returns what the callback saw.
  Status submit(Pipeline& pipeline, std::vector<Event> events, bool* stored_when_acked = nullptr) {
    std::promise<Status> done;
    connectors::EventBatch batch;
    batch.events = std::move(events);
    batch.on_commit = [&](const Status& s) {
      if (stored_when_acked) {
        auto in = store_->getIncident(1);
        *stored_when_acked = in && in->has_value();
      }
      done.set_value(s);
    };
    EXPECT_TRUE(pipeline.offer(batch));
    return done.get_future().get();
  }


};

TEST_F(PipelineTest, AcknowledgesABatchOnlyAfterItIsInTheStore) {
  auto pipeline = makePipeline();
  bool stored = false;
  ASSERT_TRUE(submit(*pipeline, {syslogLine("sw1", "Interface Gi0/1 down")}, &stored).isOk());
  EXPECT_TRUE(stored);
  auto incidents = storedIncidents();
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].key, "sw1/link/Gi0/1");
  EXPECT_EQ(incidents[0].title, "Link down on sw1 Gi0/1");
  EXPECT_EQ(incidents[0].rule, "link-down");
  EXPECT_EQ(incidents[0].state, incidents::IncidentState::kOpen);
}

TEST_F(PipelineTest, DeduplicatesThenResolvesAcrossBatchesAndRestarts) {
  {
    auto pipeline = makePipeline();
    ASSERT_TRUE(submit(*pipeline, {syslogLine("sw1", "Interface Gi0/1 down"),
                                   syslogLine("sw1", "Interface Gi0/1 down"),
                                   syslogLine("sw1", "Interface Gi0/2 down"),
                                   syslogLine("sw1", "nothing to see")})
                    .isOk());
    pipeline->stop();
  }
  auto pipeline = makePipeline();  // restored from the store
  ASSERT_TRUE(submit(*pipeline, {syslogLine("sw1", "Interface Gi0/1 down"),
                                 syslogLine("sw1", "Interface Gi0/1 up")})
                  .isOk());
  auto incidents = storedIncidents();
  ASSERT_EQ(incidents.size(), 2u);
  const auto& gi2 = incidents[0];
  const auto& gi1 = incidents[1];
  EXPECT_EQ(gi1.key, "sw1/link/Gi0/1");
  EXPECT_EQ(gi1.event_count, 4u);
  EXPECT_EQ(gi1.state, incidents::IncidentState::kResolved);
  EXPECT_EQ(gi2.key, "sw1/link/Gi0/2");
  EXPECT_EQ(gi2.state, incidents::IncidentState::kOpen);
}

TEST_F(PipelineTest, StopCommitsEverythingQueued) {
  auto pipeline = makePipeline();
  std::atomic<int> acked{0};
  for (int i = 0; i < 50; ++i) {
    connectors::EventBatch batch;
    batch.events.push_back(syslogLine("h" + std::to_string(i), "Interface e0 down"));
    batch.on_commit = [&](const Status& s) {
      if (s.isOk()) acked++;
    };
    ASSERT_TRUE(pipeline->push(std::move(batch)));
  }
  pipeline->stop();
  EXPECT_EQ(acked.load(), 50);
  EXPECT_EQ(storedIncidents().size(), 50u);
  connectors::EventBatch late;
  late.events.push_back(syslogLine("late", "Interface e0 down"));
  EXPECT_FALSE(pipeline->offer(late));
}

// pipeline.queue_bytes: large events are held back by the memory they hold, well before the
// event count is reached, and every one of them still arrives.
TEST_F(PipelineTest, QueueBytesHoldBackLargeEventsAndLoseNone) {
  PipelineOptions options;
  options.queue_capacity_events = 100000;
  options.queue_capacity_bytes = size_t{1} << 20;
  Pipeline pipeline(options, rules_, *store_, metrics_);
  auto bigBatch = [](int first) {
    connectors::EventBatch batch;
    for (int i = first; i < first + 8; ++i) {
      batch.events.push_back(syslogLine("h" + std::to_string(i), "Interface e0 down " + std::string(100000, 'x')));
    }
    return batch;
  };
  EXPECT_GT(approxMemoryBytes(bigBatch(0).events), 800000u);
  // Not started: nothing drains the queue. 8 events of 100 kB fit, 8 more do not.
  auto first = bigBatch(0);
  ASSERT_TRUE(pipeline.offer(first));
  auto second = bigBatch(8);
  EXPECT_FALSE(pipeline.offer(second));
  EXPECT_EQ(second.events.size(), 8u);  // handed back untouched
  EXPECT_EQ(pipeline.queueDepth(), 8u);
  // A blocking source waits for room instead; once the correlator runs, everything commits.
  std::thread source([&] {
    for (int first_host = 8; first_host < 64; first_host += 8) EXPECT_TRUE(pipeline.push(bigBatch(first_host)));
  });
  ASSERT_TRUE(pipeline.start().isOk());
  source.join();
  pipeline.stop();
  EXPECT_EQ(storedIncidents().size(), 64u);
}

TEST_F(PipelineTest, StoresSourcePositionsInTheSameCommit) {
  auto pipeline = makePipeline();
  std::promise<void> done;
  connectors::EventBatch batch;
  batch.events.push_back(syslogLine("sw9", "Interface x down"));
  batch.positions.push_back({7, "kafka/events/7", "1234"});
  batch.on_commit = [&](const Status&) { done.set_value(); };
  ASSERT_TRUE(pipeline->offer(batch));
  done.get_future().wait();
  auto position = store_->getPosition(7, "kafka/events/7");
  ASSERT_TRUE(position && *position);
  EXPECT_EQ(**position, "1234");
}

}  // namespace
}  // namespace vigil
