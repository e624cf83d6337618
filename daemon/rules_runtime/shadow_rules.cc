#include "daemon/rules_runtime/shadow_rules.h"

#include <nlohmann/json.hpp>

#include "daemon/time_util.h"

namespace vigil {

namespace {

bool opened(incidents::ApplyOutcome o) {
  return o == incidents::ApplyOutcome::kOpened || o == incidents::ApplyOutcome::kSymptom;
}

constexpr size_t kMaxSampleMessage = 200;

}  // namespace

ShadowRules::ShadowRules(prometheus::Registry& registry)
    : ShadowRules(prometheus::BuildCounter()
                      .Name("vigil_rules_shadow_events_total")
                      .Help("Events the shadow (candidate) rules saw, by whether their decision equals the live one")
                      .Register(registry),
                  prometheus::BuildCounter()
                      .Name("vigil_rules_shadow_incidents_total")
                      .Help("Incidents opened by only one of the shadow (candidate) and live rule sets")
                      .Register(registry)) {}

ShadowRules::ShadowRules(prometheus::Family<prometheus::Counter>& events,
                         prometheus::Family<prometheus::Counter>& incidents)
    : same_(events.Add({{"decision", "same"}})),
      different_(events.Add({{"decision", "different"}})),
      candidate_only_(incidents.Add({{"opened_by", "candidate_only"}})),
      live_only_(incidents.Add({{"opened_by", "live_only"}})) {}

void ShadowRules::setCandidate(std::shared_ptr<const rules::RuleSet> candidate, std::string origin) {
  std::lock_guard lock(mu_);
  candidate_ = std::move(candidate);
  origin_ = std::move(origin);
  since_ = formatRfc3339(Clock::now());
  generation_.fetch_add(1, std::memory_order_release);
  candidate_only_samples_.clear();
  live_only_samples_.clear();
  different_samples_.clear();
  for (auto* c : {&events_, &differ_, &live_opened_, &candidate_opened_, &candidate_only_count_, &live_only_count_}) {
    c->store(0);
  }
}

void ShadowRules::clear() { setCandidate(nullptr, ""); }

bool ShadowRules::active() const {
  std::lock_guard lock(mu_);
  return candidate_ != nullptr;
}

void ShadowRules::beforeRules(const Event& event, const cmdb::ConfigurationItem* ci) {
  evaluated_ = false;
  // Without a candidate this costs one atomic load per event.
  if (generation_.load(std::memory_order_acquire) != seen_generation_) {
    // A new candidate starts from an empty engine: its incidents are its own.
    std::lock_guard lock(mu_);
    seen_generation_ = generation_.load();
    running_ = candidate_;
    engine_ = running_ ? std::make_unique<incidents::IncidentEngine>() : nullptr;
  }
  if (!running_) return;
  event_ = event;
  running_->evaluate(event_, ci, decision_);
  const incidents::OpenContext* context = nullptr;
  if (ci != nullptr) {
    context_.services.clear();
    context_.assignment_group = ci->assignment_group;
    context = &context_;
  }
  outcome_ = engine_->apply(event_, decision_, context);
  engine_->takeChanges(changes_);  // nothing is committed: drop the change records at once
  changes_.incidents.clear();       // and the incidents, or the engine copies each on its next change
  evaluated_ = true;
}

std::string ShadowRules::describe(const rules::Decision& d, incidents::ApplyOutcome outcome) {
  std::string s(rules::actionName(d.action));
  if (!d.key.empty()) s += " " + d.key;
  if (!d.rule.empty()) s += " (rule " + d.rule + ")";
  if (opened(outcome)) s += ": opens an incident";
  return s;
}

void ShadowRules::push(std::deque<Sample>& list, Sample sample) {
  if (list.size() >= kMaxSamples) list.pop_front();
  list.push_back(std::move(sample));
}

void ShadowRules::afterIncidentStep(const Event& event, const rules::RuleSet& /*rules*/,
                                    const rules::Decision& decision, incidents::ApplyOutcome outcome) {
  if (!evaluated_) return;
  events_.fetch_add(1, std::memory_order_relaxed);
  const bool live_opened = opened(outcome);
  const bool candidate_opened = opened(outcome_);
  if (live_opened) live_opened_.fetch_add(1, std::memory_order_relaxed);
  if (candidate_opened) candidate_opened_.fetch_add(1, std::memory_order_relaxed);
  const bool same = decision.action == decision_.action && decision.key == decision_.key;
  if (same && live_opened == candidate_opened) {
    same_.Increment();
    return;
  }
  different_.Increment();
  differ_.fetch_add(1, std::memory_order_relaxed);
  Sample sample{formatRfc3339(event.time()), event.host,
                event.message.substr(0, kMaxSampleMessage), describe(decision, outcome),
                describe(decision_, outcome_)};
  std::lock_guard lock(mu_);
  if (candidate_opened && !live_opened) {
    candidate_only_.Increment();
    candidate_only_count_.fetch_add(1, std::memory_order_relaxed);
    push(candidate_only_samples_, sample);
  } else if (live_opened && !candidate_opened) {
    live_only_.Increment();
    live_only_count_.fetch_add(1, std::memory_order_relaxed);
    push(live_only_samples_, sample);
  }
  push(different_samples_, std::move(sample));
}

void ShadowRules::report(nlohmann::json& out) const {
  using nlohmann::json;
  auto samples = [](const std::deque<Sample>& list) {
    json a = json::array();
    for (const Sample& s : list) {
      a.push_back({{"time", s.time}, {"host", s.host}, {"message", s.message}, {"live", s.live},
                   {"candidate", s.candidate}});
    }
    return a;
  };
  std::lock_guard lock(mu_);
  out = json::object();
  out["active"] = candidate_ != nullptr;
  if (!candidate_) return;
  out["origin"] = origin_;
  out["since"] = since_;
  out["candidate"] = {{"version", candidate_->version()}, {"rules", candidate_->size()}};
  out["events"] = events_.load();
  out["decisions_differ"] = differ_.load();
  out["opened"] = {{"live", live_opened_.load()}, {"candidate", candidate_opened_.load()}};
  out["candidate_only"] = {{"count", candidate_only_count_.load()}, {"samples", samples(candidate_only_samples_)}};
  out["live_only"] = {{"count", live_only_count_.load()}, {"samples", samples(live_only_samples_)}};
  out["different_decisions"] = samples(different_samples_);
}

}  // namespace vigil
