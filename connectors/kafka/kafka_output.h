// KafkaOutput: produces every committed incident change to `kafka.output_topic`, as the store's
// change record JSON {"seq":N,"change":"opened|updated|resolved","incident":{...}} keyed by the
// incident id, with an idempotent producer (in order per incident, no duplicates from retries).
//
// It reads the store's durable change log rather than the in-memory ChangeSets, so nothing
// committed is skipped across restarts or broker outages: the output thread sends the records
// after the last delivered seq, and records how far delivery reports have confirmed as the
// position "output/kafka/<topic>" (partition 0) at most every 100 ms and at stop.
// Exactly once across crashes, without transactions: each record goes to the partition of its
// key (librdkafka's consistent partitioner, computed here), so one partition's records are in
// seq order. Before producing, the output reads the last records of every partition (their
// vigil-seq headers); a change after the recorded position whose seq is at most its partition's
// last is already there and is not sent again. (A topic that gained partitions since the crash
// maps keys anew; its records may then repeat once.) A first start begins at the oldest
// retained change record. While the broker is down, nothing is produced until the tail is read,
// then records wait in the producer (message.timeout.ms=0: no expiry).
// Thread-safety: start()/stop() on the main thread; onCommitted() on the pipeline's committer thread (it
// only wakes the output thread); the output thread owns the producer.
#pragma once

#include <memory>

#include <prometheus/registry.h>

#include "connectors/kafka/kafka_config.h"
#include "daemon/pipeline.h"

namespace vigil::store {
class Store;
}  // namespace vigil::store

namespace vigil::connectors::kafka {

class KafkaOutput final : public ChangeListener {
 public:
  // REQUIRES: !config.output_topic.empty(). `store` outlives the output.
  KafkaOutput(KafkaConfig config, store::Store& store, prometheus::Registry& registry);
  ~KafkaOutput() override;

  Status start();
  // Sends what is committed (waiting up to 10 s for delivery), records the position, stops.
  // With the topic's tail never read (no broker since start) it sends nothing.
  // Call after the pipeline stopped. Idempotent.
  void stop();
  // The last seq confirmed delivered.
  uint64_t deliveredSeq() const;

  // ChangeListener
  void onCommitted(const incidents::ChangeSet& changes) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Factory: the output of `section`, or nullptr when it names no output_topic.
Result<std::unique_ptr<KafkaOutput>> makeKafkaOutput(const YAML::Node& section, std::string_view file,
                                                     store::Store& store, prometheus::Registry& registry);

}  // namespace vigil::connectors::kafka
