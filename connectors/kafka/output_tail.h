// What the output topic already holds: per partition, the highest `vigil-seq` header among its
// last records. KafkaOutput reads it once before producing, so the changes a crash left
// delivered but unrecorded are not sent again. Records of one partition are in seq order (one
// idempotent producer writes them in order), so the highest is the last one written.
// Thread-safety: a plain function; it creates and closes its own consumer.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "connectors/kafka/kafka_config.h"
#include "daemon/status.h"

namespace vigil::connectors::kafka {

// Indexed by partition of config.output_topic (its size is the partition count); 0 for a
// partition without a vigil-seq record. `producer` answers the metadata and watermark queries.
// An error when the broker does not answer within `timeout` or the topic does not exist.
Result<std::vector<uint64_t>> readOutputTail(RdKafka::Producer& producer, const KafkaConfig& config,
                                             std::chrono::milliseconds timeout);

}  // namespace vigil::connectors::kafka
