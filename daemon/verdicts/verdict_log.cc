#include "daemon/verdicts/verdict_log.h"

#include <algorithm>
#include <bitset>

#include <spdlog/spdlog.h>

namespace vigil::verdicts {

VerdictLog::VerdictLog(VerdictOptions options, std::function<TimePoint()> clock, prometheus::Registry& registry)
    : options_(options), clock_(std::move(clock)) {
  auto& family = prometheus::BuildCounter()
                     .Name("vigil_events_suppressed_total")
                     .Help("Events that opened no incident of their own, by the verdict that says why")
                     .Register(registry);
  for (size_t i = 0; i < kReasonCount; ++i) {
    if (static_cast<Reason>(i) == Reason::kOpened) continue;
    suppressed_[i] = &family.Add({{"reason", std::string(reasonName(static_cast<Reason>(i)))}});
  }
}

uint64_t VerdictLog::reserve(size_t count) { return next_id_.fetch_add(count, std::memory_order_relaxed); }

void VerdictLog::onIntake(const Event& /*event*/, uint64_t id) { current_id_ = id; }

void VerdictLog::onVerdict(const Event& event, const Verdict& verdict) {
  if (verdict.reason == Reason::kOpened || current_id_ == 0) return;
  ++suppressed_in_batch_[static_cast<size_t>(verdict.reason)];  // a Counter update is atomic: per batch
  appendToChunk({.event_id = current_id_,
                 .at = now_,
                 .event_time = event.time(),
                 .ci = event.ci,
                 .host = event.host,
                 .verdict = verdict},
                chunk_);
  chunk_last_id_ = std::max(chunk_last_id_, current_id_);
  if (!event.ci.empty()) chunk_cis_.add(event.ci, current_id_);
}

Status VerdictLog::restore(const store::Store& store) {
  store_ = &store;
  now_ = clock_();
  last_trim_ = now_;
  auto next = store.get(store::Column::kVerdicts, 0, "n");
  if (!next) return next.error();
  if (*next) {
    persisted_next_id_ = readBigEndian(**next, 8);
    next_id_ = std::max<uint64_t>(1, persisted_next_id_);
  }
  return Status::ok();
}

void VerdictLog::onTick(TimePoint now, incidents::IncidentEngine& /*engine*/) {
  now_ = now;
  // Trim about once a second; each round deletes a bounded number of records.
  if (store_ == nullptr || now - last_trim_ < std::chrono::seconds(1)) return;
  last_trim_ = now;
  trim(now);
}

void VerdictLog::trim(TimePoint now) {
  const uint64_t next = next_id_.load(std::memory_order_relaxed);
  const uint64_t keep_from = next > options_.max_records ? next - options_.max_records : 0;
  const TimePoint cutoff = now - options_.retention;
  size_t budget = options_.trim_per_tick;  // records, so a chunk counts by its size
  std::bitset<kCiBuckets> buckets;
  Status s = store_->scan(store::Column::kVerdicts, 0, "e", [&](std::string_view key, std::string_view value) {
    if (budget == 0 || key.size() != 9) return false;
    const uint64_t last_id = readBigEndian(key.substr(1), 8);
    if (last_id == young_front_last_id_ && young_front_newest_ >= cutoff && last_id >= keep_from) return false;
    TimePoint newest{};
    buckets.reset();
    size_t records = 0;
    const bool readable = forEachInChunk(value, [&](VerdictRecord& r) {
      ++records;
      newest = std::max(newest, r.at);
      if (!r.ci.empty()) buckets.set(ciBucket(r.ci));
      return true;
    });
    if (readable && newest >= cutoff && last_id >= keep_from) {  // the rest is younger
      young_front_last_id_ = last_id;
      young_front_newest_ = newest;
      return false;
    }
    pending_.push_back(store::StateOp::erase(store::Column::kVerdicts, 0, std::string(key)));
    for (uint16_t bucket = 0; bucket < kCiBuckets; ++bucket) {
      if (buckets.test(bucket)) {
        pending_.push_back(store::StateOp::erase(store::Column::kVerdicts, 0, ciBucketKey(bucket, last_id)));
      }
    }
    budget -= std::min(budget, std::max<size_t>(records, 1));
    return true;
  });
  if (!s.isOk()) spdlog::warn("verdicts: trimming: {}", s.toString());
}

void VerdictLog::collectStateOps(std::vector<store::StateOp>& out) {
  for (size_t i = 0; i < kReasonCount; ++i) {
    if (suppressed_in_batch_[i] != 0) suppressed_[i]->Increment(static_cast<double>(suppressed_in_batch_[i]));
  }
  suppressed_in_batch_.fill(0);
  for (auto& op : pending_) out.push_back(std::move(op));
  pending_.clear();
  if (!chunk_.empty()) {
    chunk_cis_.flush(chunk_last_id_, out);
    out.push_back(store::StateOp::put(store::Column::kVerdicts, 0, chunkKey(chunk_last_id_), takeKeepingCapacity(chunk_)));
    chunk_last_id_ = 0;
  }
  const uint64_t next = next_id_.load(std::memory_order_relaxed);
  if (next == persisted_next_id_) return;
  // Ids reserved by an intake whose batch is not committed yet are skipped after a crash: gaps,
  // never reuse.
  persisted_next_id_ = next;
  std::string value;
  appendBigEndian(value, next, 8);
  out.push_back(store::StateOp::put(store::Column::kVerdicts, 0, "n", std::move(value)));
}

Result<std::optional<VerdictRecord>> VerdictLog::byEvent(const store::Store& store, uint64_t event_id) {
  std::optional<VerdictRecord> found;
  bool readable = true;
  // The event's chunk is the first one whose last id is at or after it.
  Status s = store.scanFrom(store::Column::kVerdicts, 0, "e", chunkKey(event_id), [&](std::string_view, std::string_view value) {
    readable = forEachInChunk(value, [&](VerdictRecord& r) {
      if (r.event_id == event_id) found = std::move(r);
      return !found && r.event_id < event_id;
    });
    return false;
  });
  if (!s.isOk()) return fail(s);
  if (!readable) return fail(Status::internal("verdict of event " + std::to_string(event_id) + ": bad record"));
  return found;
}

Result<std::vector<VerdictRecord>> VerdictLog::byCi(const store::Store& store, std::string_view ci, size_t limit) {
  // The CI's bucket records newest first; each names the chunk that holds the CI's events.
  std::vector<VerdictRecord> newest;
  std::vector<uint64_t> ids;
  std::vector<VerdictRecord> in_chunk;
  Status read = Status::ok();
  Status s = store.scanBackward(store::Column::kVerdicts, 0, ciBucketPrefix(ciBucket(ci)),
                                [&](std::string_view key, std::string_view record) {
    if (newest.size() >= limit) return false;
    if (key.size() != 11) return true;
    const uint64_t chunk_last_id = readBigEndian(key.substr(3), 8);
    if (!findCiIds(record, chunk_last_id, ci, ids) || ids.empty()) return true;
    std::sort(ids.begin(), ids.end());
    auto chunk = store.get(store::Column::kVerdicts, 0, chunkKey(chunk_last_id));
    if (!chunk) {
      read = chunk.error();
      return false;
    }
    if (!*chunk) return true;  // trimmed meanwhile
    in_chunk.clear();
    forEachInChunk(**chunk, [&](VerdictRecord& r) {
      if (std::binary_search(ids.begin(), ids.end(), r.event_id)) in_chunk.push_back(std::move(r));
      return in_chunk.size() < ids.size();
    });
    for (auto r = in_chunk.rbegin(); r != in_chunk.rend() && newest.size() < limit; ++r) newest.push_back(std::move(*r));
    return newest.size() < limit;
  });
  if (!s.isOk()) return fail(s);
  if (!read.isOk()) return fail(read);
  return newest;
}

}  // namespace vigil::verdicts
