// RuleSet: a compiled, immutable set of rules: the third of the three stages
// (yaml_loader → compiler → RuleSet) and what the pipeline calls once per event.
// The rule language is described in docs/rules.md.
//
// Evaluation, per event:
//   1. Rules are tried in file order (files in the order loadFiles() found them). The prefilter
//      (prefilter.h) skips rules that cannot match, without changing the outcome.
//   2. The first rule whose `match` holds applies its `set` (state, severity, then type, host, ci
//      and labels in file order) and renders its `key`/`title`. With `continue: true` later rules
//      see the modified event and may match too (a later key/title replaces an earlier one);
//      otherwise evaluation stops. `action: drop` stops at once with Action::kDrop.
//   3. The default incident step: state problem → kOpen, ok → kResolve, none → kNone. For kOpen
//      and kResolve a missing key defaults to "{{host}}/{{type}}" (ci when host is empty, "event"
//      when type is empty) and a missing title to "<type> problem on <host>" (the message when
//      type is empty).
//   Decision::rule names the last matching rule that set key, title or state, dropped the
//   event, or stopped evaluation; "" when only the default step decided. description, assign,
//   annotate, urgency and priority of matching rules accumulate the same way (a later rule
//   replaces an earlier value; annotations merge).
//   4. Priority: a rule's `priority:` wins; else the matrix gives impact (CI criticality; 3 when
//      unbound) × urgency (the rule's `urgency:`, else by severity: critical/major high,
//      minor/warning medium, info low). Unbound events without a rule urgency keep 0 (the
//      incident engine then derives the priority from severity alone).
//
// Hot reload: build a new RuleSet to the side and swap the shared_ptr; a failed load leaves the
// old set in place.
// Thread-safety: immutable after construction; evaluate() is const and safe to call from many
// threads at once (per-thread scratch is thread_local).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cmdb/ci.h"
#include "daemon/event.h"
#include "daemon/status.h"
#include "rules/compiler.h"
#include "rules/decision.h"
#include "rules/prefilter.h"
#include "rules/rule_spec.h"

namespace vigil::rules {

// How often each rule was tried and matched, and a sampled histogram of evaluate()'s duration.
// Relaxed atomics: evaluate() stays lock- and allocation-free; readers (metrics) see counts that
// are at most a few events behind.
struct RuleCounters {
  std::atomic<uint64_t> evaluations{0};  // the rule's match was tried (it passed the prefilter)
  std::atomic<uint64_t> matches{0};
};
struct EvaluationTiming {
  // Upper bounds in seconds; the last bucket is +Inf.
  static constexpr std::array<double, 12> kBounds = {1e-7, 2.5e-7, 5e-7, 1e-6, 2.5e-6, 5e-6,
                                                     1e-5, 2.5e-5, 5e-5, 1e-4, 1e-3, 1e-2};
  static constexpr uint32_t kSampleEvery = 64;  // one evaluation in 64 is timed
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets{};
  std::atomic<uint64_t> sum_ns{0};
};

class RuleSet {
 public:
  // Loads every file matching `globs` (each glob's matches sorted bytewise, globs in order;
  // relative globs are resolved against `base_dir`, e.g. {"config/rules.d/*.yaml"}).
  // On failure the Status (kInvalidArgument) lists every problem found, one
  // "file:line:col: message" per line, ordered by file and position.
  static Result<std::shared_ptr<const RuleSet>> loadFiles(const std::vector<std::string>& globs,
                                                          const std::string& base_dir);

  // Same for one document given as text; `file_name` is used in error messages only.
  static Result<std::shared_ptr<const RuleSet>> loadString(std::string_view yaml,
                                                           std::string_view file_name);

  // Compiles already parsed specs (other front ends, tests). `version` is stored as is.
  static Result<std::shared_ptr<const RuleSet>> compile(const std::vector<RuleSpec>& specs,
                                                        std::string version,
                                                        std::optional<PriorityMatrix> matrix = std::nullopt);

  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  // Applies the rules to `event` (they may change its type, state, severity, host, ci and
  // labels) and fills `out`, which is reset first. `ci` is the CI the event is bound to (null
  // when unbound): `ci.*` conditions and templates read it, and its criticality is the impact
  // of the priority matrix. Allocates nothing when no rule matches (after the first calls on a
  // thread have sized its scratch). Counts evaluations and matches per rule.
  void evaluate(Event& event, const cmdb::ConfigurationItem* ci, Decision& out) const;
  void evaluate(Event& event, Decision& out) const { evaluate(event, nullptr, out); }

  // ITIL priority of an incident: impact (the CI's criticality, 3 when unbound) × urgency.
  const PriorityMatrix& priorityMatrix() const { return matrix_; }
  // Per rule, parallel to rules().
  const RuleCounters& counters(size_t rule) const { return counters_[rule]; }
  const EvaluationTiming& timing() const { return timing_; }

  // Number of rules.
  size_t size() const { return rules_.size(); }
  // Hex content hash (FNV-1a 64) of the rule files' bytes, in load order, for provenance.
  const std::string& version() const { return version_; }
  // The rule files loaded, in order (empty for loadString/compile).
  const std::vector<std::string>& files() const { return files_; }
  // The compiled rules, in evaluation order (for listing them in the API and tests).
  const std::vector<CompiledRule>& rules() const { return rules_; }
  const Prefilter& prefilter() const { return *prefilter_; }

 private:
  RuleSet() = default;
  void evaluateRules(Event& event, const cmdb::ConfigurationItem* ci, Decision& out) const;

  std::vector<CompiledRule> rules_;
  PriorityMatrix matrix_;
  std::unique_ptr<RuleCounters[]> counters_;
  mutable EvaluationTiming timing_;
  std::unique_ptr<Prefilter> prefilter_;  // points into rules_
  std::string version_;
  std::vector<std::string> files_;
};

}  // namespace vigil::rules
