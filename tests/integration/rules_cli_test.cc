// `vigilctl rules test` as a user runs it: events mode (syslog and JSON lines through the real
// correlator) and test-file mode, including a file whose expectations fail.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

TEST(RulesTestCli, FailingExpectationsAreReportedWithPositionsAndExitOne) {
  std::string out;
  const int rc = run({vigilctlPath(), "rules", "test", "--tests", sourceDir() + "/tests/rules/language/failing.test.yaml"}, &out);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("failing.test.yaml:9:"), std::string::npos) << out;
  EXPECT_NE(out.find("rule: expected 'cisco-link-up', got 'cisco-link-down'"), std::string::npos) << out;
  EXPECT_NE(out.find("action: expected 'resolve', got 'open'"), std::string::npos) << out;
  EXPECT_NE(out.find("state: expected 'resolved', got 'open'"), std::string::npos) << out;
  EXPECT_NE(out.find("event_count: expected '7', got '1'"), std::string::npos) << out;
  EXPECT_NE(out.find("FAIL: 1 tests, 1 failed"), std::string::npos) << out;
}

TEST(RulesTestCli, PassingFileExitsZero) {
  std::string out;
  const int rc = run({vigilctlPath(), "rules", "test", "--tests", sourceDir() + "/tests/rules/shipped/10-network-links.test.yaml"}, &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("PASS: 3 tests, 0 failed"), std::string::npos) << out;
}

TEST(RulesTestCli, EventsModeTracesEachEventAndListsTheIncidents) {
  TempDir dir;
  const std::string events = dir.file("events.txt");
  writeFile(events,
            "# syslog and JSON lines may be mixed\n"
            "<187>45: core-rtr1: Jan 10 10:20:30.456 UTC: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down\n"
            R"({"time":"2026-01-10T10:21:00Z","host":"core-rtr1","source":"syslog/udp","message":"%LINK-3-UPDOWN: Interface Gi0/1, changed state to up"})"
            "\n"
            "<189>47: core-rtr1: Jan 10 10:22:00.000 UTC: %SYS-5-CONFIG_I: Configured from console by admin on vty0\n");
  std::string out;
  const int rc = run({vigilctlPath(), "rules", "test", "--rules", sourceDir() + "/config/rules.d/*.yaml",
                      "--start", "2026-01-10T10:00:00Z", "--json", events},
                     &out);
  ASSERT_EQ(rc, 0) << out;
  const auto j = nlohmann::json::parse(out.substr(out.find('{')), nullptr, false);
  ASSERT_TRUE(j.is_object()) << out;
  ASSERT_EQ(j["events"].size(), 3u) << out;
  EXPECT_EQ(j["events"][0]["matched"], nlohmann::json::array({"cisco-link-down"}));
  EXPECT_EQ(j["events"][0]["decision"]["action"], "open");
  EXPECT_EQ(j["events"][0]["outcome"], "opened");
  EXPECT_EQ(j["events"][1]["decision"]["rule"], "cisco-link-up");
  EXPECT_EQ(j["events"][1]["outcome"], "resolved");
  EXPECT_EQ(j["events"][2]["outcome"], "ignored");
  ASSERT_EQ(j["incidents"].size(), 1u) << out;
  EXPECT_EQ(j["incidents"][0]["key"], "core-rtr1/link/Gi0/1");
  EXPECT_EQ(j["incidents"][0]["state"], "resolved");
  EXPECT_EQ(j["incidents"][0]["event_count"], 2);

  // The table form names the same things.
  out.clear();
  ASSERT_EQ(run({vigilctlPath(), "rules", "test", "--rules", sourceDir() + "/config/rules.d/*.yaml", events}, &out), 0) << out;
  EXPECT_NE(out.find("cisco-link-down"), std::string::npos) << out;
  EXPECT_NE(out.find("core-rtr1/link/Gi0/1"), std::string::npos) << out;
  EXPECT_NE(out.find("resolved"), std::string::npos) << out;
}

TEST(RulesTestCli, BrokenRulesAreReportedWithPositions) {
  TempDir dir;
  writeFile(dir.file("bad.yaml"), "rules:\n  - name: x\n    mtach: {host: a}\n");
  writeFile(dir.file("events.txt"), "{\"host\":\"a\"}\n");
  std::string out;
  EXPECT_EQ(run({vigilctlPath(), "rules", "test", "--rules", dir.file("bad.yaml"), dir.file("events.txt")}, &out), 1);
  EXPECT_NE(out.find("bad.yaml:3:5: unknown key 'mtach'"), std::string::npos) << out;
}

}  // namespace
}  // namespace vigil::testing
