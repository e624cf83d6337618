// Field: the event fields that rules read (match:) and templates render ({{...}}), resolved from
// their names once, at compile time, so the hot path never compares field names.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/event.h"

namespace vigil::rules {

enum class FieldId : uint8_t { kSource, kHost, kCi, kType, kState, kSeverity, kMessage, kLabel };

struct FieldRef {
  FieldId id = FieldId::kSource;
  std::string label;  // kLabel only: the label name (without "labels.")
};

// "source", "host", ..., "labels.<name>". std::nullopt for anything else.
inline std::optional<FieldRef> parseFieldName(std::string_view name) {
  if (name.starts_with("labels.") && name.size() > 7) {
    return FieldRef{FieldId::kLabel, std::string(name.substr(7))};
  }
  static constexpr std::pair<std::string_view, FieldId> kNames[] = {
      {"source", FieldId::kSource}, {"host", FieldId::kHost},         {"ci", FieldId::kCi},
      {"type", FieldId::kType},     {"state", FieldId::kState},       {"severity", FieldId::kSeverity},
      {"message", FieldId::kMessage}};
  for (const auto& [n, id] : kNames) {
    if (n == name) {
      return FieldRef{id, {}};
    }
  }
  return std::nullopt;
}

// The field's value as text (severity and state by name; no state is ""). Returns false only for
// a label the event does not carry. Never allocates; the view lives as long as the event is
// not modified.
inline bool readField(const Event& event, const FieldRef& field, std::string_view& out) {
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
  }
  return false;
}

}  // namespace vigil::rules
