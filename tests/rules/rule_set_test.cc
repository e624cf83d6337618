// RuleSet::evaluate(): table-driven, one inline rule file plus one event per case.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/rules/test_util.h"

namespace vigil::rules {
namespace {

using testing::EventSpec;
using testing::makeEvent;
using testing::mustLoad;

struct Case {
  std::string name;
  std::string yaml;
  EventSpec event;
  Action action = Action::kNone;
  std::string key;
  std::string title;
  std::string rule;
  // Optional checks on the event after evaluation.
  std::optional<std::string> type = std::nullopt;
  std::optional<Severity> severity = std::nullopt;
  std::vector<std::pair<std::string, std::optional<std::string>>> labels = {};
};

// A rule that opens an incident keyed "hit" when `match` (a flow mapping) holds.
std::string openWhen(const std::string& match) {
  return "rules:\n  - name: r\n    match: " + match +
         "\n    set: {state: problem}\n    key: hit\n    title: t\n";
}

const Case kHit{.action = Action::kOpen, .key = "hit", .title = "t", .rule = "r"};

Case hit(std::string name, std::string match, EventSpec event) {
  Case c = kHit;
  c.name = std::move(name);
  c.yaml = openWhen(match);
  c.event = std::move(event);
  return c;
}

Case miss(std::string name, std::string match, EventSpec event) {
  Case c{.name = std::move(name), .yaml = openWhen(match), .event = std::move(event)};
  return c;
}

std::vector<Case> operatorCases() {
  return {
      hit("scalar equals", "{host: sw1}", {.host = "sw1"}),
      miss("scalar equals is exact", "{host: sw1}", {.host = "sw10"}),
      hit("explicit equals", "{type: {equals: bgp}}", {.type = "bgp"}),
      hit("in", "{type: {in: [bgp, ospf]}}", {.type = "ospf"}),
      miss("in misses", "{type: {in: [bgp, ospf]}}", {.type = "isis"}),
      hit("list shorthand is in", "{type: [bgp, ospf]}", {.type = "bgp"}),
      hit("prefix", "{source: {prefix: syslog}}", {.source = "syslog/tcp"}),
      miss("prefix misses", "{source: {prefix: syslog}}", {.source = "kafka/alerts"}),
      hit("regex is unanchored", "{message: {regex: 'fan \\d+ failed'}}",
          {.message = "chassis: fan 2 failed"}),
      miss("regex misses", "{message: {regex: '^fan'}}", {.message = "chassis: fan 2 failed"}),
      hit("regex with flags", "{message: {regex: '(?i)LINK DOWN'}}", {.message = "link down"}),
      hit("label equals", "{labels.app: sshd}", {.labels = {{"app", "sshd"}}}),
      miss("missing label never equals", "{labels.app: ''}", {}),
      miss("missing label never matches regex", "{labels.app: {regex: '.*'}}", {}),
      hit("exists true", "{labels.app: {exists: true}}", {.labels = {{"app", ""}}}),
      hit("exists false", "{labels.app: {exists: false}}", {}),
      miss("exists false on present", "{labels.app: {exists: false}}", {.labels = {{"app", "x"}}}),
      hit("empty field does not exist", "{type: {exists: false}}", {.type = ""}),
      hit("state exists", "{state: {exists: true}}", {.state = EventState::kOk}),
      hit("gt number", "{labels.util: {gt: 90}}", {.labels = {{"util", "95.5"}}}),
      miss("gt number equal", "{labels.util: {gt: 90}}", {.labels = {{"util", "90"}}}),
      hit("ge number", "{labels.util: {ge: 90}}", {.labels = {{"util", "90"}}}),
      hit("lt number", "{labels.util: {lt: -1.5}}", {.labels = {{"util", "-2"}}}),
      hit("le number", "{labels.util: {le: 10}}", {.labels = {{"util", "10"}}}),
      miss("non-number never compares", "{labels.util: {lt: 10}}", {.labels = {{"util", "n/a"}}}),
      hit("range", "{labels.util: {ge: 10, lt: 20}}", {.labels = {{"util", "15"}}}),
      miss("range misses", "{labels.util: {ge: 10, lt: 20}}", {.labels = {{"util", "20"}}}),
      hit("severity equals", "{severity: major}", {.severity = Severity::kMajor}),
      hit("severity synonym", "{severity: error}", {.severity = Severity::kMajor}),
      hit("severity in", "{severity: [critical, major]}", {.severity = Severity::kCritical}),
      hit("severity ge major", "{severity: {ge: major}}", {.severity = Severity::kCritical}),
      miss("severity ge major misses minor", "{severity: {ge: major}}",
           {.severity = Severity::kMinor}),
      hit("severity le major", "{severity: {le: major}}", {.severity = Severity::kWarning}),
      miss("severity le major misses critical", "{severity: {le: major}}",
           {.severity = Severity::kCritical}),
      hit("severity gt warning", "{severity: {gt: warning}}", {.severity = Severity::kMinor}),
      hit("severity lt warning", "{severity: {lt: warning}}", {.severity = Severity::kInfo}),
      hit("severity prefix", "{severity: {prefix: maj}}", {.severity = Severity::kMajor}),
      hit("state equals", "{state: ok}", {.state = EventState::kOk}),
      hit("state none", "{state: none}", {}),
      hit("state in", "{state: [problem, ok]}", {.state = EventState::kProblem}),
      hit("ci equals", "{ci: 'CI-42'}", {.ci = "CI-42"}),
      hit("any", "{any: [{host: a}, {host: sw1}]}", {.host = "sw1"}),
      miss("any misses", "{any: [{host: a}, {host: b}]}", {.host = "sw1"}),
      hit("all", "{all: [{host: sw1}, {type: bgp}]}", {.host = "sw1", .type = "bgp"}),
      miss("all misses", "{all: [{host: sw1}, {type: bgp}]}", {.host = "sw1", .type = "x"}),
      hit("not", "{not: {host: a}}", {.host = "sw1"}),
      miss("not misses", "{not: {host: sw1}}", {.host = "sw1"}),
      hit("not of a missing label", "{not: {labels.app: x}}", {}),
      hit("conditions and together", "{host: sw1, type: bgp, labels.app: rpd}",
          {.host = "sw1", .type = "bgp", .labels = {{"app", "rpd"}}}),
      miss("one false condition", "{host: sw1, type: bgp, labels.app: rpd}",
           {.host = "sw1", .type = "bgp", .labels = {{"app", "bgpd"}}}),
      hit("nested", "{any: [{all: [{host: sw1}, {not: {type: x}}]}, {host: b}]}", {.host = "sw1"}),
  };
}

std::vector<Case> behaviourCases() {
  const std::string link = R"(
rules:
  - name: link-down
    match:
      message: {regex: 'Interface (?P<interface>[^,]+), changed state to (?P<to>down|up)'}
    set:
      type: link
      state: problem
      severity: major
      labels: {interface: '{{interface}}', summary: '{{type}} {{to}} {{labels.app}} {{severity}}'}
    key: '{{host}}/link/{{interface}}'
    title: 'Link down on {{host}} {{interface}}'
)";
  const std::string chain = R"(
rules:
  - name: tag-app
    match: {labels.app: rpd}
    set: {type: bgp, labels: {team: routing, tmp: null}}
    key: '{{host}}/bgp'
    continue: true
  - name: other-app
    match: {labels.app: sshd}
    set: {type: auth}
  - name: bgp-down
    match: {type: bgp, message: {prefix: 'peer down'}}
    set: {state: problem}
    title: 'BGP down on {{host}}'
)";
  const std::string drop = R"(
rules:
  - name: normalise
    match: {source: {prefix: syslog}}
    set: {labels: {seen: 'yes'}}
    key: k
    continue: true
  - name: noise
    match: {message: {regex: 'keepalive'}}
    action: drop
  - name: later
    match: {host: sw1}
    set: {state: problem}
)";
  const std::string order = R"(
rules:
  - name: first
    match: {host: sw1}
    set: {state: problem}
    key: first
  - name: second
    match: {host: sw1}
    set: {state: ok}
    key: second
)";
  return {
      {.name = "regex captures, fields and labels in templates",
       .yaml = link,
       .event = {.host = "r1", .message = "%LINK-3-UPDOWN: Interface Gi0/1, changed state to down",
                 .labels = {{"app", "ios"}}},
       .action = Action::kOpen,
       .key = "r1/link/Gi0/1",
       .title = "Link down on r1 Gi0/1",
       .rule = "link-down",
       .type = "link",
       .severity = Severity::kMajor,
       .labels = {{"interface", "Gi0/1"}, {"summary", "link down ios major"}}},
      {.name = "continue: later rules see the modified event",
       .yaml = chain,
       .event = {.host = "r2", .message = "peer down 10.0.0.1",
                 .labels = {{"app", "rpd"}, {"tmp", "1"}}},
       .action = Action::kOpen,
       .key = "r2/bgp",
       .title = "BGP down on r2",
       .rule = "bgp-down",
       .type = "bgp",
       .labels = {{"team", "routing"}, {"tmp", std::nullopt}}},
      {.name = "continue without a later match: default step",
       .yaml = chain,
       .event = {.host = "r2", .state = EventState::kOk, .message = "peer up",
                 .labels = {{"app", "rpd"}}},
       .action = Action::kResolve,
       .key = "r2/bgp",
       .title = "bgp problem on r2",
       .rule = "tag-app"},
      {.name = "a rule without continue stops evaluation",
       .yaml = chain,
       .event = {.type = "bgp", .message = "peer down", .labels = {{"app", "sshd"}}},
       .rule = "other-app",
       .type = "auth"},
      {.name = "drop",
       .yaml = drop,
       .event = {.state = EventState::kProblem, .message = "keepalive lost"},
       .action = Action::kDrop,
       .rule = "noise",
       .labels = {{"seen", "yes"}}},
      {.name = "no drop",
       .yaml = drop,
       .event = {.message = "fan failed"},
       .action = Action::kOpen,
       .key = "k",
       .title = "fan failed",
       .rule = "later"},
      {.name = "first matching rule wins",
       .yaml = order,
       .event = {},
       .action = Action::kOpen,
       .key = "first",
       .title = "event on sw1",
       .rule = "first"},
      {.name = "default step: problem opens under host/type",
       .yaml = order,
       .event = {.host = "db1", .type = "disk", .state = EventState::kProblem},
       .action = Action::kOpen,
       .key = "db1/disk",
       .title = "disk problem on db1"},
      {.name = "default step: ok resolves, empty type is 'event', title is the message",
       .yaml = order,
       .event = {.host = "db1", .state = EventState::kOk, .message = "all good"},
       .action = Action::kResolve,
       .key = "db1/event",
       .title = "all good"},
      {.name = "default step: ci when there is no host",
       .yaml = order,
       .event = {.host = "", .ci = "CI-7", .type = "disk", .state = EventState::kProblem},
       .action = Action::kOpen,
       .key = "CI-7/disk",
       .title = "disk problem on CI-7"},
      {.name = "default step: no state, no incident",
       .yaml = order,
       .event = {.host = "db1", .type = "disk"}},
      {.name = "empty rule file",
       .yaml = "rules: []\n",
       .event = {.host = "h", .state = EventState::kProblem},
       .action = Action::kOpen,
       .key = "h/event",
       .title = "event on h"},
  };
}

void runCase(const Case& c) {
  SCOPED_TRACE(c.name);
  auto set = mustLoad(c.yaml);
  ASSERT_NE(set, nullptr);
  Event event = makeEvent(c.event);
  Decision decision;
  decision.key = "stale";  // evaluate() must reset a reused decision
  decision.rule = "stale";
  set->evaluate(event, decision);
  EXPECT_EQ(decision.action, c.action);
  EXPECT_EQ(decision.key, c.key);
  EXPECT_EQ(decision.title, c.title);
  EXPECT_EQ(decision.rule, c.rule);
  if (c.type) {
    EXPECT_EQ(event.type, *c.type);
  }
  if (c.severity) {
    EXPECT_EQ(event.severity, *c.severity);
  }
  for (const auto& [name, value] : c.labels) {
    const std::string* got = event.labels.find(name);
    if (value) {
      ASSERT_NE(got, nullptr) << "label " << name;
      EXPECT_EQ(*got, *value) << "label " << name;
    } else {
      EXPECT_EQ(got, nullptr) << "label " << name;
    }
  }
}

TEST(RuleSetEvaluate, EveryOperator) {
  for (const Case& c : operatorCases()) runCase(c);
}

TEST(RuleSetEvaluate, SetContinueDropAndDefaultStep) {
  for (const Case& c : behaviourCases()) runCase(c);
}

// The capture is read from its regex group whatever the group's number, up to the limit: regexes
// with few groups and with many are matched into differently sized arrays.
TEST(RuleSetEvaluate, CapturesFromAnyGroupUpToTheLimit) {
  const std::string message = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?";
  for (int group : {1, 7, 8, 9, 63}) {
    SCOPED_TRACE(group);
    std::string regex;
    for (int g = 1; g < group; ++g) regex += "(.)";
    regex += "(?P<x>.)";
    auto set = mustLoad("rules:\n  - name: r\n    match: {message: {regex: '" + regex +
                        "'}}\n    set: {state: problem}\n    key: '{{x}}'\n");
    ASSERT_NE(set, nullptr);
    Event e = makeEvent({.message = message});
    Decision d;
    set->evaluate(e, d);
    EXPECT_EQ(d.key, message.substr(static_cast<size_t>(group - 1), 1));
  }
}

}  // namespace
}  // namespace vigil::rules
