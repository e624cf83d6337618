// PartitionHandoff: what the Kafka source tells scale-out when the consumer group moves
// partitions, so a partition's state is brought up to date before its first event and handed
// over after its last. Called on the consumer's poll thread inside the rebalance callback; may
// block (the group waits, within max.poll.interval.ms).
#pragma once

#include <vector>

#include "connectors/kafka/commit_tracker.h"

namespace vigil::connectors::kafka {

class PartitionHandoff {
 public:
  virtual ~PartitionHandoff() = default;
  // Before the stored offsets of `partitions` are read.
  virtual void assigned(const std::vector<TopicPartition>& partitions) = 0;
  // After the partitions' batches are committed, before they are released. `lost`: the group
  // took them away (session timeout), another instance may already own them.
  virtual void revoked(const std::vector<TopicPartition>& partitions, bool lost) = 0;
  // True when the state alone says where to resume: a partition without a stored offset starts
  // at the beginning, not at the group's committed offset (which may be ahead of the state).
  virtual bool offsetsOnlyFromState() const { return false; }
};

}  // namespace vigil::connectors::kafka
