#include "connectors/kafka/kafka_decoder.h"

#include <gtest/gtest.h>

#include "connectors/kafka/kafka_stats.h"
#include "daemon/yaml_util.h"

namespace vigil::connectors::kafka {
namespace {

TEST(KafkaMessageDecoder, StampsSourcePartitionAndMessageTime) {
  FieldMapping none;
  KafkaMessageDecoder decoder(none);
  std::vector<Event> out;
  const TimePoint message_time(std::chrono::milliseconds(1700000000000));
  ASSERT_TRUE(decoder
                  .decode(R"([{"host":"a","state":"problem"},{"host":"b","source":"nagios","time":"2026-01-01T00:00:00Z"}])",
                          "alerts", 7, Clock::now(), message_time, out)
                  .isOk());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].source, "kafka/alerts");
  EXPECT_EQ(out[0].partition, 7);
  EXPECT_EQ(out[0].occurred_at, message_time);
  EXPECT_EQ(out[1].source, "kafka/alerts");
  ASSERT_NE(out[1].labels.find("origin"), nullptr);
  EXPECT_EQ(*out[1].labels.find("origin"), "nagios");
  EXPECT_NE(out[1].occurred_at, message_time);  // its own time wins
}

TEST(KafkaMessageDecoder, AppliesTheFieldMappingAndReportsErrors) {
  auto node = loadYamlString("host: labels.instance\nstate: {from: status, values: {firing: problem}}\n", "m");
  auto mapping = parseFieldMapping(*node, "m");
  ASSERT_TRUE(mapping.has_value());
  KafkaMessageDecoder decoder(*mapping);
  std::vector<Event> out;
  ASSERT_TRUE(decoder.decode(R"({"status":"firing","labels":{"instance":"db-1"}})", "am", 0, Clock::now(),
                             std::nullopt, out)
                  .isOk());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].host, "db-1");
  EXPECT_EQ(out[0].state, EventState::kProblem);
  EXPECT_FALSE(decoder.decode("nope", "am", 0, Clock::now(), std::nullopt, out).isOk());
  // The mapped value still goes through the event decoder's checks.
  Status sideways = decoder.decode(R"({"status":"sideways"})", "am", 0, Clock::now(), std::nullopt, out);
  EXPECT_NE(sideways.message().find("state"), std::string::npos) << sideways.toString();
  EXPECT_FALSE(decoder.decode("", "am", 0, Clock::now(), std::nullopt, out).isOk());
  EXPECT_EQ(out.size(), 1u);
}

TEST(KafkaStats, ReadsBrokerStateAndHighWatermarks) {
  auto stats = parseKafkaStats(R"({"brokers":{"b:1/bootstrap":{"nodeid":-1,"state":"UP"},
    "b:1/1":{"nodeid":1,"state":"UP"}},"topics":{"events":{"partitions":{"0":{"partition":0,"hi_offset":42},
    "-1":{"partition":-1,"hi_offset":-1}}}}})");
  EXPECT_TRUE(stats.broker_up);
  ASSERT_EQ(stats.high_watermarks.size(), 1u);
  EXPECT_EQ(stats.high_watermarks.at({"events", 0}), 42);
  EXPECT_FALSE(parseKafkaStats(R"({"brokers":{"b:1/1":{"nodeid":1,"state":"DOWN"}}})").broker_up);
  EXPECT_FALSE(parseKafkaStats("garbage").broker_up);
}

}  // namespace
}  // namespace vigil::connectors::kafka
