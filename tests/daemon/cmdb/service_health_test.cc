#include <string>
#include <unordered_map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "daemon/cmdb/service_health.h"
#include "tests/daemon/cmdb/topology_fixture.h"

namespace vigil::cmdb {
namespace {

using Active = std::unordered_map<std::string, Severity>;

class ServiceHealthTest : public ::testing::Test {
 protected:
  // "shop=down billing=up portal=down" for the fixture's three services, in load order.
  std::string healthOf(const Active& active) const {
    std::string out;
    for (const ServiceHealth& h : computeServiceHealth(*snap_, active)) {
      out += (out.empty() ? "" : " ") + h.service->id + "=" + std::string(healthName(h.health));
    }
    return out;
  }
  ServiceHealth shop(const Active& active) const {
    return computeServiceHealth(*snap_, active).at(0);
  }

  std::shared_ptr<const CiSnapshot> snap_ = testing::siteSnapshot();
};

TEST_F(ServiceHealthTest, AllUpWithoutIncidents) {
  EXPECT_EQ(healthOf({}), "shop=up billing=up portal=up");
  EXPECT_EQ(healthOf({{"lonely", Severity::kCritical}}), "shop=up billing=up portal=up");
}

TEST_F(ServiceHealthTest, OneOfTwoRedundantMembersDownIsDegraded) {
  EXPECT_EQ(healthOf({{"app1", Severity::kCritical}}), "shop=degraded billing=up portal=degraded");
  const ServiceHealth h = shop({{"app1", Severity::kCritical}});
  EXPECT_EQ(h.members, 2u);
  EXPECT_EQ(h.members_affected, 1u);
  EXPECT_EQ(h.members_critical, 1u);
  EXPECT_EQ(h.worst, Severity::kCritical);
}

TEST_F(ServiceHealthTest, EveryMemberCriticalIsDown) {
  EXPECT_EQ(healthOf({{"app1", Severity::kCritical}, {"app2", Severity::kCritical}}),
            "shop=down billing=up portal=down");  // portal's only member is down
}

TEST_F(ServiceHealthTest, AnyNonCriticalIncidentOnAMemberIsDegraded) {
  EXPECT_EQ(healthOf({{"app1", Severity::kMajor}, {"app2", Severity::kWarning}}),
            "shop=degraded billing=up portal=degraded");
  EXPECT_EQ(healthOf({{"db1", Severity::kInfo}}), "shop=up billing=degraded portal=up");
}

TEST_F(ServiceHealthTest, CriticalDependencyOfAllMembersIsDown) {
  // The access switch both app servers need: no incident on the servers themselves.
  EXPECT_EQ(healthOf({{"sw-acc1", Severity::kCritical}}), "shop=down billing=up portal=down");
  const ServiceHealth h = shop({{"sw-acc1", Severity::kCritical}});
  EXPECT_EQ(h.members_affected, 2u);
  EXPECT_EQ(h.members_critical, 2u);
  EXPECT_EQ(healthOf({{"sw-core", Severity::kCritical}}), "shop=down billing=down portal=down");
  EXPECT_EQ(healthOf({{"sw-core", Severity::kMinor}}),
            "shop=degraded billing=degraded portal=degraded");
}

TEST_F(ServiceHealthTest, EveryMemberAtMajorIsDownButAtMinorOnlyDegraded) {
  // Major counts as failing: with nothing left to deliver it, the service is down.
  EXPECT_EQ(healthOf({{"app1", Severity::kMajor}, {"app2", Severity::kMajor}}), "shop=down billing=up portal=down");
  EXPECT_EQ(shop({{"app1", Severity::kMajor}, {"app2", Severity::kMajor}}).members_critical, 0u);
  EXPECT_EQ(healthOf({{"app1", Severity::kMinor}, {"app2", Severity::kMinor}}),
            "shop=degraded billing=up portal=degraded");
  EXPECT_EQ(healthOf({{"app1", Severity::kMajor}, {"app2", Severity::kMinor}}),
            "shop=degraded billing=up portal=degraded");
}

TEST_F(ServiceHealthTest, AnIncidentBackToUpLeavesNoTrace) {
  // A pure function: the same severities always give the same answer, whatever came before.
  EXPECT_EQ(healthOf({{"sw-acc1", Severity::kCritical}}), "shop=down billing=up portal=down");
  EXPECT_EQ(healthOf({}), "shop=up billing=up portal=up");
}

TEST_F(ServiceHealthTest, WorstSeverityWinsOnEachMember) {
  // app1 minor itself but its switch is critical → app1 counts as critical.
  EXPECT_EQ(healthOf({{"app1", Severity::kMinor}, {"sw-acc1", Severity::kCritical}}),
            "shop=down billing=up portal=down");
}

TEST_F(ServiceHealthTest, CriticalIncidentOnTheServiceItselfIsDown) {
  EXPECT_EQ(healthOf({{"shop", Severity::kCritical}}), "shop=down billing=up portal=down");
  EXPECT_EQ(healthOf({{"shop", Severity::kWarning}}), "shop=degraded billing=up portal=degraded");
}

TEST(ServiceHealth, ServiceDependencyCountsForTheWholeService) {
  auto snap = loadCmdbString(R"(cis:
  - {id: dns, class: application}
  - {id: web1, class: server}
  - {id: web2, class: server}
  - {id: site, class: service, members: [web1, web2], depends_on: [dns]}
  - {id: empty, class: service}
)", "t.yaml");
  ASSERT_TRUE(snap) << snap.error().message();
  auto health = computeServiceHealth(**snap, Active{{"dns", Severity::kCritical}});
  EXPECT_EQ(health[0].health, Health::kDown);
  EXPECT_EQ(health[1].health, Health::kUp);  // no members, nothing active
  health = computeServiceHealth(**snap, Active{{"dns", Severity::kMajor}});
  EXPECT_EQ(health[0].health, Health::kDegraded);
}

TEST_F(ServiceHealthTest, ConvertsToJson) {
  nlohmann::json j;
  toJson(shop({{"app1", Severity::kMajor}}), j);
  EXPECT_EQ(j, nlohmann::json::parse(R"({"id":"shop","name":"shop","health":"degraded",
      "worst_severity":"major","members":2,"members_affected":1,"members_critical":0})"));
  toJson(shop({}), j);
  EXPECT_TRUE(j["worst_severity"].is_null());
}

}  // namespace
}  // namespace vigil::cmdb
