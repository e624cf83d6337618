// DeadLetterProducer: sends undecodable messages to `dead_letter_topic` unchanged (same key and
// value), with headers vigil-error (why), vigil-topic, vigil-partition and vigil-offset (where
// from). Logs a rate-limited warning with a sample of the payload either way.
// Delivery is at-least-once and not tied to the offset commit: after a crash a message may be
// dead-lettered twice.
// Thread-safety: used by the poll thread only.
#pragma once

#include <memory>
#include <string_view>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_config.h"
#include "connectors/kafka/kafka_metrics.h"

namespace vigil::connectors::kafka {

class DeadLetterProducer final : public RdKafka::DeliveryReportCb {
 public:
  DeadLetterProducer(const KafkaConfig& config, KafkaMetrics& metrics) : config_(config), metrics_(metrics) {}
  // Creates the producer (nothing without a dead_letter_topic).
  Status start();
  void send(const rd_kafka_message_t& msg, std::string_view error);
  void send(RdKafka::Message& msg, std::string_view error) { send(*msg.c_ptr(), error); }
  // Serves delivery reports; non-blocking.
  void poll();
  // Waits up to 5 s for outstanding messages.
  void flush();

  // RdKafka::DeliveryReportCb; called on: the poll thread, inside poll()/flush().
  void dr_cb(RdKafka::Message& message) override;

 private:
  const KafkaConfig& config_;
  KafkaMetrics& metrics_;
  std::unique_ptr<RdKafka::Producer> producer_;
  RateLimitedLog log_{std::chrono::seconds(10)};
};

}  // namespace vigil::connectors::kafka
