#include "connectors/kafka/kafka_config.h"

#include <gtest/gtest.h>

#include "connectors/kafka/kafka_client.h"
#include "daemon/yaml_util.h"

namespace vigil::connectors::kafka {
namespace {

Result<KafkaConfig> parse(std::string_view yaml) {
  auto node = loadYamlString(yaml, "vigil.yaml");
  if (!node) return fail(node.error());
  return parseKafkaConfig((*node)["kafka"], "vigil.yaml");
}

TEST(KafkaConfig, HasDocumentedDefaults) {
  auto config = parse("kafka:\n  brokers: [a:9092, b:9092]\n  topics: [events]\n");
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  EXPECT_EQ(config->brokers, "a:9092,b:9092");
  EXPECT_EQ(config->topics, std::vector<std::string>{"events"});
  EXPECT_EQ(config->group, "vigil");
  EXPECT_TRUE(config->output_topic.empty());
  EXPECT_TRUE(config->dead_letter_topic.empty());
  EXPECT_EQ(config->batch_max_events, 1000u);
  EXPECT_EQ(config->poll_timeout, std::chrono::milliseconds(100));
  EXPECT_EQ(config->assignment_strategy, "cooperative-sticky");
  EXPECT_TRUE(config->field_mapping.empty());
  EXPECT_EQ(kKafkaConfigKeys.size(), 16u);
  EXPECT_EQ(config->pause_after, std::chrono::milliseconds(500));
}

TEST(KafkaConfig, ParsesEveryKey) {
  auto config = parse(R"(
kafka:
  brokers: "k1:9092,k2:9092"
  topics: alerts, events
  group: noc
  output_topic: vigil.incidents
  dead_letter_topic: vigil.dlq
  properties: {security.protocol: SASL_SSL, sasl.mechanism: PLAIN, session.timeout.ms: 6000}
  field_mapping: {host: labels.instance}
  keep_unmapped: false
  batch_max_events: 50
  poll_timeout: 250ms
  assignment_strategy: range
  lag_interval: 5s
  cmdb_topic: vigil.cmdb
  cmdb_group: noc-cmdb-a
  cmdb_debounce: 200ms
)");
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  EXPECT_EQ(config->brokers, "k1:9092,k2:9092");
  EXPECT_EQ(config->topics, (std::vector<std::string>{"alerts", "events"}));
  EXPECT_EQ(config->group, "noc");
  EXPECT_EQ(config->output_topic, "vigil.incidents");
  EXPECT_EQ(config->dead_letter_topic, "vigil.dlq");
  ASSERT_EQ(config->properties.size(), 3u);
  EXPECT_EQ(config->properties[2], (std::pair<std::string, std::string>{"session.timeout.ms", "6000"}));
  EXPECT_EQ(config->field_mapping.rules().size(), 1u);
  EXPECT_FALSE(config->field_mapping.keepUnmapped());
  EXPECT_EQ(config->batch_max_events, 50u);
  EXPECT_EQ(config->poll_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(config->assignment_strategy, "range");
  EXPECT_EQ(config->lag_interval, std::chrono::seconds(5));
  EXPECT_EQ(config->cmdb_topic, "vigil.cmdb");
  EXPECT_EQ(config->cmdb_group, "noc-cmdb-a");
  EXPECT_EQ(config->cmdb_debounce, std::chrono::milliseconds(200));
}

TEST(KafkaConfig, RejectsACmdbTopicThatIsAlsoConsumedAsEvents) {
  auto config = parse("kafka:\n  brokers: [a:1]\n  topics: [t, c]\n  cmdb_topic: c\n  cmdb_debounce: 1ms\n");
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message().find("vigil.yaml:4:15: cmdb_topic is also consumed"), std::string::npos)
      << config.error().message();
  EXPECT_NE(config.error().message().find("cmdb_debounce must be between 10ms and 1h"), std::string::npos)
      << config.error().message();
}

TEST(KafkaConfig, RejectsUnknownKeysWithTheirPosition) {
  auto config = parse("kafka:\n  brokers: [a:1]\n  topics: [t]\n  topic: [x]\n");
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message().find("vigil.yaml:4:3:"), std::string::npos) << config.error().message();
  EXPECT_NE(config.error().message().find("topic"), std::string::npos);
}

TEST(KafkaConfig, RejectsUnknownLibrdkafkaProperties) {
  auto config = parse("kafka:\n  brokers: [a:1]\n  topics: [t]\n  properties:\n    sesion.timeout.ms: 6000\n");
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message().find("vigil.yaml:5:5: properties.sesion.timeout.ms"), std::string::npos)
      << config.error().message();
}

// The consumer's prefetch holds what it reads in the second librdkafka 2.0 waits before fetching
// again once the queue is full (kafka_client.cc); an operator's property still wins.
TEST(KafkaConfig, ConsumerPrefetchDefaultsAndTheOperatorsOverride) {
  auto queuedMin = [](std::string_view yaml) -> std::string {
    auto config = parse(yaml);
    if (!config) return "config: " + config.error().toString();
    auto conf = makeConf(*config, consumerDefaults(*config), {});
    if (!conf) return "conf: " + conf.error().toString();
    std::string value;
    if ((*conf)->get("queued.min.messages", value) != RdKafka::Conf::CONF_OK) return "not set";
    return value;
  };
  EXPECT_EQ(queuedMin("kafka:\n  brokers: [a:1]\n  topics: [t]\n"), "250000");
  EXPECT_EQ(queuedMin("kafka:\n  brokers: [a:1]\n  topics: [t]\n  properties: {queued.min.messages: '5000'}\n"),
            "5000");
}

TEST(KafkaConfig, RefusesPropertiesVigilOwns) {
  auto config = parse("kafka:\n  brokers: [a:1]\n  topics: [t]\n  properties: {enable.auto.commit: 'true'}\n");
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message().find("enable.auto.commit is set by vigil"), std::string::npos);
}

TEST(KafkaConfig, ReportsEveryErrorAtOnce) {
  auto config = parse("kafka:\n  group: ''\n  batch_max_events: 0\n  poll_timeout: 1h\n");
  ASSERT_FALSE(config.has_value());
  const std::string& m = config.error().message();
  EXPECT_NE(m.find("kafka.brokers is required"), std::string::npos) << m;
  EXPECT_NE(m.find("kafka.topics is required"), std::string::npos) << m;
  EXPECT_NE(m.find("vigil.yaml:2:10: group must not be empty"), std::string::npos) << m;
  EXPECT_NE(m.find("vigil.yaml:3:21:"), std::string::npos) << m;
  EXPECT_NE(m.find("vigil.yaml:4:17: poll_timeout"), std::string::npos) << m;
}

TEST(KafkaConfig, RejectsConsumingItsOwnOutput) {
  auto config = parse("kafka:\n  brokers: a:1\n  topics: [t, out]\n  output_topic: out\n");
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message().find("output_topic is also consumed"), std::string::npos);
}

}  // namespace
}  // namespace vigil::connectors::kafka
