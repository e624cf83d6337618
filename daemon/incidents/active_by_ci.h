#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "daemon/incidents/incident_engine.h"

namespace vigil::incidents {

// The worst severity among the active incidents of each CI, for service health. Kept in step
// from each batch's changed incidents, in time proportional to the batch: recounting every
// active incident after each batch costs as much as the open incidents (100 000 string hashes).
class ActiveSeverityByCi {
 public:
  // Counts every active incident of `engine` anew.
  void rebuild(const IncidentEngine& engine);
  // Takes a batch: `changes.incidents` holds every incident changed since the last call, in its
  // final state (IncidentEngine::takeChanges).
  void apply(const ChangeSet& changes);
  // apply(), or rebuild() when the engine changed without a change record since the last full
  // count (restore, dropPartition: IncidentEngine::unrecordedChanges()).
  void update(const IncidentEngine& engine, const ChangeSet& changes);
  // Forgets everything (nothing reads it); the next update() counts in full.
  void clear();

  std::optional<Severity> worst(const std::string& ci) const;
  size_t cis() const { return by_ci_.size(); }

 private:
  static constexpr size_t kSeverities = static_cast<size_t>(Severity::kInfo) + 1;
  struct Counted {
    std::string ci;
    Severity severity;
  };
  void add(const Incident& in);
  void remove(IncidentId id);

  std::unordered_map<IncidentId, Counted> counted_;  // the active incidents with a CI
  std::unordered_map<std::string, std::array<uint32_t, kSeverities>> by_ci_;  // CI → count per severity
  std::optional<uint64_t> counted_at_;  // the engine's unrecordedChanges() when counted in full
};

}  // namespace vigil::incidents
