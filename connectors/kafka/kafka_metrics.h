// The Kafka connector's metrics, resolved once so the poll and output threads only increment.
//   vigil_kafka_messages_total{topic,result}        ok | malformed
//   vigil_events_dropped_total{source,reason}        source kafka/<topic>, reason malformed, or
//                                                    retention: messages the broker deleted after
//                                                    the stored offset, before vigil read them
//   vigil_kafka_dead_letters_total{result}           produced | failed | disabled
//   vigil_kafka_consumer_lag{topic,partition}        messages behind the high watermark, counted
//                                                    from the offset committed with the incidents
//   vigil_kafka_paused                               1 while partitions are paused (queue full)
//   vigil_kafka_paused_partitions                    partitions paused right now
//   vigil_kafka_pause_changes_total{action}          pause | resume (of the whole assignment)
//   vigil_kafka_ready                                1 while a broker is reachable
//   vigil_kafka_rebalances_total{kind}               assign | revoke | lost
//   vigil_kafka_output_changes_total{result}         produced | failed | already_present (found in
//                                                    the topic at start, so not sent again)
//   vigil_kafka_output_seq                           last change seq delivered to output_topic
// Thread-safety: prometheus-cpp metrics are thread-safe; the per-topic caches are not and are
// used by the poll thread only.
#pragma once

#include <map>
#include <string>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace vigil::connectors::kafka {

class KafkaMetrics {
 public:
  explicit KafkaMetrics(prometheus::Registry& registry);

  prometheus::Counter& messages(const std::string& topic, bool ok);
  // A message that decoded to no event (it goes to the dead-letter topic, if any).
  prometheus::Counter& dropped(const std::string& topic);
  // Messages deleted by the broker's retention between the stored offset and the log start.
  prometheus::Counter& deletedUnread(const std::string& topic);
  prometheus::Gauge& lag(const std::string& topic, int32_t partition);
  void removeLag(const std::string& topic, int32_t partition);

  prometheus::Counter& dead_letter_produced;
  prometheus::Counter& dead_letter_failed;
  prometheus::Counter& dead_letter_disabled;
  prometheus::Gauge& paused;
  prometheus::Gauge& paused_partitions;
  prometheus::Counter& pauses;
  prometheus::Counter& resumes;
  prometheus::Gauge& ready;
  prometheus::Counter& assigned;
  prometheus::Counter& revoked;
  prometheus::Counter& lost;
  prometheus::Counter& output_produced;
  prometheus::Counter& output_failed;
  prometheus::Counter& output_present;
  prometheus::Gauge& output_seq;

 private:
  prometheus::Family<prometheus::Counter>& messages_family_;
  prometheus::Family<prometheus::Gauge>& lag_family_;
  prometheus::Family<prometheus::Counter>& dropped_family_;
  std::map<std::pair<std::string, bool>, prometheus::Counter*> messages_;
  std::map<std::pair<std::string, int32_t>, prometheus::Gauge*> lag_;
  std::map<std::string, prometheus::Counter*, std::less<>> dropped_;
  std::map<std::string, prometheus::Counter*, std::less<>> deleted_unread_;
};

}  // namespace vigil::connectors::kafka
