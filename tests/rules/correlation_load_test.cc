// Correlation keys of a rule (threshold, pair, flapping, group, heartbeat, reopen_within,
// auto_close_after): what compiles, and the `file:line:col` errors for what does not.
#include <gtest/gtest.h>

#include "rules/correlation.h"
#include "tests/rules/test_util.h"

namespace vigil::rules {
namespace {

using testing::loadError;

const Correlation* correlationOf(const std::string& yaml) {
  static std::shared_ptr<const RuleSet> keep;
  auto set = RuleSet::loadString(yaml, "test.yaml");
  EXPECT_TRUE(set) << set.error().message();
  if (!set) return nullptr;
  keep = *set;
  return keep->rules().at(0).correlation.get();
}

TEST(CorrelationLoad, EachPrimitiveCompilesWithItsDescription) {
  const std::pair<std::string, std::string> cases[] = {
      {"threshold: {count: 3, window: 5m}", "threshold 3 in 5m"},
      {"pair: {timeout: 30m}", "pair timeout 30m then resolve"},
      {"pair: {timeout: 1h, on_timeout: escalate}", "pair timeout 1h then escalate"},
      {"flapping: {changes: 5, window: 10m, quiet: 15m}", "flapping 5 changes in 10m, quiet 15m"},
      {"flapping: {changes: 5, window: 10m}", "flapping 5 changes in 10m, quiet 10m"},
      {"group: {by: '{{labels.site}}', window: 2m}", "group by {{labels.site}} in 2m"},
      {"heartbeat: {every: 90s}", "heartbeat every 1m30s"},
  };
  for (const auto& [yaml, description] : cases) {
    const Correlation* c = correlationOf("rules:\n  - name: a\n    key: k\n    " + yaml + "\n");
    ASSERT_NE(c, nullptr) << yaml;
    EXPECT_EQ(c->description, description);
    EXPECT_EQ(c->rule, "a");
  }
}

TEST(CorrelationLoad, LifecycleHooksAloneNeedNoPrimitive) {
  const Correlation* c = correlationOf("rules:\n  - name: a\n    reopen_within: 10m\n    auto_close_after: 1d\n");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->primitive(), Primitive::kNone);
  EXPECT_EQ(c->spec.reopen_within, std::chrono::minutes(10));
  EXPECT_EQ(c->spec.auto_close_after, std::chrono::hours(24));
}

TEST(CorrelationLoad, TheSpecHashChangesWithTheParametersOnly) {
  const uint64_t a = correlationOf("rules:\n  - name: a\n    threshold: {count: 3, window: 5m}\n")->spec_hash;
  const uint64_t b = correlationOf("rules:\n  - name: a\n    title: x\n    threshold: {window: 300s, count: 3}\n")->spec_hash;
  const uint64_t c = correlationOf("rules:\n  - name: a\n    threshold: {count: 4, window: 5m}\n")->spec_hash;
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(CorrelationLoad, RulesWithoutCorrelationCarryNone) {
  EXPECT_EQ(correlationOf("rules:\n  - name: a\n    key: k\n"), nullptr);
}

struct ErrorCase {
  std::string yaml;
  std::string error;
};

TEST(CorrelationLoad, ErrorsNameFileLineAndColumn) {
  const ErrorCase cases[] = {
      {"rules:\n  - name: a\n    threshold: {count: 3, windw: 5m}\n",
       "test.yaml:3:16: 'threshold' needs 'window'\n"
       "test.yaml:3:27: unknown key 'windw' in threshold (expected one of: count, window)"},
      {"rules:\n  - name: a\n    threshold: {count: 1, window: 5m}\n",
       "test.yaml:3:24: count must be a whole number from 2 to 1000000"},
      {"rules:\n  - name: a\n    threshold: {count: 3, window: soon}\n",
       "test.yaml:3:35: window must be a positive duration such as 30s, 5m or 2h"},
      {"rules:\n  - name: a\n    threshold: 3\n",
       "test.yaml:3:16: 'threshold' must be a mapping"},
      {"rules:\n  - name: a\n    pair: {timeout: 30m, on_timeout: page}\n",
       "test.yaml:3:38: unknown on_timeout 'page' (expected resolve, stale or escalate)"},
      {"rules:\n  - name: a\n    threshold: {count: 3, window: 5m}\n    pair: {timeout: 1m}\n",
       "test.yaml:4:5: a rule has at most one correlation primitive ('pair' after 'threshold')"},
      {"rules:\n  - name: a\n    heartbeat: {every: 5m}\n",
       "test.yaml:3:5: a heartbeat needs a 'key' (what is expected to report)"},
      {"rules:\n  - name: a\n    action: drop\n    threshold: {count: 2, window: 1m}\n",
       "test.yaml:4:5: a rule with 'action: drop' cannot correlate"},
      {"rules:\n  - name: a\n    group: {by: '{{site}}', window: 1m}\n",
       "test.yaml:3:17: unknown name 'site' in template '{{site}}' (expected a capture of the "
       "rule's regexes, a field such as host or type, or labels.<name>)"},
      {"rules:\n  - name: a\n    reopen_within: 0s\n",
       "test.yaml:3:20: reopen_within must be a positive duration such as 30s, 5m or 2h"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(loadError(c.yaml), c.error) << c.yaml;
  }
}

}  // namespace
}  // namespace vigil::rules
