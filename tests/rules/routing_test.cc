// Rule language: bound-CI attributes in matches and templates, description, assign, annotate,
// urgency/priority with the impact × urgency matrix, and per-rule counters.
#include <gtest/gtest.h>

#include <string>

#include "tests/rules/test_util.h"

namespace vigil::rules {
namespace {

using testing::loadError;
using testing::makeEvent;
using testing::mustLoad;

cmdb::ConfigurationItem firewall() {
  cmdb::ConfigurationItem ci;
  ci.id = "fw-par1";
  ci.name = "Firewall PAR1";
  ci.ci_class = cmdb::CiClass::kFirewall;
  ci.labels.set("tier", "gold");
  ci.labels.set("site", "par1");
  ci.assignment_group = "network";
  ci.criticality = 1;
  ci.location = "PAR1 / hall A";
  return ci;
}

constexpr std::string_view kRouting = R"(
rules:
  - name: gold
    match:
      ci.class: firewall
      ci.labels.tier: gold
      ci.criticality: {le: 2}
      ci.location: {prefix: PAR1}
      message: {regex: 'sessions (?P<pct>\d+)%'}
    set: {state: problem, severity: minor, labels: {where: '{{ci.location}}'}}
    key: '{{ci}}/sessions'
    title: 'Sessions {{pct}}% on {{ci.name}}'
    description: '{{ci.class}} of {{ci.group}}, criticality {{ci.criticality}}'
    assign: 'security-{{ci.labels.site}}'
    annotate: {runbook: 'rb/{{pct}}', site: '{{ci.labels.site}}'}
    urgency: high
  - name: other
    match: {message: {regex: 'sessions'}}
    set: {state: problem, severity: major}
    key: '{{host}}/sessions'
)";

TEST(RuleRouting, MatchesAndRendersBoundCiAttributes) {
  auto set = mustLoad(kRouting);
  ASSERT_NE(set, nullptr);
  const auto ci = firewall();
  Event e = makeEvent({.host = "fw-par1", .ci = "fw-par1", .message = "sessions 93% used"});
  Decision d;
  set->evaluate(e, &ci, d);
  EXPECT_EQ(d.action, Action::kOpen);
  EXPECT_EQ(d.rule, "gold");
  EXPECT_EQ(d.key, "fw-par1/sessions");
  EXPECT_EQ(d.title, "Sessions 93% on Firewall PAR1");
  EXPECT_EQ(d.description, "firewall of network, criticality 1");
  EXPECT_EQ(d.assignment_group, "security-par1");
  ASSERT_EQ(d.annotation_count, 2u);
  EXPECT_EQ(d.annotations[0], (std::pair<std::string, std::string>{"runbook", "rb/93"}));
  EXPECT_EQ(d.annotations[1], (std::pair<std::string, std::string>{"site", "par1"}));
  EXPECT_EQ(d.priority, 1);  // criticality 1 × urgency high
  EXPECT_EQ(*e.labels.find("where"), "PAR1 / hall A");
  ASSERT_EQ(d.matched.size(), 1u);
  EXPECT_EQ(set->rules()[d.matched[0]].name, "gold");
}

TEST(RuleRouting, CiAttributesAreMissingWhenTheEventIsUnbound) {
  auto set = mustLoad(kRouting);
  ASSERT_NE(set, nullptr);
  Event e = makeEvent({.host = "x", .message = "sessions 93% used"});
  Decision d;
  set->evaluate(e, nullptr, d);
  EXPECT_EQ(d.rule, "other");
  EXPECT_EQ(d.assignment_group, "");
  EXPECT_EQ(d.annotation_count, 0u);
  EXPECT_EQ(d.priority, 0);  // no CI, no urgency: the engine derives it from severity

  auto ci = firewall();
  ci.ci_class = cmdb::CiClass::kSwitch;  // bound, but not a firewall
  d.reset();
  set->evaluate(e, &ci, d);
  EXPECT_EQ(d.rule, "other");
  EXPECT_EQ(d.priority, 1);  // impact 1 (criticality) × urgency high (severity major)
}

TEST(RuleRouting, PriorityComesFromTheMatrixUnlessARuleNamesIt) {
  auto set = mustLoad(R"(
rules:
  - name: low
    match: {type: a}
    set: {state: problem}
    urgency: low
  - name: fixed
    match: {type: b}
    set: {state: problem}
    urgency: low
    priority: P2
  - name: by-severity
    match: {type: c}
    set: {state: problem}
)");
  ASSERT_NE(set, nullptr);
  auto ci = firewall();
  Decision d;
  auto priorityOf = [&](std::string type, Severity severity, const cmdb::ConfigurationItem* bound) {
    Event e = makeEvent({.type = type, .severity = severity});
    set->evaluate(e, bound, d);
    return d.priority;
  };
  // The default matrix: rows by criticality, columns high/medium/low.
  EXPECT_EQ(priorityOf("a", Severity::kCritical, &ci), 3);
  EXPECT_EQ(priorityOf("a", Severity::kCritical, nullptr), 4);  // unbound: impact 3
  EXPECT_EQ(priorityOf("b", Severity::kInfo, &ci), 2);
  EXPECT_EQ(priorityOf("c", Severity::kCritical, &ci), 1);
  EXPECT_EQ(priorityOf("c", Severity::kWarning, &ci), 2);
  EXPECT_EQ(priorityOf("c", Severity::kInfo, &ci), 3);
  ci.criticality = 5;
  EXPECT_EQ(priorityOf("c", Severity::kCritical, &ci), 4);
  EXPECT_EQ(priorityOf("c", Severity::kInfo, &ci), 5);
  EXPECT_EQ(priorityOf("c", Severity::kCritical, nullptr), 0);
}

TEST(RuleRouting, AFileMayReplaceThePriorityMatrix) {
  auto set = mustLoad(R"(
priority_matrix:
  1: [P1, P1, P1]
  2: [P1, P2, P3]
  3: [P2, P3, P4]
  4: [P3, P4, P5]
  5: [P5, P5, P5]
rules:
  - name: r
    match: {type: a}
    set: {state: problem}
    urgency: low
)");
  ASSERT_NE(set, nullptr);
  auto ci = firewall();
  Event e = makeEvent({.type = "a"});
  Decision d;
  set->evaluate(e, &ci, d);
  EXPECT_EQ(d.priority, 1);
  EXPECT_EQ(set->priorityMatrix().priority(5, 0), 5);
}

TEST(RuleRouting, ErrorsPointAtTheProblem) {
  auto has = [](const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  };
  std::string e = loadError("rules:\n  - name: r\n    urgency: soon\n");
  EXPECT_TRUE(has(e, "test.yaml:3:14: unknown urgency 'soon' (expected high, medium or low)")) << e;
  e = loadError("rules:\n  - name: r\n    priority: P9\n");
  EXPECT_TRUE(has(e, "test.yaml:3:15: unknown priority 'P9'")) << e;
  e = loadError("rules:\n  - name: r\n    assign: '{{group}}'\n");
  EXPECT_TRUE(has(e, "test.yaml:3:13: unknown name 'group' in template '{{group}}'")) << e;
  e = loadError("rules:\n  - name: r\n    annotate: {x: '{{ci.colour}}'}\n");
  EXPECT_TRUE(has(e, "test.yaml:3:19: unknown name 'ci.colour'")) << e;
  e = loadError("rules:\n  - name: r\n    description: 'on {{hots}}'\n");
  EXPECT_TRUE(has(e, "test.yaml:3:18: unknown name 'hots'")) << e;
  e = loadError("rules:\n  - name: r\n    match: {ci.colour: red}\n");
  EXPECT_TRUE(has(e, "test.yaml:3:13: unknown field 'ci.colour'")) << e;
  EXPECT_TRUE(has(e, "ci.criticality")) << e;
  e = loadError("rules:\n  - name: r\n    asign: x\n");
  EXPECT_TRUE(has(e, "unknown key 'asign' (expected one of: name, description, match, set, key, title, urgency, "
                     "priority, assign, annotate, action, continue, threshold,")) << e;
  e = loadError("priority_matrix:\n  1: [P1, P2]\n  7: [P1, P1, P1]\nrules: []\n");
  EXPECT_TRUE(has(e, "test.yaml:2:6: expected three priorities")) << e;
  EXPECT_TRUE(has(e, "test.yaml:3:3: unknown criticality '7'")) << e;
  EXPECT_TRUE(has(e, "priority_matrix has no row for criticality 2")) << e;
  e = loadError("priority_matrix:\n  1: [P1, P2, X]\n  2: [P1, P2, P3]\n  3: [P1, P2, P3]\n  4: [P1, P2, P3]\n  5: [P1, P2, P3]\n");
  EXPECT_TRUE(has(e, "test.yaml:2:15: expected a priority P1..P5")) << e;
}

TEST(RuleCounters, CountEvaluationsAndMatchesPerRule) {
  auto set = mustLoad(R"(
rules:
  - name: a
    match: {message: {regex: 'alpha'}}
    set: {state: problem}
    continue: true
  - name: b
    match: {host: {prefix: sw}}
    set: {state: problem}
)");
  ASSERT_NE(set, nullptr);
  Decision d;
  for (const char* message : {"alpha", "beta", "alpha beta"}) {
    Event e = makeEvent({.host = "sw1", .message = message});
    set->evaluate(e, d);
  }
  Event other = makeEvent({.host = "r1", .message = "gamma"});
  set->evaluate(other, d);
  // "a" is gated by its regex: tried only when the message matches it.
  EXPECT_EQ(set->counters(0).evaluations.load(), 2u);
  EXPECT_EQ(set->counters(0).matches.load(), 2u);
  EXPECT_EQ(set->counters(1).evaluations.load(), 4u);
  EXPECT_EQ(set->counters(1).matches.load(), 3u);
}

TEST(EvaluationTiming, SamplesOneEvaluationInSixtyFour) {
  auto set = mustLoad("rules:\n  - name: a\n    match: {host: x}\n");
  ASSERT_NE(set, nullptr);
  Decision d;
  Event e = makeEvent({.host = "y"});
  for (uint32_t i = 0; i < EvaluationTiming::kSampleEvery * 10; ++i) set->evaluate(e, d);
  uint64_t samples = 0;
  for (const auto& b : set->timing().buckets) samples += b.load();
  EXPECT_EQ(samples, 10u);
}

}  // namespace
}  // namespace vigil::rules
