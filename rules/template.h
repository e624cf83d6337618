// Template: a string with {{name}} placeholders (rule `key`, `title` and `set` values), parsed
// once at compile time into literal and lookup segments, rendered per matching event.
//
// A name resolves, in this order, to:
//   1. a named capture of one of the rule's regexes, e.g. {{interface}};
//   2. an event field: host, type, source, ci, severity, state, message;
//   3. a label, written {{labels.x}};
//   4. an attribute of the bound CI: {{ci.name}}, {{ci.class}}, {{ci.criticality}},
//      {{ci.location}}, {{ci.group}}, {{ci.labels.x}} (empty when the event is unbound).
// A bare name that is neither a capture nor a field is a compile error (write labels.x), so a
// typo never renders as an empty string. A capture that did not take part in the match (e.g. in
// the other branch of an `any`) renders as the label of the same name, or "" if there is none.
// Thread-safety: immutable after compile(); render() is const.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/event.h"
#include "daemon/status.h"
#include "rules/field.h"

namespace vigil::rules {

// The captures one rule's regexes define: name → slot. At most kMaxCaptures per rule.
class CaptureNames {
 public:
  static constexpr size_t kMaxCaptures = 32;

  // Returns the slot of `name`, adding it if new; -1 when the rule already has kMaxCaptures.
  int add(std::string_view name);
  // Returns the slot of `name`, or -1.
  int find(std::string_view name) const;
  size_t size() const { return names_.size(); }
  const std::string& name(size_t slot) const { return names_[slot]; }

 private:
  std::vector<std::string> names_;
};

// The captures of one match, copied out of the event so that `set:` may modify the event.
// Bit i of `present` says slot i took part in the match.
struct CaptureValues {
  const std::string* values = nullptr;
  uint32_t present = 0;
  const cmdb::ConfigurationItem* ci = nullptr;  // the bound CI, for {{ci.*}}
};

class Template {
 public:
  Template() = default;

  // Parses `text`. On error returns a message without position (the caller adds file:line:col).
  static Result<Template> compile(std::string_view text, const CaptureNames& captures);

  // Appends the rendering to `out`. Does not allocate when `out` has the capacity.
  void render(const Event& event, const CaptureValues& captures, std::string& out) const;

  bool empty() const { return segments_.empty(); }

 private:
  enum class Kind : uint8_t { kLiteral, kCapture, kField };
  struct Segment {
    Kind kind = Kind::kLiteral;
    uint8_t slot = 0;  // kCapture
    FieldRef field;    // kField; for kCapture, the label used when the capture is absent
    std::string text;  // kLiteral
  };
  std::vector<Segment> segments_;
};

}  // namespace vigil::rules
