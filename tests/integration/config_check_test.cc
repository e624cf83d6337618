// `vigild --check-config` against good and bad files: exit codes and file:line:col messages.
#include <gtest/gtest.h>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

struct CheckResult {
  int code;
  std::string output;
};

CheckResult check(const TempDir& dir, const std::string& yaml) {
  const std::string path = dir.file("vigil.yaml");
  writeFile(path, yaml);
  CheckResult r;
  r.code = run({vigildPath(), "--check-config", "--config", path}, &r.output);
  return r;
}

TEST(CheckConfig, AcceptsTheShippedConfig) {
  std::string out;
  EXPECT_EQ(run({vigildPath(), "--check-config", "--config", sourceDir() + "/config/vigil.yaml"}, &out), 0) << out;
  EXPECT_NE(out.find("OK"), std::string::npos);
}

TEST(CheckConfig, RejectsErrorsWithFileLineAndColumn) {
  TempDir dir;
  const std::string path = dir.file("vigil.yaml");
  struct Case {
    std::string yaml;
    std::string expected;
  } cases[] = {
      {"data_dir: /tmp/x\nbogus: 1\n", path + ":2:1: unknown key 'bogus'"},
      {"http:\n  listen: nope\n", path + ":2:11: expected HOST:PORT"},
      {"pipeline:\n  queue_capacity: -5\n", path + ":2:19: value -5 out of range"},
      {"log: {level: loud}\n", path + ":1:14: expected trace, debug, info, warn or error"},
      // Found by config_fuzzer: a huge duration or size overflowed the conversion (UB).
      {"http:\n  read_timeout: " + std::string(110, '9') + "s\n", path + ":2:17: duration out of range (0 to 3650d)"},
      {"http:\n  read_timeout: 3651d\n", path + ":2:17: duration out of range"},
      {"http:\n  max_body_size: " + std::string(30, '9') + "MiB\n", path + ":2:18: size out of range (0 to 1PiB)"},
      {"store:\n  memtable_budget: lots\n", path + ":2:20: expected a size such as 512, 64KiB or 1MiB"},
      {"pipeline:\n  queue_bytes: 64KiB\n", path + ":2:16: must be at least 1MiB"},
      {"pipeline:\n  queue_bytes: many\n", path + ":2:16: expected a size such as 512, 64KiB or 1MiB"},
      // Found by config_fuzzer: a scalar where a section is expected threw out of yaml-cpp.
      {"verdicts: ./vigil-data\n", path + ":1:11: verdicts: expected a mapping"},
      {"maintenance: 3\n", path + ":1:14: maintenance: expected a mapping"},
      {"rules:\n  shadow: x\n", path + ":2:11: expected a mapping"},
      {"http: [1, 2\n", path + ":"},  // YAML syntax error
      {"syslog:\n  listen: [ftp://127.0.0.1:21]\n", path + ":2:"},
      {"rules:\n  files: [" + dir.file("rules.yaml") + "]\n", dir.file("rules.yaml") + ":"},
  };
  writeFile(dir.file("rules.yaml"), "rules:\n  - name: x\n    matchh: {}\n");
  for (const auto& c : cases) {
    auto r = check(dir, c.yaml);
    EXPECT_EQ(r.code, 1) << c.yaml;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.yaml << "\n→ " << r.output;
  }
}

TEST(CheckConfig, ReportsEveryErrorAtOnce) {
  TempDir dir;
  auto r = check(dir, "http:\n  listen: nope\nlog:\n  level: loud\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find(":2:11:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(":4:10:"), std::string::npos) << r.output;
}

TEST(Replay, FeedsAJsonLinesFileIntoTheStore) {
  VigildInstance vigild;
  const std::string events = vigild.dir().file("events.jsonl");
  writeFile(events,
            R"({"host":"r1","type":"bgp","state":"problem","message":"neighbor 10.0.0.2 Down"})" "\n"
            "not json at all\n"
            R"({"host":"r1","type":"bgp","state":"problem","message":"neighbor 10.0.0.2 Down"})" "\n"
            R"({"host":"r2","type":"bgp","state":"problem"})" "\n"
            R"({"host":"r2","type":"bgp","state":"ok"})" "\n");
  std::string out;
  ASSERT_EQ(run({vigildPath(), "--config", vigild.configPath(), "--replay", events}, &out), 0) << out;
  EXPECT_NE(out.find("replayed 4 events from 5 lines"), std::string::npos) << out;
  EXPECT_NE(out.find("1 bad lines"), std::string::npos) << out;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  auto open = vigild.incidents("state=open");
  ASSERT_EQ(open.size(), 1u) << open.dump();
  EXPECT_EQ(open[0]["key"], "r1/bgp");
  EXPECT_EQ(open[0]["event_count"], 2);
  auto resolved = vigild.incidents("state=resolved");
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0]["key"], "r2/bgp");
  EXPECT_EQ(vigild.stop(), 0);
}

}  // namespace
}  // namespace vigil::testing

namespace vigil::testing {
namespace {

TEST(Vigilctl, ListsShowsAndReplaysThroughTheApi) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const std::string url = vigild.url("");
  const std::string events = vigild.dir().file("events.jsonl");
  std::string lines;
  for (int i = 0; i < 25; ++i) {
    lines += R"({"host":"ctl)" + std::to_string(i % 5) + R"(","type":"svc","state":"problem","severity":"minor"})" "\n";
  }
  writeFile(events, lines);
  std::string out;
  ASSERT_EQ(run({vigilctlPath(), "--url", url, "replay", events, "--batch", "10"}, &out), 0) << out;
  EXPECT_NE(out.find("sent 25 events, all committed"), std::string::npos) << out;

  ASSERT_EQ(run({vigilctlPath(), "--url", url, "incidents", "list", "--state", "open"}, &out), 0) << out;
  for (int i = 0; i < 5; ++i) EXPECT_NE(out.find("svc problem on ctl" + std::to_string(i)), std::string::npos) << out;

  ASSERT_EQ(run({vigilctlPath(), "--url", url, "incidents", "show", "1"}, &out), 0) << out;
  auto shown = nlohmann::json::parse(out);
  EXPECT_EQ(shown["event_count"], 5);
  EXPECT_TRUE(shown.contains("timeline"));

  ASSERT_EQ(run({vigilctlPath(), "--url", url, "incidents", "ack", "1", "-m", "on it"}, &out), 0) << out;
  EXPECT_NE(out.find("incident 1: acknowledged"), std::string::npos) << out;
  ASSERT_EQ(run({vigilctlPath(), "--url", url, "incidents", "assign", "1", "--group", "noc"}, &out), 0) << out;
  ASSERT_EQ(run({vigilctlPath(), "--url", url, "incidents", "comment", "1", "rebooted the line card"}, &out), 0) << out;
  ASSERT_EQ(run({vigilctlPath(), "--url", url, "incidents", "priority", "1", "P1"}, &out), 0) << out;
  EXPECT_NE(out.find("P1"), std::string::npos) << out;
  ASSERT_EQ(run({vigilctlPath(), "--url", url, "incidents", "resolve", "1"}, &out), 0) << out;
  EXPECT_EQ(run({vigilctlPath(), "--url", url, "incidents", "ack", "1"}, &out), 1);
  EXPECT_NE(out.find("HTTP 409"), std::string::npos) << out;
  ASSERT_EQ(run({vigilctlPath(), "--url", url, "incidents", "list", "--priority", "P1", "--json"}, &out), 0) << out;
  auto p1 = nlohmann::json::parse(out)["incidents"];
  ASSERT_EQ(p1.size(), 1u);
  EXPECT_EQ(p1[0]["assignment_group"], "noc");

  EXPECT_EQ(run({vigilctlPath(), "--url", url, "incidents", "show", "4242"}, &out), 1);
  EXPECT_NE(out.find("HTTP 404"), std::string::npos) << out;
  EXPECT_EQ(vigild.stop(), 0);
  EXPECT_EQ(run({vigilctlPath(), "--url", url, "incidents", "list"}, &out), 2);
  EXPECT_NE(out.find("cannot reach vigild"), std::string::npos) << out;
}

}  // namespace
}  // namespace vigil::testing
