// A threshold rule in the real vigild: HTTP events below the count are held (counted, no
// incident), the Nth opens the incident, and its provenance names the rule, the rule-set
// version, the primitive and the events that made it.
#include <gtest/gtest.h>

#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

using nlohmann::json;

TEST(CorrelationIntegration, ThresholdOpensOnlyOnTheThirdEvent) {
  VigildInstance vigild;
  writeFile(vigild.dir().file("threshold.yaml"), R"(
rules:
  - name: crc-burst
    match: {message: {regex: 'CRC error on (?P<port>\S+)'}}
    set: {type: crc, state: problem, severity: minor}
    key: '{{host}}/crc/{{port}}'
    title: 'CRC errors on {{host}} {{port}}'
    threshold: {count: 3, window: 10m}
)");
  // Our rule file before the shipped ones (the fixture's config names only those).
  std::string config = readFile(vigild.configPath());
  const std::string shipped = "rules: {files: [";
  const auto at = config.find(shipped);
  ASSERT_NE(at, std::string::npos) << config;
  config.insert(at + shipped.size(), vigild.dir().file("threshold.yaml") + ", ");
  writeFile(vigild.configPath(), config);
  ASSERT_TRUE(vigild.start()) << vigild.log();

  auto send = [&](const std::string& time) {
    auto r = httpPost(vigild.url("/api/v1/events"),
                      R"({"time":")" + time + R"(","host":"sw7","source":"http","message":"CRC error on ge-0/0/3"})");
    ASSERT_EQ(r.status, 202) << r.body;  // answered after the commit
  };
  send("2026-11-22T10:00:00Z");
  send("2026-11-22T10:01:00Z");
  EXPECT_TRUE(vigild.incidents("key=sw7/crc/ge-0/0/3").empty());
  send("2026-11-22T10:02:00Z");
  const json list = vigild.incidents("key=sw7/crc/ge-0/0/3");
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["event_count"], 1);
  EXPECT_EQ(list[0]["first_seen"], "2026-11-22T10:02:00.000Z");

  const json in = vigild.getJson("/api/v1/incidents/" + std::to_string(list[0]["id"].get<uint64_t>()));
  const json& p = in["provenance"];
  EXPECT_EQ(p["rule"], "crc-burst");
  EXPECT_EQ(p["primitive"], "threshold 3 in 10m");
  EXPECT_EQ(p["rule_set_version"].get<std::string>().size(), 16u);
  ASSERT_EQ(p["events"].size(), 3u) << p.dump();
  EXPECT_EQ(p["events"][0]["time"], "2026-11-22T10:00:00.000Z");
  EXPECT_EQ(p["events"][2]["message"], "CRC error on ge-0/0/3");
  EXPECT_EQ(in["flapping"], false);

  const std::string metrics = httpGet(vigild.url("/metrics")).body;
  EXPECT_NE(metrics.find(R"(outcome="held",source="http"} 2)"), std::string::npos) << metrics;
}

}  // namespace
}  // namespace vigil::testing
