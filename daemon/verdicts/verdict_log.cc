#include "daemon/verdicts/verdict_log.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "daemon/time_util.h"

namespace vigil::verdicts {

namespace {

void putU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
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

std::string ciKey(const VerdictRecord& r) {
  std::string key = "c";
  key += r.ci;
  key.push_back('\0');
  putU64(key, static_cast<uint64_t>(toUnixMillis(r.at)));
  putU64(key, r.event_id);
  return key;
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
  VerdictRecord record{.event_id = current_id_, .at = now_, .event_time = event.time(), .ci = event.ci,
                       .host = event.host, .verdict = verdict};
  encode(record, scratch_);
  if (!record.ci.empty()) pending_.push_back(store::StateOp::put(store::Column::kVerdicts, 0, ciKey(record), scratch_));
  pending_.push_back(store::StateOp::put(store::Column::kVerdicts, 0, eventKey(record.event_id), scratch_));
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
  size_t budget = options_.trim_per_tick;
  VerdictRecord record;
  Status s = store_->scan(store::Column::kVerdicts, 0, "e", [&](std::string_view key, std::string_view value) {
    if (budget == 0 || key.size() != 9) return false;
    const uint64_t id = readU64(key.substr(1));
    const bool readable = decode(value, record);
    if (readable && record.at >= cutoff && id >= keep_from) return false;  // the rest is younger
    pending_.push_back(store::StateOp::erase(store::Column::kVerdicts, 0, std::string(key)));
    if (readable && !record.ci.empty()) pending_.push_back(store::StateOp::erase(store::Column::kVerdicts, 0, ciKey(record)));
    --budget;
    return true;
  });
  if (!s.isOk()) spdlog::warn("verdicts: trimming: {}", s.toString());
}

void VerdictLog::collectStateOps(std::vector<store::StateOp>& out) {
  for (auto& op : pending_) out.push_back(std::move(op));
  pending_.clear();
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
  auto value = store.get(store::Column::kVerdicts, 0, eventKey(event_id));
  if (!value) return fail(value.error());
  if (!*value) return std::optional<VerdictRecord>();
  VerdictRecord record;
  if (!decode(**value, record)) return fail(Status::internal("verdict of event " + std::to_string(event_id) + ": bad record"));
  return std::optional<VerdictRecord>(std::move(record));
}

Result<std::vector<VerdictRecord>> VerdictLog::byCi(const store::Store& store, std::string_view ci, size_t limit) {
  // The scan goes in key order (oldest first); keep the newest `limit`.
  std::string prefix = "c";
  prefix += ci;
  prefix.push_back('\0');
  std::vector<VerdictRecord> records;
  size_t start = 0;
  VerdictRecord record;
  Status s = store.scan(store::Column::kVerdicts, 0, prefix, [&](std::string_view, std::string_view value) {
    if (!decode(value, record)) return true;
    records.push_back(record);
    if (records.size() >= 2 * limit + 1024) {  // bounded memory: drop the oldest in chunks
      records.erase(records.begin(), records.end() - static_cast<ptrdiff_t>(limit));
    }
    return true;
  });
  if (!s.isOk()) return fail(s);
  if (records.size() > limit) start = records.size() - limit;
  std::vector<VerdictRecord> newest(std::make_move_iterator(records.begin() + static_cast<ptrdiff_t>(start)),
                                    std::make_move_iterator(records.end()));
  std::reverse(newest.begin(), newest.end());
  return newest;
}

}  // namespace vigil::verdicts
