// ScaleoutCore: the core role of scale-out (docs/scale-out.md). The instance owns the store
// state of the ingest partitions the consumer group assigns it:
//  - every committed change of an owned partition's state (the store's partition records) is
//    produced after the commit to the changelog topic, to the same partition number: key = the
//    store key, value = the record or a tombstone, header vigil-epoch = this ownership's epoch,
//    then one marker record per partition and commit ("\xff" + partition + epoch) that closes
//    the batch; a restore applies only closed batches, so a writer that died mid-batch leaves
//    nothing half-applied;
//  - on assignment the partition's state is restored from the changelog (read to its end, then a
//    fence marker of the new ownership's epoch is written and read up to: batches an older owner
//    closes after it are discarded by every restore) before the stored offsets are read, and the
//    correlator loads it (the engine and every component: Pipeline::loadPartition);
//  - at the first assignment after a start, stored partitions the group gave to others are
//    dropped;
//  - on revocation the correlator forgets the partition, its changelog records are awaited and
//    the local copy is dropped (kept, with how far it is applied, at a clean shutdown);
//  - with standby replicas (standby_replicas.h), a partition this core keeps warm is claimed
//    from them before its restore, which then reads only the changelog's tail.
// Thread-safety: assigned()/revoked() on the Kafka consumer's poll thread; the store observer on
// the committing thread; start()/stop()/beginShutdown() on the main thread.
#pragma once

#include <memory>

#include <prometheus/registry.h>

#include "connectors/kafka/kafka_config.h"
#include "connectors/kafka/partition_handoff.h"
#include "connectors/kafka/scaleout_config.h"
#include "daemon/pipeline.h"
#include "daemon/store/store.h"

namespace vigil::connectors::kafka {

class StandbyReplicas;

class ScaleoutCore final : public PartitionHandoff {
 public:
  ScaleoutCore(KafkaConfig kafka, ScaleoutConfig scaleout, store::Store& store, Pipeline& pipeline,
               prometheus::Registry& registry);
  ~ScaleoutCore() override;

  // Creates the changelog producer and observes the store. REQUIRES: before pipeline.start().
  Status start();
  // After pipeline.start(), before the source starts: the correlator forgets every partition
  // until the group assigns it (the local store may hold partitions that moved meanwhile).
  Status forgetUntilAssigned();
  // Standby replicas of other cores' partitions (none: off). REQUIRES: before the source starts;
  // `standby` outlives the source.
  void setStandby(StandbyReplicas* standby);
  // Before the source stops: the revocation that follows keeps the local state for a restart.
  void beginShutdown();
  // After the pipeline stopped. Idempotent.
  void stop();

  // PartitionHandoff
  void assigned(const std::vector<TopicPartition>& partitions) override;
  void revoked(const std::vector<TopicPartition>& partitions, bool lost) override;
  // Every change up to this local change seq (Store::lastChangeSeq) has its partition records
  // acknowledged by the changelog: a notification of it cannot be undone by a takeover. Any thread.
  uint64_t durableChangeSeq() const;
  // The group's offsets are committed once the store has the batch, before the changelog does:
  // only the restored state says where to resume.
  bool offsetsOnlyFromState() const override { return true; }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::connectors::kafka
