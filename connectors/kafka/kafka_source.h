// KafkaSource: consumes JSON events from `kafka.topics` as one consumer group and hands them to
// the pipeline with effectively-once delivery:
//  - Every batch carries its partition's next offset as a SourcePosition
//    {partition, "kafka/<topic>/<partition>", "<offset>"}, so the offset is written in the same
//    RocksDB WriteBatch as the incident changes its events caused. enable.auto.commit is off.
//  - On every assignment each partition starts at the offset stored with the incidents (or, with
//    none stored, at the group's committed offset, else the earliest). A crash therefore neither
//    loses an event nor applies one twice.
//  - After a batch commits, its offset is also committed to the group (async) for lag tools.
//  - Revocation (cooperative-sticky by default, eager with range/roundrobin) waits until the
//    partitions' in-flight batches are committed, and drops what was held back for them.
//  - Backpressure: when the pipeline refuses a batch the consumer pauses its partitions, keeps
//    polling (so rebalances and heartbeats are served), retries the held batches and resumes
//    once they are accepted.
//  - A message that does not decode is counted, logged (rate-limited, with a sample), produced
//    to dead_letter_topic with headers vigil-error, vigil-topic, vigil-partition, vigil-offset,
//    and skipped; consumption goes on.
//  - A broker that is down at start is not an error: start() succeeds, ready() is false until
//    a broker answers, and consumption catches up then.
// Metrics: see kafka_metrics.h.
// Thread-safety: start()/stop() on the main thread; one poll thread owns the consumer; ready()
// from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "connectors/kafka/kafka_config.h"
#include "connectors/kafka/partition_handoff.h"
#include "connectors/source.h"

namespace vigil::store {
class Store;
}  // namespace vigil::store

namespace vigil::connectors::kafka {

class KafkaSource final : public Source {
 public:
  // `store` is read for the stored offsets on assignment; it outlives the source.
  KafkaSource(KafkaConfig config, const store::Store& store, SourceContext& context);
  ~KafkaSource() override;

  // Source
  std::string_view name() const override { return "kafka"; }
  // Creates the consumer, subscribes and starts the poll thread. Does not wait for a broker.
  Status start(EventSink& sink) override;
  // Stops polling, waits (up to 10 s) for in-flight batches so their offsets reach the group,
  // and closes the consumer. No sink call after return. Idempotent.
  void stop() override;
  std::vector<std::string> endpoints() const override;

  // True while a broker is reachable (librdkafka statistics, refreshed every lag_interval).
  bool ready() const override;

  // REQUIRES: before start(); `handoff` outlives the source. Scale-out's partition handover.
  void setHandoff(PartitionHandoff* handoff);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Factory: parses `section` (the `kafka:` mapping of `file`).
Result<std::unique_ptr<KafkaSource>> makeKafkaSource(const YAML::Node& section, std::string_view file,
                                                     const store::Store& store, SourceContext& context);

// The position key of one partition: "kafka/<topic>/<partition>".
std::string positionKey(std::string_view topic, int32_t partition);

}  // namespace vigil::connectors::kafka
