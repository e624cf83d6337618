// Rules in the running vigild: SIGHUP reload (a broken file keeps the old rules and logs why; a
// good file applies), shadow mode against live traffic, and the per-rule metrics.
#include <gtest/gtest.h>

#include <csignal>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"
#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

using nlohmann::json;

// Points the instance's config at `rules_file` instead of the shipped rules.
void useRules(const VigildInstance& vigild, const std::string& rules_file) {
  std::string config = readFile(vigild.configPath());
  const std::string shipped = "rules: {files: [" + sourceDir() + "/config/rules.d/*.yaml]}";
  const auto at = config.find(shipped);
  ASSERT_NE(at, std::string::npos) << config;
  config.replace(at, shipped.size(), "rules: {files: [" + rules_file + "]}");
  writeFile(vigild.configPath(), config);
}

std::string pingRule(const std::string& name) {
  return "rules:\n  - name: " + name + "\n    match: {message: ping}\n    set: {type: ping, state: problem}\n"
         "    key: '" + name + "/{{host}}'\n";
}

bool hasIncident(const VigildInstance& vigild, const std::string& key) {
  return vigild.incidents("key=" + key).size() == 1;
}

TEST(RulesReload, BrokenFileKeepsTheOldRulesAndLogsWhyAGoodFileApplies) {
  VigildInstance vigild;
  const std::string rules = vigild.dir().file("rules.yaml");
  writeFile(rules, pingRule("v1"));
  useRules(vigild, rules);
  ASSERT_TRUE(vigild.start()) << vigild.log();
  ASSERT_EQ(httpPost(vigild.url("/api/v1/events"), R"({"host":"h1","message":"ping"})").status, 202);
  EXPECT_TRUE(hasIncident(vigild, "v1/h1"));

  writeFile(rules, "rules:\n  - name: v2\n    mtach: {message: ping}\n");
  kill(vigild.pid(), SIGHUP);
  ASSERT_TRUE(waitFor([&] { return vigild.log().find("failed, keeping the running config") != std::string::npos; })) << vigild.log();
  EXPECT_NE(vigild.log().find(rules + ":3:5: unknown key 'mtach'"), std::string::npos) << vigild.log();
  ASSERT_EQ(httpPost(vigild.url("/api/v1/events"), R"({"host":"h2","message":"ping"})").status, 202);
  EXPECT_TRUE(hasIncident(vigild, "v1/h2")) << "the old rules keep running";

  writeFile(rules, pingRule("v2"));
  kill(vigild.pid(), SIGHUP);
  ASSERT_TRUE(waitFor([&] { return vigild.log().find("succeeded: 1 rules") != std::string::npos; })) << vigild.log();
  ASSERT_EQ(httpPost(vigild.url("/api/v1/events"), R"({"host":"h3","message":"ping"})").status, 202);
  EXPECT_TRUE(hasIncident(vigild, "v2/h3"));
  EXPECT_FALSE(hasIncident(vigild, "v1/h3"));
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(ShadowRules, CandidateRunsBesideLiveAndReportsTheDifferenceWithoutWriting) {
  const std::string admin = "admin-token-0123456789", viewer = "viewer-token-0123456789";
  VigildInstance vigild("", "  tokens:\n"
                            "    - {name: root, token: " + admin + ", role: admin}\n"
                            "    - {name: wall, token: " + viewer + ", role: viewer}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  auto report = [&] { return json::parse(httpGet(vigild.url("/api/v1/rules/shadow"), viewer).body); };
  EXPECT_EQ(report()["active"], false);

  // The candidate: link down as before, but also BGP lines opens and "ping" lines.
  const std::string candidate = R"(rules:
  - name: link-down
    match: {message: {regex: '%LINK-3-UPDOWN: Interface (?P<i>\S+), changed state to down'}}
    set: {type: link, state: problem, severity: major}
    key: '{{host}}/link/{{i}}'
  - name: ping
    match: {message: ping}
    set: {type: ping, state: problem}
    key: 'ping/{{host}}'
)";
  EXPECT_EQ(httpPost(vigild.url("/api/v1/rules/shadow"), candidate, viewer, "application/yaml").status, 403);
  auto bad = httpPost(vigild.url("/api/v1/rules/shadow"), "rules:\n  - name: x\n    mtach: {}\n", admin, "application/yaml");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("shadow:3:5: unknown key 'mtach'"), std::string::npos) << bad.body;
  auto set = httpPost(vigild.url("/api/v1/rules/shadow"), candidate, admin, "application/yaml");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(json::parse(set.body)["candidate"]["rules"], 2);

  const std::string events = "["
      R"({"host":"sw1","source":"syslog/udp","message":"%LINK-3-UPDOWN: Interface Gi0/1, changed state to down"},)"
      R"({"host":"sw1","message":"ping"},)"
      R"({"host":"sw2","source":"syslog/udp","message":"%LINK-3-UPDOWN: Interface Gi0/2, changed state to up"},)"
      R"x({"host":"r1","source":"syslog/udp","message":"BGP_PEER_STATE_CHANGED: BGP peer 192.0.2.1 (External AS 64500) changed state from Established to Idle (event HoldTime) (instance master)"})x"
      "]";
  ASSERT_EQ(httpPost(vigild.url("/api/v1/events"), events, admin).status, 202);

  json r = report();
  EXPECT_EQ(r["active"], true);
  EXPECT_EQ(r["origin"], "api:root");
  EXPECT_EQ(r["events"], 4);
  // Same on the link down; the candidate opens "ping" that live ignores, resolves nothing on the
  // link up (live: resolve with no incident), and misses the BGP peer live opens.
  EXPECT_EQ(r["decisions_differ"], 3) << r.dump(2);
  EXPECT_EQ(r["opened"]["live"], 2) << r.dump(2);
  EXPECT_EQ(r["opened"]["candidate"], 2) << r.dump(2);
  EXPECT_EQ(r["candidate_only"]["count"], 1);
  EXPECT_EQ(r["candidate_only"]["samples"][0]["host"], "sw1");
  EXPECT_NE(r["candidate_only"]["samples"][0]["candidate"].get<std::string>().find("ping/sw1"), std::string::npos) << r.dump(2);
  EXPECT_EQ(r["live_only"]["count"], 1);
  EXPECT_NE(r["live_only"]["samples"][0]["live"].get<std::string>().find("r1/bgp/192.0.2.1"), std::string::npos) << r.dump(2);

  // Nothing the candidate decided reached the store.
  auto all = json::parse(httpGet(vigild.url("/api/v1/incidents"), viewer).body)["incidents"];
  EXPECT_EQ(all.size(), 2u) << all.dump(2);
  for (const auto& in : all) EXPECT_NE(in["key"], "ping/sw1");

  // Metrics: the shadow comparison and the live rules' counters.
  const std::string metrics = httpGet(vigild.url("/metrics")).body;
  EXPECT_NE(metrics.find("vigil_rules_shadow_events_total{decision=\"different\"} 3"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("vigil_rules_shadow_incidents_total{opened_by=\"candidate_only\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("vigil_rule_matches_total{rule=\"cisco-link-down\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("vigil_rule_matches_total{rule=\"junos-bgp-peer-down\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("vigil_rule_evaluations_total{rule=\"cisco-link-down\"}"), std::string::npos);
  EXPECT_NE(metrics.find("vigil_rule_evaluation_seconds_bucket"), std::string::npos);
  EXPECT_EQ(vigild.stop(), 0);
}

}  // namespace
}  // namespace vigil::testing
