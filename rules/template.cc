#include "rules/template.h"

#include <algorithm>

namespace vigil::rules {

int CaptureNames::add(std::string_view name) {
  const int slot = find(name);
  if (slot >= 0) {
    return slot;
  }
  if (names_.size() >= kMaxCaptures) {
    return -1;
  }
  names_.emplace_back(name);
  return static_cast<int>(names_.size() - 1);
}

int CaptureNames::find(std::string_view name) const {
  auto it = std::find(names_.begin(), names_.end(), name);
  return it == names_.end() ? -1 : static_cast<int>(it - names_.begin());
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Template> Template::compile(std::string_view text, const CaptureNames& captures) {
  Template t;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      t.segments_.push_back({.kind = Kind::kLiteral, .text = std::string(text.substr(pos))});
      break;
    }
    if (open > pos) {
      t.segments_.push_back({.kind = Kind::kLiteral, .text = std::string(text.substr(pos, open - pos))});
    }
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return fail(Status::invalidArgument("unterminated '{{' in template '" + std::string(text) + "'"));
    }
    const std::string_view name = trim(text.substr(open + 2, close - open - 2));
    if (name.empty()) {
      return fail(Status::invalidArgument("empty '{{}}' in template '" + std::string(text) + "'"));
    }
    Segment segment;
    if (const int slot = captures.find(name); slot >= 0) {
      segment.kind = Kind::kCapture;
      segment.slot = static_cast<uint8_t>(slot);
      segment.field = FieldRef{FieldId::kLabel, std::string(name)};
    } else if (std::optional<FieldRef> field = parseFieldName(name)) {
      segment.kind = Kind::kField;
      segment.field = std::move(*field);
    } else {
      return fail(Status::invalidArgument(
          "unknown name '" + std::string(name) + "' in template '" + std::string(text) +
          "' (expected a capture of the rule's regexes, a field such as host or type, or "
          "labels.<name>)"));
    }
    t.segments_.push_back(std::move(segment));
    pos = close + 2;
  }
  return t;
}

void Template::render(const Event& event, const CaptureValues& captures, std::string& out) const {
  for (const Segment& segment : segments_) {
    std::string_view value;
    switch (segment.kind) {
      case Kind::kLiteral:
        out += segment.text;
        continue;
      case Kind::kCapture:
        if ((captures.present >> segment.slot) & 1u) {
          out += captures.values[segment.slot];
          continue;
        }
        break;  // not captured this time: fall back to the label of the same name
      case Kind::kField:
        break;
    }
    if (readField(event, captures.ci, segment.field, value)) {
      out += value;
    }
  }
}

}  // namespace vigil::rules
