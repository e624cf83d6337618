#include "daemon/verdicts/verdict_layout.h"

#include <algorithm>
#include <array>

#include <spdlog/spdlog.h>

#include "daemon/binary_codec.h"
#include "daemon/store/store.h"
#include "daemon/verdicts/verdict.h"

namespace vigil::verdicts {

namespace {

constexpr size_t kRebuildBatchBytes = 4u << 20;

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

namespace {

uint16_t bucketOfHash(uint64_t z) {
  // splitmix64's finalizer: FNV-1a leaves its last byte's bits in a few places only (with the
  // hash's high half, CIs "host-0" … "host-4999" went into 8 of the 64 buckets).
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<uint16_t>((z ^ (z >> 31)) % kCiBuckets);
}

}  // namespace

uint16_t ciBucket(std::string_view ci) { return bucketOfHash(fnv1a64(ci)); }

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

void CiIndexBuilder::add(std::string_view ci, uint64_t event_id) {
  pairs_.push_back({fnv1a64(ci), event_id, static_cast<uint32_t>(names_.size()), static_cast<uint32_t>(ci.size())});
  names_ += ci;
}

void CiIndexBuilder::flush(uint64_t chunk_last_id, std::vector<store::StateOp>& out) {
  if (pairs_.empty()) return;
  const uint64_t base_id = pairs_.front().event_id;
  // A counting sort by bucket (stable: each CI's ids stay in the order added) ...
  std::array<uint32_t, kCiBuckets + 1> starts{};
  for (const Pair& p : pairs_) ++starts[bucketOfHash(p.hash) + 1];
  for (size_t b = 1; b <= kCiBuckets; ++b) starts[b] += starts[b - 1];
  by_bucket_.resize(pairs_.size());
  std::array<uint32_t, kCiBuckets> next{};
  std::copy(starts.begin(), starts.end() - 1, next.begin());
  for (const Pair& p : pairs_) by_bucket_[next[bucketOfHash(p.hash)]++] = p;
  auto name = [&](const Pair& p) { return std::string_view(names_).substr(p.name_offset, p.name_size); };
  for (uint16_t bucket = 0; bucket < kCiBuckets; ++bucket) {
    const auto first = by_bucket_.begin() + starts[bucket], last = by_bucket_.begin() + starts[bucket + 1];
    if (first == last) continue;
    // ... then, within the bucket, by CI and in the order added (the names' offsets): a few
    // hundred pairs at most in a full batch.
    std::sort(first, last, [&](const Pair& a, const Pair& b) {
      if (a.hash != b.hash) return a.hash < b.hash;
      const int by_name = name(a).compare(name(b));
      return by_name != 0 ? by_name < 0 : a.name_offset < b.name_offset;
    });
    appendVarint(record_, chunk_last_id - base_id);
    for (auto it = first; it != last;) {
      const Pair& group = *it;
      const std::string_view ci = name(group);
      deltas_.clear();
      uint64_t previous = base_id;
      for (; it != last && it->hash == group.hash && name(*it) == ci; ++it) {
        putDelta(deltas_, previous, it->event_id);
        previous = it->event_id;
      }
      appendVarint(record_, ci.size());
      record_ += ci;
      appendVarint(record_, deltas_.size());
      record_ += deltas_;
    }
    out.push_back(store::StateOp::put(store::Column::kVerdicts, 0, ciBucketKey(bucket, chunk_last_id),
                                      takeKeepingCapacity(record_)));
  }
  pairs_.clear();
  names_.clear();
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
