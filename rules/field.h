// Field: the event fields that rules read (match:) and templates render ({{...}}), resolved from
// their names once, at compile time, so the hot path never compares field names.
// Fields named `ci.<attribute>` read the configuration item the event was bound to (the pipeline
// binds before the rules run); without a bound CI they are missing, like an absent label.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/cmdb/ci.h"
#include "daemon/event.h"

namespace vigil::rules {

enum class FieldId : uint8_t {
  kSource,
  kHost,
  kCi,
  kType,
  kState,
  kSeverity,
  kMessage,
  kLabel,
  // Attributes of the bound CI.
  kCiName,
  kCiClass,
  kCiCriticality,
  kCiLocation,
  kCiGroup,
  kCiLabel,
};

inline bool isCiAttribute(FieldId id) { return id >= FieldId::kCiName; }

struct FieldRef {
  FieldId id = FieldId::kSource;
  std::string label;  // kLabel / kCiLabel: the label name (without "labels." / "ci.labels.")
};

// The field names a rule may use, for error messages.
inline constexpr std::string_view kFieldNamesHint =
    "source, host, ci, type, state, severity, message, labels.<name>, ci.name, ci.class, "
    "ci.criticality, ci.location, ci.group, ci.labels.<name>";

// "source", "host", ..., "labels.<name>", "ci.class", ... std::nullopt for anything else.
inline std::optional<FieldRef> parseFieldName(std::string_view name) {
  if (name.starts_with("labels.") && name.size() > 7) {
    return FieldRef{FieldId::kLabel, std::string(name.substr(7))};
  }
  if (name.starts_with("ci.labels.") && name.size() > 10) {
    return FieldRef{FieldId::kCiLabel, std::string(name.substr(10))};
  }
  static constexpr std::pair<std::string_view, FieldId> kNames[] = {
      {"source", FieldId::kSource},          {"host", FieldId::kHost},
      {"ci", FieldId::kCi},                  {"type", FieldId::kType},
      {"state", FieldId::kState},            {"severity", FieldId::kSeverity},
      {"message", FieldId::kMessage},        {"ci.name", FieldId::kCiName},
      {"ci.class", FieldId::kCiClass},       {"ci.criticality", FieldId::kCiCriticality},
      {"ci.location", FieldId::kCiLocation}, {"ci.group", FieldId::kCiGroup}};
  for (const auto& [n, id] : kNames) {
    if (n == name) {
      return FieldRef{id, {}};
    }
  }
  return std::nullopt;
}

// The field's value as text (severity and state by name; no state is ""; criticality as "1".."5").
// Returns false for a label the event does not carry, and for a CI attribute when `ci` is null.
// Never allocates; the view lives as long as the event and the CI are not modified.
inline bool readField(const Event& event, const cmdb::ConfigurationItem* ci, const FieldRef& field,
                      std::string_view& out) {
  switch (field.id) {
    case FieldId::kSource: out = event.source; return true;
    case FieldId::kHost: out = event.host; return true;
    case FieldId::kCi: out = event.ci; return true;
    case FieldId::kType: out = event.type; return true;
    case FieldId::kState: out = eventStateName(event.state); return true;
    case FieldId::kSeverity: out = severityName(event.severity); return true;
    case FieldId::kMessage: out = event.message; return true;
    case FieldId::kLabel: {
      const std::string* value = event.labels.find(field.label);
      if (value == nullptr) {
        return false;
      }
      out = *value;
      return true;
    }
    default: break;
  }
  if (ci == nullptr) {
    return false;
  }
  switch (field.id) {
    case FieldId::kCiName: out = ci->displayName(); return true;
    case FieldId::kCiClass: out = cmdb::ciClassName(ci->ci_class); return true;
    case FieldId::kCiCriticality: {
      static constexpr std::string_view kDigits = "0123456789";
      out = kDigits.substr(ci->criticality < 10 ? ci->criticality : 9, 1);
      return true;
    }
    case FieldId::kCiLocation: out = ci->location.view(); return true;
    case FieldId::kCiGroup: out = ci->assignment_group.view(); return true;
    case FieldId::kCiLabel: {
      const std::string* value = ci->labels.find(field.label);
      if (value == nullptr) {
        return false;
      }
      out = *value;
      return true;
    }
    default: return false;
  }
}

}  // namespace vigil::rules
