#include "daemon/incidents/active_by_ci.h"

#include <algorithm>

namespace vigil::incidents {

void ActiveSeverityByCi::rebuild(const IncidentEngine& engine) {
  clear();
  engine.forEachActive([this](const Incident& in) { add(in); });
  counted_at_ = engine.unrecordedChanges();
}

void ActiveSeverityByCi::update(const IncidentEngine& engine, const ChangeSet& changes) {
  if (counted_at_ != engine.unrecordedChanges()) {
    rebuild(engine);
  } else {
    apply(changes);
  }
}

void ActiveSeverityByCi::clear() {
  counted_at_.reset();
  if (counted_.empty() && by_ci_.empty()) return;  // a clear() still zeroes every bucket: not per batch
  counted_.clear();
  by_ci_.clear();
}

void ActiveSeverityByCi::apply(const ChangeSet& changes) {
  for (const auto& changed : changes.incidents) {
    const Incident& in = *changed;
    // Most changes only count an event: an incident counted as it is stays as it is.
    const auto it = counted_.find(in.id);
    if (it != counted_.end() && in.isActive() && it->second.severity == in.severity && it->second.ci == in.ci) continue;
    remove(in.id);
    if (in.isActive()) add(in);
  }
}

std::optional<Severity> ActiveSeverityByCi::worst(const std::string& ci) const {
  const auto it = by_ci_.find(ci);
  if (it == by_ci_.end()) return std::nullopt;
  for (size_t s = 0; s < kSeverities; ++s) {  // Severity orders worst first
    if (it->second[s] > 0) return static_cast<Severity>(s);
  }
  return std::nullopt;
}

void ActiveSeverityByCi::add(const Incident& in) {
  if (in.ci.empty()) return;
  ++by_ci_[in.ci][static_cast<size_t>(in.severity)];
  counted_.emplace(in.id, Counted{in.ci, in.severity});
}

void ActiveSeverityByCi::remove(IncidentId id) {
  const auto it = counted_.find(id);
  if (it == counted_.end()) return;
  const auto ci = by_ci_.find(it->second.ci);
  if (--ci->second[static_cast<size_t>(it->second.severity)] == 0 &&
      std::all_of(ci->second.begin(), ci->second.end(), [](uint32_t n) { return n == 0; })) {
    by_ci_.erase(ci);
  }
  counted_.erase(it);
}

}  // namespace vigil::incidents
