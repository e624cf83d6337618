// RuleSpec: a rule as written in a rule file, before compilation. Plain data without any YAML
// types, so rules may later come from other front ends (the API, a test) than yaml_loader.
// Every element keeps its source position so that the compiler's errors read `file:line:col`.
#pragma once

#include <chrono>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rules/decision.h"

namespace vigil::rules {

// 1-based position in a rule file; {0, 0} when unknown.
struct Position {
  int line = 0;
  int column = 0;
};

// A string from the file with the position of its first character.
struct Located {
  std::string text;
  Position pos;
};

// One node of a `match:` tree.
//   kAll / kAny: `children` must all / any hold. `match:` itself is a kAll.
//   kNot: the single child must not hold.
//   kTest: `field` (e.g. "source", "labels.app") compared by `op` with `values`.
struct ConditionSpec {
  enum class Kind { kAll, kAny, kNot, kTest };
  enum class Op { kEquals, kIn, kPrefix, kRegex, kExists, kGt, kLt, kGe, kLe };

  Kind kind = Kind::kAll;
  Position pos;
  // kTest only.
  Located field;
  Op op = Op::kEquals;
  std::vector<Located> values;  // one value, except for kIn
  // kAll, kAny, kNot.
  std::vector<ConditionSpec> children;
};

// `set:` of a rule. Strings are templates; state and severity are names checked by the compiler.
struct SetSpec {
  std::optional<Located> type;
  std::optional<Located> host;
  std::optional<Located> ci;
  std::optional<Located> state;
  std::optional<Located> severity;
  // label name → value template; std::nullopt (YAML null) removes the label.
  std::vector<std::pair<Located, std::optional<Located>>> labels;
};

// Correlation (see correlation.h) as written in the file.
using Duration = std::chrono::milliseconds;

enum class Primitive : uint8_t { kNone, kThreshold, kPair, kFlapping, kGroup, kHeartbeat };
std::string_view primitiveName(Primitive primitive);  // correlation.cc

// What a pair does when its clear has not come within `timeout`.
enum class TimeoutAction : uint8_t { kResolve, kStale, kEscalate };
std::string_view timeoutActionName(TimeoutAction action);

// The parameters as written in a rule file (positions for the compiler's errors).
struct CorrelationSpec {
  Primitive primitive = Primitive::kNone;
  Position pos;                    // the primitive's key
  uint32_t count = 0;              // threshold: events per key ...
  Duration window{0};              // ... within this (also flapping, group)
  Duration timeout{0};             // pair
  TimeoutAction on_timeout = TimeoutAction::kResolve;
  uint32_t changes = 0;            // flapping: state changes within `window`
  Duration quiet{0};               // flapping: calm after this long without a change
  std::optional<Located> group_by; // group: key template events share
  Duration every{0};               // heartbeat: expected at least this often
  std::optional<Duration> reopen_within;
  std::optional<Duration> auto_close_after;
};

struct RuleSpec {
  std::string file;  // the file the rule came from, for error messages
  Located name;
  Position pos;             // the rule's mapping
  ConditionSpec match;      // kAll; no children = matches every event
  SetSpec set;
  std::optional<Located> key;          // template
  std::optional<Located> title;        // template
  std::optional<Located> description;  // template: the incident's description
  std::optional<Located> urgency;      // high | medium | low (priority from the matrix)
  std::optional<Located> priority;     // P1..P5: overrides the matrix
  std::optional<Located> assign;       // template: the incident's assignment group
  std::vector<std::pair<Located, Located>> annotate;  // label name → value template, on the incident
  Action action = Action::kNone;  // kNone or kDrop
  bool continue_ = false;         // `continue: true`: later rules also see the event
  std::optional<CorrelationSpec> correlation;  // a primitive and/or lifecycle hooks
};

// ITIL priority = impact × urgency. Impact is the bound CI's criticality (1 most critical … 5),
// urgency high (0), medium (1) or low (2). rows[criticality - 1][urgency] is the priority 1..5.
// The default below; a rule file may replace it with a top-level `priority_matrix:`.
struct PriorityMatrix {
  std::array<std::array<uint8_t, 3>, 5> rows = {{{1, 2, 3}, {2, 3, 4}, {2, 3, 4}, {3, 4, 5}, {4, 5, 5}}};
  std::string file;  // where it was set ("" = the default)
  Position pos;

  uint8_t priority(uint8_t criticality, uint8_t urgency) const {
    const size_t row = criticality < 1 ? 0 : criticality > 5 ? 4 : criticality - 1u;
    return rows[row][urgency > 2 ? 2 : urgency];
  }
};

// A load or compile error; kept structured so that errors from several files can be ordered.
struct RuleError {
  std::string file;
  Position pos;
  std::string message;

  // "file:line:col: message".
  std::string toString() const {
    return file + ':' + std::to_string(pos.line > 0 ? pos.line : 1) + ':' +
           std::to_string(pos.column > 0 ? pos.column : 1) + ": " + message;
  }
};

}  // namespace vigil::rules
