#include "daemon/rules_runtime/rule_metrics.h"

#include <algorithm>

namespace vigil {

namespace {

prometheus::Histogram::BucketBoundaries timingBounds() {
  const auto& b = rules::EvaluationTiming::kBounds;
  return prometheus::Histogram::BucketBoundaries(b.begin(), b.end());
}

}  // namespace

RuleMetrics::RuleMetrics(prometheus::Registry& registry, const Pipeline& pipeline)
    : pipeline_(pipeline),
      evaluations_(prometheus::BuildCounter()
                       .Name("vigil_rule_evaluations_total")
                       .Help("Events whose match a rule tried (after the prefilter), by rule")
                       .Register(registry)),
      matches_(prometheus::BuildCounter()
                   .Name("vigil_rule_matches_total")
                   .Help("Events a rule matched, by rule")
                   .Register(registry)),
      seconds_(prometheus::BuildHistogram()
                   .Name("vigil_rule_evaluation_seconds")
                   .Help("Time to evaluate the rule set for one event (1 event in 64 is timed)")
                   .Register(registry)
                   .Add({}, timingBounds())),
      buckets_seen_(rules::EvaluationTiming::kBounds.size() + 1, 0),
      bucket_increments_(rules::EvaluationTiming::kBounds.size() + 1, 0) {}

void RuleMetrics::collectStateOps(std::vector<store::StateOp>& /*out*/) { flush(); }

void RuleMetrics::flush() {
  auto current = pipeline_.rules();
  if (current != set_) {
    if (set_) flushSet();  // what the old set counted before the swap
    set_ = std::move(current);
    resolved_.clear();
    resolved_.reserve(set_->size());
    for (const auto& rule : set_->rules()) {
      resolved_.push_back({&evaluations_.Add({{"rule", rule.name}}), &matches_.Add({{"rule", rule.name}})});
    }
    std::fill(buckets_seen_.begin(), buckets_seen_.end(), 0);
    sum_ns_seen_ = 0;
  }
  flushSet();
}

void RuleMetrics::flushSet() {
  for (size_t i = 0; i < resolved_.size(); ++i) {
    const rules::RuleCounters& c = set_->counters(i);
    Resolved& r = resolved_[i];
    const uint64_t evaluations = c.evaluations.load(std::memory_order_relaxed);
    const uint64_t matches = c.matches.load(std::memory_order_relaxed);
    if (evaluations != r.evaluations_seen) r.evaluations->Increment(static_cast<double>(evaluations - r.evaluations_seen));
    if (matches != r.matches_seen) r.matches->Increment(static_cast<double>(matches - r.matches_seen));
    r.evaluations_seen = evaluations;
    r.matches_seen = matches;
  }
  const rules::EvaluationTiming& t = set_->timing();
  bool any = false;
  for (size_t b = 0; b < buckets_seen_.size(); ++b) {
    const uint64_t n = t.buckets[b].load(std::memory_order_relaxed);
    bucket_increments_[b] = static_cast<double>(n - buckets_seen_[b]);
    any |= n != buckets_seen_[b];
    buckets_seen_[b] = n;
  }
  const uint64_t sum = t.sum_ns.load(std::memory_order_relaxed);
  if (any) seconds_.ObserveMultiple(bucket_increments_, static_cast<double>(sum - sum_ns_seen_) * 1e-9);
  sum_ns_seen_ = sum;
}

}  // namespace vigil
