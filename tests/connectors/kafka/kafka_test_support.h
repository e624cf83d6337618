// Kafka test support: librdkafka's mock cluster as a separate process, kcat as the outside
// producer and consumer, and the vigild config and checks the Kafka integration tests share.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/vigild_fixture.h"

namespace vigil::testing {

// mock_kafka_cluster with `topics` ("name:partitions") created; killed on destruction.
class MockKafkaCluster {
 public:
  explicit MockKafkaCluster(std::vector<std::string> topics, bool start_down = false);
  ~MockKafkaCluster();

  const std::string& bootstrap() const { return bootstrap_; }
  bool ok() const { return !bootstrap_.empty(); }
  void setDown(bool down);  // all brokers down (connections dropped) or back up

  // Produces `lines` (one message each) with key `key`; true when kcat delivered them all.
  bool produce(const std::string& topic, const std::string& key, const std::vector<std::string>& lines);
  // Produces (key, value) pairs in one kcat run; values must not contain a tab or newline.
  bool produceKeyed(const std::string& topic, const std::vector<std::pair<std::string, std::string>>& messages);
  // Everything in `topic` from the beginning: (key, value, headers) per message.
  struct Message {
    std::string key;
    std::string value;
    std::string headers;
  };
  std::vector<Message> consumeAll(const std::string& topic);

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  std::string bootstrap_;
};

// The `kafka:` section for vigild, with test timeouts (6 s sessions).
std::string kafkaYaml(const MockKafkaCluster& cluster, const std::string& topics, const std::string& extra = "");

// A scale-out core on `cluster` consuming "ingest" with changelog "changelog"; `extra` follows the
// scaleout keys (more of them when indented, other sections when not).
std::string scaleoutCoreYaml(const MockKafkaCluster& cluster, const std::string& extra = "");
// True once `cores` own `partitions` partitions between them, each once.
bool scaleoutSettled(const std::vector<const VigildInstance*>& cores, int partitions);

// Every incident vigild lists (all pages).
std::vector<nlohmann::json> allIncidents(const VigildInstance& vigild);
uint64_t sumEventCounts(const VigildInstance& vigild);

// One JSON event line: a disk problem on `host`.
std::string diskEvent(const std::string& host, int n);

}  // namespace vigil::testing
