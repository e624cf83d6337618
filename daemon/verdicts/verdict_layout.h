// The verdicts' store layout (Column::kVerdicts, partition 0, as event ids span the partitions):
//   "e" u64 BE chunk last event id   → chunk: the records of one batch (verdict.h)
//   "b" u16 BE bucket u64 BE chunk last event id
//                                    → the chunk's event ids by CI, for the CIs of one bucket
//   "n"                              → u64 BE next event id
// A CI's bucket is ciBucket(ci). A bucket record is varint (chunk last id - base id), then per
// CI: varint name length, name, varint length of its ids, its ids as zigzag varint deltas (the
// first from the base id, each next from the one before). So a batch writes its chunk and at
// most kCiBuckets index records whatever its number of CIs (a memtable insert costs thousands
// of instructions however small the record), and a CI's lookup reads its bucket's records newest
// first, skipping the other CIs' entries by their lengths. The deltas are signed because ids are
// reserved at intake, so two sources' batches may reach the correlator out of id order.
// Stores of schema version 1 and 2 kept one index record per CI and chunk instead
// ("c" ci '\0' u64 BE ms u64 BE chunk last id → varint ids); rebuildCiIndex replaces them.
// Thread-safety: CiIndexBuilder is a plain value; the functions may be called from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/binary_codec.h"
#include "daemon/status.h"
#include "daemon/store/state_op.h"

namespace vigil::store {
class Store;
}

namespace vigil::verdicts {

// Fewer buckets mean fewer puts per batch; more mean fewer other CIs' entries to read past in a
// lookup. 64: a live batch of a few hundred events over thousands of CIs writes at most 64 index
// records rather than one per CI (256 buckets would still take about 175 for 300 such events),
// and a lookup that scans the whole retention reads 1/64 of the index. Part of the stored
// layout: changing it needs a new schema version.
inline constexpr uint16_t kCiBuckets = 64;

// "e" + the chunk's last event id.
std::string chunkKey(uint64_t chunk_last_id);

// 64-bit FNV-1a: defined here rather than std::hash, so the buckets stay the same between builds.
uint64_t fnv1a64(std::string_view bytes);
// fnv1a64, mixed so that every bit of every byte reaches the bucket.
uint16_t ciBucket(std::string_view ci);
// "b" + bucket: the prefix of one bucket's records; and one record's key.
std::string ciBucketPrefix(uint16_t bucket);
std::string ciBucketKey(uint16_t bucket, uint64_t chunk_last_id);

// Collects one chunk's (CI, event id) pairs and writes them as the chunk's bucket records.
// Adding only appends: the pairs are grouped by CI at flush, one bucket at a time, rather than
// looked up in a map per event (a map of thousands of CIs misses the cache on most lookups).
class CiIndexBuilder {
 public:
  void add(std::string_view ci, uint64_t event_id);
  // Appends a put per bucket that has a CI, keyed by the chunk's last id (at or above every id
  // added), and starts over.
  void flush(uint64_t chunk_last_id, std::vector<store::StateOp>& out);

 private:
  struct Pair {
    uint64_t hash;  // fnv1a64 of the CI: its bucket, and what the pairs are grouped by first
    uint64_t event_id;
    uint32_t name_offset;  // the CI in names_
    uint32_t name_size;
  };
  std::string names_;  // this chunk's CIs, one after another
  std::vector<Pair> pairs_;
  std::vector<Pair> by_bucket_;  // flush's scratch: pairs_ ordered by bucket
  std::string deltas_;           // flush's scratch: one CI's ids
  std::string record_;           // flush's scratch: one bucket's record
};

// Moves `s` out, leaving it empty with the capacity it had: the next batch's buffer (a chunk, a
// bucket record) is likely about as large, and is then allocated once rather than grown by
// doubling, each step copying what it holds.
std::string takeKeepingCapacity(std::string& s);

// The ids of `ci`'s events in a bucket record, in the order they were added (none when it has no
// entry for the CI); false when unreadable.
bool findCiIds(std::string_view record, uint64_t chunk_last_id, std::string_view ci, std::vector<uint64_t>& ids);

// Replaces the one-record-per-CI-and-chunk index of a schema 1 or 2 store by bucket records,
// built from the chunks themselves: so it streams in write batches of a few MiB, is bounded by
// the retention, and may simply run again after a crash halfway. Store::open calls it.
Status rebuildCiIndex(store::Store& store);

}  // namespace vigil::verdicts
