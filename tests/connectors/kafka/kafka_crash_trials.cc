// 20 kill -9 trials (label `long`): vigild consumes a stream from the mock cluster while kcat
// keeps producing, is killed with SIGKILL at a varying moment, restarts, and must end with
// every produced event counted exactly once and one incident per host. Prints one line per
// trial and a summary. Run with: ctest -L long --output-on-failure -V
#include <csignal>
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>

#include "tests/connectors/kafka/kafka_test_support.h"

namespace vigil::testing {
namespace {

TEST(KafkaCrashTrials, TwentyKillNineTrialsCountEveryEventOnce) {
  constexpr int kTrials = 20;
  constexpr int kHosts = 16;
  constexpr int kPerHostChunk = 25;
  constexpr int kChunks = 6;
  MockKafkaCluster cluster({"events:4", "out:2"});
  ASSERT_TRUE(cluster.ok());
  VigildInstance vigild(kafkaYaml(cluster, "events", "  output_topic: out\n"));
  ASSERT_TRUE(vigild.start()) << vigild.log();
  uint64_t produced_total = 0;
  int passed = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    // Each trial adds a stream and kills vigild once a varying share of it is counted.
    const uint64_t before = produced_total;
    uint64_t produced = 0;
    std::thread producer([&] {
      for (int c = 0; c < kChunks; ++c) {
        for (int h = 0; h < kHosts; ++h) {
          std::vector<std::string> lines;
          for (int i = 0; i < kPerHostChunk; ++i) lines.push_back(diskEvent("h" + std::to_string(h), i));
          if (cluster.produce("events", "h" + std::to_string(h), lines)) produced += lines.size();
        }
      }
    });
    const uint64_t kill_at = before + (trial % 5 + 1) * kHosts * kPerHostChunk;
    waitFor([&] { return sumEventCounts(vigild) >= kill_at; }, std::chrono::seconds(60));
    const uint64_t at_kill = sumEventCounts(vigild);
    EXPECT_EQ(vigild.kill(), -SIGKILL);
    const bool restarted = vigild.start();
    producer.join();
    produced_total += produced;
    ASSERT_TRUE(restarted) << vigild.log();
    waitFor([&] { return sumEventCounts(vigild) >= produced_total; }, std::chrono::seconds(120));
    const uint64_t counted = sumEventCounts(vigild);
    const size_t incidents = allIncidents(vigild).size();
    const bool ok = counted == produced_total && incidents == static_cast<size_t>(kHosts);
    passed += ok ? 1 : 0;
    std::printf("trial %2d: killed at %llu counted; produced %llu total, counted %llu; incidents expected %d found %zu: %s\n",
                trial + 1, static_cast<unsigned long long>(at_kill), static_cast<unsigned long long>(produced_total),
                static_cast<unsigned long long>(counted), kHosts, incidents, ok ? "ok" : "MISMATCH");
    std::fflush(stdout);
    EXPECT_TRUE(ok);
  }
  std::printf("kill -9 trials: %d of %d exact; %llu events produced in all\n", passed, kTrials,
              static_cast<unsigned long long>(produced_total));
  EXPECT_EQ(vigild.stop(), 0);
}

}  // namespace
}  // namespace vigil::testing
