#include "rules/matcher.h"

#include <algorithm>
#include <cctype>
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

// Every match starts with c.literal_prefix, so the leftmost match is the anchored match at the
// first occurrence where one exists, with the same submatches. After a few occurrences without
// one, the unanchored search takes over, so a hostile text costs linear time, not quadratic.
bool matchWithPrefix(const Condition& c, const re2::StringPiece& text, re2::StringPiece* groups) {
  constexpr int kAnchoredTries = 4;
  const std::string_view haystack(text.data(), text.size());
  size_t at = haystack.find(c.literal_prefix);
  for (int tries = 0; at != std::string_view::npos; ++tries) {
    if (tries == kAnchoredTries) return c.regex->Match(text, at, text.size(), RE2::UNANCHORED, groups, c.submatches);
    if (c.regex->Match(text, at, text.size(), RE2::ANCHOR_START, groups, c.submatches)) return true;
    at = haystack.find(c.literal_prefix, at + 1);
  }
  return false;
}

// `kGroups` bounds c.submatches. The groups are constructed (zeroed) on every call, so the common
// regex with few groups gets a small array rather than kMaxSubmatches of them.
template <size_t kGroups>
bool matchCapturing(const Condition& c, const re2::StringPiece& text, MatchContext& ctx) {
  std::array<re2::StringPiece, kGroups> groups;
  const bool matched = c.literal_prefix.empty()
                           ? c.regex->Match(text, 0, text.size(), RE2::UNANCHORED, groups.data(), c.submatches)
                           : matchWithPrefix(c, text, groups.data());
  if (!matched) {
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

bool matchRegex(const Condition& c, std::string_view value, MatchContext& ctx) {
  constexpr int kFewGroups = 8;
  const re2::StringPiece text(value.data(), value.size());
  if (c.submatches == 0) {
    return c.regex->Match(text, 0, text.size(), RE2::UNANCHORED, nullptr, 0);
  }
  return c.submatches <= kFewGroups ? matchCapturing<kFewGroups>(c, text, ctx)
                                    : matchCapturing<Condition::kMaxSubmatches>(c, text, ctx);
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

namespace {

// An alternation outside any group or class means a match need not start with the first branch.
bool hasTopLevelAlternation(std::string_view pattern) {
  int depth = 0;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') ++i;  // "[]…]": the ']' is a member
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == '|' && depth == 0) {
      return true;
    }
  }
  return false;
}

// The plain literal characters `pattern` starts with, up to the first that is not one (or that a
// quantifier makes optional), and the length of pattern text they take.
std::pair<std::string, size_t> leadingLiteral(std::string_view pattern) {
  std::string prefix;
  size_t i = 0;
  while (i < pattern.size()) {
    const char c = pattern[i];
    size_t next = i + 1;
    char literal = c;
    if (static_cast<unsigned char>(c) >= 0x80) break;  // a multibyte character may be quantified whole
    if (c == '\\') {
      // An escaped punctuation character is itself; \d, \w, \b, \x41 … are not plain literals.
      if (i + 1 >= pattern.size() || std::isalnum(static_cast<unsigned char>(pattern[i + 1]))) break;
      literal = pattern[i + 1];
      next = i + 2;
    } else if (std::string_view(".[](){}*+?|^$").find(c) != std::string_view::npos) {
      break;
    }
    // A quantified character is not required (or not once): stop before it.
    if (next < pattern.size() && std::string_view("*+?{").find(pattern[next]) != std::string_view::npos) break;
    prefix.push_back(literal);
    i = next;
  }
  return {std::move(prefix), i};
}

}  // namespace

std::string requiredLiteralPrefix(std::string_view pattern) {
  if (hasTopLevelAlternation(pattern)) return "";
  std::string prefix = leadingLiteral(pattern).first;
  return prefix.size() >= 2 ? prefix : "";
}

AnchoredLiteral splitAnchoredLiteral(std::string_view pattern) {
  // Without (?m) before it, a leading ^ is the beginning of the text (RE2's default options).
  if (!pattern.starts_with('^') || hasTopLevelAlternation(pattern)) return {};
  auto [literal, length] = leadingLiteral(pattern.substr(1));
  if (literal.empty()) return {};
  return {std::move(literal), pattern.substr(1 + length)};
}

std::string anchoredLiteralPrefix(std::string_view pattern) {
  return splitAnchoredLiteral(pattern).literal;
}

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
