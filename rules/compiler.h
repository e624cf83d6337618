// compiler: RuleSpec → CompiledRule, the second of the three stages
// (yaml_loader → compiler → RuleSet). Resolves field names, parses severities, states and numbers,
// compiles every regex and template once, checks that rule names are unique, and derives the hints
// the prefilter uses to skip rules that cannot match.
//
// Stateful primitives (threshold, pair, flapping, group, heartbeat) compile into
// CompiledRule::correlation; RuleSet points the Decision at it and the correlator keeps the state.
// Thread-safety: compileRules() is a free function without shared state; a CompiledRule is
// immutable afterwards.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/event.h"
#include "rules/correlation.h"
#include "rules/matcher.h"
#include "rules/rule_spec.h"
#include "rules/template.h"

namespace vigil::rules {

struct CompiledRule {
  // One `set:` entry for a string field or a label, applied in file order after state/severity.
  struct Assign {
    FieldId target = FieldId::kType;  // kType, kHost, kCi or kLabel
    std::string label;                // kLabel: the label's name
    std::optional<Template> value;    // std::nullopt: remove the label
  };

  std::string name;
  std::string file;
  Position pos;

  Condition match;  // a kAll node; no children = every event
  CaptureNames captures;

  std::optional<EventState> set_state;
  std::optional<Severity> set_severity;
  std::vector<Assign> assigns;
  std::optional<Template> key;
  std::optional<Template> title;
  std::optional<Template> description;
  std::optional<uint8_t> urgency;  // 0 high, 1 medium, 2 low
  uint8_t priority = 0;            // 1..5 when the rule names one (overrides the matrix)
  std::optional<Template> assign;
  std::vector<std::pair<std::string, Template>> annotate;
  Action action = Action::kNone;  // kNone or kDrop
  bool continue_ = false;
  std::shared_ptr<const Correlation> correlation;  // null: the rule keeps no state

  // Derived flags for RuleSet::evaluate().
  bool modifies_fields = false;  // `set:` changes type/host/ci/labels: the prefilter looks again
  bool names_decision = false;  // Decision::rule becomes this rule's name when it matches

  // Prefilter hints (see prefilter.h), derived from `match`:
  // at least one of these regexes must match event.message (empty: no such requirement) ...
  std::vector<const RE2*> message_gate;
  // ... and/or this field must equal this value (the most selective top-level equals test).
  std::optional<std::pair<FieldRef, std::string>> required_equal;
};

// Compiles `specs` in order. Appends every problem to `errors` (positions from the specs); the
// returned rules are only meaningful when no error was added.
std::vector<CompiledRule> compileRules(const std::vector<RuleSpec>& specs,
                                       std::vector<RuleError>& errors);

}  // namespace vigil::rules
