// yaml_loader: rule files (YAML) → RuleSpec. The first of the three stages
// (yaml_loader → compiler → RuleSet); see docs/rules.md for the file format.
//
// The loader checks the shape of a file: known keys, known fields and operators, scalars where
// scalars belong. Values (regexes, severities, templates, unique names) are checked by the
// compiler. It never stops at the first error: every problem is appended to `errors` as
// `file:line:col` so that a user fixes a file in one pass.
// Thread-safety: free functions without shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rule_spec.h"

namespace YAML {
class Node;
}  // namespace YAML

namespace vigil::rules {

// Parses the text of one rule file named `file` (used in errors only). Appends the rules that
// parsed to `rules` (in file order) and every problem found to `errors`. A rule with an error is
// not appended.
// A top-level `priority_matrix:` is stored in `matrix`; a second one (in any file) is an error.
void parseRuleText(std::string_view text, std::string_view file, std::vector<RuleSpec>& rules,
                   std::vector<RuleError>& errors, std::optional<PriorityMatrix>& matrix);

// Parses a `match:`-style mapping, as found in a rule, into `out` (a kAll node); used wherever
// the rule condition syntax is reused (maintenance window scopes).
void parseCondition(const YAML::Node& node, std::string_view file, ConditionSpec& out,
                    std::vector<RuleError>& errors);

// Reads and parses the file at `path`. Appends the file's raw bytes to `content` (the caller
// hashes them for RuleSet::version()). An unreadable file is an error at `path:1:1`.
void loadRuleFile(const std::string& path, std::vector<RuleSpec>& rules,
                  std::vector<RuleError>& errors, std::string& content,
                  std::optional<PriorityMatrix>& matrix);

// Expands `globs` (relative ones against `base_dir`) to file paths: each glob's matches sorted
// bytewise, globs in the given order, duplicates removed. A pattern without wildcards must name
// an existing file; a wildcard pattern may match nothing.
std::vector<std::string> expandRuleGlobs(const std::vector<std::string>& globs,
                                         const std::string& base_dir,
                                         std::vector<RuleError>& errors);

}  // namespace vigil::rules
