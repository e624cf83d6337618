// Matcher: the compiled form of a rule's `match:` tree. Built by the compiler (compiler.h), which
// resolves field names, parses severities/states/numbers and compiles regexes once; evaluated
// per event without allocating.
// Thread-safety: immutable after compilation; matches() is const and may run on many threads
// (RE2 objects are thread-safe).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <re2/re2.h>

#include "daemon/event.h"
#include "rules/field.h"
#include "rules/rule_spec.h"
#include "rules/template.h"

namespace vigil::rules {

// The literal text every match of RE2 `pattern` (default options) must start with, or "" when the
// pattern does not begin with one (a class, group, anchor, alternation, case folding …).
// Conservative: a shorter prefix than the longest possible is fine, a wrong one is not.
std::string requiredLiteralPrefix(std::string_view pattern);

// The literal text every subject `pattern` (default options) matches must begin with: the
// literal after a leading ^ (begin of text), "" when there is none or the pattern is not anchored
// that way (no ^, a top-level alternation). Same conservative rule as requiredLiteralPrefix.
std::string anchoredLiteralPrefix(std::string_view pattern);

// anchoredLiteralPrefix and the pattern after the ^ and the literal: `pattern` matches a text
// exactly when the text begins with `literal` and `rest` matches, anchored, where the literal ends
// (seeing the literal before it). Both empty when the pattern begins with no such literal.
struct AnchoredLiteral {
  std::string literal;
  std::string_view rest;  // points into the pattern
};
AnchoredLiteral splitAnchoredLiteral(std::string_view pattern);

// Per-evaluation scratch, on the caller's stack: the captures of the rule being tried. The views
// point into the event and are valid until the event is modified.
struct MatchContext {
  std::array<std::string_view, CaptureNames::kMaxCaptures> captures;
  uint32_t present = 0;  // bit i: captures[i] was set by a matching regex
  const cmdb::ConfigurationItem* ci = nullptr;  // the CI the event is bound to, if any
};

struct Condition {
  using Op = ConditionSpec::Op;
  enum class Kind : uint8_t { kAll, kAny, kNot, kTest };
  // Highest regex group (plus one) that a capture may use; bounds the stack array of submatches.
  static constexpr int kMaxSubmatches = 64;

  Kind kind = Kind::kAll;
  Op op = Op::kEquals;
  FieldRef field;
  // kEquals / kPrefix: the text. kIn: texts.
  std::string text;
  std::vector<std::string> texts;
  // kEquals / kIn on severity or state: bit per enum value (matched without text compares).
  bool use_mask = false;
  uint32_t mask = 0;
  // kExists: the wanted answer.
  bool exists = true;
  // kGt / kLt / kGe / kLe: the operand. Severities compare by rank (info 0 ... critical 4).
  double number = 0;
  // kRegex.
  std::unique_ptr<const RE2> regex;
  int submatches = 0;                              // 0 when the regex captures nothing we use
  std::vector<std::pair<int, int>> capture_slots;  // (regex group, rule capture slot)
  // Literal text every match starts with (requiredLiteralPrefix), "" when unknown. With it a
  // capturing match runs anchored where the literal occurs: about half the cost of RE2's
  // unanchored search with submatches (forward DFA, reverse DFA, then the capture engine).
  std::string literal_prefix;
  // kAll / kAny / kNot (one child).
  std::vector<Condition> children;

  // True when the event satisfies the condition. Records regex captures in `ctx`.
  bool matches(const Event& event, MatchContext& ctx) const;
};

// Severity rank for comparisons: critical 4 > major 3 > minor 2 > warning 1 > info 0.
inline int severityRank(Severity severity) { return 4 - static_cast<int>(severity); }

}  // namespace vigil::rules
