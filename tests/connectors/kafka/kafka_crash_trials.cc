// kill -9 trials: vigild consumes a stream from the mock cluster while kcat keeps producing, is
// killed with SIGKILL once a seeded-random share of the stream is counted, restarts, and must end
// with every produced event counted exactly once (the incidents' event_count sum), one incident
// per host, and on the output topic (read back with kcat) every change seq exactly once: no
// duplicate, no gap. Each trial also shows how many changes the restart found already in the
// topic (delivered after the last recorded position) and did not send again. Prints one table
// row per trial and a summary.
//
// Two binaries share this file: kafka_crash_trials_short (VIGIL_CRASH_TRIALS=3, default suite)
// and kafka_crash_trials (24 trials, label `long`: ctest -L long --output-on-failure -V).
// VIGIL_KAFKA_TRIALS and VIGIL_KAFKA_SEED in the environment override the count and the seed.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/connectors/kafka/kafka_test_support.h"

#ifndef VIGIL_CRASH_TRIALS
#define VIGIL_CRASH_TRIALS 3
#endif

namespace vigil::testing {
namespace {

using std::chrono::seconds;

uint64_t envOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// The output topic as a count per change seq, and the incidents' last event_count it reports.
struct OutputView {
  std::map<uint64_t, int> seq_count;
  std::map<uint64_t, uint64_t> last_event_count;  // incident id → event_count of its newest seq
};

OutputView readOutput(MockKafkaCluster& cluster) {
  OutputView view;
  std::map<uint64_t, uint64_t> newest_seq;
  for (const auto& m : cluster.consumeAll("out")) {
    const auto j = nlohmann::json::parse(m.value, nullptr, false);
    if (!j.is_object() || !j.contains("seq")) continue;
    const uint64_t seq = j["seq"];
    const uint64_t id = j["incident"]["id"];
    ++view.seq_count[seq];
    // Consumers dedup by the vigil-seq header; it must agree with the value.
    EXPECT_NE(m.headers.find("vigil-seq=" + std::to_string(seq)), std::string::npos) << m.headers;
    if (seq >= newest_seq[id]) {
      newest_seq[id] = seq;
      view.last_event_count[id] = j["incident"]["event_count"];
    }
  }
  return view;
}

TEST(KafkaCrashTrials, KillNineTrialsCountEveryEventOnce) {
  const int trials = static_cast<int>(envOr("VIGIL_KAFKA_TRIALS", VIGIL_CRASH_TRIALS));
  const uint64_t seed = envOr("VIGIL_KAFKA_SEED", 20261122);
  constexpr int kHosts = 16;
  // 16 kcat runs of 96 events: the stream takes a while to arrive, so kills land mid-stream.
  constexpr int kPerHostChunk = 6;
  constexpr int kChunks = 16;
  constexpr uint64_t kPerTrial = static_cast<uint64_t>(kHosts) * kPerHostChunk * kChunks;
  std::mt19937_64 rng(seed);
  MockKafkaCluster cluster({"events:4", "out:2"});
  ASSERT_TRUE(cluster.ok());
  // 6 s test sessions: with 1.5 s the consumer never got an assignment from the mock cluster.
  VigildInstance vigild(kafkaYaml(cluster, "events", "  output_topic: out\n"));
  ASSERT_TRUE(vigild.start()) << vigild.log();
  std::printf("kill -9 trials: %d, seed %llu, %llu events per trial over %d hosts\n", trials,
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(kPerTrial), kHosts);
  std::printf("trial | kill after | killed at | produced | counted | incidents exp/found | out seqs | dups | gaps "
              "| not resent | s\n");
  uint64_t produced_total = 0;
  uint64_t dups_total = 0;
  uint64_t present_total = 0;
  int passed = 0;
  const auto all_start = std::chrono::steady_clock::now();
  for (int trial = 1; trial <= trials; ++trial) {
    const auto trial_start = std::chrono::steady_clock::now();
    // The stream starts once the (re)started consumer owns its partitions: otherwise it arrives
    // during the group's rebalance and the kill always lands after it was all counted.
    ASSERT_TRUE(waitFor([&] { return metricValue(vigild, R"(vigil_kafka_rebalances_total{kind="assign"})") >= 1; },
                        seconds(60)))
        << vigild.log();
    const uint64_t before = produced_total;
    uint64_t produced = 0;
    std::thread producer([&] {
      for (int c = 0; c < kChunks; ++c) {
        std::vector<std::pair<std::string, std::string>> messages;
        for (int h = 0; h < kHosts; ++h) {
          for (int i = 0; i < kPerHostChunk; ++i) {
            messages.emplace_back("h" + std::to_string(h), diskEvent("h" + std::to_string(h), c * kPerHostChunk + i));
          }
        }
        if (cluster.produceKeyed("events", messages)) produced += messages.size();
      }
    });
    // Somewhere in the stream, early or late: the kill lands in whatever vigild is doing then.
    const uint64_t kill_after = std::uniform_int_distribution<uint64_t>(1, kPerTrial - 1)(rng);
    waitFor([&] { return sumEventCounts(vigild) >= before + kill_after; }, seconds(60));
    const uint64_t at_kill = sumEventCounts(vigild) - before;
    EXPECT_EQ(vigild.kill(), -SIGKILL);
    const bool restarted = vigild.start();
    producer.join();
    produced_total += produced;
    ASSERT_TRUE(restarted) << vigild.log();
    EXPECT_EQ(produced, kPerTrial) << "kcat did not deliver the whole stream";
    waitFor([&] { return sumEventCounts(vigild) >= produced_total; }, seconds(120));
    const auto incidents = allIncidents(vigild);
    uint64_t counted = 0;
    std::map<uint64_t, uint64_t> expected_counts;
    for (const auto& in : incidents) {
      counted += in["event_count"].get<uint64_t>();
      expected_counts[in["id"]] = in["event_count"];
    }
    // The output has caught up when each incident's newest record carries its current count.
    OutputView out;
    waitFor([&] {
      out = readOutput(cluster);
      return out.last_event_count == expected_counts;
    }, seconds(60));
    const uint64_t max_seq = out.seq_count.empty() ? 0 : out.seq_count.rbegin()->first;
    uint64_t gaps = 0;
    for (uint64_t s = 1; s <= max_seq; ++s) gaps += out.seq_count.count(s) == 0 ? 1 : 0;
    uint64_t dups = 0;
    for (const auto& [seq, count] : out.seq_count) {
      dups += static_cast<uint64_t>(count - 1);
      EXPECT_EQ(count, 1) << "seq " << seq << " sent " << count << " times";
    }
    dups_total += dups;
    // Found in the topic by the restarted output (metrics start at 0 with each process).
    const double present =
        metricValue(vigild, R"(vigil_kafka_output_changes_total{result="already_present"})");
    present_total += present > 0 ? static_cast<uint64_t>(present) : 0;
    const bool ok = counted == produced_total && incidents.size() == static_cast<size_t>(kHosts) &&
                    out.last_event_count == expected_counts && gaps == 0 && dups == 0;
    passed += ok ? 1 : 0;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - trial_start).count();
    std::printf("%5d | %10llu | %9llu | %8llu | %7llu | %9d/%-9zu | %8llu | %4llu | %4llu | %10.0f | %4.1f %s\n",
                trial, static_cast<unsigned long long>(kill_after), static_cast<unsigned long long>(at_kill),
                static_cast<unsigned long long>(produced_total), static_cast<unsigned long long>(counted), kHosts,
                incidents.size(), static_cast<unsigned long long>(max_seq), static_cast<unsigned long long>(dups),
                static_cast<unsigned long long>(gaps), present, secs, ok ? "ok" : "MISMATCH");
    std::fflush(stdout);
    EXPECT_EQ(counted, produced_total);
    EXPECT_EQ(incidents.size(), static_cast<size_t>(kHosts));
    EXPECT_EQ(gaps, 0u);
    EXPECT_EQ(dups, 0u);
    EXPECT_EQ(out.last_event_count, expected_counts) << "the output topic did not catch up";
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - all_start).count();
  std::printf("kill -9 trials: %d of %d exact; %llu events produced; output: %llu duplicate seqs, %llu changes "
              "found already delivered and not resent; %.0f s\n",
              passed, trials, static_cast<unsigned long long>(produced_total),
              static_cast<unsigned long long>(dups_total), static_cast<unsigned long long>(present_total), secs);
  EXPECT_EQ(vigild.stop(), 0);
}

}  // namespace
}  // namespace vigil::testing
