// ShadowRules: a candidate rule set evaluated beside the live one on live traffic, on the
// correlator thread, with its own in-memory IncidentEngine. It writes nothing to the store and
// changes nothing live; it reports how its decisions and incidents would differ, so a rule change
// can be judged on real events before it is switched on.
//   GET  /api/v1/rules/shadow   report()
//   POST /api/v1/rules/shadow   setCandidate() (admin); config `rules.shadow.files` at start
// Metrics: vigil_rules_shadow_events_total{decision="same|different"},
//          vigil_rules_shadow_incidents_total{opened_by="candidate_only|live_only"}.
// Thread-safety: setCandidate()/clear()/report() from any thread; the EventHook calls come
// from the correlator thread, which alone owns the shadow engine.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json_fwd.hpp>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "daemon/incidents/incident_engine.h"
#include "daemon/pipeline.h"
#include "rules/rule_set.h"

namespace vigil {

class ShadowRules final : public EventHook {
 public:
  static constexpr size_t kMaxSamples = 20;  // per list, newest kept

  explicit ShadowRules(prometheus::Registry& registry);

  // Starts comparing `candidate` (replacing any previous one; counts and samples start over).
  // `origin` says where it came from ("config", "api:<actor>"), for the report.
  void setCandidate(std::shared_ptr<const rules::RuleSet> candidate, std::string origin);
  void clear();
  bool active() const;

  // {"active", "origin", "candidate": {version, rules}, "since", "events", "decisions_differ",
  //  "opened": {"live", "candidate"}, "candidate_only": {count, samples[]},
  //  "live_only": {count, samples[]}, "different_decisions": samples[]}
  void report(nlohmann::json& out) const;

  // EventHook
  void beforeRules(const Event& event, const cmdb::ConfigurationItem* ci) override;
  void afterIncidentStep(const Event& event, const rules::RuleSet& rules, const rules::Decision& decision,
                         incidents::ApplyOutcome outcome) override;

 private:
  ShadowRules(prometheus::Family<prometheus::Counter>& events, prometheus::Family<prometheus::Counter>& incidents);

  struct Sample {
    std::string time;
    std::string host;
    std::string message;
    std::string live;       // "open sw1/link/Gi0/1 (rule cisco-link-down)"
    std::string candidate;
  };
  void push(std::deque<Sample>& list, Sample sample);
  static std::string describe(const rules::Decision& d, incidents::ApplyOutcome outcome);

  prometheus::Counter& same_;
  prometheus::Counter& different_;
  prometheus::Counter& candidate_only_;
  prometheus::Counter& live_only_;

  mutable std::mutex mu_;
  std::shared_ptr<const rules::RuleSet> candidate_;  // GUARDED_BY(mu_)
  std::string origin_;                               // GUARDED_BY(mu_)
  std::string since_;                                // GUARDED_BY(mu_)
  std::atomic<uint64_t> generation_{0};              // bumped under mu_ by set/clear
  std::deque<Sample> candidate_only_samples_;        // GUARDED_BY(mu_)
  std::deque<Sample> live_only_samples_;             // GUARDED_BY(mu_)
  std::deque<Sample> different_samples_;             // GUARDED_BY(mu_)
  std::atomic<uint64_t> events_{0}, differ_{0}, live_opened_{0}, candidate_opened_{0}, candidate_only_count_{0},
      live_only_count_{0};

  // Correlator-thread state.
  uint64_t seen_generation_ = 0;
  std::shared_ptr<const rules::RuleSet> running_;
  std::unique_ptr<incidents::IncidentEngine> engine_;
  incidents::ChangeSet changes_;
  Event event_;
  rules::Decision decision_;
  incidents::ApplyOutcome outcome_ = incidents::ApplyOutcome::kIgnored;
  incidents::OpenContext context_;
  bool evaluated_ = false;
};

}  // namespace vigil
