// Every load error names `file:line:col` and what is wrong; a file with several problems reports
// all of them in one pass, in file order.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/rules/test_util.h"

namespace vigil::rules {
namespace {

using testing::loadError;

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string error;  // the whole message
};

std::vector<ErrorCase> errorCases() {
  return {
      {"unknown top-level key", "rule:\n  - name: a\n",
       "test.yaml:1:1: unknown key 'rule' (expected: rules, priority_matrix)"},
      {"unknown rule key", "rules:\n  - name: a\n    mtach: {host: x}\n",
       "test.yaml:3:5: unknown key 'mtach' (expected one of: name, description, match, set, key, "
       "title, urgency, priority, assign, annotate, action, continue, threshold, pair, flapping, group, "
       "heartbeat, reopen_within, auto_close_after)"},
      {"unknown field", "rules:\n  - name: a\n    match:\n      hostname: x\n",
       "test.yaml:4:7: unknown field 'hostname' (expected one of: source, host, ci, type, state, "
       "severity, message, labels.<name>, ci.name, ci.class, ci.criticality, ci.location, ci.group, "
       "ci.labels.<name>, any, all, not)"},
      {"unknown operator", "rules:\n  - name: a\n    match:\n      host: {startswith: x}\n",
       "test.yaml:4:14: unknown operator 'startswith' (expected one of: equals, in, prefix, regex, "
       "exists, gt, lt, ge, le)"},
      {"unknown set key", "rules:\n  - name: a\n    set: {tpye: x}\n",
       "test.yaml:3:11: unknown key 'tpye' in set (expected one of: type, state, severity, host, "
       "ci, labels)"},
      {"bad regex", "rules:\n  - name: a\n    match:\n      message: {regex: 'a(b'}\n",
       "test.yaml:4:24: invalid regex 'a(b': missing ): a(b"},
      {"unknown template name", "rules:\n  - name: a\n    key: '{{host}}/{{iface}}'\n",
       "test.yaml:3:10: unknown name 'iface' in template '{{host}}/{{iface}}' (expected a capture "
       "of the rule's regexes, a field such as host or type, or labels.<name>)"},
      {"unknown name in a set label",
       "rules:\n  - name: a\n    set:\n      labels: {x: '{{nope}}'}\n",
       "test.yaml:4:19: unknown name 'nope' in template '{{nope}}' (expected a capture of the "
       "rule's regexes, a field such as host or type, or labels.<name>)"},
      {"unterminated template", "rules:\n  - name: a\n    title: 'down {{host'\n",
       "test.yaml:3:12: unterminated '{{' in template 'down {{host'"},
      {"duplicate rule name", "rules:\n  - name: a\n  - name: b\n  - name: a\n",
       "test.yaml:4:11: duplicate rule name 'a' (first defined at test.yaml:2:11)"},
      {"bad severity in set", "rules:\n  - name: a\n    set: {severity: urgent}\n",
       "test.yaml:3:21: unknown severity 'urgent' (expected critical, major, minor, warning or "
       "info)"},
      {"bad severity in match", "rules:\n  - name: a\n    match: {severity: {ge: huge}}\n",
       "test.yaml:3:28: unknown severity 'huge' (expected critical, major, minor, warning or info)"},
      {"bad state", "rules:\n  - name: a\n    set: {state: down}\n",
       "test.yaml:3:18: unknown state 'down' (expected problem, ok or none)"},
      {"number expected", "rules:\n  - name: a\n    match: {labels.n: {gt: ten}}\n",
       "test.yaml:3:28: expected a number, got 'ten'"},
      {"state is not ordered", "rules:\n  - name: a\n    match: {state: {gt: ok}}\n",
       "test.yaml:3:21: state cannot be compared with gt/lt/ge/le; use equals or in"},
      {"bad action", "rules:\n  - name: a\n    action: ignore\n",
       "test.yaml:3:13: unknown action 'ignore' (expected: drop)"},
      {"bad continue", "rules:\n  - name: a\n    continue: maybe\n",
       "test.yaml:3:15: continue must be true or false"},
      {"missing name", "rules:\n  - match: {host: x}\n",
       "test.yaml:2:5: rule has no name"},
      {"bad name", "rules:\n  - name: 'a b'\n",
       "test.yaml:2:11: invalid rule name 'a b' (use letters, digits, '-', '_' and '.')"},
      {"empty any", "rules:\n  - name: a\n    match: {any: []}\n",
       "test.yaml:3:18: 'any' must be a non-empty list of conditions"},
      {"rules not a list", "rules: {name: a}\n",
       "test.yaml:1:8: 'rules' must be a list of rules"},
      {"yaml syntax", "rules:\n  - name: a\n    match: {host: [x}\n",
       "test.yaml:3:21: illegal flow end"},
  };
}

TEST(RuleSetLoad, ReportsEachErrorWithItsPosition) {
  for (const ErrorCase& c : errorCases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(loadError(c.yaml), c.error);
  }
}

TEST(RuleSetLoad, ReportsAllErrorsInFileOrder) {
  const std::string yaml = R"(rules:
  - name: a
    match:
      message: {regex: '(?P<x'}
    key: '{{y}}'
  - name: a
    set: {severity: high-ish}
)";
  EXPECT_EQ(loadError(yaml),
            "test.yaml:4:24: invalid regex '(?P<x': invalid named capture group: (?P<x\n"
            "test.yaml:5:10: unknown name 'y' in template '{{y}}' (expected a capture of the "
            "rule's regexes, a field such as host or type, or labels.<name>)\n"
            "test.yaml:6:11: duplicate rule name 'a' (first defined at test.yaml:2:11)\n"
            "test.yaml:7:21: unknown severity 'high-ish' (expected critical, major, minor, "
            "warning or info)");
}

TEST(RuleSetLoad, CapturesAreKnownTemplateNames) {
  EXPECT_EQ(loadError(R"(rules:
  - name: a
    match:
      any:
        - message: {regex: 'if (?P<interface>\S+)'}
        - labels.interface: {exists: true}
    key: '{{interface}}/{{labels.other}}/{{ host }}'
)"),
            "");
}

class RuleFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-rules-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "rules.d");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::filesystem::path dir_;
};

TEST_F(RuleFiles, LoadsGlobsInSortedOrderRelativeToBaseDir) {
  write("rules.d/20-b.yaml", "rules:\n  - name: b\n    set: {state: problem}\n    key: b\n");
  write("rules.d/10-a.yaml", "rules:\n  - name: a\n    set: {state: problem}\n    key: a\n    continue: true\n");
  write("rules.d/notes.txt", "not yaml: [");
  auto set = RuleSet::loadFiles({"rules.d/*.yaml"}, dir_.string());
  ASSERT_TRUE(set) << set.error().message();
  ASSERT_EQ((*set)->size(), 2u);
  EXPECT_EQ((*set)->rules()[0].name, "a");
  EXPECT_EQ((*set)->files().size(), 2u);
  Event e;
  Decision d;
  (*set)->evaluate(e, d);
  EXPECT_EQ(d.key, "b");
  EXPECT_EQ(d.rule, "b");
}

TEST_F(RuleFiles, ReportsErrorsOfEveryFileAndDuplicatesAcrossFiles) {
  write("rules.d/10-a.yaml", "rules:\n  - name: same\n    bogus: 1\n");
  write("rules.d/20-b.yaml", "rules:\n  - name: ok\n  - name: ok2\n    set: {state: maybe}\n");
  write("rules.d/30-c.yaml", "rules:\n  - name: same\n  - name: ok\n");
  auto set = RuleSet::loadFiles({"rules.d/*.yaml"}, dir_.string());
  ASSERT_FALSE(set);
  const std::string d = (dir_ / "rules.d").string();
  EXPECT_EQ(set.error().message(),
            d + "/10-a.yaml:3:5: unknown key 'bogus' (expected one of: name, description, match, "
                "set, key, title, urgency, priority, assign, annotate, action, continue, threshold, pair, "
                "flapping, group, heartbeat, reopen_within, auto_close_after)\n" +
                d + "/20-b.yaml:4:18: unknown state 'maybe' (expected problem, ok or none)\n" +
                d + "/30-c.yaml:3:11: duplicate rule name 'ok' (first defined at " + d +
                "/20-b.yaml:2:11)");
}

TEST_F(RuleFiles, MissingFileIsAnError) {
  auto set = RuleSet::loadFiles({"nope.yaml", "rules.d/*.yaml"}, dir_.string());
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().message(), (dir_ / "nope.yaml").string() + ":1:1: cannot open file");
}

}  // namespace
}  // namespace vigil::rules
