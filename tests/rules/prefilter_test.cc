// The prefilter must never change the outcome: rule order is kept across its lists (regex-gated,
// by type, always), and a type changed by a `continue` rule is looked up again.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <re2/re2.h>

#include "rules/matcher.h"
#include "tests/rules/test_util.h"

namespace vigil::rules {
namespace {

using testing::makeEvent;
using testing::mustLoad;

// Rule i: gated by a message regex (i % 3 == 0), indexed by type (i % 3 == 1) or always
// (i % 3 == 2).
std::string mixedRules(int n) {
  std::string yaml = "rules:\n";
  for (int i = 0; i < n; ++i) {
    const std::string id = std::to_string(i);
    yaml += "  - name: r" + id + "\n    match: ";
    switch (i % 3) {
      case 0: yaml += "{message: {regex: 'code=" + id + "\\b'}}"; break;
      case 1: yaml += "{type: t" + id + "}"; break;
      case 2: yaml += "{labels.code: {in: ['" + id + "']}}"; break;
    }
    yaml += "\n    set: {state: problem}\n    key: k" + id + "\n";
  }
  return yaml;
}

TEST(Prefilter, DistributesRulesOverItsLists) {
  auto set = mustLoad(mixedRules(9));
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->prefilter().gatedCount(), 3u);
  EXPECT_EQ(set->prefilter().indexedCount(), 3u);
  EXPECT_EQ(set->prefilter().alwaysCount(), 3u);
}

TEST(Prefilter, KeepsRuleOrderAcrossLists) {
  auto set = mustLoad(mixedRules(200));
  ASSERT_NE(set, nullptr);
  Decision d;
  for (int i = 0; i < 200; ++i) {
    SCOPED_TRACE(i);
    // An event that satisfies rule i and every later rule of the other two kinds.
    const int gated = i % 3 == 0 ? i : (i / 3 + 1) * 3;
    const int typed = i % 3 == 1 ? i : (i % 3 == 0 ? i + 1 : i + 2);
    const int always = i % 3 == 2 ? i : (i % 3 == 0 ? i + 2 : i + 1);
    Event e = makeEvent({.type = "t" + std::to_string(typed),
                         .message = "x code=" + std::to_string(gated) + " y",
                         .labels = {{"code", std::to_string(always)}}});
    set->evaluate(e, d);
    EXPECT_EQ(d.rule, "r" + std::to_string(i));
    EXPECT_EQ(d.key, "k" + std::to_string(i));
  }
  Event none = makeEvent({.type = "t0", .message = "code=1000", .labels = {{"code", "1"}}});
  set->evaluate(none, d);
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_EQ(d.rule, "");
}

// Regexes anchored with a literal are only run on messages that begin with it: a gated rule must
// still be tried exactly when its regex matches, whatever literals nest or are missing, except that
// the one regex of a literal is tried on every message beginning with it (no set pass first).
TEST(Prefilter, TriesAGatedRuleExactlyWhenItsRegexMatches) {
  const std::vector<std::string> patterns = {
      "^ab", "^abc", "^abc(?P<x>d+)", "^abd", "^b", "^", "ab", "(?i)^AB", "^ab|zz", "^a\\.b",
      "^a.b", "^(ab)", "^abc*", "^é", "^$", "^abcd$", "^abx", "x$", "^b[a]",
  };
  std::string yaml = "rules:\n";
  for (size_t i = 0; i < patterns.size(); ++i) {
    yaml += "  - name: r" + std::to_string(i) + "\n    match: {message: {regex: '" + patterns[i] +
            "'}}\n    set: {labels: {r" + std::to_string(i) + ": 'y'}}\n    continue: true\n";
  }
  auto set = mustLoad(yaml);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->prefilter().gatedCount(), patterns.size());
  // a, a.b, ab (twice), abc (twice), abcd, abd, abx, b (twice)
  EXPECT_EQ(set->prefilter().prefixGroupCount(), 8u);
  const std::vector<std::string> texts = {
      "", "a", "ab", "abc", "abcd", "abcdd", "abd", "abx", "abxy", "b", "ba", "bb", "xab", "AB", "Abc",
      "zz", "a.b", "axb", "é", "éa", "ab\nab", "abcccd", "aa", "ac", "abb", "x", "bx", "abcx", "\xff",
  };
  for (const auto& text : texts) {
    SCOPED_TRACE(text);
    std::vector<uint64_t> before;
    for (size_t i = 0; i < patterns.size(); ++i) before.push_back(set->counters(i).evaluations.load());
    Event e = makeEvent({.message = text});
    Decision d;
    set->evaluate(e, d);
    for (size_t i = 0; i < patterns.size(); ++i) {
      const bool matches = RE2::PartialMatch(text, RE2(patterns[i]));
      const std::string literal = anchoredLiteralPrefix(patterns[i]);
      const bool alone = !literal.empty() && std::count_if(patterns.begin(), patterns.end(), [&](const auto& p) {
                                                return anchoredLiteralPrefix(p) == literal;
                                              }) == 1;
      const bool tried = matches || (alone && text.starts_with(literal));
      EXPECT_EQ(set->counters(i).evaluations.load() - before[i], tried ? 1u : 0u) << patterns[i];
      EXPECT_EQ(e.labels.find("r" + std::to_string(i)) != nullptr, matches) << patterns[i];
    }
  }
}

// Random rule sets (regexes anchored with nested or shared literals, unanchored ones, alternations,
// typed and label rules, `any` of several regexes) and random events: the rules that match through
// the prefilter are exactly those whose match holds when every rule is tried in order.
void expectSameMatchesAsTryingEveryRule(const std::vector<std::string>& literals, uint32_t seed) {
  // Some look back at the literal before them (\b, \B, \A, a multi-line ^).
  const std::vector<std::string> tails = {"", "$", "(?P<x>[ab]+)", "c", "[bc]d", ".", "(b|c)$", "x*y",
                                          "(?P<y>\\S+) z", "\\b", "\\Bc", "(\\b|x)", "\\A", "(?m)^c",
                                          "[^a]", "b*\\b"};
  const std::string alphabet = "abcdxyz. \n";
  std::mt19937 random(seed);
  auto pick = [&](const auto& items) { return items[random() % items.size()]; };
  auto regex = [&] {
    switch (random() % 6) {
      case 0: return pick(tails) + pick(literals);           // unanchored
      case 1: return "^" + pick(literals) + "|" + pick(literals);  // top-level alternation
      default: return "^" + pick(literals) + pick(tails);    // anchored with a literal
    }
  };
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE(round);
    const int n = 2 + static_cast<int>(random() % 14);
    std::string yaml = "rules:\n";
    for (int i = 0; i < n; ++i) {
      yaml += "  - name: r" + std::to_string(i) + "\n    match: ";
      switch (random() % 5) {
        case 0: yaml += "{type: t" + std::to_string(random() % 3) + "}"; break;
        case 1: yaml += "{labels.k: {in: [v" + std::to_string(random() % 3) + "]}}"; break;
        case 2:
          yaml += "{any: [{message: {regex: '" + regex() + "'}}, {message: {regex: '" + regex() + "'}}]}";
          break;
        default: yaml += "{message: {regex: '" + regex() + "'}}"; break;
      }
      yaml += "\n    set: {labels: {r" + std::to_string(i) + ": 'y'}}\n    continue: true\n";
    }
    auto set = mustLoad(yaml);
    ASSERT_NE(set, nullptr) << yaml;
    for (int e = 0; e < 300; ++e) {
      std::string message;
      for (size_t len = random() % 8; len > 0; --len) message += alphabet[random() % alphabet.size()];
      if (random() % 2 == 0) message = pick(literals) + message;
      Event event = makeEvent({.type = "t" + std::to_string(random() % 4), .message = message,
                               .labels = {{"k", "v" + std::to_string(random() % 4)}}});
      std::set<std::string> expected;
      for (size_t i = 0; i < set->size(); ++i) {
        MatchContext ctx;
        if (set->rules()[i].match.matches(event, ctx)) expected.insert("r" + std::to_string(i));
      }
      Decision d;
      set->evaluate(event, d);
      std::set<std::string> matched;
      for (size_t i = 0; i < set->size(); ++i) {
        if (event.labels.find("r" + std::to_string(i)) != nullptr) matched.insert("r" + std::to_string(i));
      }
      EXPECT_EQ(matched, expected) << "message '" << message << "' in\n" << yaml;
    }
  }
}

TEST(Prefilter, MatchesWhatTryingEveryRuleMatches) {
  expectSameMatchesAsTryingEveryRule({"a", "ab", "abc", "abd", "b", "ba", "a.b", "c"}, 20261123);
}

// Literals of eight bytes and more that share their first eight (the prefilter's search compares
// those bytes as one number first), and shorter ones that begin them.
TEST(Prefilter, MatchesWhatTryingEveryRuleMatchesWithLiteralsSharingTheirFirstEightBytes) {
  expectSameMatchesAsTryingEveryRule({"%LINK-3-", "%LINK-3-a", "%LINK-3-ab", "%LINK-3-b", "%LINK-3", "%LINK-",
                                      "%LINK-4-a", "%LINK-3-abc.d", "c"},
                                     20261124);
}

TEST(Prefilter, AnyOfMessageRegexesGatesARule) {
  auto set = mustLoad(R"(
rules:
  - name: either
    match:
      any:
        - message: {regex: 'alpha'}
        - all: [{labels.x: '1'}, {message: {regex: 'beta'}}]
    set: {state: problem}
)");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->prefilter().gatedCount(), 1u);
  Decision d;
  Event a = makeEvent({.message = "alpha"});
  set->evaluate(a, d);
  EXPECT_EQ(d.rule, "either");
  Event b = makeEvent({.message = "beta", .labels = {{"x", "1"}}});
  set->evaluate(b, d);
  EXPECT_EQ(d.rule, "either");
  Event c = makeEvent({.message = "beta"});
  set->evaluate(c, d);
  EXPECT_EQ(d.rule, "");
}

TEST(Prefilter, LooksTheTypeUpAgainAfterAContinueRuleChangesIt) {
  auto set = mustLoad(R"(
rules:
  - name: classify
    match: {message: {regex: 'BGP'}}
    set: {type: bgp}
    continue: true
  - name: before
    match: {type: bgp, host: nobody}
  - name: bgp
    match: {type: bgp}
    set: {state: problem}
)");
  ASSERT_NE(set, nullptr);
  Decision d;
  Event e = makeEvent({.message = "BGP peer down"});
  set->evaluate(e, d);
  EXPECT_EQ(d.action, Action::kOpen);
  EXPECT_EQ(d.rule, "bgp");
  EXPECT_EQ(d.key, "sw1/bgp");
}

TEST(Prefilter, LooksLabelsUpAgainAfterAContinueRuleSetsThem) {
  auto set = mustLoad(R"(
rules:
  - name: tag
    match: {host: {prefix: core-}}
    set: {labels: {tier: core}}
    continue: true
  - name: core
    match: {labels.tier: core, source: {prefix: syslog}}
    set: {state: problem}
)");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->prefilter().indexedCount(), 1u);
  Decision d;
  Event e = makeEvent({.host = "core-1"});
  set->evaluate(e, d);
  EXPECT_EQ(d.rule, "core");
  Event other = makeEvent({.host = "edge-1", .labels = {{"tier", "core"}}});
  set->evaluate(other, d);
  EXPECT_EQ(d.rule, "core");
}

TEST(RuleSet, ReusedDecisionIsResetOnNoMatch) {
  auto set = mustLoad("rules:\n  - name: a\n    match: {host: x}\n    action: drop\n");
  ASSERT_NE(set, nullptr);
  Decision d;
  Event x = makeEvent({.host = "x"});
  set->evaluate(x, d);
  EXPECT_EQ(d.action, Action::kDrop);
  Event y = makeEvent({.host = "y"});
  set->evaluate(y, d);
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_EQ(d.rule, "");
}

TEST(RuleSet, VersionIsAContentHash) {
  auto a = mustLoad("rules:\n  - name: a\n");
  auto b = mustLoad("rules:\n  - name: a\n");
  auto c = mustLoad("rules:\n  - name: b\n");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->version().size(), 16u);
  EXPECT_EQ(a->version(), b->version());
  EXPECT_NE(a->version(), c->version());
  EXPECT_EQ(a->size(), 1u);
}

TEST(RuleSet, EvaluatesConcurrently) {
  auto set = mustLoad(mixedRules(60));
  ASSERT_NE(set, nullptr);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Decision d;
      for (int n = 0; n < 2000; ++n) {
        const int i = (n * 3) % 60;  // gated rules
        Event e = makeEvent({.message = "code=" + std::to_string(i)});
        set->evaluate(e, d);
        failures[t] += d.rule != "r" + std::to_string(i);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace vigil::rules
