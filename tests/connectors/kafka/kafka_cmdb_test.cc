// The CMDB's own feeds against the real vigild: the CMDB topic (mock cluster + kcat) and the CMDB
// stored in RocksDB (a restart knows the CIs without the topic or its files). Run with:
// ctest -L kafka -R Cmdb
#include <gtest/gtest.h>

#include "tests/connectors/kafka/kafka_test_support.h"

namespace vigil::testing {
namespace {

using std::chrono::seconds;

int ciStatus(const VigildInstance& vigild, const std::string& id) {
  return httpGet(vigild.url("/api/v1/cis/" + id)).status;
}

bool listedUnbound(const VigildInstance& vigild, const std::string& host) {
  return vigild.getJson("/api/v1/unbound").dump().find(host) != std::string::npos;
}

std::string hostEvent(const std::string& host, const std::string& type) {
  return R"({"host":")" + host + R"(","type":")" + type + R"(","state":"problem","severity":"major","message":"x"})";
}

TEST(KafkaCmdbTopic, UpsertBindsDeleteUnbindsInvalidToDeadLettersRestartRemembers) {
  MockKafkaCluster cluster({"events:1", "cmdb:1", "dlq:1"});
  ASSERT_TRUE(cluster.ok());
  VigildInstance vigild(
      kafkaYaml(cluster, "events", "  cmdb_topic: cmdb\n  cmdb_debounce: 50ms\n  dead_letter_topic: dlq\n"));
  ASSERT_TRUE(vigild.start()) << vigild.log();

  // Upsert: the CI goes live and an event for its FQDN binds to it.
  ASSERT_TRUE(cluster.produceKeyed(
      "cmdb", {{"srv-9", R"({"id":"srv-9","class":"server","aliases":["srv9.example.net"],"assignment_group":"unix"})"},
               {"app-9", R"({"id":"app-9","class":"application","depends_on":["srv-9"]})"}}));
  ASSERT_TRUE(waitFor([&] { return ciStatus(vigild, "srv-9") == 200 && ciStatus(vigild, "app-9") == 200; },
                      seconds(60)))
      << vigild.log();
  ASSERT_TRUE(cluster.produce("events", "srv9", {hostEvent("srv9.example.net", "disk")}));
  ASSERT_TRUE(waitFor([&] { return vigild.incidents().size() == 1; }, seconds(60))) << vigild.log();
  EXPECT_EQ(vigild.incidents()[0]["ci"], "srv-9");
  EXPECT_EQ(vigild.incidents()[0]["assignment_group"], "unix");
  EXPECT_FALSE(listedUnbound(vigild, "srv9.example.net"));

  // Invalid records change nothing and land in the DLQ with their error: an unknown class, an
  // edge to a CI that does not exist, and deleting a CI another one depends on.
  ASSERT_TRUE(cluster.produceKeyed("cmdb", {{"bad-1", R"({"id":"bad-1","class":"spaceship"})"},
                                            {"bad-2", R"({"id":"bad-2","class":"server","depends_on":["ghost"]})"}}));
  ASSERT_TRUE(cluster.produceKeyed("cmdb", {{"srv-9", ""}}));  // kcat -Z: empty = null (tombstone)
  std::vector<MockKafkaCluster::Message> dead;
  ASSERT_TRUE(waitFor([&] {
    dead = cluster.consumeAll("dlq");
    return dead.size() == 3;
  }, seconds(60))) << vigild.log();
  EXPECT_NE(dead[0].headers.find("spaceship"), std::string::npos) << dead[0].headers;
  EXPECT_NE(dead[1].headers.find("ghost"), std::string::npos) << dead[1].headers;
  EXPECT_NE(dead[2].headers.find("vigil-error="), std::string::npos) << dead[2].headers;
  EXPECT_EQ(ciStatus(vigild, "srv-9"), 200);  // app-9 still depends on it
  EXPECT_EQ(ciStatus(vigild, "bad-1"), 404);
  EXPECT_EQ(ciStatus(vigild, "bad-2"), 404);
  EXPECT_EQ(metricValue(vigild, R"(vigil_cmdb_topic_changes_total{result="rejected"})"), 3);

  // Delete the dependent, then the CI: an event for its FQDN binds to nothing now.
  ASSERT_TRUE(cluster.produceKeyed("cmdb", {{"app-9", ""}, {"srv-9", ""}}));
  ASSERT_TRUE(waitFor([&] { return ciStatus(vigild, "srv-9") == 404; }, seconds(60))) << vigild.log();
  ASSERT_TRUE(cluster.produce("events", "srv9", {hostEvent("srv9.example.net", "cpu")}));
  ASSERT_TRUE(waitFor([&] { return listedUnbound(vigild, "srv9.example.net"); }, seconds(60))) << vigild.log();
  // The unbound count per source (the metric equivalent of vigil_events_unbound_total{source}).
  EXPECT_EQ(metricValue(vigild, R"(vigil_events_binding_total{match="none",source="kafka/events"})"), 1);
  EXPECT_EQ(metricValue(vigild, R"(vigil_events_binding_total{match="host",source="kafka/events"})"), 1);

  // A CI upserted now survives a restart whose config no longer reads the topic: it comes from
  // the store, not from the topic.
  ASSERT_TRUE(cluster.produceKeyed("cmdb", {{"db-3", R"({"id":"db-3","class":"database","aliases":["db3"]})"}}));
  ASSERT_TRUE(waitFor([&] { return ciStatus(vigild, "db-3") == 200; }, seconds(60))) << vigild.log();
  EXPECT_EQ(vigild.stop(), 0) << vigild.log();
  std::string config = readFile(vigild.configPath());
  const auto at = config.find("  cmdb_topic: cmdb\n");
  ASSERT_NE(at, std::string::npos);
  config.erase(at, std::string("  cmdb_topic: cmdb\n").size());
  writeFile(vigild.configPath(), config);
  ASSERT_TRUE(vigild.start()) << vigild.log();
  EXPECT_EQ(ciStatus(vigild, "db-3"), 200);
  EXPECT_EQ(ciStatus(vigild, "srv-9"), 404);
  EXPECT_NE(vigild.log().find("cmdb: 1 CIs from the CMDB topic (stored)"), std::string::npos) << vigild.log();
  ASSERT_TRUE(cluster.produce("events", "db3", {hostEvent("db3", "disk")}));
  ASSERT_TRUE(waitFor([&] {
    for (const auto& in : vigild.incidents()) {
      if (in["ci"] == "db-3") return true;
    }
    return false;
  }, seconds(60))) << vigild.log();
  EXPECT_EQ(vigild.stop(), 0) << vigild.log();
}

// Not Kafka, but the same store path: files that stop loading fall back to the stored CMDB.
TEST(CmdbStore, FilesThatFailToLoadFallBackToTheStoredCmdb) {
  TempDir dir;
  const std::string cmdb = dir.file("cmdb.yaml");
  writeFile(cmdb, "cis:\n  - id: web-1\n    class: server\n    aliases: [web1.example.net]\n");
  VigildInstance vigild("cmdb: {files: [" + cmdb + "]}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  EXPECT_EQ(ciStatus(vigild, "web-1"), 200);
  EXPECT_EQ(vigild.stop(), 0) << vigild.log();

  writeFile(cmdb, "cis:\n  - id: web-1\n    class: spaceship\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  EXPECT_NE(vigild.log().find("the files do not load; using the 1 CIs stored"), std::string::npos) << vigild.log();
  EXPECT_EQ(ciStatus(vigild, "web-1"), 200);
  EXPECT_EQ(vigild.stop(), 0) << vigild.log();

  // --check-config still refuses the broken files.
  std::string out;
  EXPECT_NE(run({vigildPath(), "--check-config", "--config", vigild.configPath()}, &out), 0);
  EXPECT_NE(out.find("spaceship"), std::string::npos) << out;
}

}  // namespace
}  // namespace vigil::testing
