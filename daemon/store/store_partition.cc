// Store: one partition's own state as raw records, for scale-out (the changelog topic, restore on
// assignment, dropping a partition that moved away). See docs/scale-out.md.
#include <set>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "daemon/store/store.h"

namespace vigil::store {

namespace {

// Indexes into the handles (kColumnFamilies in store.cc).
enum Family : uint8_t {
  kMeta = 0, kIncidents = 1, kKeys = 2, kPositions = 3, kCorrelation = 5, kMaintenance = 6, kOutbox = 8
};
// Outbox records of a partition: which revision of each incident a webhook receiver was sent
// ("wn/<receiver>/<id>"). The outbox itself is the instance's.
constexpr std::string_view kNotifiedPrefix = "wn/";
// Maintenance records of a partition: the keys held back by a window ("h" + u16 partition + key).
// Windows and their audit trail are the instance's (partition 0, other prefixes).
constexpr char kHeldKeyTag = 'h';
constexpr std::string_view kSequencePrefix = "next_sequence/";
// Source positions that belong to a partition's state; the rest (outputs, the changelog's own
// applied offset) are local to the instance.
constexpr std::string_view kOwnedPositionPrefix = "kafka/";
// The correlation component's instance-wide record (its event clock), kept under partition 0.
constexpr std::string_view kCorrelationClockKey = "clock";

uint16_t partitionOf(std::string_view key) {
  return static_cast<uint16_t>((static_cast<uint8_t>(key[0]) << 8) | static_cast<uint8_t>(key[1]));
}

std::string partitionPrefix(uint16_t partition) {
  std::string k;
  k.push_back(static_cast<char>(partition >> 8));
  k.push_back(static_cast<char>(partition & 0xff));
  return k;
}

// The partition a record of `family` belongs to, or none when it is instance-local state.
std::optional<uint16_t> ownedPartition(uint8_t family, std::string_view key) {
  switch (family) {
    case kMeta:
      if (key.size() == kSequencePrefix.size() + 2 && key.starts_with(kSequencePrefix)) {
        return partitionOf(key.substr(kSequencePrefix.size()));
      }
      return std::nullopt;
    case kIncidents:  // the u64 id carries the partition in its top 16 bits
    case kKeys:
      return key.size() >= 2 ? std::optional<uint16_t>(partitionOf(key)) : std::nullopt;
    case kPositions:
      if (key.size() >= 2 && key.substr(2).starts_with(kOwnedPositionPrefix)) return partitionOf(key);
      return std::nullopt;
    case kCorrelation:
      if (key.size() < 2 || (partitionOf(key) == 0 && key.substr(2) == kCorrelationClockKey)) return std::nullopt;
      return partitionOf(key);
    case kMaintenance:
      // Held keys are stored under the partition they belong to (the "h" record's own number).
      if (key.size() >= 5 && key[2] == kHeldKeyTag && key.substr(0, 2) == key.substr(3, 2)) return partitionOf(key);
      return std::nullopt;
    case kOutbox:
      if (key.size() >= 2 && key.substr(2).starts_with(kNotifiedPrefix)) return partitionOf(key);
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

Status fromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::corruption(std::move(msg));
  if (s.IsNoSpace() || s.IsIOError()) return Status::ioError(std::move(msg));
  return Status::internal(std::move(msg));
}

// Collects the partition-owned puts and deletes of a WriteBatch.
class RecordCollector final : public rocksdb::WriteBatch::Handler {
 public:
  RecordCollector(const std::vector<rocksdb::ColumnFamilyHandle*>& handles, std::vector<PartitionRecord>& out)
      : handles_(handles), out_(out) {}

  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    add(cf, key, value.ToString());
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    add(cf, key, std::nullopt);
    return rocksdb::Status::OK();
  }
  // Range deletes only trim the change log, which is local.
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }

 private:
  void add(uint32_t cf, const rocksdb::Slice& key, std::optional<std::string> value) {
    const auto family = familyOf(cf);
    if (!family) return;
    const auto partition = ownedPartition(*family, key.ToStringView());
    if (!partition) return;
    PartitionRecord record{*partition, std::string(1, static_cast<char>(*family)), std::move(value)};
    record.key.append(key.data(), key.size());
    out_.push_back(std::move(record));
  }
  std::optional<uint8_t> familyOf(uint32_t cf) const {
    for (size_t i = 0; i < handles_.size(); ++i) {
      if (handles_[i]->GetID() == cf) return static_cast<uint8_t>(i);
    }
    return std::nullopt;
  }

  const std::vector<rocksdb::ColumnFamilyHandle*>& handles_;
  std::vector<PartitionRecord>& out_;
};

}  // namespace

void Store::setPartitionObserver(PartitionObserver observer) { partition_observer_ = std::move(observer); }
void Store::setCommitObserver(std::function<void(uint64_t)> observer) { commit_observer_ = std::move(observer); }

void Store::notifyPartitionObserver(const rocksdb::WriteBatch& batch) const {
  std::vector<PartitionRecord> records;
  RecordCollector collector(handles_, records);
  if (!batch.Iterate(&collector).ok() || records.empty()) return;
  partition_observer_(std::move(records));
}

Status Store::applyPartitionRecords(const std::vector<PartitionRecord>& records, uint16_t partition,
                                    std::string_view position_key, std::string_view position_value) {
  rocksdb::WriteBatch batch;
  for (const auto& r : records) {
    if (r.key.size() < 2) return Status::corruption("changelog record without a key");
    const auto family = static_cast<uint8_t>(r.key[0]);
    const std::string_view key = std::string_view(r.key).substr(1);
    const auto owner = family < handles_.size() ? ownedPartition(family, key) : std::nullopt;
    if (!owner || *owner != partition) {
      return Status::corruption("changelog record of partition " + std::to_string(partition) +
                                " is not that partition's state");
    }
    if (r.value) {
      batch.Put(handles_[family], key, *r.value);
    } else {
      batch.Delete(handles_[family], key);
    }
  }
  batch.Put(positions_, partitionPrefix(partition) + std::string(position_key), position_value);
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return fromRocks(db_->Write(wo, &batch), "applying changelog records");
}

Status Store::dropPartition(uint16_t partition) {
  rocksdb::WriteBatch batch;
  const std::string prefix = partitionPrefix(partition);
  for (uint8_t family : {kIncidents, kKeys, kPositions, kCorrelation, kMaintenance, kOutbox}) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[family]));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (ownedPartition(family, it->key().ToStringView())) batch.Delete(handles_[family], it->key());
    }
    if (Status s = fromRocks(it->status(), "scanning a partition"); !s.isOk()) return s;
  }
  batch.Delete(meta_, std::string(kSequencePrefix) + prefix);
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return fromRocks(db_->Write(wo, &batch), "dropping a partition");
}

Result<std::vector<uint16_t>> Store::partitionsWithState() const {
  std::set<uint16_t> partitions;
  // Outbox records ("wn/") only exist for incidents, which are listed already.
  for (uint8_t family : {kIncidents, kKeys, kPositions, kCorrelation, kMaintenance}) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[family]));
    // One seek per partition: from a key of partition p straight to the first key of p + 1.
    for (it->SeekToFirst(); it->Valid();) {
      if (it->key().size() < 2) {
        it->Next();
        continue;
      }
      const uint16_t partition = partitionOf(it->key().ToStringView());
      if (ownedPartition(family, it->key().ToStringView())) {
        partitions.insert(partition);
      } else {
        it->Next();  // instance-local records share the prefix: look further in this partition
        continue;
      }
      if (partition == 0xffff) break;
      it->Seek(partitionPrefix(static_cast<uint16_t>(partition + 1)));
    }
    if (Status s = fromRocks(it->status(), "listing partitions"); !s.isOk()) return fail(s);
  }
  return std::vector<uint16_t>(partitions.begin(), partitions.end());
}

Status Store::restorePartitionInto(incidents::IncidentEngine& engine, uint16_t partition) const {
  const std::string prefix = partitionPrefix(partition);
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, std::string(kSequencePrefix) + prefix, &value);
  if (s.ok() && value.size() == 8) {
    uint64_t next = 0;
    for (char c : value) next = (next << 8) | static_cast<uint8_t>(c);
    engine.setNextSequence(partition, next);
  } else if (!s.ok() && !s.IsNotFound()) {
    return fromRocks(s, "reading a sequence");
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->value().size() != 8) return Status::corruption("bad key index record");
    uint64_t id = 0;
    for (char c : it->value().ToStringView()) id = (id << 8) | static_cast<uint8_t>(c);
    auto in = getIncident(id);
    if (!in) return in.error();
    if (!*in) return Status::corruption("key index points at missing incident " + std::to_string(id));
    engine.restore(std::move(**in));
  }
  return fromRocks(it->status(), "reading key index");
}

}  // namespace vigil::store
