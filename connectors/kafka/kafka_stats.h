// The parts of librdkafka's statistics JSON (statistics.interval.ms) vigil reads: whether any
// real broker is up (readiness) and each partition's high watermark (consumer lag).
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>

#include "connectors/kafka/commit_tracker.h"

namespace vigil::connectors::kafka {

struct KafkaStats {
  bool broker_up = false;
  std::map<TopicPartition, int64_t> high_watermarks;  // -1 when unknown
};

// Malformed JSON gives the empty (not ready) figures.
KafkaStats parseKafkaStats(std::string_view json);

}  // namespace vigil::connectors::kafka
