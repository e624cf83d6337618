// The foundation's end-to-end promise, against the real vigild binary: syslog from util-linux
// `logger --tcp` opens an incident, the clearing message resolves it, and both survive a restart.
#include <gtest/gtest.h>

#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

// logger names the sending host itself (util-linux has no flag to set it), so match the key's end.
nlohmann::json findByKeySuffix(const nlohmann::json& incidents, const std::string& suffix) {
  for (const auto& in : incidents) {
    const std::string key = in["key"];
    if (key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) return in;
  }
  return nullptr;
}

TEST(SyslogToIncident, LinkDownOpensLinkUpResolvesAndARestartKeepsIt) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const std::string key_suffix = "/link/GigabitEthernet0/1";

  ASSERT_EQ(run({"logger", "-n", "127.0.0.1", "-P", std::to_string(vigild.syslogPort()), "--tcp", "-t", "ios",
                 "--rfc5424=notq", "-p", "local7.err",
                 "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down"}),
            0);
  nlohmann::json opened;
  ASSERT_TRUE(waitFor([&] {
    opened = findByKeySuffix(vigild.incidents("state=open"), key_suffix);
    return !opened.is_null();
  })) << vigild.log();
  EXPECT_EQ(opened["state"], "open");
  EXPECT_EQ(opened["type"], "link");
  EXPECT_EQ(opened["key"], opened["host"].get<std::string>() + key_suffix);
  EXPECT_EQ(opened["labels"]["mnemonic"], "LINK-3-UPDOWN");
  EXPECT_EQ(opened["event_count"], 1);
  EXPECT_TRUE(opened["resolved_at"].is_null());
  const auto id = opened["id"].get<uint64_t>();

  ASSERT_EQ(run({"logger", "-n", "127.0.0.1", "-P", std::to_string(vigild.syslogPort()), "--tcp", "-t", "ios",
                 "--rfc5424=notq", "-p", "local7.notice",
                 "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up"}),
            0);
  nlohmann::json resolved;
  ASSERT_TRUE(waitFor([&] {
    resolved = vigild.getJson("/api/v1/incidents/" + std::to_string(id));
    return resolved.is_object() && resolved["state"] == "resolved";
  })) << vigild.log();
  EXPECT_EQ(resolved["event_count"], 2);
  EXPECT_FALSE(resolved["resolved_at"].is_null());
  ASSERT_EQ(resolved["timeline"].size(), 2u);
  EXPECT_EQ(resolved["timeline"][1]["action"], "resolved");

  ASSERT_EQ(vigild.stop(), 0) << vigild.log();
  EXPECT_NE(vigild.log().find("stopped cleanly"), std::string::npos);

  ASSERT_TRUE(vigild.start()) << vigild.log();
  auto after = vigild.getJson("/api/v1/incidents/" + std::to_string(id));
  ASSERT_TRUE(after.is_object());
  EXPECT_EQ(after["state"], "resolved");
  EXPECT_EQ(after["key"], opened["key"]);
  EXPECT_EQ(after["event_count"], 2);
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(SyslogToIncident, UdpAndRfc3164MessagesOpenIncidentsToo) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  ASSERT_EQ(run({"logger", "-n", "127.0.0.1", "-P", std::to_string(vigild.syslogPort()), "--udp", "--rfc3164",
                 "-t", "kernel", "-p", "kern.warning", "e1000e 0000:00:19.0 eth0: NIC Link is Down"}),
            0);
  nlohmann::json incidents;
  ASSERT_TRUE(waitFor([&] {
    incidents = vigild.incidents("state=open");
    return !incidents.empty();
  })) << vigild.log();
  EXPECT_EQ(incidents[0]["type"], "link");
  EXPECT_NE(incidents[0]["key"].get<std::string>().find("/link/eth0"), std::string::npos) << incidents.dump();
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(HttpIntake, PostedEventsAreCommittedBeforeThe202) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  auto r = httpPost(vigild.url("/api/v1/events"),
                    R"([{"host":"db-7","type":"disk","state":"problem","severity":"critical","message":"/var 98% full"},
                        {"host":"db-7","type":"disk","state":"problem","severity":"critical","message":"/var 99% full"}])");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["accepted"], 2);
  // No waiting: a 202 means the batch is already in the store.
  auto incidents = vigild.incidents("key=db-7/disk");
  ASSERT_EQ(incidents.size(), 1u) << incidents.dump();
  EXPECT_EQ(incidents[0]["event_count"], 2);
  EXPECT_EQ(incidents[0]["severity"], "critical");
  EXPECT_EQ(incidents[0]["priority"], "P1");

  auto bad = httpPost(vigild.url("/api/v1/events"), R"({"host":"x","state":"sideways"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("state: expected problem or ok"), std::string::npos) << bad.body;
  EXPECT_EQ(httpGet(vigild.url("/api/v1/incidents/999999")).status, 404);
  EXPECT_EQ(httpGet(vigild.url("/api/v1/nothing-here")).status, 404);
  EXPECT_EQ(httpGet(vigild.url("/api/v1/incidents?state=bogus")).status, 400);
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(HttpApi, PagesIncidentsWithACursor) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  std::string events = "[";
  for (int i = 0; i < 7; ++i) {
    events += std::string(i ? "," : "") + R"({"host":"h)" + std::to_string(i) + R"(","type":"svc","state":"problem"})";
  }
  ASSERT_EQ(httpPost(vigild.url("/api/v1/events"), events + "]").status, 202);
  std::vector<uint64_t> ids;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto j = vigild.getJson("/api/v1/incidents?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_TRUE(j.is_object());
    for (const auto& in : j["incidents"]) ids.push_back(in["id"]);
    if (j["next_cursor"].is_null()) break;
    cursor = j["next_cursor"];
  }
  EXPECT_EQ(ids, (std::vector<uint64_t>{7, 6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(Metrics, CountEventsAndIncidents) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  ASSERT_EQ(httpPost(vigild.url("/api/v1/events"), R"({"host":"m1","type":"power","state":"problem","severity":"major"})").status, 202);
  auto m = httpGet(vigild.url("/metrics"));
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find(R"(vigil_events_received_total{source="http"} 1)"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find(R"(vigil_incidents_total{change="opened",priority="P2",severity="major"} 1)"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("vigil_incidents_active 1"), std::string::npos) << m.body;
  EXPECT_EQ(vigild.stop(), 0);
}

}  // namespace
}  // namespace vigil::testing

namespace vigil::testing {
namespace {

TEST(SyslogToIncident, OctetCountedTcpFromLoggerIsFramedAndParsed) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  ASSERT_EQ(run({"logger", "-n", "127.0.0.1", "-P", std::to_string(vigild.syslogPort()), "--tcp", "--octet-count",
                 "-t", "mib2d", "SNMP_TRAP_LINK_DOWN: ifIndex 512, ifAdminStatus up(1), ifOperStatus down(2), ifName ge-0/0/1"}),
            0);
  nlohmann::json open;
  ASSERT_TRUE(waitFor([&] {
    open = vigild.incidents("state=open");
    return !open.empty();
  })) << vigild.log();
  EXPECT_EQ(open[0]["type"], "link");
  EXPECT_NE(open[0]["key"].get<std::string>().find("/link/ge-0/0/1"), std::string::npos) << open.dump();
  EXPECT_EQ(vigild.stop(), 0);
}

}  // namespace
}  // namespace vigil::testing
