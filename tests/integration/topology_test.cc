// One failure makes one incident: with the shipped CMDB (config/cmdb.yaml), a burst of link-down
// syslog from an access switch and the servers behind it opens one incident on the switch with
// the servers' incidents attached as its symptoms, and the business service goes down, then up.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include <gtest/gtest.h>

#include "daemon/time_util.h"
#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

using nlohmann::json;

// Sends RFC 5424 lines over one TCP connection, with the host names a device would put in them.
bool sendSyslog(uint16_t port, const std::vector<std::pair<std::string, std::string>>& host_and_message) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
  std::string data;
  const std::string now = formatRfc3339(Clock::now());
  for (const auto& [host, message] : host_and_message) {
    data += "<187>1 " + now + " " + host + " - - - - " + message + "\n";
  }
  const bool ok = write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  close(fd);
  return ok;
}

std::string serviceHealth(const VigildInstance& vigild, const std::string& id) {
  auto j = vigild.getJson("/api/v1/services");
  if (!j.is_object()) return "";
  for (const auto& s : j["services"]) {
    if (s["id"] == id) return s["health"];
  }
  return "";
}

TEST(Topology, ASwitchFailureIsOneIncidentWithItsServersAsSymptoms) {
  VigildInstance vigild("cmdb: {files: [" + sourceDir() + "/config/cmdb.yaml]}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  EXPECT_EQ(serviceHealth(vigild, "shop"), "up");

  const std::string nic_down = "e1000e 0000:00:19.0 eth0: NIC Link is Down";
  ASSERT_TRUE(sendSyslog(vigild.syslogPort(),
                         {{"sw-acc-par1-a.par1.example.net", "%LINK-3-UPDOWN: Interface Te1/0/48, changed state to down"},
                          {"web-par1-1", nic_down},
                          {"web-par1-2.par1.example.net", nic_down},
                          {"10.10.1.30", nic_down}}));  // shop-app by its IP
  json all;
  ASSERT_TRUE(waitFor([&] {
    all = vigild.incidents("state=open");
    return all.size() == 4;
  })) << all.dump() << vigild.log();

  auto roots = vigild.incidents("state=open&root=true");
  ASSERT_EQ(roots.size(), 1u) << roots.dump();
  const json& root = roots[0];
  EXPECT_EQ(root["ci"], "sw-acc-par1-a");
  EXPECT_EQ(root["assignment_group"], "network");
  EXPECT_EQ(root["symptom_count"], 3);
  EXPECT_NE(std::find(root["services"].begin(), root["services"].end(), "shop"), root["services"].end()) << root.dump();
  std::set<std::string> symptom_cis;
  for (const auto& in : all) {
    if (in["id"] == root["id"]) continue;
    EXPECT_EQ(in["parent"], root["id"]) << in.dump();
    symptom_cis.insert(in["ci"].get<std::string>());
  }
  EXPECT_EQ(symptom_cis, (std::set<std::string>{"web-par1-1", "web-par1-2", "shop-app"}));
  auto detail = vigild.getJson("/api/v1/incidents/" + std::to_string(root["id"].get<uint64_t>()));
  size_t attached = 0;
  for (const auto& t : detail["timeline"]) attached += t["action"] == "symptom_attached";
  EXPECT_EQ(attached, 3u);
  EXPECT_EQ(serviceHealth(vigild, "shop"), "down");
  auto metrics = httpGet(vigild.url("/metrics")).body;
  EXPECT_NE(metrics.find(R"(vigil_service_health{service="shop"} 2)"), std::string::npos);

  // The switch comes back: its symptoms stand alone until their own links clear.
  const std::string nic_up = "e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: None";
  ASSERT_TRUE(sendSyslog(vigild.syslogPort(),
                         {{"sw-acc-par1-a.par1.example.net", "%LINK-3-UPDOWN: Interface Te1/0/48, changed state to up"}}));
  ASSERT_TRUE(waitFor([&] { return vigild.incidents("state=open&root=true").size() == 3; })) << vigild.log();
  ASSERT_TRUE(sendSyslog(vigild.syslogPort(), {{"web-par1-1", nic_up}, {"web-par1-2.par1.example.net", nic_up}, {"10.10.1.30", nic_up}}));
  ASSERT_TRUE(waitFor([&] { return vigild.incidents("state=open").empty(); })) << vigild.incidents("state=open").dump();
  EXPECT_EQ(serviceHealth(vigild, "shop"), "up");

  // An unknown sender is listed for the CMDB's owners to fix.
  ASSERT_TRUE(sendSyslog(vigild.syslogPort(), {{"mystery-box-7", "hello"}}));
  ASSERT_TRUE(waitFor([&] { return vigild.getJson("/api/v1/unbound").dump().find("mystery-box-7") != std::string::npos; }));
  auto ci = vigild.getJson("/api/v1/cis/sw-acc-par1-a");
  ASSERT_TRUE(ci.is_object());
  EXPECT_NE(ci.dump().find("web-par1-1"), std::string::npos) << ci.dump();  // a dependent
  EXPECT_EQ(httpGet(vigild.url("/api/v1/cis/nope")).status, 404);
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(Topology, ABadCmdbIsRejectedWithItsPosition) {
  TempDir dir;
  writeFile(dir.file("cmdb.yaml"), "cis:\n  - id: a\n    class: server\n    depends_on: [b]\n");
  writeFile(dir.file("vigil.yaml"), "cmdb: {files: [" + dir.file("cmdb.yaml") + "]}\n");
  std::string out;
  EXPECT_EQ(run({vigildPath(), "--check-config", "--config", dir.file("vigil.yaml")}, &out), 1);
  EXPECT_NE(out.find(dir.file("cmdb.yaml") + ":4:18: CI 'a' depends_on unknown CI 'b'"), std::string::npos) << out;
}

}  // namespace
}  // namespace vigil::testing
