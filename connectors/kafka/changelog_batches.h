// ChangelogBatches: applies the records of one changelog partition to the local store by the
// rules of docs/scale-out.md ("Partitioned state and the changelog"): records are held until
// their epoch's marker closes the batch; a batch closed under an epoch older than one already
// closed (a fenced writer) is discarded, as is what older writers left open. Closed batches are
// written with the local position `<offset after the last closed marker> <epoch>`, so whoever
// applies the partition next (a takeover's restore, a standby replica) resumes there.
// Used by ScaleoutCore::restore and by StandbyReplicas, which must agree record for record.
// Thread-safety: one instance per partition, used by one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "daemon/status.h"
#include "daemon/store/store.h"

namespace vigil::connectors::kafka {

inline constexpr char kMarkerTag = '\xff';  // first key byte of a batch marker (store records: a family index)
inline constexpr std::string_view kEpochHeader = "vigil-epoch";
inline constexpr std::string_view kDirtyPosition = "-1";  // the local copy is not trusted

// How far a partition's local copy has the changelog: the offset after the last closed batch
// applied, and the newest epoch applied.
struct AppliedPosition {
  int64_t next = 0;
  uint64_t epoch = 0;
};

// The trusted local copy's position, or, when there is none (missing or dirty), an empty copy:
// the partition's state is dropped and {0, 0} returned.
Result<AppliedPosition> openLocalCopy(store::Store& store, uint16_t partition, std::string_view position_key);
// Marks the local copy untrusted and drops it (a restore then starts from the changelog's start).
Status dropLocalCopy(store::Store& store, uint16_t partition, std::string_view position_key);
// True when the stored position is a trusted one (not missing, not dirty).
Result<bool> hasTrustedCopy(const store::Store& store, uint16_t partition, std::string_view position_key);
// The vigil-epoch header of a changelog record (0 when it has none).
uint64_t epochOf(RdKafka::Message& message);

class ChangelogBatches {
 public:
  // Records per store write: closed batches are written once this many are held.
  static constexpr size_t kChunk = 20000;

  ChangelogBatches(store::Store& store, uint16_t partition, std::string position_key, AppliedPosition from);

  // The next record of the partition, in offset order, at or after next(). Writes the closed
  // batches once kChunk records are held.
  Status add(RdKafka::Message& message);
  // Writes the closed batches not written yet, with the position after them.
  Status writeClosed();
  // True when writeClosed() has something to write (records, or a position that moved).
  bool unwritten() const { return !closed_.empty() || closed_end_ != written_end_; }
  // Counts what no marker will close any more as discarded (at the end of a restore).
  void discardOpen();

  int64_t next() const { return next_; }        // after the last record added
  uint64_t newestEpochSeen() const { return newest_seen_; }
  size_t written() const { return written_; }    // records written so far
  size_t discarded() const { return discarded_; }

 private:
  store::Store& store_;
  const uint16_t partition_;
  const std::string position_key_;
  std::vector<store::PartitionRecord> closed_;                    // not yet written
  std::map<uint64_t, std::vector<store::PartitionRecord>> open_;  // epoch → its unfinished batch
  int64_t next_;
  int64_t closed_end_;   // after the marker of the last closed batch
  int64_t written_end_;  // closed_end_ as last written
  uint64_t max_epoch_;   // of the batches closed so far: older writers are fenced off
  uint64_t newest_seen_;
  size_t written_ = 0;
  size_t discarded_ = 0;
};

}  // namespace vigil::connectors::kafka
