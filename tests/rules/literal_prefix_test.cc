// Capturing regexes run anchored at their literal prefix (matcher.h): the prefix must be one every
// match starts with, and the captures must equal RE2's own unanchored search.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <re2/re2.h>

#include "rules/matcher.h"
#include "tests/rules/test_util.h"

namespace vigil::rules {
namespace {

TEST(LiteralPrefix, IsTheRequiredStartOrNothing) {
  EXPECT_EQ(requiredLiteralPrefix("%LINK-3-UPDOWN: Interface (?P<i>\\S+)"), "%LINK-3-UPDOWN: Interface ");
  EXPECT_EQ(requiredLiteralPrefix("%FAC\\d+"), "%FAC");
  EXPECT_EQ(requiredLiteralPrefix("a\\.b\\-c(x)"), "a.b-c");
  EXPECT_EQ(requiredLiteralPrefix("abc*d"), "ab");       // c is optional
  EXPECT_EQ(requiredLiteralPrefix("abc+"), "ab");
  EXPECT_EQ(requiredLiteralPrefix("abc{2}"), "ab");
  EXPECT_EQ(requiredLiteralPrefix("ab|cd"), "");         // either branch
  EXPECT_EQ(requiredLiteralPrefix("ab(c|d)"), "ab");     // alternation inside a group is fine
  EXPECT_EQ(requiredLiteralPrefix("ab[|]c"), "ab");      // and so is a '|' in a class
  EXPECT_EQ(requiredLiteralPrefix("(?i)abc"), "");       // case folding
  EXPECT_EQ(requiredLiteralPrefix("^abc"), "");
  EXPECT_EQ(requiredLiteralPrefix(".abc"), "");
  EXPECT_EQ(requiredLiteralPrefix("\\Qab\\E"), "");
  EXPECT_EQ(requiredLiteralPrefix("a"), "");             // too short to pay
  EXPECT_EQ(requiredLiteralPrefix("abé+x"), "ab");       // a multibyte character may be quantified
}

TEST(LiteralPrefix, AnchoredIsTheLiteralAfterALeadingCaret) {
  EXPECT_EQ(anchoredLiteralPrefix("^%LINK-3-UPDOWN: Interface (?P<i>\\S+)"), "%LINK-3-UPDOWN: Interface ");
  EXPECT_EQ(anchoredLiteralPrefix("^a"), "a");            // one character is enough here
  EXPECT_EQ(anchoredLiteralPrefix("^abc*d"), "ab");
  EXPECT_EQ(anchoredLiteralPrefix("^a\\.b"), "a.b");
  EXPECT_EQ(anchoredLiteralPrefix("^ab(c|d)"), "ab");
  EXPECT_EQ(anchoredLiteralPrefix("^ab|cd"), "");         // cd need not be at the start
  EXPECT_EQ(anchoredLiteralPrefix("^(ab|cd)"), "");
  EXPECT_EQ(anchoredLiteralPrefix("^(?i)ab"), "");        // case folding
  EXPECT_EQ(anchoredLiteralPrefix("(?i)^ab"), "");
  EXPECT_EQ(anchoredLiteralPrefix("(?m)^ab"), "");        // ^ at every line
  EXPECT_EQ(anchoredLiteralPrefix("ab"), "");             // not anchored
  EXPECT_EQ(anchoredLiteralPrefix("^"), "");
  EXPECT_EQ(anchoredLiteralPrefix("^$"), "");
  EXPECT_EQ(anchoredLiteralPrefix("^.ab"), "");
  EXPECT_EQ(anchoredLiteralPrefix("^a+"), "");
}

// The rest is the pattern after the literal's own text (escapes included), never a quantifier.
TEST(LiteralPrefix, SplitGivesThePatternAfterTheLiteral) {
  auto rest = [](std::string_view pattern) { return std::string(splitAnchoredLiteral(pattern).rest); };
  EXPECT_EQ(rest("^%LINK-3-UPDOWN: Interface (?P<i>\\S+), x"), "(?P<i>\\S+), x");
  EXPECT_EQ(rest("^a\\.b\\-c"), "");
  EXPECT_EQ(rest("^a\\.b(c)"), "(c)");
  EXPECT_EQ(rest("^abc*d"), "c*d");
  EXPECT_EQ(rest("^ab\\.+"), "\\.+");
  EXPECT_EQ(rest("^ab{2}"), "b{2}");
  EXPECT_EQ(rest("^abé"), "é");
  EXPECT_EQ(rest("^ab$"), "$");
  EXPECT_EQ(rest("^a+"), "");  // no literal: no rest either
  EXPECT_EQ(rest("ab"), "");
  EXPECT_EQ(splitAnchoredLiteral("^a\\.b(c)").literal, "a.b");
}

// The rule renders its captures into the key; RE2's unanchored search says what they must be.
TEST(LiteralPrefix, CapturesEqualTheUnanchoredSearch) {
  const std::vector<std::string> patterns = {
      "%LINK-3-UPDOWN: Interface (?P<a>[^,]+), changed state to (?P<b>down|up)",
      "ab(?P<a>a*)(?P<b>b?)",
      "xx(?P<a>.*)yy(?P<b>.*?)zz",
      "ab(?P<a>c|cd)(?P<b>d*)",
  };
  const std::vector<std::string> texts = {
      "%LINK-3-UPDOWN: Interface Gi0/1, changed state to down",
      "junk %LINK-3-UPDOWN: %LINK-3-UPDOWN: Interface Te1/0/1, changed state to up trailing",
      "%LINK-3-UPDOWN: Interface , changed state to down",
      "abab abaab", "ab", "xab", "xxyyzz", "xx1yy2zz xx3yy4zz", "xxxxyyzzzz", "abcd", "abcdd abc",
      std::string(20, 'a') + "ab" + std::string(5, 'a') + "b",
      // More occurrences of the prefix than the anchored tries: the unanchored search finishes.
      "ab ab ab ab ab ab ab abaab", "xx xx xx xx xx xx xx1yy2zz",
  };
  for (const auto& pattern : patterns) {
    const std::string yaml = "rules:\n  - name: r\n    match: {message: {regex: '" + pattern +
                             "'}}\n    set: {state: problem}\n    key: '[{{a}}][{{b}}]'\n";
    auto set = testing::mustLoad(yaml);
    ASSERT_NE(set, nullptr) << pattern;
    const RE2 reference(pattern);
    for (const auto& text : texts) {
      std::string a, b;
      const bool expected = RE2::PartialMatch(text, reference, &a, &b);
      Event e = testing::makeEvent({.message = text});
      Decision d;
      set->evaluate(e, d);
      if (!expected) {
        EXPECT_EQ(d.action, Action::kNone) << pattern << " on " << text;
        continue;
      }
      EXPECT_EQ(d.key, "[" + a + "][" + b + "]") << pattern << " on " << text;
    }
  }
}

}  // namespace
}  // namespace vigil::rules
