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
//   event, or stopped evaluation; "" when only the default step decided.
//
// Hot reload: build a new RuleSet to the side and swap the shared_ptr; a failed load leaves the
// old set in place.
// Thread-safety: immutable after construction; evaluate() is const and safe to call from many
// threads at once (per-thread scratch is thread_local).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/event.h"
#include "daemon/status.h"
#include "rules/compiler.h"
#include "rules/decision.h"
#include "rules/prefilter.h"
#include "rules/rule_spec.h"

namespace vigil::rules {

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
                                                        std::string version);

  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  // Applies the rules to `event` (they may change its type, state, severity, host, ci and
  // labels) and fills `out`, which is reset first. Allocates nothing when no rule matches (after
  // the first calls on a thread have sized its scratch).
  void evaluate(Event& event, Decision& out) const;

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

  std::vector<CompiledRule> rules_;
  std::unique_ptr<Prefilter> prefilter_;  // points into rules_
  std::string version_;
  std::vector<std::string> files_;
};

}  // namespace vigil::rules
