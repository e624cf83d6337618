// Correlation: the stateful part of a rule — at most one primitive (threshold, pair timeout,
// flapping, burst grouping, heartbeat) plus the lifecycle hooks `reopen_within` and
// `auto_close_after` (docs/rules.md, "Correlation"). The rules engine only compiles it and points
// the Decision at it; the state lives on the correlator thread (daemon/correlation/), keyed by
// rule name and incident key, and is dropped when `spec_hash` changes on a reload.
// Thread-safety: immutable after compilation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "rules/rule_spec.h"
#include "rules/template.h"

namespace vigil::rules {

struct Correlation {
  CorrelationSpec spec;              // group_by kept as text for the hash and descriptions
  std::optional<Template> group_by;  // compiled spec.group_by
  std::string rule;                  // the rule's name
  std::string description;           // "threshold 3 in 5m", for provenance ("" for kNone)
  uint64_t spec_hash = 0;            // of the primitive's parameters: state survives a reload
                                     // only while this is unchanged

  Primitive primitive() const { return spec.primitive; }
};

// "90s", "5m", "1h30m", "250ms".
std::string formatDuration(Duration d);

// Fills description and spec_hash from spec.
void describeCorrelation(Correlation& correlation);

}  // namespace vigil::rules
