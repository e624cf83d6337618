// FieldMapping: maps a foreign JSON schema (a monitoring tool's own events) onto vigil's Event
// JSON (DESIGN.md), so a topic with another schema needs config, not code.
//
//   field_mapping:
//     host: labels.instance
//     state: {from: status, values: {firing: problem, resolved: ok}}
//     severity: {from: labels.severity, values: {page: critical}, default: warning}
//     labels.runbook: annotations.runbook_url
//
// The mapped object is then decoded by the ordinary EventDecoder, so every check and limit of
// that decoder applies unchanged.
// Thread-safety: apply() is const and keeps no state; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/status.h"

namespace vigil::connectors::kafka {

struct FieldRule {
  std::string target;                 // "host", "severity", ..., or "labels.<name>"
  std::vector<std::string> path;      // dotted path in the message, split
  std::vector<std::pair<std::string, std::string>> values;  // value translation; others pass
  std::optional<std::string> default_value;                 // when the path is absent
};

class FieldMapping {
 public:
  FieldMapping() = default;
  FieldMapping(std::vector<FieldRule> rules, bool keep_unmapped)
      : rules_(std::move(rules)), keep_unmapped_(keep_unmapped) {}

  bool empty() const { return rules_.empty(); }
  const std::vector<FieldRule>& rules() const { return rules_; }
  bool keepUnmapped() const { return keep_unmapped_; }
  void setKeepUnmapped(bool keep) { keep_unmapped_ = keep; }

  // Turns one foreign JSON object into event JSON. Errors (not JSON, not an object) name what
  // was wrong; a missing path without default simply leaves the field unset.
  Result<std::string> apply(std::string_view json) const;

 private:
  std::vector<FieldRule> rules_;
  bool keep_unmapped_ = true;
};

// The targets a rule may write.
bool isMappableTarget(std::string_view target);

// Parses the `field_mapping:` mapping (keep_unmapped comes from its own key). Errors read
// "file:line:col: message".
Result<FieldMapping> parseFieldMapping(const YAML::Node& node, std::string_view file);

}  // namespace vigil::connectors::kafka
