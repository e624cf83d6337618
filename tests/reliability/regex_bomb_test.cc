// Regex bombs in rules: RE2 matches in time linear in the input, so a pattern that makes a
// backtracking engine explode ((a+)+$ against "aaaa…!") costs about twice as much on an input
// twice as long — and patterns RE2 cannot bound are refused when the rules load.
#include <algorithm>
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "rules/decision.h"
#include "rules/rule_set.h"

namespace vigil::rules {
namespace {

constexpr char kBombs[] = R"(rules:
  - name: nested-plus
    match: {message: {regex: '(a+)+$'}}
    set: {type: bomb1}
  - name: alternation
    match: {message: {regex: '^(a|aa)*b'}}
    set: {type: bomb2}
  - name: overlapping
    match: {message: {regex: '(x+x+)+y'}}
    set: {type: bomb3}
)";

// The fastest of a few evaluations of every rule on a message of `n` characters that none match.
double bestSeconds(const RuleSet& rules, size_t n) {
  Event event;
  event.source = "syslog/tcp";
  event.host = "h";
  event.message = std::string(n, 'a') + std::string(n / 2, 'x') + "!";
  Decision decision;
  double best = 1e9;
  for (int i = 0; i < 5; ++i) {
    Event e = event;
    const auto start = std::chrono::steady_clock::now();
    rules.evaluate(e, decision);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    EXPECT_TRUE(e.type.empty()) << "no rule should match";
  }
  return best;
}

TEST(RegexBomb, Re2StaysLinearOnPathologicalPatterns) {
  auto rules = RuleSet::loadString(kBombs, "bombs.yaml");
  ASSERT_TRUE(rules) << rules.error().message();
  const double small = bestSeconds(**rules, 200000);
  const double large = bestSeconds(**rules, 400000);
  // A backtracking engine would not finish either in the age of the universe; linear doubles.
  // Generous bounds for a loaded machine: under 10 s, and less than 8x for 2x the input.
  EXPECT_LT(large, 10.0);
  EXPECT_LT(large, 8 * small + 0.01) << "small " << small << " s, large " << large << " s";
  std::printf("regex bombs: %.4f s for 200k, %.4f s for 400k characters (ratio %.2f)\n", small, large, large / small);
}

TEST(RegexBomb, PatternsRe2CannotBoundAreRefusedWithAPosition) {
  auto rules = RuleSet::loadString(R"(rules:
  - name: repetition-bomb
    match: {message: {regex: '((a{100}){100}){100}'}}
    set: {type: bomb}
)", "bombs.yaml");
  ASSERT_FALSE(rules);
  EXPECT_EQ(rules.error().message().rfind("bombs.yaml:", 0), 0u) << rules.error().message();
}

}  // namespace
}  // namespace vigil::rules
