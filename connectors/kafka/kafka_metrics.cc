#include "connectors/kafka/kafka_metrics.h"

namespace vigil::connectors::kafka {

namespace {

prometheus::Family<prometheus::Counter>& counters(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
prometheus::Family<prometheus::Gauge>& gauges(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

}  // namespace

KafkaMetrics::KafkaMetrics(prometheus::Registry& registry)
    : dead_letter_produced(counters(registry, "vigil_kafka_dead_letters_total",
                                    "Undecodable Kafka messages, by what happened to them")
                               .Add({{"result", "produced"}})),
      dead_letter_failed(counters(registry, "vigil_kafka_dead_letters_total", "").Add({{"result", "failed"}})),
      dead_letter_disabled(counters(registry, "vigil_kafka_dead_letters_total", "").Add({{"result", "disabled"}})),
      paused(gauges(registry, "vigil_kafka_paused", "1 while the consumer is paused because the pipeline is full")
                 .Add({})),
      paused_partitions(gauges(registry, "vigil_kafka_paused_partitions",
                               "Partitions paused right now because the pipeline is full")
                            .Add({})),
      pauses(counters(registry, "vigil_kafka_pause_changes_total",
                      "Times the consumer paused (or resumed) its partitions for backpressure")
                 .Add({{"action", "pause"}})),
      resumes(counters(registry, "vigil_kafka_pause_changes_total", "").Add({{"action", "resume"}})),
      ready(gauges(registry, "vigil_kafka_ready", "1 while a Kafka broker is reachable").Add({})),
      assigned(counters(registry, "vigil_kafka_rebalances_total", "Partition rebalances seen by the consumer")
                   .Add({{"kind", "assign"}})),
      revoked(counters(registry, "vigil_kafka_rebalances_total", "").Add({{"kind", "revoke"}})),
      lost(counters(registry, "vigil_kafka_rebalances_total", "").Add({{"kind", "lost"}})),
      output_produced(counters(registry, "vigil_kafka_output_changes_total",
                               "Incident changes delivered to the output topic, failed, or found there already after a restart")
                          .Add({{"result", "produced"}})),
      output_failed(counters(registry, "vigil_kafka_output_changes_total", "").Add({{"result", "failed"}})),
      output_present(counters(registry, "vigil_kafka_output_changes_total", "").Add({{"result", "already_present"}})),
      output_seq(gauges(registry, "vigil_kafka_output_seq", "Last change seq delivered to the output topic").Add({})),
      messages_family_(counters(registry, "vigil_kafka_messages_total", "Kafka messages consumed, by result")),
      lag_family_(gauges(registry, "vigil_kafka_consumer_lag",
                         "Messages between the committed offset and the high watermark")),
      dropped_family_(counters(registry, "vigil_events_dropped_total",
                               "Events lost before the pipeline took them, by source and reason.")) {}

prometheus::Counter& KafkaMetrics::dropped(const std::string& topic) {
  auto& slot = dropped_[topic];
  if (slot == nullptr) slot = &dropped_family_.Add({{"source", "kafka/" + topic}, {"reason", "malformed"}});
  return *slot;
}

prometheus::Counter& KafkaMetrics::deletedUnread(const std::string& topic) {
  auto& slot = deleted_unread_[topic];
  if (slot == nullptr) slot = &dropped_family_.Add({{"source", "kafka/" + topic}, {"reason", "retention"}});
  return *slot;
}

prometheus::Counter& KafkaMetrics::messages(const std::string& topic, bool ok) {
  auto& slot = messages_[{topic, ok}];
  if (slot == nullptr) slot = &messages_family_.Add({{"topic", topic}, {"result", ok ? "ok" : "malformed"}});
  return *slot;
}

prometheus::Gauge& KafkaMetrics::lag(const std::string& topic, int32_t partition) {
  auto& slot = lag_[{topic, partition}];
  if (slot == nullptr) slot = &lag_family_.Add({{"topic", topic}, {"partition", std::to_string(partition)}});
  return *slot;
}

void KafkaMetrics::removeLag(const std::string& topic, int32_t partition) {
  auto it = lag_.find({topic, partition});
  if (it == lag_.end()) return;
  lag_family_.Remove(it->second);
  lag_.erase(it);
}

}  // namespace vigil::connectors::kafka
