// VerdictLog: hands out event ids (1, 2, 3 …, continuing after a restart) and keeps, for a
// retention period, the verdict of every event that opened nothing (verdict.h) — "why was or
// wasn't this raised".
//
// Store layout: verdict_layout.h. One put per batch for its records, plus at most kCiBuckets for
// its per-CI index, not one per event: verdicts are kept for every event, and most events open
// nothing. Ids grow with intake, so "e" keys are in intake order; an event's chunk is the first
// "e" key at or after its id, and retention trims from the front.
// Thread-safety: the hook and component methods run on the correlator thread; reserve() and the
// static readers may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "daemon/event_hook.h"
#include "daemon/pipeline.h"
#include "daemon/store/store.h"
#include "daemon/verdicts/verdict.h"
#include "daemon/verdicts/verdict_layout.h"

namespace vigil::verdicts {

class VerdictLog final : public EventHook, public CorrelatorComponent, public EventIdSource {
 public:
  VerdictLog(VerdictOptions options, std::function<TimePoint()> clock, prometheus::Registry& registry);

  // EventIdSource (any thread)
  uint64_t reserve(size_t count) override;

  // EventHook
  void onIntake(const Event& event, uint64_t id) override;
  void onVerdict(const Event& event, const Verdict& verdict) override;
  // CorrelatorComponent
  Status restore(const store::Store& store) override;
  void onTick(TimePoint now, incidents::IncidentEngine& engine) override;
  void collectStateOps(std::vector<store::StateOp>& out) override;

  // Readers over committed state (any thread).
  static Result<std::optional<VerdictRecord>> byEvent(const store::Store& store, uint64_t event_id);
  // Newest first, at most `limit`.
  static Result<std::vector<VerdictRecord>> byCi(const store::Store& store, std::string_view ci, size_t limit);

 private:
  void trim(TimePoint now);

  const VerdictOptions options_;
  std::function<TimePoint()> clock_;
  const store::Store* store_ = nullptr;
  std::array<prometheus::Counter*, kReasonCount> suppressed_{};
  std::atomic<uint64_t> next_id_{1};
  // Correlator-thread state.
  uint64_t persisted_next_id_ = 0;
  uint64_t current_id_ = 0;  // of the event being processed
  std::array<uint64_t, kReasonCount> suppressed_in_batch_{};  // added to suppressed_ per batch
  std::vector<store::StateOp> pending_;
  // The batch's chunk and its per-CI index, flushed by collectStateOps.
  std::string chunk_;
  uint64_t chunk_last_id_ = 0;
  CiIndexBuilder chunk_cis_;
  TimePoint now_{};
  TimePoint last_trim_{};
  // The oldest chunk as the last trim found it (too young to go) and its newest record's time:
  // while it stays young the next trims need not read it again. 0 = none.
  uint64_t young_front_last_id_ = 0;
  TimePoint young_front_newest_{};
};

}  // namespace vigil::verdicts
