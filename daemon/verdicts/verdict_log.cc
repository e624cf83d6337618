#include "daemon/verdicts/verdict_log.h"

#include <algorithm>
#include <deque>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "daemon/time_util.h"

namespace vigil::verdicts {

namespace {

void putU64(std::string& out, uint64_t v) {
  char bytes[8];  // one append: a batch writes one "c" key per CI it saw
  for (int i = 7; i >= 0; --i, v >>= 8) bytes[i] = static_cast<char>(v);
  out.append(bytes, sizeof bytes);
}

uint64_t readU64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < in.size(); ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

std::string eventKey(uint64_t event_id) {
  std::string key = "e";
  putU64(key, event_id);
  return key;
}

std::string ciKey(std::string_view ci, TimePoint at, uint64_t chunk_last_id) {
  std::string key;
  key.reserve(18 + ci.size());
  key.push_back('c');
  key += ci;
  key.push_back('\0');
  putU64(key, static_cast<uint64_t>(toUnixMillis(at)));
  putU64(key, chunk_last_id);
  return key;
}

void putVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// The ids of a "c" value; false when unreadable.
bool readIds(std::string_view in, std::vector<uint64_t>& ids) {
  ids.clear();
  uint64_t v = 0;
  int shift = 0;
  for (const char c : in) {
    if (shift > 63) return false;
    v |= static_cast<uint64_t>(static_cast<uint8_t>(c) & 0x7f) << shift;
    shift += 7;
    if ((static_cast<uint8_t>(c) & 0x80) == 0) {
      ids.push_back(v);
      v = 0;
      shift = 0;
    }
  }
  return shift == 0;
}

}  // namespace

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
  suppressed_[static_cast<size_t>(verdict.reason)]->Increment();
  if (chunk_.empty()) chunk_at_ = now_;
  appendToChunk({.event_id = current_id_,
                 .at = now_,
                 .event_time = event.time(),
                 .ci = event.ci,
                 .host = event.host,
                 .verdict = verdict},
                chunk_);
  chunk_last_id_ = std::max(chunk_last_id_, current_id_);
  if (!event.ci.empty()) {
    putVarint(chunk_cis_.try_emplace(event.ci).first->second, current_id_);
  }
}

Status VerdictLog::restore(const store::Store& store) {
  store_ = &store;
  now_ = clock_();
  last_trim_ = now_;
  auto next = store.get(store::Column::kVerdicts, 0, "n");
  if (!next) return next.error();
  if (*next) {
    persisted_next_id_ = readU64(**next);
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
  std::vector<std::string> cis;
  std::unordered_set<std::string> seen_cis;
  Status s = store_->scan(store::Column::kVerdicts, 0, "e", [&](std::string_view key, std::string_view value) {
    if (budget == 0 || key.size() != 9) return false;
    const uint64_t last_id = readU64(key.substr(1));
    if (last_id == young_front_last_id_ && young_front_newest_ >= cutoff && last_id >= keep_from) return false;
    TimePoint newest{};
    TimePoint at{};
    cis.clear();
    seen_cis.clear();
    size_t records = 0;
    const bool readable = forEachInChunk(value, [&](VerdictRecord& r) {
      if (records++ == 0) at = r.at;
      newest = std::max(newest, r.at);
      if (!r.ci.empty() && seen_cis.insert(r.ci).second) cis.push_back(r.ci);
      return true;
    });
    if (readable && newest >= cutoff && last_id >= keep_from) {  // the rest is younger
      young_front_last_id_ = last_id;
      young_front_newest_ = newest;
      return false;
    }
    pending_.push_back(store::StateOp::erase(store::Column::kVerdicts, 0, std::string(key)));
    for (const auto& ci : cis) pending_.push_back(store::StateOp::erase(store::Column::kVerdicts, 0, ciKey(ci, at, last_id)));
    budget -= std::min(budget, std::max<size_t>(records, 1));
    return true;
  });
  if (!s.isOk()) spdlog::warn("verdicts: trimming: {}", s.toString());
}

void VerdictLog::collectStateOps(std::vector<store::StateOp>& out) {
  for (auto& op : pending_) out.push_back(std::move(op));
  pending_.clear();
  if (!chunk_.empty()) {
    for (auto& [ci, ids] : chunk_cis_) {
      out.push_back(store::StateOp::put(store::Column::kVerdicts, 0, ciKey(ci, chunk_at_, chunk_last_id_), std::move(ids)));
    }
    out.push_back(store::StateOp::put(store::Column::kVerdicts, 0, eventKey(chunk_last_id_), std::move(chunk_)));
    chunk_.clear();
    chunk_cis_.clear();
    chunk_last_id_ = 0;
  }
  const uint64_t next = next_id_.load(std::memory_order_relaxed);
  if (next == persisted_next_id_) return;
  // Ids reserved by an intake whose batch is not committed yet are skipped after a crash: gaps,
  // never reuse.
  persisted_next_id_ = next;
  std::string value;
  putU64(value, next);
  out.push_back(store::StateOp::put(store::Column::kVerdicts, 0, "n", std::move(value)));
}

Result<std::optional<VerdictRecord>> VerdictLog::byEvent(const store::Store& store, uint64_t event_id) {
  std::optional<VerdictRecord> found;
  bool readable = true;
  // The event's chunk is the first one whose last id is at or after it.
  Status s = store.scanFrom(store::Column::kVerdicts, 0, "e", eventKey(event_id), [&](std::string_view, std::string_view value) {
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
  // The "c" keys come oldest first; keep the newest chunks that hold `limit` events, then read
  // those events from their chunks.
  std::string prefix = "c";
  prefix += ci;
  prefix.push_back('\0');
  struct ChunkIds {
    uint64_t last_id;
    std::vector<uint64_t> ids;
  };
  std::deque<ChunkIds> chunks;
  size_t held = 0;
  Status s = store.scan(store::Column::kVerdicts, 0, prefix, [&](std::string_view key, std::string_view value) {
    ChunkIds c{readU64(key.substr(key.size() - 8)), {}};
    if (!readIds(value, c.ids)) return true;
    held += c.ids.size();
    chunks.push_back(std::move(c));
    while (held - chunks.front().ids.size() >= limit) {
      held -= chunks.front().ids.size();
      chunks.pop_front();
    }
    return true;
  });
  if (!s.isOk()) return fail(s);
  std::vector<VerdictRecord> newest;
  for (auto c = chunks.rbegin(); c != chunks.rend() && newest.size() < limit; ++c) {
    auto value = store.get(store::Column::kVerdicts, 0, eventKey(c->last_id));
    if (!value) return fail(value.error());
    if (!*value) continue;  // trimmed meanwhile
    std::vector<VerdictRecord> in_chunk;
    forEachInChunk(**value, [&](VerdictRecord& r) {
      if (std::find(c->ids.begin(), c->ids.end(), r.event_id) != c->ids.end()) in_chunk.push_back(std::move(r));
      return true;
    });
    for (auto r = in_chunk.rbegin(); r != in_chunk.rend() && newest.size() < limit; ++r) newest.push_back(std::move(*r));
  }
  return newest;
}

}  // namespace vigil::verdicts
