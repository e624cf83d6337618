// KafkaMessageDecoder: one Kafka message's payload → Events. Applies the configured field mapping
// (if any), decodes with the ordinary EventDecoder, and stamps what Kafka knows: source
// "kafka/<topic>" (a sender's own `source` is kept as the label `origin`), partition = the Kafka
// partition (the state shard), and the message timestamp when the event carries no time.
// Kept free of librdkafka so it is tested and benchmarked without a broker.
// Thread-safety: not thread-safe (reuses the decoder's buffers); one per poll thread.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "connectors/kafka/field_mapping.h"
#include "daemon/event.h"
#include "daemon/event_json.h"
#include "daemon/status.h"

namespace vigil::connectors::kafka {

class KafkaMessageDecoder {
 public:
  explicit KafkaMessageDecoder(const FieldMapping& mapping) : mapping_(mapping) {}

  // Appends the message's events (one object or an array) to `out`. On error nothing is
  // appended and the status says what was wrong.
  Status decode(std::string_view payload, std::string_view topic, int32_t partition,
                TimePoint received_at, std::optional<TimePoint> message_time, std::vector<Event>& out);

 private:
  const FieldMapping& mapping_;
  EventDecoder decoder_;
  std::string source_;
};

}  // namespace vigil::connectors::kafka
