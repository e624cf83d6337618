#include "daemon/verdicts/verdict_layout.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "daemon/binary_codec.h"
#include "daemon/store/store.h"
#include "daemon/verdicts/verdict.h"

namespace vigil::verdicts {

namespace {

constexpr size_t kRebuildBatchBytes = 4u << 20;
constexpr size_t kKeptCis = 16384;  // CiIndexBuilder's entries kept between chunks

// The step from one id to the next, signed (zig-zag): ids may come out of order.
void putDelta(std::string& out, uint64_t from, uint64_t to) {
  appendVarint(out, zigzagEncode(static_cast<int64_t>(to - from)));
}

}  // namespace

std::string chunkKey(uint64_t chunk_last_id) {
  std::string key = "e";
  appendBigEndian(key, chunk_last_id, 8);
  return key;
}

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

uint16_t ciBucket(std::string_view ci) {
  // splitmix64's finalizer: FNV-1a leaves its last byte's bits in a few places only (with the
  // hash's high half, CIs "host-0" … "host-4999" went into 8 of the 64 buckets).
  uint64_t z = fnv1a64(ci);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<uint16_t>((z ^ (z >> 31)) % kCiBuckets);
}

std::string ciBucketPrefix(uint16_t bucket) {
  return {'b', static_cast<char>(bucket >> 8), static_cast<char>(bucket & 0xff)};
}

std::string ciBucketKey(uint16_t bucket, uint64_t chunk_last_id) {
  std::string key = ciBucketPrefix(bucket);
  appendBigEndian(key, chunk_last_id, 8);
  return key;
}

std::string takeKeepingCapacity(std::string& s) {
  const size_t capacity = s.capacity();
  std::string taken = std::move(s);
  s.clear();  // moved from: valid, and empty again
  s.reserve(capacity);
  return taken;
}

void CiIndexBuilder::add(const std::string& ci, uint64_t event_id) {
  if (used_.empty()) base_id_ = event_id;
  auto entry = cis_.try_emplace(ci).first;
  Ids& ids = entry->second;
  const bool first_in_chunk = ids.chunk != chunk_;
  if (first_in_chunk) {
    ids.chunk = chunk_;
    ids.deltas.clear();
    used_.push_back(&*entry);
  }
  putDelta(ids.deltas, first_in_chunk ? base_id_ : ids.last, event_id);
  ids.last = event_id;
}

void CiIndexBuilder::flush(uint64_t chunk_last_id, std::vector<store::StateOp>& out) {
  if (used_.empty()) return;
  for (const auto* entry : used_) {
    const auto& [ci, ids] = *entry;
    std::string& record = records_[ciBucket(ci)];
    if (record.empty()) appendVarint(record, chunk_last_id - base_id_);
    appendVarint(record, ci.size());
    record += ci;
    appendVarint(record, ids.deltas.size());
    record += ids.deltas;
  }
  for (uint16_t bucket = 0; bucket < kCiBuckets; ++bucket) {
    std::string& record = records_[bucket];
    if (record.empty()) continue;
    out.push_back(store::StateOp::put(store::Column::kVerdicts, 0, ciBucketKey(bucket, chunk_last_id),
                                      takeKeepingCapacity(record)));
  }
  // Entries of CIs that stopped sending are dropped all at once when there are many of them
  // (about 100 bytes each).
  if (cis_.size() > std::max<size_t>(kKeptCis, 2 * used_.size())) cis_.clear();
  used_.clear();
  ++chunk_;
}

bool findCiIds(std::string_view record, uint64_t chunk_last_id, std::string_view ci, std::vector<uint64_t>& ids) {
  ids.clear();
  uint64_t base_offset = 0;
  if (!readVarint(record, base_offset) || base_offset > chunk_last_id) return false;
  while (!record.empty()) {
    uint64_t name_size = 0;
    if (!readVarint(record, name_size) || name_size > record.size()) return false;
    const std::string_view name = record.substr(0, name_size);
    record.remove_prefix(name_size);
    uint64_t ids_size = 0;
    if (!readVarint(record, ids_size) || ids_size > record.size()) return false;
    std::string_view deltas = record.substr(0, ids_size);
    record.remove_prefix(ids_size);
    if (name != ci) continue;
    uint64_t id = chunk_last_id - base_offset;
    for (uint64_t delta = 0; !deltas.empty();) {
      if (!readVarint(deltas, delta)) return false;
      id += static_cast<uint64_t>(zigzagDecode(delta));
      ids.push_back(id);
    }
    return true;
  }
  return true;
}

Status rebuildCiIndex(store::Store& store) {
  std::vector<store::StateOp> ops;
  size_t bytes = 0;
  Status written = Status::ok();
  auto write = [&] {
    written = store.write(ops);
    ops.clear();
    bytes = 0;
    return written.isOk();
  };
  auto queue = [&](store::StateOp op) {
    bytes += op.key.size() + (op.value ? op.value->size() : 0);
    ops.push_back(std::move(op));
    return bytes < kRebuildBatchBytes || write();
  };
  // First the bucket records of every chunk, then the old records go. Store::open marks the new
  // version after both, so a crash halfway converts again, from the chunks, which are all there.
  size_t chunks = 0;
  size_t unreadable = 0;
  CiIndexBuilder builder;
  std::vector<store::StateOp> records;
  Status s = store.scan(store::Column::kVerdicts, 0, "e", [&](std::string_view key, std::string_view value) {
    if (key.size() != 9) return true;
    ++chunks;
    const bool readable = forEachInChunk(value, [&](VerdictRecord& r) {
      if (!r.ci.empty()) builder.add(r.ci, r.event_id);
      return true;
    });
    if (!readable) ++unreadable;  // what could be read of it is indexed, as the old index had it
    records.clear();
    builder.flush(readBigEndian(key.substr(1), 8), records);
    for (auto& op : records) {
      if (!queue(std::move(op))) return false;
    }
    return true;
  });
  if (s.isOk() && written.isOk()) {
    s = store.scan(store::Column::kVerdicts, 0, "c", [&](std::string_view key, std::string_view) {
      return queue(store::StateOp::erase(store::Column::kVerdicts, 0, std::string(key)));
    });
  }
  if (s.isOk() && written.isOk()) write();
  if (!s.isOk()) return s;
  if (!written.isOk()) return written;
  spdlog::info("verdicts: the per-CI index of {} chunks rebuilt in {} buckets ({} chunks unreadable)", chunks,
               kCiBuckets, unreadable);
  return Status::ok();
}

}  // namespace vigil::verdicts
