// The Kafka connector against real processes: librdkafka's mock cluster (a separate process),
// kcat as the outside producer/consumer, and the real vigild. No sleeps: every wait is on a
// condition, with generous timeouts for a loaded 2-core box. Run with: ctest -L kafka
#include <csignal>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/connectors/kafka/kafka_test_support.h"

namespace vigil::testing {
namespace {

using std::chrono::seconds;

// Produces `chunks` × `per_chunk` disk events over `hosts` hosts (key = host, so each host's
// events stay in order on one partition). Returns the number produced.
int produceStream(MockKafkaCluster& cluster, int chunks, int per_chunk, int hosts, int first = 0) {
  int produced = 0;
  for (int c = 0; c < chunks; ++c) {
    std::map<int, std::vector<std::string>> by_host;
    for (int i = 0; i < per_chunk; ++i) {
      const int n = first + c * per_chunk + i;
      by_host[n % hosts].push_back(diskEvent("h" + std::to_string(n % hosts), n));
    }
    for (auto& [h, lines] : by_host) {
      if (!cluster.produce("events", "h" + std::to_string(h), lines)) return produced;
      produced += static_cast<int>(lines.size());
    }
  }
  return produced;
}

// Checks the output topic against vigild's incidents: change seqs 1..N, each exactly once, and
// each incident's last change has its event count.
void expectOutputMatches(MockKafkaCluster& cluster, const VigildInstance& vigild) {
  std::map<uint64_t, uint64_t> expected;  // id → event_count
  for (const auto& in : allIncidents(vigild)) expected[in["id"]] = in["event_count"];
  std::map<uint64_t, uint64_t> last_count;
  std::map<uint64_t, uint64_t> last_seq;
  std::multiset<uint64_t> seqs;
  ASSERT_TRUE(waitFor([&] {
    last_count.clear();
    last_seq.clear();
    seqs.clear();
    for (const auto& m : cluster.consumeAll("out")) {
      auto j = nlohmann::json::parse(m.value, nullptr, false);
      if (!j.is_object()) continue;
      const uint64_t id = j["incident"]["id"];
      EXPECT_EQ(m.key, std::to_string(id));
      const uint64_t seq = j["seq"];
      seqs.insert(seq);
      if (seq >= last_seq[id]) {
        last_seq[id] = seq;
        last_count[id] = j["incident"]["event_count"];
      }
    }
    return last_count == expected;
  }, seconds(60))) << "output has " << seqs.size() << " records for " << last_count.size() << " incidents";
  std::set<uint64_t> unique(seqs.begin(), seqs.end());
  ASSERT_FALSE(unique.empty());
  EXPECT_EQ(*unique.begin(), 1u);
  EXPECT_EQ(*unique.rbegin(), unique.size()) << "a gap in the change seqs";
  EXPECT_EQ(unique.size(), seqs.size()) << "a change was produced twice";
}

TEST(KafkaConnector, EventsInIncidentsOutMalformedToDeadLetters) {
  MockKafkaCluster cluster({"events:4", "out:2", "dlq:1"});
  ASSERT_TRUE(cluster.ok());
  VigildInstance vigild(kafkaYaml(cluster, "events", "  output_topic: out\n  dead_letter_topic: dlq\n"));
  ASSERT_TRUE(vigild.start()) << vigild.log();
  ASSERT_TRUE(cluster.produce("events", "a", {diskEvent("a", 1), diskEvent("a", 2), diskEvent("a", 3)}));
  ASSERT_TRUE(cluster.produce("events", "b", {diskEvent("b", 1), "{not json", diskEvent("b", 2)}));
  ASSERT_TRUE(cluster.produce("events", "c", {R"({"host":"c","type":"disk","state":"sideways"})",
                                              diskEvent("c", 1)}));
  ASSERT_TRUE(waitFor([&] { return sumEventCounts(vigild) == 6; }, seconds(60))) << vigild.log();
  const auto incidents = allIncidents(vigild);
  ASSERT_EQ(incidents.size(), 3u);
  for (const auto& in : incidents) {
    EXPECT_EQ(in["type"], "disk");
    EXPECT_EQ(in["severity"], "major");
  }
  std::vector<MockKafkaCluster::Message> dead;
  ASSERT_TRUE(waitFor([&] {
    dead = cluster.consumeAll("dlq");
    return dead.size() == 2;
  })) << vigild.log();
  std::set<std::string> dead_values = {dead[0].value, dead[1].value};
  EXPECT_TRUE(dead_values.count("{not json"));
  for (const auto& m : dead) {
    EXPECT_NE(m.headers.find("vigil-error="), std::string::npos) << m.headers;
    EXPECT_NE(m.headers.find("vigil-topic=events"), std::string::npos) << m.headers;
  }
  EXPECT_EQ(metricValue(vigild, R"(vigil_kafka_messages_total{result="malformed",topic="events"})"), 2);
  EXPECT_EQ(metricValue(vigild, R"(vigil_kafka_messages_total{result="ok",topic="events"})"), 6);
  EXPECT_NE(vigild.log().find("undecodable message"), std::string::npos);
  expectOutputMatches(cluster, vigild);
  EXPECT_EQ(vigild.stop(), 0) << vigild.log();
}

// A restart (SIGTERM, or SIGKILL: a crash) while events keep coming: every event counted once.
void restartMidStream(bool crash) {
  MockKafkaCluster cluster({"events:4", "out:3"});
  ASSERT_TRUE(cluster.ok());
  VigildInstance vigild(kafkaYaml(cluster, "events", "  output_topic: out\n"));
  ASSERT_TRUE(vigild.start()) << vigild.log();
  constexpr int kChunks = 16;
  constexpr int kPerChunk = 250;
  constexpr int kHosts = 20;
  int produced = 0;
  std::thread producer([&] { produced = produceStream(cluster, kChunks, kPerChunk, kHosts); });
  // Stop in the middle: some events are committed, the producer is still going.
  const bool some = waitFor([&] { return sumEventCounts(vigild) >= kPerChunk * 2; }, seconds(90));
  const int code = crash ? vigild.kill() : vigild.stop();
  if (crash) {
    EXPECT_EQ(code, -SIGKILL);
  } else {
    EXPECT_EQ(code, 0) << vigild.log();
  }
  const bool restarted = vigild.start();
  producer.join();
  ASSERT_TRUE(some) << vigild.log();
  ASSERT_TRUE(restarted) << vigild.log();
  ASSERT_EQ(produced, kChunks * kPerChunk);
  ASSERT_TRUE(waitFor([&] { return sumEventCounts(vigild) >= static_cast<uint64_t>(produced); }, seconds(120)))
      << sumEventCounts(vigild) << " of " << produced << "\n" << vigild.log();
  EXPECT_EQ(sumEventCounts(vigild), static_cast<uint64_t>(produced));
  EXPECT_EQ(allIncidents(vigild).size(), static_cast<size_t>(kHosts));
  // Neither a clean stop nor a crash sends a change twice or skips one.
  expectOutputMatches(cluster, vigild);
  EXPECT_EQ(vigild.stop(), 0) << vigild.log();
}

TEST(KafkaConnector, RestartMidStreamCountsEveryEventOnce) { restartMidStream(/*crash=*/false); }
TEST(KafkaConnector, KillNineMidStreamCountsEveryEventOnce) { restartMidStream(/*crash=*/true); }

// Each host's episodes (problem, problem, clear) in order on its partition, under a pipeline that
// refuses most batches: the held batches must reach it in order and once, or a clear lands
// before its problem (an unmatched resolve) or an episode's counts come out wrong.
TEST(KafkaConnector, PausesAndResumesWhenThePipelineIsFullKeepingEachHostInOrder) {
  MockKafkaCluster cluster({"events:4"});
  ASSERT_TRUE(cluster.ok());
  constexpr int kHosts = 10;
  constexpr int kEpisodes = 50;
  constexpr int kEvents = kHosts * kEpisodes * 3;
  std::vector<std::pair<std::string, std::string>> messages;
  for (int e = 0; e < kEpisodes; ++e) {
    for (int h = 0; h < kHosts; ++h) {
      const std::string host = "h" + std::to_string(h);
      messages.emplace_back(host, diskEvent(host, 2 * e));
      messages.emplace_back(host, diskEvent(host, 2 * e + 1));
      std::string clear = diskEvent(host, e);
      clear.replace(clear.find("\"problem\""), 9, "\"clear\"");
      messages.emplace_back(host, clear);
    }
  }
  ASSERT_TRUE(cluster.produceKeyed("events", messages));
  VigildInstance vigild("pipeline: {queue_capacity: 8, max_batch_events: 4}\n" +
                        kafkaYaml(cluster, "events", "  batch_max_events: 4\n  pause_after: 1ms\n"));
  ASSERT_TRUE(vigild.start()) << vigild.log();
  ASSERT_TRUE(waitFor([&] { return sumEventCounts(vigild) == kEvents; }, seconds(120)))
      << sumEventCounts(vigild) << "\n" << vigild.log();
  // 1500 events waiting, a queue of 8 events and an fsync per batch: the consumer outruns the
  // pipeline. Whether a stall lasts past pause_after depends on how fast this machine's fsync
  // is (a quiet box may drain the queue within the retry backoff), so the test asserts what
  // holds either way: nothing lost, nothing reordered, and every pause followed by a resume.
  const auto incidents = allIncidents(vigild);
  EXPECT_EQ(incidents.size(), static_cast<size_t>(kHosts * kEpisodes));
  std::map<std::string, int> resolved_per_host;
  for (const auto& in : incidents) {
    EXPECT_EQ(in["event_count"], 3) << in.dump();
    EXPECT_EQ(in["state"], "resolved") << in.dump();
    ++resolved_per_host[in["host"].get<std::string>()];
  }
  for (const auto& [host, n] : resolved_per_host) EXPECT_EQ(n, kEpisodes) << host;
  EXPECT_EQ(metricValue(vigild, R"(vigil_events_processed_total{outcome="resolve_unmatched",source="kafka/events"})"),
            0);
  const double pauses = metricValue(vigild, R"(vigil_kafka_pause_changes_total{action="pause"})");
  std::printf("pauses under a full pipeline: %.0f\n", pauses);
  EXPECT_TRUE(waitFor([&] {
    return metricValue(vigild, R"(vigil_kafka_pause_changes_total{action="resume"})") == pauses &&
           metricValue(vigild, "vigil_kafka_paused_partitions") == 0;
  })) << vigild.log();
  EXPECT_EQ(metricValue(vigild, "vigil_kafka_paused"), 0);
  EXPECT_EQ(vigild.stop(), 0) << vigild.log();
}

// The broker deletes what vigil has not read yet (the mock cluster keeps 5 MiB per partition):
// librdkafka would silently restart at the log start; vigild says how much was lost.
TEST(KafkaConnector, EventsDeletedBeforeTheyWereReadAreReported) {
  MockKafkaCluster cluster({"events:1"});
  ASSERT_TRUE(cluster.ok());
  VigildInstance vigild(kafkaYaml(cluster, "events"));
  ASSERT_TRUE(vigild.start()) << vigild.log();
  ASSERT_EQ(produceStream(cluster, 1, 10, 1), 10);
  ASSERT_TRUE(waitFor([&] { return sumEventCounts(vigild) == 10; }, seconds(60))) << vigild.log();
  ASSERT_EQ(vigild.stop(), 0) << vigild.log();
  // 4000 events of 2 KiB while vigild is down: the oldest ~3 MiB of them are deleted.
  constexpr int kLater = 4000;
  std::vector<std::pair<std::string, std::string>> big;
  for (int i = 0; i < kLater; ++i) {
    big.emplace_back("h0", R"({"host":"h0","type":"disk","state":"problem","severity":"major","message":")" +
                               std::string(2048, 'x') + "\"}");
  }
  ASSERT_TRUE(cluster.produceKeyed("events", big));
  const auto kept = static_cast<int>(cluster.consumeAll("events").size());
  ASSERT_LT(kept, kLater) << "the mock cluster kept everything: nothing to detect";
  ASSERT_TRUE(vigild.start()) << vigild.log();
  ASSERT_TRUE(waitFor([&] { return sumEventCounts(vigild) == static_cast<uint64_t>(10 + kept); }, seconds(60)))
      << sumEventCounts(vigild) << " of " << 10 + kept << "\n" << vigild.log();
  EXPECT_EQ(metricValue(vigild, R"(vigil_events_dropped_total{reason="retention",source="kafka/events"})"),
            kLater - kept);
  EXPECT_NE(vigild.log().find("were deleted by the broker (retention) before vigil read them"), std::string::npos)
      << vigild.log();
  EXPECT_EQ(vigild.stop(), 0) << vigild.log();
}

TEST(KafkaConnector, BrokerDownAtStartIsNotReadyThenCatchesUp) {
  MockKafkaCluster cluster({"events:2"});
  ASSERT_TRUE(cluster.ok());
  ASSERT_EQ(produceStream(cluster, 1, 50, 5), 50);
  cluster.setDown(true);
  VigildInstance vigild(kafkaYaml(cluster, "events"));
  // Not VigildInstance::start(): /readyz may rightly refuse while Kafka is down.
  Process process({vigildPath(), "--config", vigild.configPath()}, vigild.dir().file("vigild-own.log"));
  ASSERT_TRUE(waitFor([&] { return httpGet(vigild.url("/healthz")).status == 200; }))
      << readFile(vigild.dir().file("vigild-own.log"));
  // librdkafka reports the refused connections; readiness stays off.
  ASSERT_TRUE(waitFor([&] {
    return readFile(vigild.dir().file("vigild-own.log")).find("level=warning kafka:") != std::string::npos;
  }));
  EXPECT_EQ(metricValue(vigild, "vigil_kafka_ready"), 0);
  auto not_ready = httpGet(vigild.url("/readyz"));
  EXPECT_EQ(not_ready.status, 503) << not_ready.body;
  EXPECT_NE(not_ready.body.find(R"("sources_not_ready":["kafka"])"), std::string::npos) << not_ready.body;
  EXPECT_EQ(sumEventCounts(vigild), 0u);
  cluster.setDown(false);
  ASSERT_TRUE(waitFor([&] { return sumEventCounts(vigild) == 50; }, seconds(90)))
      << readFile(vigild.dir().file("vigild-own.log"));
  ASSERT_TRUE(waitFor([&] { return metricValue(vigild, "vigil_kafka_ready") == 1; }));
  EXPECT_TRUE(waitFor([&] { return httpGet(vigild.url("/readyz")).status == 200; }));
  EXPECT_EQ(process.stop(SIGTERM), 0);
}

}  // namespace
}  // namespace vigil::testing
