#include "daemon/store/store.h"

#include "daemon/binary_codec.h"
#include "daemon/incidents/incident_codec.h"
#include "daemon/store/rocksdb_logger.h"
#include "daemon/store/wal_sync_stats.h"
#include "daemon/verdicts/verdict_layout.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_manager.h>
#include <rocksdb/table.h>
#include <rocksdb/cache.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>
#include <rocksdb/utilities/checkpoint.h>

namespace vigil::store {

namespace {

// The order of the handles; Column values follow "correlation" at kFirstColumn.
constexpr const char* kColumnFamilies[] = {"default",   "incidents", "keys",     "positions", "changes",
                                           "correlation", "maintenance", "verdicts", "outbox",  "cmdb"};
constexpr size_t kFirstColumn = 5;
static_assert(std::size(kColumnFamilies) == kFirstColumn + kColumnCount);
constexpr std::string_view kSchemaKey = "schema_version";
constexpr std::string_view kSequencePrefix = "next_sequence/";
constexpr std::string_view kChangeSeqKey = "change_seq";
// Leads a change-log block; a single change record starts with its kind, which is never 0xff.
constexpr char kChangeBlockTag = static_cast<char>(0xff);
static_assert(static_cast<uint8_t>(incidents::kLastChangeKind) < 0xff);

std::string incidentKey(incidents::IncidentId id) {
  std::string k;
  appendBigEndian(k, id, 8);
  return k;
}

std::string partitionedKey(uint16_t partition, std::string_view key) {
  std::string k;
  k.reserve(2 + key.size());
  appendBigEndian(k, partition, 2);
  k.append(key);
  return k;
}

std::string sequenceKey(uint16_t partition) {
  std::string k(kSequencePrefix);
  appendBigEndian(k, partition, 2);
  return k;
}

// Verdict keys arrive in ascending order under one prefix each: the chunks ("e" + event id) and
// each bucket of the per-CI index ("b" + bucket + event id), after the partition
// (verdicts/verdict_layout.h). The memtable keeps an insert position per prefix
// (memtable_insert_with_hint_prefix_extractor), so such a key is placed next to the last one
// instead of by a search from the top of the skip list: the search was most of the committer's CPU.
class VerdictInsertPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "vigil.VerdictInsertPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return {key.data(), prefixLength(key)}; }
  bool InDomain(const rocksdb::Slice& key) const override { return prefixLength(key) != 0; }

 private:
  static size_t prefixLength(const rocksdb::Slice& key) {
    if (key.size() < 3) return 0;
    if (key[2] == 'e') return 3;
    if (key[2] == 'b' && key.size() >= 5) return 5;
    return 0;
  }
};

Status fromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::ok();
  std::string msg(what);
  msg += ": ";
  msg += s.ToString();
  if (s.IsCorruption()) return Status::corruption(std::move(msg));
  if (s.IsNoSpace() || s.IsIOError()) return Status::ioError(std::move(msg));
  return Status::internal(std::move(msg));
}

// Creates `path` and the missing dirs above it, each entry fsynced into its parent. RocksDB
// syncs what it creates inside the store dir, but the store dir's own entry (and the data dir's,
// when vigild made it) is ours: unsynced, a power cut soon after the first start could take
// the whole store, acknowledged events included (found by scripts/power-loss-trials).
Status createDurableDirectories(const std::filesystem::path& path) {
  std::vector<std::filesystem::path> created;
  std::error_code ec;
  for (auto p = path; !p.empty() && !std::filesystem::exists(p, ec); p = p.parent_path()) created.push_back(p);
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::ioError("cannot create data dir " + path.string() + ": " + ec.message());
  for (const auto& dir : created) {
    const auto parent = dir.has_parent_path() ? dir.parent_path() : std::filesystem::path(".");
    const int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    const int err = errno;
    if (fd >= 0) ::close(fd);
    if (!synced) return Status::ioError("cannot sync dir " + parent.string() + ": " + std::strerror(err));
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
  if (Status s = createDurableDirectories(options.path); !s.isOk()) return fail(std::move(s));
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.IncreaseParallelism(2);
  db_options.keep_log_file_num = 5;
  db_options.info_log = makeRocksDbLogger();  // no LOG file on the data disk (see rocksdb_logger.h)
  db_options.max_total_wal_size = 256ull << 20;
  if (options.memtable_budget_bytes > 0) {
    db_options.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(options.memtable_budget_bytes);
  }
  if (options.env != nullptr) db_options.env = options.env;
  // The WAL's fdatasync waits for every write queued on the disk before it. A flush left to
  // its final fsync queued tens of MiB of table file ahead of it, and deleting an obsolete
  // 64 MiB WAL at once trims it in one go on a file system mounted with discard: each held a
  // commit 5–30 ms (docs/performance.md, session 15). So table files go out 1 MiB at a time,
  // each step waiting for the one before (strict), and obsolete files are deleted in the
  // background at 256 MiB/s, in 4 MiB truncations: far above the store's write rate, so the
  // backlog stays short.
  db_options.bytes_per_sync = 1 << 20;
  db_options.strict_bytes_per_sync = true;
  db_options.sst_file_manager.reset(rocksdb::NewSstFileManager(
      db_options.env, db_options.info_log, /*trash_dir=*/"", /*rate_bytes_per_sec=*/int64_t{256} << 20,
      /*delete_existing_trash=*/true, /*status=*/nullptr, /*max_trash_db_ratio=*/0.25,
      /*bytes_max_delete_chunk=*/uint64_t{4} << 20));
  auto wal_syncs = std::make_shared<WalSyncStats>();
  db_options.listeners.push_back(wal_syncs);

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.compression = rocksdb::kLZ4Compression;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : kColumnFamilies) {
    rocksdb::ColumnFamilyOptions options_of_family = cf_options;
    if (std::string_view(name) == "verdicts") {
      options_of_family.memtable_insert_with_hint_prefix_extractor = std::make_shared<VerdictInsertPrefix>();
    }
    descriptors.emplace_back(name, options_of_family);
  }

  auto store = std::unique_ptr<Store>(new Store());
  store->sync_ = options.sync;
  store->wal_syncs_ = std::move(wal_syncs);
  // Opened with the families it has; the missing ones (all but "default" in a new store) are then
  // created in one call: DB::Open creates them one at a time, each writing and re-reading an
  // OPTIONS file with an fsync (about 30 ms of a first start).
  std::vector<std::string> existing;
  if (!rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing).ok()) existing = {"default"};
  std::vector<rocksdb::ColumnFamilyDescriptor> present, missing;
  for (auto& d : descriptors) {
    (std::find(existing.begin(), existing.end(), d.name) != existing.end() ? present : missing).push_back(d);
  }
  rocksdb::DB* raw = nullptr;
  // The handles are the store's from here, so a failure below frees them.
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, present, &store->handles_, &raw);
  if (!s.ok()) return fail(fromRocks(s, "opening store at " + options.path));
  store->db_.reset(raw);
  if (!missing.empty()) {
    std::vector<rocksdb::ColumnFamilyHandle*> created;
    s = raw->CreateColumnFamilies(missing, &created);
    store->handles_.insert(store->handles_.end(), created.begin(), created.end());
    if (!s.ok()) return fail(fromRocks(s, "creating column families in " + options.path));
  }
  // In the order of kColumnFamilies.
  std::vector<rocksdb::ColumnFamilyHandle*> ordered;
  for (const auto& d : descriptors) {
    for (auto* h : store->handles_) {
      if (h->GetName() == d.name) ordered.push_back(h);
    }
  }
  store->handles_ = std::move(ordered);
  store->meta_ = store->handles_[0];
  store->incidents_ = store->handles_[1];
  store->keys_ = store->handles_[2];
  store->positions_ = store->handles_[3];
  store->changes_ = store->handles_[4];
  store->change_log_retention_ = options.change_log_retention;
  if (Status st = store->checkSchema(); !st.isOk()) return fail(std::move(st));
  if (Status st = store->loadChangeSeq(); !st.isOk()) return fail(std::move(st));
  return store;
}

Status Store::checkpoint(const std::string& dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  if (rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw); !s.ok()) return fromRocks(s, "checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return fromRocks(checkpoint->CreateCheckpoint(dir), "checkpoint into " + dir);
}

Store::~Store() {
  if (!db_) return;
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  db_->Close().PermitUncheckedError();
}

Status Store::checkSchema() {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, kSchemaKey, &value);
  if (!s.ok() && !s.IsNotFound()) return fromRocks(s, "reading schema version");
  if (s.ok()) {
    if (value.size() != 4) return Status::corruption("schema version record has a bad size");
    schema_version_ = static_cast<uint32_t>(readBigEndian(value, 4));
    if (schema_version_ > kSchemaVersion) {
      return Status::failedPrecondition("data dir has schema version " + std::to_string(schema_version_) +
                                        ", newer than this vigild understands (" +
                                        std::to_string(kSchemaVersion) + "); use a newer vigild");
    }
    if (schema_version_ == kSchemaVersion) return Status::ok();
    // Before the mark, so that a crash halfway leaves a store that is converted again.
    if (schema_version_ < 3) {
      if (Status rebuilt = verdicts::rebuildCiIndex(*this); !rebuilt.isOk()) return rebuilt;
    }
  }
  // New, or older: this version reads the older layouts, and from now on writes its own, which an
  // older vigild cannot read (a change-log block, the verdicts' bucket records): the mark makes
  // that one refuse the data dir.
  std::string v;
  appendBigEndian(v, kSchemaVersion, 4);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  schema_version_ = kSchemaVersion;
  return fromRocks(db_->Put(wo, meta_, kSchemaKey, v), "writing schema version");
}

Status Store::loadChangeSeq() {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, kChangeSeqKey, &value);
  if (s.IsNotFound()) return Status::ok();
  if (!s.ok()) return fromRocks(s, "reading change sequence");
  if (value.size() != 8) return Status::corruption("change sequence record has a bad size");
  last_change_seq_ = readBigEndian(value, 8);
  return Status::ok();
}

Status Store::commit(incidents::ChangeSet& changes,
                     const std::vector<connectors::SourcePosition>& positions) {
  // RocksDB counts every key comparison into a thread-local perf context by default; nobody
  // reads it, and on this thread the memtable inserts make it about 6 % of the commit's
  // instructions (callgrind). Per thread, so setting it here covers the committer.
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  if (!commit_batch_) commit_batch_ = std::make_unique<rocksdb::WriteBatch>();
  rocksdb::WriteBatch& batch = *commit_batch_;
  batch.Clear();  // keeps the buffer's capacity
  std::string& value = commit_value_;
  // A change-log record is the change kind followed by the incident's summary encoding.
  const size_t count = changes.incidents.size();
  if (commit_summaries_.size() < count) commit_summaries_.resize(count);
  commit_index_.clear();
  for (size_t i = 0; i < count; ++i) {
    const incidents::Incident& in = *changes.incidents[i];
    value.clear();
    commit_summaries_[i].clear();
    incidents::encodeIncidentAndSummary(in, value, commit_summaries_[i]);
    batch.Put(incidents_, incidentKey(in.id), value);
    commit_index_.emplace_back(in.id, i);
  }
  std::sort(commit_index_.begin(), commit_index_.end());
  // The change log: one block per commit (store.h); sequence numbers are only published once the
  // batch is durable.
  uint64_t seq = last_change_seq_.load(std::memory_order_relaxed);
  if (!changes.changes.empty()) {
    value.assign(1, kChangeBlockTag);
    appendBigEndian(value, changes.changes.size(), 4);
    for (auto& change : changes.changes) {
      change.seq = ++seq;
      value.push_back(static_cast<char>(change.kind));
      auto summary = std::lower_bound(commit_index_.begin(), commit_index_.end(), std::make_pair(change.id, size_t{0}));
      const bool found = summary != commit_index_.end() && summary->first == change.id;
      const std::string_view bytes = found ? std::string_view(commit_summaries_[summary->second]) : std::string_view();
      appendBigEndian(value, bytes.size(), 4);
      value += bytes;
    }
    batch.Put(changes_, incidentKey(seq), value);
  }
  if (seq != last_change_seq_.load(std::memory_order_relaxed)) {
    std::string v;
    appendBigEndian(v, seq, 8);
    batch.Put(meta_, kChangeSeqKey, v);
    // Trim in the same batch, in whole blocks of 1024 so the range delete stays rare.
    const uint64_t before = last_change_seq_.load(std::memory_order_relaxed);
    if (seq > change_log_retention_ && (seq / 1024) != (before / 1024)) {
      batch.DeleteRange(changes_, incidentKey(0), incidentKey(seq - change_log_retention_ + 1));
    }
  }
  for (const auto& op : changes.key_ops) {
    if (op.id) {
      std::string id;
      appendBigEndian(id, *op.id, 8);
      batch.Put(keys_, partitionedKey(op.partition, op.key), id);
    } else {
      batch.Delete(keys_, partitionedKey(op.partition, op.key));
    }
  }
  for (const auto& [partition, next] : changes.next_sequences) {
    std::string v;
    appendBigEndian(v, next, 8);
    batch.Put(meta_, sequenceKey(partition), v);
  }
  for (const auto& p : positions) {
    batch.Put(positions_, partitionedKey(p.partition, p.key), p.value);
  }
  addStateOps(batch, changes.state_ops);
  if (batch.Count() == 0) return Status::ok();
  // After a failed write (disk full, I/O error) RocksDB refuses writes until it is resumed;
  // Resume() switches to a new WAL, and fails as long as the cause lasts.
  if (write_failed_) {
    if (Status r = fromRocks(db_->Resume(), "resuming store after a failed commit"); !r.isOk()) return r;
    write_failed_ = false;
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  Status s = fromRocks(db_->Write(wo, &batch), "committing batch");
  write_failed_ = !s.isOk();
  if (s.isOk()) {
    last_change_seq_.store(seq, std::memory_order_release);
    if (partition_observer_) notifyPartitionObserver(batch);
    if (commit_observer_) commit_observer_(seq);
  } else {
    for (auto& change : changes.changes) change.seq = 0;  // retried: numbered again
  }
  return s;
}

Status Store::readChanges(uint64_t after_seq, size_t limit,
                          const std::function<bool(const ChangeRecord&)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), changes_));
  ChangeRecord record;
  size_t n = 0;
  // Visits one change; false when the reading is over (limit reached, visitor done, or corrupt).
  Status corrupt = Status::ok();
  auto emit = [&](uint64_t seq, uint8_t kind, std::string_view summary) {
    auto in = incidents::decodeIncident(summary);
    if (!in || kind > static_cast<uint8_t>(incidents::kLastChangeKind)) {
      corrupt = Status::corruption("bad change record");
      return false;
    }
    record.seq = seq;
    record.kind = static_cast<incidents::ChangeKind>(kind);
    nlohmann::json j = {{"seq", record.seq}, {"change", incidents::changeKindName(record.kind)}};
    incidents::toJson(*in, j["incident"], /*with_details=*/false);
    record.incident = std::move(*in);
    record.json = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return visit(record) && ++n < limit;
  };
  // A block is keyed by its last change's seq, so the first key after `after_seq` is the record
  // or block that holds the next change.
  bool more = limit > 0;
  for (it->Seek(incidentKey(after_seq + 1)); more && it->Valid(); it->Next()) {
    const uint64_t key_seq = readBigEndian(it->key().ToStringView(), 8);
    std::string_view value = it->value().ToStringView();
    if (value.empty()) return Status::corruption("empty change record");
    if (value[0] != kChangeBlockTag) {
      more = emit(key_seq, static_cast<uint8_t>(value[0]), value.substr(1));
      continue;
    }
    if (value.size() < 5) return Status::corruption("bad change block");
    const uint64_t count = readBigEndian(value.substr(1), 4);
    if (count == 0 || count > key_seq) return Status::corruption("bad change block");
    value.remove_prefix(5);
    for (uint64_t seq = key_seq - count + 1; more && seq <= key_seq; ++seq) {
      if (value.size() < 5) return Status::corruption("bad change block");
      const auto kind = static_cast<uint8_t>(value[0]);
      const uint64_t length = readBigEndian(value.substr(1), 4);
      if (value.size() - 5 < length) return Status::corruption("bad change block");
      if (seq > after_seq) more = emit(seq, kind, value.substr(5, length));
      value.remove_prefix(5 + length);
    }
  }
  if (!corrupt.isOk()) return corrupt;
  return fromRocks(it->status(), "reading change log");
}

rocksdb::ColumnFamilyHandle* Store::column(Column c) const {
  return handles_[kFirstColumn + static_cast<size_t>(c)];
}

void Store::addStateOps(rocksdb::WriteBatch& batch, const std::vector<StateOp>& ops) const {
  for (const auto& op : ops) {
    if (op.value) {
      batch.Put(column(op.column), partitionedKey(op.partition, op.key), *op.value);
    } else {
      batch.Delete(column(op.column), partitionedKey(op.partition, op.key));
    }
  }
}

Status Store::write(const std::vector<StateOp>& ops) {
  rocksdb::WriteBatch batch;
  addStateOps(batch, ops);
  if (batch.Count() == 0) return Status::ok();
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  Status s = fromRocks(db_->Write(wo, &batch), "writing state");
  if (s.isOk() && partition_observer_) notifyPartitionObserver(batch);
  return s;
}

Result<std::optional<std::string>> Store::get(Column c, uint16_t partition, std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), column(c), partitionedKey(partition, key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return fail(fromRocks(s, "reading state"));
  return std::optional<std::string>(std::move(value));
}

Status Store::scan(Column c, uint16_t partition, std::string_view prefix,
                   const std::function<bool(std::string_view key, std::string_view value)>& visit) const {
  return scanFrom(c, partition, prefix, prefix, visit);
}

Status Store::scanFrom(Column c, uint16_t partition, std::string_view prefix, std::string_view from,
                       const std::function<bool(std::string_view key, std::string_view value)>& visit) const {
  const std::string start = partitionedKey(partition, prefix);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), column(c)));
  for (it->Seek(partitionedKey(partition, from)); it->Valid() && it->key().starts_with(start); it->Next()) {
    if (!visit(it->key().ToStringView().substr(2), it->value().ToStringView())) break;
  }
  return fromRocks(it->status(), "scanning state");
}

Status Store::scanBackward(Column c, uint16_t partition, std::string_view prefix,
                           const std::function<bool(std::string_view key, std::string_view value)>& visit) const {
  const std::string start = partitionedKey(partition, prefix);
  // The first key past every key with the prefix: the prefix with its last byte below 0xff
  // incremented and what follows dropped; none when the prefix is all 0xff.
  std::string past = start;
  while (!past.empty() && static_cast<uint8_t>(past.back()) == 0xff) past.pop_back();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), column(c)));
  if (past.empty()) {
    it->SeekToLast();
  } else {
    past.back() = static_cast<char>(static_cast<uint8_t>(past.back()) + 1);
    it->SeekForPrev(past);
    if (it->Valid() && it->key() == past) it->Prev();
  }
  for (; it->Valid() && it->key().starts_with(start); it->Prev()) {
    if (!visit(it->key().ToStringView().substr(2), it->value().ToStringView())) break;
  }
  return fromRocks(it->status(), "scanning state");
}

Status Store::putPosition(uint16_t partition, std::string_view key, std::string_view value) {
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return fromRocks(db_->Put(wo, positions_, partitionedKey(partition, key), value), "writing position");
}

Result<std::optional<incidents::Incident>> Store::getIncident(incidents::IncidentId id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), incidents_, incidentKey(id), &value);
  if (s.IsNotFound()) return std::optional<incidents::Incident>();
  if (!s.ok()) return fail(fromRocks(s, "reading incident"));
  auto in = incidents::decodeIncident(value);
  if (!in) return fail(in.error());
  return std::optional<incidents::Incident>(std::move(*in));
}

Status Store::scanIncidents(incidents::IncidentId before,
                            const std::function<bool(incidents::Incident&&)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), incidents_));
  if (before == 0) {
    it->SeekToLast();
  } else {
    it->SeekForPrev(incidentKey(before - 1));
  }
  for (; it->Valid(); it->Prev()) {
    auto in = incidents::decodeIncident(it->value().ToStringView());
    if (!in) return in.error();
    if (!visit(std::move(*in))) break;
  }
  return fromRocks(it->status(), "scanning incidents");
}

Status Store::restoreInto(incidents::IncidentEngine& engine) const {
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
    for (it->Seek(kSequencePrefix); it->Valid() && it->key().starts_with(kSequencePrefix); it->Next()) {
      const auto key = it->key().ToStringView().substr(kSequencePrefix.size());
      if (key.size() != 2 || it->value().size() != 8) return Status::corruption("bad sequence record");
      engine.setNextSequence(static_cast<uint16_t>(readBigEndian(key, 2)),
                             readBigEndian(it->value().ToStringView(), 8));
    }
    if (Status s = fromRocks(it->status(), "reading sequences"); !s.isOk()) return s;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->value().size() != 8) return Status::corruption("bad key index record");
    const auto id = readBigEndian(it->value().ToStringView(), 8);
    auto in = getIncident(id);
    if (!in) return in.error();
    if (!*in) return Status::corruption("key index points at missing incident " + std::to_string(id));
    engine.restore(std::move(**in));
  }
  return fromRocks(it->status(), "reading key index");
}

Result<std::optional<incidents::IncidentId>> Store::findActiveByKey(uint16_t partition, std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), keys_, partitionedKey(partition, key), &value);
  if (s.IsNotFound()) return std::optional<incidents::IncidentId>();
  if (!s.ok()) return fail(fromRocks(s, "reading key index"));
  if (value.size() != 8) return fail(Status::corruption("bad key index record"));
  return std::optional<incidents::IncidentId>(readBigEndian(value, 8));
}

Result<std::optional<std::string>> Store::getPosition(uint16_t partition, std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), positions_, partitionedKey(partition, key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return fail(fromRocks(s, "reading position"));
  return std::optional<std::string>(std::move(value));
}

uint64_t Store::intProperty(const std::string& name) const {
  uint64_t total = 0;
  for (auto* h : handles_) {
    uint64_t v = 0;
    if (db_->GetIntProperty(h, name, &v)) total += v;
  }
  return total;
}

std::vector<std::pair<std::string, uint64_t>> Store::intPropertyByColumnFamily(const std::string& name) const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (size_t i = 0; i < handles_.size(); ++i) {
    uint64_t v = 0;
    if (db_->GetIntProperty(handles_[i], name, &v)) out.emplace_back(kColumnFamilies[i], v);
  }
  return out;
}

uint64_t Store::dbIntProperty(const std::string& name) const {
  uint64_t v = 0;
  return db_->GetIntProperty(name, &v) ? v : 0;
}

WalSyncHistogram Store::walSyncs() const { return wal_syncs_->snapshot(); }

std::vector<std::pair<std::string, std::map<std::string, std::string>>> Store::mapPropertyByColumnFamily(
    const std::string& name) const {
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> out;
  for (size_t i = 0; i < handles_.size(); ++i) {
    std::map<std::string, std::string> values;
    if (db_->GetMapProperty(handles_[i], name, &values)) out.emplace_back(kColumnFamilies[i], std::move(values));
  }
  return out;
}

}  // namespace vigil::store
