#include "rules/matcher.h"

#include <algorithm>
#include <charconv>

namespace vigil::rules {
namespace {

bool fieldExists(const Event& event, const cmdb::ConfigurationItem* ci, const FieldRef& field) {
  switch (field.id) {
    case FieldId::kState: return event.state != EventState::kNone;
    case FieldId::kSeverity: return true;  // every event has one (default info)
    case FieldId::kLabel: return event.labels.find(field.label) != nullptr;
    default: break;
  }
  std::string_view value;
  return readField(event, ci, field, value) && !value.empty();
}

uint32_t enumBit(const Event& event, FieldId id) {
  return 1u << (id == FieldId::kSeverity ? static_cast<unsigned>(event.severity)
                                         : static_cast<unsigned>(event.state));
}

bool compare(const Condition& c, const Event& event, std::string_view value) {
  double number = 0;
  if (c.field.id == FieldId::kSeverity) {
    number = severityRank(event.severity);
  } else {
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec != std::errc() || ptr != value.data() + value.size()) {
      return false;  // not a number: comparisons never hold
    }
  }
  switch (c.op) {
    case Condition::Op::kGt: return number > c.number;
    case Condition::Op::kLt: return number < c.number;
    case Condition::Op::kGe: return number >= c.number;
    case Condition::Op::kLe: return number <= c.number;
    default: return false;
  }
}

bool matchRegex(const Condition& c, std::string_view value, MatchContext& ctx) {
  const re2::StringPiece text(value.data(), value.size());
  if (c.submatches == 0) {
    return c.regex->Match(text, 0, text.size(), RE2::UNANCHORED, nullptr, 0);
  }
  std::array<re2::StringPiece, Condition::kMaxSubmatches> groups;
  if (!c.regex->Match(text, 0, text.size(), RE2::UNANCHORED, groups.data(), c.submatches)) {
    return false;
  }
  for (const auto& [group, slot] : c.capture_slots) {
    const re2::StringPiece& g = groups[group];
    if (g.data() != nullptr) {
      ctx.captures[slot] = std::string_view(g.data(), g.size());
      ctx.present |= 1u << slot;
    }
  }
  return true;
}

bool test(const Condition& c, const Event& event, MatchContext& ctx) {
  if (c.op == Condition::Op::kExists) {
    return fieldExists(event, ctx.ci, c.field) == c.exists;
  }
  if (c.use_mask) {
    return (c.mask & enumBit(event, c.field.id)) != 0;
  }
  std::string_view value;
  if (!readField(event, ctx.ci, c.field, value)) {
    return false;  // a missing label (or CI) matches nothing but `exists: false`
  }
  switch (c.op) {
    case Condition::Op::kEquals: return value == c.text;
    case Condition::Op::kIn:
      return std::find(c.texts.begin(), c.texts.end(), value) != c.texts.end();
    case Condition::Op::kPrefix: return value.starts_with(c.text);
    case Condition::Op::kRegex: return matchRegex(c, value, ctx);
    default: return compare(c, event, value);
  }
}

}  // namespace

bool Condition::matches(const Event& event, MatchContext& ctx) const {
  switch (kind) {
    case Kind::kAll:
      for (const Condition& child : children) {
        if (!child.matches(event, ctx)) {
          return false;
        }
      }
      return true;
    case Kind::kAny:
      for (const Condition& child : children) {
        if (child.matches(event, ctx)) {
          return true;
        }
      }
      return false;
    case Kind::kNot:
      return !children.front().matches(event, ctx);
    case Kind::kTest:
      return test(*this, event, ctx);
  }
  return false;
}

}  // namespace vigil::rules
