// SlaClocks: the SLA clocks and escalations of active incidents, a correlator component.
// On open (and reopen) it stamps the due times from the policy's targets for the incident's
// priority; on its timer it records breaches (timeline, `sla` fields, vigil_sla_breaches_total)
// and applies the escalation steps that are due. All of its state lives on the incidents
// themselves (codec extension tags 16–17), so a restart re-derives every timer from the store.
// Thread-safety: a CorrelatorComponent; called on the correlator thread only, except
// setPolicy() (any thread), which hands a new policy over to the next tick.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "daemon/pipeline.h"
#include "daemon/sla/sla_policy.h"

namespace vigil::sla {

class SlaClocks final : public CorrelatorComponent {
 public:
  SlaClocks(SlaPolicy policy, prometheus::Registry& registry);

  // Config reload: from the next tick the policy's targets and escalation steps apply, and every
  // active incident's due times that have not breached yet follow them (the same path as a
  // priority change).
  void setPolicy(SlaPolicy policy);

  void onOpened(incidents::Incident& incident) override;
  void onTick(TimePoint now, incidents::IncidentEngine& engine) override;
  // A takeover brought incidents whose dues this instance has not seen: scan at the next tick.
  Status loadPartition(const store::Store& store, uint16_t partition) override;

  // Even with no deadline due, every active incident is looked at this often (its priority may
  // have changed, which moves its due times).
  static constexpr std::chrono::seconds kRescanInterval{5};

 private:
  // The earliest time something is due on `in` (TimePoint::max(): nothing pending).
  TimePoint nextDeadline(const incidents::Incident& in) const;
  // Records what is due at `now` on `in`.
  void advance(incidents::Incident& in, TimePoint now);
  void alignDues(incidents::Incident& in) const;
  bool escalationPending(const EscalationStep& step, const incidents::Incident& in) const;
  prometheus::Counter& escalationCounter(const std::string& step);

  SlaPolicy policy_;
  std::mutex incoming_mu_;
  std::optional<SlaPolicy> incoming_;  // GUARDED_BY(incoming_mu_)
  TimePoint now_{};  // the time of the current batch (onTick runs before its events)
  TimePoint next_check_ = TimePoint::min();
  TimePoint last_scan_{};
  prometheus::Family<prometheus::Counter>& breaches_family_;
  prometheus::Family<prometheus::Counter>& escalations_family_;
  std::array<std::array<prometheus::Counter*, 2>, 6> breaches_{};  // [priority][clock]
  std::unordered_map<std::string, prometheus::Counter*> escalations_;
};

}  // namespace vigil::sla
