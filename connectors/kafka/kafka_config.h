// Configuration of the Kafka connector: the `kafka:` section of vigild's YAML.
//
//   kafka:
//     brokers: [127.0.0.1:9092]          # or "host1:9092,host2:9092"
//     topics: [events]
//     group: vigil
//     output_topic: vigil.incidents        # optional: committed incident changes go here
//     dead_letter_topic: vigil.dlq         # optional: undecodable messages go here
//     cmdb_topic: vigil.cmdb               # optional: CI upserts and deletes (compacted)
//     properties: {security.protocol: SASL_SSL, sasl.mechanism: PLAIN}   # librdkafka, verbatim
//     field_mapping: {host: labels.instance, message: annotations.summary}
//
// Every key, its default and its meaning (docs/kafka.md is generated from this table):
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "connectors/kafka/field_mapping.h"
#include "daemon/status.h"
#include "daemon/yaml_util.h"

namespace vigil::connectors::kafka {

inline constexpr std::array<ConfigKey, 16> kKafkaConfigKeys = {{
    {"brokers", "(required)",
     "Bootstrap brokers: a list of HOST:PORT or one comma-separated string (bootstrap.servers)."},
    {"topics", "(required)", "Topics to consume JSON events from (one consumer group over all)."},
    {"group", "vigil",
     "Consumer group id. Several vigild instances in one group share the partitions; each "
     "partition is a state shard (Event.partition = Kafka partition)."},
    {"output_topic", "(none)",
     "Every committed incident change is produced here as JSON keyed by incident id, with an "
     "idempotent producer. Empty: no output."},
    {"dead_letter_topic", "(none)",
     "Undecodable messages are produced here unchanged, with the error in the header "
     "vigil-error. Empty: they are only counted and logged."},
    {"properties", "{}",
     "librdkafka properties passed through verbatim to the consumer and producers (security."
     "protocol, sasl.*, ssl.*, session.timeout.ms ...). Names are checked at load."},
    {"field_mapping", "{}",
     "Maps another JSON schema onto Event fields without code: TARGET: PATH or TARGET: {from: "
     "PATH, values: {FROM: TO}, default: VALUE}. TARGET is time, host, ci, source, type, "
     "severity, state, message or labels.NAME; PATH is dotted (annotations.summary)."},
    {"keep_unmapped", "true",
     "With a field_mapping: top-level fields that no mapping reads become labels (objects as "
     "JSON text). false drops them."},
    {"batch_max_events", "1000", "Most events handed to the pipeline in one batch (1..100000)."},
    {"poll_timeout", "100ms", "How long one consume call waits for a message (1ms..10s)."},
    {"assignment_strategy", "cooperative-sticky",
     "partition.assignment.strategy: cooperative-sticky (incremental rebalances) or range / "
     "roundrobin (eager)."},
    {"lag_interval", "1s", "How often vigil_kafka_consumer_lag is refreshed (100ms..1h)."},
    {"cmdb_topic", "(none)",
     "A compacted topic of CIs (key: CI id; value: the CI as JSON in the cmdb.files schema; a "
     "null value deletes it), read into the CMDB and stored. Invalid CIs go to dead_letter_topic."},
    {"cmdb_group", "<group>-cmdb",
     "Consumer group of the CMDB topic. Every vigild reads the whole topic: give each instance its "
     "own group."},
    {"cmdb_debounce", "1s", "The CMDB is rebuilt from topic changes at most this often (10ms..1h)."},
    {"pause_after", "500ms",
     "How long the pipeline may refuse batches before the partitions are paused (1ms..1m). "
     "Shorter stalls only stop reading: a pause drops librdkafka's prefetch."},
}};

// Immutable after parsing. Thread-safety: plain value.
struct KafkaConfig {
  std::string brokers;  // comma-separated, as librdkafka's bootstrap.servers wants it
  std::vector<std::string> topics;
  std::string group = "vigil";
  std::string output_topic;
  std::string dead_letter_topic;
  std::vector<std::pair<std::string, std::string>> properties;  // in file order
  FieldMapping field_mapping;
  size_t batch_max_events = 1000;
  std::chrono::milliseconds poll_timeout{100};
  std::string assignment_strategy = "cooperative-sticky";
  std::chrono::milliseconds lag_interval{1000};
  std::chrono::milliseconds pause_after{500};
  std::string cmdb_topic;
  std::string cmdb_group;  // empty: group + "-cmdb"
  std::chrono::milliseconds cmdb_debounce{1000};
};

// Parses the `kafka:` mapping of `file`. Errors read "file:line:col: message", one per line;
// unknown keys and unknown librdkafka properties are rejected. Never throws.
Result<KafkaConfig> parseKafkaConfig(const YAML::Node& node, std::string_view file);

}  // namespace vigil::connectors::kafka
