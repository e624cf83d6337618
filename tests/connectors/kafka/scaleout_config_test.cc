#include "connectors/kafka/scaleout_config.h"

#include <gtest/gtest.h>

#include "connectors/kafka/read_side_config.h"
#include "daemon/yaml_util.h"

namespace vigil::connectors::kafka {
namespace {

Result<ScaleoutConfig> parse(std::string_view yaml) {
  auto node = loadYamlString(yaml, "vigil.yaml");
  if (!node) return fail(node.error());
  const YAML::Node root = *node;
  return parseScaleoutConfig(root["scaleout"], root["kafka"], "vigil.yaml");
}

TEST(ScaleoutConfig, NoSectionIsStandalone) {
  auto absent = parse("kafka: {brokers: a:9092, topics: [events]}\n");
  ASSERT_TRUE(absent) << absent.error().toString();
  EXPECT_EQ(absent->role, Role::kStandalone);
  // What the daemon passes when the file has no such section.
  auto null = parseScaleoutConfig(YAML::Node(), YAML::Node(), "vigil.yaml");
  ASSERT_TRUE(null) << null.error().toString();
  EXPECT_EQ(null->role, Role::kStandalone);
  EXPECT_EQ(null->ingest_topic, "vigil.ingest");
  EXPECT_EQ(null->changelog_topic, "vigil.changelog");
  EXPECT_EQ(null->domain, DomainKey::kTopologyRoot);
  EXPECT_EQ(null->restore_timeout, std::chrono::minutes(5));
  EXPECT_EQ(null->standby_replicas, 0u);  // off
  EXPECT_EQ(kScaleoutConfigKeys.size(), 6u);
}

TEST(ScaleoutConfig, ParsesEveryKey) {
  auto core = parse(R"(
kafka: {brokers: a:9092, topics: [in]}
scaleout: {role: core, ingest_topic: in, changelog_topic: cl, domain: ci, restore_timeout: 30s, standby_replicas: 2}
)");
  ASSERT_TRUE(core) << core.error().toString();
  EXPECT_EQ(core->role, Role::kCore);
  EXPECT_EQ(core->ingest_topic, "in");
  EXPECT_EQ(core->changelog_topic, "cl");
  EXPECT_EQ(core->domain, DomainKey::kCi);
  EXPECT_EQ(core->restore_timeout, std::chrono::seconds(30));
  EXPECT_EQ(core->standby_replicas, 2u);
  auto edge = parse("kafka: {brokers: a:9092, topics: [x]}\nscaleout: {role: edge, domain: host}\n");
  ASSERT_TRUE(edge) << edge.error().toString();
  EXPECT_EQ(edge->role, Role::kEdge);
  EXPECT_EQ(edge->domain, DomainKey::kHost);
}

TEST(ScaleoutConfig, RejectsWithFileLineColumn) {
  auto bad = parse(R"(kafka: {brokers: a:9092, topics: [a, b]}
scaleout:
  role: hub
  domain: planet
  restore_timeout: 2h
  shards: 4
  standby_replicas: 33
)");
  ASSERT_FALSE(bad);
  const std::string& m = bad.error().message();
  EXPECT_NE(m.find("vigil.yaml:6:3:"), std::string::npos) << m;  // unknown key
  EXPECT_NE(m.find("vigil.yaml:3:9: role must be standalone, edge or core"), std::string::npos) << m;
  EXPECT_NE(m.find("vigil.yaml:4:11: domain must be"), std::string::npos) << m;
  EXPECT_NE(m.find("vigil.yaml:5:20: restore_timeout must be between 1s and 1h"), std::string::npos) << m;
  EXPECT_NE(m.find("vigil.yaml:7:21: value 33 out of range [0, 32]"), std::string::npos) << m;
  for (const char* wrong : {"-1", "two", "[1]"}) {
    auto bad_standby = parse(std::string("kafka: {brokers: a:9092, topics: [in]}\n"
                                         "scaleout: {role: core, ingest_topic: in, standby_replicas: ") + wrong + "}\n");
    ASSERT_FALSE(bad_standby) << wrong;
    EXPECT_NE(bad_standby.error().message().find("vigil.yaml:2:60:"), std::string::npos)
        << bad_standby.error().message();
  }
  auto no_kafka = parse("scaleout: {role: edge}\n");
  ASSERT_FALSE(no_kafka);
  EXPECT_NE(no_kafka.error().message().find("need the kafka section"), std::string::npos);
  auto two_topics = parse("kafka: {brokers: a:9092, topics: [a, b]}\nscaleout: {role: core, ingest_topic: a}\n");
  ASSERT_FALSE(two_topics);
  EXPECT_NE(two_topics.error().message().find("vigil.yaml:1:34: role core: kafka.topics must be exactly"),
            std::string::npos)
      << two_topics.error().message();
}

TEST(ReadSideConfig, DefaultsAndEveryKey) {
  auto defaults = parse("kafka: {brokers: a:9092, topics: [in]}\nscaleout: {role: core, ingest_topic: in}\n");
  ASSERT_TRUE(defaults) << defaults.error().toString();
  EXPECT_EQ(defaults->read_side.advertised_url, "");  // the daemon derives it from http
  EXPECT_EQ(defaults->read_side.read_model_max_incidents, 1000000u);
  EXPECT_EQ(defaults->read_side.forward_timeout, std::chrono::seconds(5));
  EXPECT_EQ(defaults->read_side.read_model_stream_backlog, 10000u);
  EXPECT_EQ(kReadSideConfigKeys.size(), 4u);
  auto all = parse(R"(kafka: {brokers: a:9092, topics: [in]}
scaleout:
  role: core
  ingest_topic: in
  advertised_url: https://core-2.example.net:8443/
  read_model_max_incidents: 5000
  forward_timeout: 2s
  read_model_stream_backlog: 500
)");
  ASSERT_TRUE(all) << all.error().toString();
  EXPECT_EQ(all->read_side.advertised_url, "https://core-2.example.net:8443");
  EXPECT_EQ(all->read_side.read_model_max_incidents, 5000u);
  EXPECT_EQ(all->read_side.forward_timeout, std::chrono::seconds(2));
  EXPECT_EQ(all->read_side.read_model_stream_backlog, 500u);
}

TEST(ReadSideConfig, RejectsWithFileLineColumn) {
  auto bad = parse(R"(kafka: {brokers: a:9092, topics: [in]}
scaleout:
  role: core
  ingest_topic: in
  advertised_url: core-2:8080/api
  forward_timeout: 5m
  read_model_max_incidents: 10
)");
  ASSERT_FALSE(bad);
  const std::string& m = bad.error().message();
  EXPECT_NE(m.find("vigil.yaml:5:19: advertised_url must be http://HOST:PORT or https://HOST:PORT"), std::string::npos)
      << m;
  EXPECT_NE(m.find("vigil.yaml:6:20: forward_timeout must be between 100ms and 1m"), std::string::npos) << m;
  EXPECT_NE(m.find("vigil.yaml:7:29:"), std::string::npos) << m;
}

TEST(ReadSideConfig, BaseUrlsAndTheDefault) {
  EXPECT_TRUE(isBaseUrl("http://127.0.0.1:8080"));
  EXPECT_TRUE(isBaseUrl("https://[::1]:443"));
  EXPECT_TRUE(isBaseUrl("http://core-1.example.net:1"));
  EXPECT_FALSE(isBaseUrl("http://core-1:8080/api"));
  EXPECT_FALSE(isBaseUrl("http://core-1"));
  EXPECT_FALSE(isBaseUrl("http://core-1:0"));
  EXPECT_FALSE(isBaseUrl("http://core-1:70000"));
  EXPECT_FALSE(isBaseUrl("ftp://core-1:21"));
  EXPECT_FALSE(isBaseUrl("http://:8080"));
  EXPECT_EQ(advertisedUrlFor("127.0.0.1", 8080, false), "http://127.0.0.1:8080");
  EXPECT_EQ(advertisedUrlFor("::1", 8443, true), "https://[::1]:8443");
  const std::string wildcard = advertisedUrlFor("0.0.0.0", 8080, false);
  EXPECT_TRUE(isBaseUrl(wildcard)) << wildcard;
  EXPECT_EQ(wildcard.find("0.0.0.0"), std::string::npos) << wildcard;
}

}  // namespace
}  // namespace vigil::connectors::kafka
