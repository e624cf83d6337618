// Store: vigil's durable state in RocksDB. One column family per kind of state:
//   default      meta: schema version, per-partition incident id sequences
//   incidents    u64 BE incident id → incident (binary, incident_codec.h; id carries the partition)
//   keys         u16 BE partition + dedup key → u64 BE id of the active incident
//   correlation  u16 BE partition + rule + key → primitive state (rules engine)
//   positions    u16 BE partition + source key → position (Kafka offsets, output positions)
//   changes      u64 BE sequence → the change log that SSE resumes from and outputs (Kafka,
//                webhooks) publish from, so a restart neither re-sends nor skips a change. A
//                record is either one change (its kind + the incident's summary, under its own
//                sequence: stores written before the blocks) or a block of one commit's changes
//                under the last one's sequence: 0xff, u32 BE count, then per change its kind,
//                u32 BE length and summary (one memtable insert per commit, not per change)
//   maintenance, verdicts, outbox, cmdb
//                u16 BE partition + key → the owning component's record (state_op.h)
// Every key starts with its partition, so an instance can own, export or drop one partition's
// state as a key range. commit() writes one pipeline batch as one WriteBatch: all of it or none.
// Thread-safety: commit() is called by the pipeline's committer only; reads are safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/source.h"
#include "daemon/incidents/incident.h"
#include "daemon/incidents/incident_engine.h"
#include "daemon/status.h"
#include "daemon/store/state_op.h"

namespace rocksdb {
class DB;
class Env;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace vigil::store {

class WalSyncStats;
struct WalSyncHistogram;

struct StoreOptions {
  std::string path;           // the RocksDB directory (created if missing)
  bool sync = true;           // fsync the WAL on every commit (group commit: once per batch)
  uint64_t block_cache_bytes = 64ull << 20;
  // All column families' memtables together (a RocksDB WriteBufferManager); past it the largest
  // is flushed. Without it each of the ten families may hold 2 x 64 MiB. 0: no shared budget.
  uint64_t memtable_budget_bytes = 64ull << 20;
  uint64_t change_log_retention = 1000000;  // change records kept; older ones are trimmed
  rocksdb::Env* env = nullptr;  // RocksDB's default when null; tests pass one whose disk fails on demand
};

// One committed incident change, with the incident as it was then (without timeline).
// One record of a partition's own state as the scale-out changelog carries it (store_partition.cc):
// the column family's index followed by its RocksDB key, and the value (none: deleted).
struct PartitionRecord {
  uint16_t partition = 0;
  std::string key;
  std::optional<std::string> value;
};
using PartitionObserver = std::function<void(std::vector<PartitionRecord>&&)>;

struct ChangeRecord {
  uint64_t seq = 0;
  incidents::ChangeKind kind = incidents::ChangeKind::kUpdated;
  incidents::Incident incident;
  std::string json;  // {"seq":N,"change":"opened|updated|resolved","incident":{…}}
};

class Store {
 public:
  // Layout version written at creation. A data dir from a newer vigil is refused; an older one
  // is read as it is and marked with this version when opened, since what is written from then
  // on is in this version's layout. 2: the change log in blocks (one record per commit). 3: the
  // verdicts' per-CI index in buckets (verdicts/verdict_layout.h), rebuilt from the verdicts
  // when an older store is opened.
  static constexpr uint32_t kSchemaVersion = 3;

  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Writes everything one pipeline batch changed, the change records and the source positions,
  // atomically. Assigns each change its sequence number (changes.changes[i].seq).
  // Called on: one thread at a time (the pipeline's committer).
  Status commit(incidents::ChangeSet& changes,
                const std::vector<connectors::SourcePosition>& positions);

  // Visits change records with seq > after_seq in order, at most `limit`, until `visit` returns
  // false. Records older than the retention may be gone: compare the first seq you get.
  Status readChanges(uint64_t after_seq, size_t limit,
                     const std::function<bool(const ChangeRecord&)>& visit) const;
  // The seq of the newest committed change (0 when there is none).
  uint64_t lastChangeSeq() const { return last_change_seq_.load(std::memory_order_acquire); }
  // Records a position outside a pipeline batch (e.g. how far an output has published).
  Status putPosition(uint16_t partition, std::string_view key, std::string_view value);

  Result<std::optional<incidents::Incident>> getIncident(incidents::IncidentId id) const;
  // Visits incidents from the highest id down, starting below `before` (0: from the top), until
  // `visit` returns false.
  Status scanIncidents(incidents::IncidentId before,
                       const std::function<bool(incidents::Incident&&)>& visit) const;
  // Seeds the engine with every active incident and each partition's id sequence.
  Status restoreInto(incidents::IncidentEngine& engine) const;
  // The active incident under a dedup key, if any.
  Result<std::optional<incidents::IncidentId>> findActiveByKey(uint16_t partition, std::string_view key) const;
  Result<std::optional<std::string>> getPosition(uint16_t partition, std::string_view key) const;

  // Keyed state of the components (state_op.h). write() applies ops outside a pipeline batch,
  // atomically and synced like a commit.
  Status write(const std::vector<StateOp>& ops);
  Result<std::optional<std::string>> get(Column column, uint16_t partition, std::string_view key) const;
  // Visits the records of one partition whose key starts with `prefix`, in key order (key
  // without the partition), until `visit` returns false.
  Status scan(Column column, uint16_t partition, std::string_view prefix,
              const std::function<bool(std::string_view key, std::string_view value)>& visit) const;
  // The same, starting at the first key >= `from` (which starts with `prefix`).
  Status scanFrom(Column column, uint16_t partition, std::string_view prefix, std::string_view from,
                  const std::function<bool(std::string_view key, std::string_view value)>& visit) const;
  // The same in reverse key order: from the last key that starts with `prefix` down.
  Status scanBackward(Column column, uint16_t partition, std::string_view prefix,
                      const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

  // Scale-out (store_partition.cc). A partition's own state is its incidents, key index, id
  // sequence, correlation records and Kafka source positions; the change log, verdicts,
  // maintenance, outbox, CMDB and other positions stay local to the instance.
  // Called after every successful commit() and write() with the partition records it wrote, on
  // the writing thread. REQUIRES: set before the pipeline starts.
  void setPartitionObserver(PartitionObserver observer);
  // Called after every successful commit(), after the partition observer, with the newest change
  // seq it assigned (the same as before when it recorded no change). On the committing thread.
  void setCommitObserver(std::function<void(uint64_t last_change_seq)> observer);
  // Writes records taken from the changelog plus the local position (position_key, value) of
  // `partition`, atomically; not observed.
  Status applyPartitionRecords(const std::vector<PartitionRecord>& records, uint16_t partition,
                               std::string_view position_key, std::string_view position_value);
  // Deletes the partition's own state (not its other local positions).
  Status dropPartition(uint16_t partition);
  // The partitions that have any of their own state in the store, in order.
  Result<std::vector<uint16_t>> partitionsWithState() const;
  // Seeds the engine with the partition's active incidents and id sequence.
  Status restorePartitionInto(incidents::IncidentEngine& engine, uint16_t partition) const;

  uint32_t schemaVersion() const { return schema_version_; }
  // Writes a consistent copy of the store to `dir` (which must not exist yet) while it runs: a
  // RocksDB checkpoint, hard-linked where `dir` is on the same file system. Any thread.
  Status checkpoint(const std::string& dir) const;
  // RocksDB's own figure for a property such as "rocksdb.total-sst-files-size".
  uint64_t intProperty(const std::string& name) const;
  // The same per column family, as (column family, value); for a metrics scrape.
  std::vector<std::pair<std::string, uint64_t>> intPropertyByColumnFamily(const std::string& name) const;
  // A DB-wide figure such as "rocksdb.is-write-stopped" (not summed over column families).
  uint64_t dbIntProperty(const std::string& name) const;
  // A map property of every column family, such as "rocksdb.cfstats", as (column family, map).
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> mapPropertyByColumnFamily(
      const std::string& name) const;
  // How long the WAL syncs took since the store was opened (wal_sync_stats.h). Any thread.
  WalSyncHistogram walSyncs() const;

 private:
  Store() = default;
  Status checkSchema();
  Status loadChangeSeq();

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; order of kColumnFamilies
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* incidents_ = nullptr;
  rocksdb::ColumnFamilyHandle* keys_ = nullptr;
  rocksdb::ColumnFamilyHandle* positions_ = nullptr;
  rocksdb::ColumnFamilyHandle* changes_ = nullptr;
  rocksdb::ColumnFamilyHandle* column(Column c) const;
  void addStateOps(rocksdb::WriteBatch& batch, const std::vector<StateOp>& ops) const;
  void notifyPartitionObserver(const rocksdb::WriteBatch& batch) const;
  PartitionObserver partition_observer_;
  std::function<void(uint64_t)> commit_observer_;
  std::shared_ptr<WalSyncStats> wal_syncs_;  // a listener of db_
  bool sync_ = true;
  bool write_failed_ = false;  // the last commit failed: resume before the next (correlator thread)
  uint64_t change_log_retention_ = 0;
  std::atomic<uint64_t> last_change_seq_{0};
  uint32_t schema_version_ = 0;
  // commit()'s buffers, kept between batches (committer thread only) so they keep their
  // capacity: a batch's WriteBatch runs to megabytes, and growing it afresh every batch costs
  // reallocations, copies and page faults.
  std::unique_ptr<rocksdb::WriteBatch> commit_batch_;
  std::string commit_value_;
  std::vector<std::string> commit_summaries_;                         // per ChangeSet incident
  std::vector<std::pair<incidents::IncidentId, size_t>> commit_index_;  // id → its summary, sorted
};

}  // namespace vigil::store
