// StandbyReplicas: warm copies of partitions another core owns (scaleout.standby_replicas,
// docs/scale-out.md "Standby replicas"), so that the core the group gives such a partition after
// its owner died restores only the changelog's tail instead of the whole partition.
//  - Who keeps which partition needs no protocol: the read model names each partition's owner
//    (the vigil-owner header of its last marker); the cores alive are those owners plus this one.
//    For a partition, every core other than its owner is ranked by a hash of (partition, core
//    URL) (rendezvous hashing) and the first standby_replicas keep a copy. Every core computes
//    the same answer from the same view; a view that differs for a moment costs warmth only.
//  - A standby applies the closed batches of its partitions as they arrive on its own consumer
//    (ChangelogBatches, the rules a restore follows), writing them and the local position
//    "changelog/<topic>" together, so a takeover's restore reads on from there. It never touches
//    the correlator: a standby partition is loaded only when the group assigns it.
//  - The group's assignor does not know about standbys: with fewer standbys than surviving cores
//    a takeover may land on a core without a copy (it restores in full, as without standbys).
//  - A partition that stops being a standby here is dropped and marked dirty (as a revocation
//    does); one the group assigns to this core is claimed (ScaleoutCore::assigned) and its copy
//    is where the restore starts.
// Thread-safety: one thread of its own; claim()/release()/sweep() from the Kafka consumer's poll
// thread; start()/stop() on the main thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "connectors/kafka/kafka_config.h"
#include "connectors/kafka/read_model.h"
#include "connectors/kafka/scaleout_config.h"
#include "daemon/store/store.h"

namespace vigil::connectors::kafka {

class StandbyReplicas {
 public:
  // REQUIRES: scaleout.standby_replicas > 0 and the read model of this core (its URL identifies it).
  StandbyReplicas(KafkaConfig kafka, ScaleoutConfig scaleout, store::Store& store, const ReadModel& read_model,
                  prometheus::Registry& registry);
  ~StandbyReplicas();

  // Creates the consumer and starts the thread, which chooses once the read model has read the
  // changelog as it was at the start.
  Status start();
  // The sweep after a start (ScaleoutCore) of a stored partition the group did not assign here:
  // dropped (and marked dirty) unless it is a standby copy, or a trusted copy that may become one
  // (kept until the read model names another owner and this core is not its standby).
  // True when it was dropped.
  Result<bool> sweep(uint16_t partition);
  // Stops applying `partition` (this core takes it over); what was applied stays for the
  // restore. Returns once no write of it is under way.
  void claim(uint16_t partition);
  // The partition was handed over (its copy dropped): it may be chosen as a standby again.
  void release(uint16_t partition);
  // Writes what is applied and stops. Idempotent.
  void stop();

  // The cores, of `alive`, that keep a copy of `partition` owned by `owner`: at most `replicas`,
  // never the owner. The same for every caller with the same arguments (in any order).
  static std::vector<std::string> standbysOf(uint16_t partition, const std::string& owner,
                                             const std::vector<std::string>& alive, size_t replicas);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::connectors::kafka
