// RuleMetrics: exports the live rule set's per-rule counters and its sampled evaluation time.
//   vigil_rule_evaluations_total{rule}  the rule's match was tried (it passed the prefilter)
//   vigil_rule_matches_total{rule}      the rule's match held
//   vigil_rule_evaluation_seconds       RuleSet::evaluate() duration, 1 event in 64 timed
// RuleSet counts in relaxed atomics (allocation- and lock-free); this component moves the deltas
// into prometheus once per batch, and resolves the labelled counters once per rule set (a
// reload swaps them). Rule names are bounded by the rule files, so the label set is too.
// Called on: the correlator thread.
#pragma once

#include <memory>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "daemon/pipeline.h"
#include "rules/rule_set.h"

namespace vigil {

class RuleMetrics final : public CorrelatorComponent {
 public:
  RuleMetrics(prometheus::Registry& registry, const Pipeline& pipeline);

  // CorrelatorComponent
  void collectStateOps(std::vector<store::StateOp>& out) override;

  // Moves what the current rule set counted since the last call into the metrics.
  void flush();

 private:
  struct Resolved {
    prometheus::Counter* evaluations;
    prometheus::Counter* matches;
    uint64_t evaluations_seen = 0;
    uint64_t matches_seen = 0;
  };
  void flushSet();

  const Pipeline& pipeline_;
  prometheus::Family<prometheus::Counter>& evaluations_;
  prometheus::Family<prometheus::Counter>& matches_;
  prometheus::Histogram& seconds_;
  std::shared_ptr<const rules::RuleSet> set_;
  std::vector<Resolved> resolved_;
  std::vector<uint64_t> buckets_seen_;
  uint64_t sum_ns_seen_ = 0;
  std::vector<double> bucket_increments_;
};

}  // namespace vigil
