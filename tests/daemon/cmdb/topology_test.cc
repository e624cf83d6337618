#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/cmdb/topology.h"
#include "tests/daemon/cmdb/topology_fixture.h"

namespace vigil::cmdb {
namespace {

std::vector<std::string> ids(const std::vector<const ConfigurationItem*>& cis) {
  std::vector<std::string> out;
  for (const auto* ci : cis) out.push_back(ci->id);
  return out;
}

using Ids = std::vector<std::string>;

class TopologyTest : public ::testing::Test {
 protected:
  std::shared_ptr<const CiSnapshot> snap_ = testing::siteSnapshot();
};

TEST_F(TopologyTest, DependsOnClosureIsTransitiveNearestFirst) {
  EXPECT_EQ(ids(dependsOnClosure(*snap_, "app1")), (Ids{"sw-acc1", "sw-core"}));
  EXPECT_EQ(ids(dependsOnClosure(*snap_, "sw-core")), Ids{});
  EXPECT_EQ(ids(dependsOnClosure(*snap_, "unknown")), Ids{});
}

TEST_F(TopologyTest, DependentsAreTransitiveNearestFirst) {
  EXPECT_EQ(ids(dependents(*snap_, "sw-acc1")), (Ids{"app1", "app2"}));
  EXPECT_EQ(ids(dependents(*snap_, "sw-core")), (Ids{"sw-acc1", "sw-acc2", "app1", "app2", "db1"}));
  EXPECT_EQ(ids(dependents(*snap_, "app1")), Ids{});
}

TEST_F(TopologyTest, ImpactPropagatesFromSwitchThroughServersToServices) {
  // Three levels: switch → the app servers on it → the service they deliver → its parent.
  EXPECT_EQ(ids(impactedServices(*snap_, "sw-acc1")), (Ids{"shop", "portal"}));
  EXPECT_EQ(ids(impactedServices(*snap_, "app2")), (Ids{"shop", "portal"}));
  EXPECT_EQ(ids(impactedServices(*snap_, "db1")), Ids{"billing"});
  const auto core = ids(impactedServices(*snap_, "sw-core"));
  EXPECT_EQ(std::set<std::string>(core.begin(), core.end()),
            (std::set<std::string>{"shop", "billing", "portal"}));
  EXPECT_EQ(ids(impactedServices(*snap_, "shop")), (Ids{"shop", "portal"}));
  EXPECT_EQ(ids(impactedServices(*snap_, "lonely")), Ids{});
}

TEST_F(TopologyTest, TopologyRootIsTheTopOfTheDependencyTree) {
  EXPECT_EQ(topologyRoot(*snap_, "app1")->id, "sw-core");
  EXPECT_EQ(topologyRoot(*snap_, "db1")->id, "sw-core");
  EXPECT_EQ(topologyRoot(*snap_, "sw-core")->id, "sw-core");
  EXPECT_EQ(topologyRoot(*snap_, "lonely")->id, "lonely");
  EXPECT_EQ(topologyRoot(*snap_, "shop")->id, "shop");  // membership does not join trees
  EXPECT_EQ(topologyRoot(*snap_, "unknown"), nullptr);
}

TEST(Topology, RootOfATreeWithTwoTopsIsTheSmallestId) {
  auto snap = loadCmdbString(R"(cis:
  - {id: z-router, class: router}
  - {id: b-router, class: router}
  - {id: sw, class: switch, depends_on: [z-router, b-router]}
  - {id: srv, class: server, depends_on: [sw]}
)", "t.yaml");
  ASSERT_TRUE(snap) << snap.error().message();
  EXPECT_EQ(topologyRoot(**snap, "srv")->id, "b-router");
  EXPECT_EQ(topologyRoot(**snap, "z-router")->id, "b-router");
}

TEST_F(TopologyTest, FailedAncestorIsTheNearestDependencyWithAnIncident) {
  std::set<std::string> failing{"sw-acc1", "sw-core", "app1"};
  const auto has_incident = [&](const ConfigurationItem& ci) { return failing.count(ci.id) > 0; };
  EXPECT_EQ(failedAncestor(*snap_, "app1", has_incident), "sw-acc1");  // not app1 itself
  EXPECT_EQ(failedAncestor(*snap_, "sw-acc1", has_incident), "sw-core");
  EXPECT_EQ(failedAncestor(*snap_, "db1", has_incident), "sw-core");  // skips healthy sw-acc2
  EXPECT_EQ(failedAncestor(*snap_, "sw-core", has_incident), std::nullopt);
  failing.clear();
  EXPECT_EQ(failedAncestor(*snap_, "app1", has_incident), std::nullopt);
  EXPECT_EQ(failedAncestor(*snap_, "unknown", has_incident), std::nullopt);
}

// By the CI itself (as the pipeline has it from its binding) the answers are those by its id,
// for every CI of the site, and a CI of another snapshot is unknown to this one.
TEST_F(TopologyTest, ImpactAndFailedAncestorByCiAgreeWithThemById) {
  const std::set<std::string> failing{"sw-acc1", "sw-core", "db1"};
  const auto has_incident = [&](const ConfigurationItem& ci) { return failing.count(ci.id) > 0; };
  for (const ConfigurationItem& ci : snap_->items()) {
    SCOPED_TRACE(ci.id);
    EXPECT_EQ(ids(impactedServices(*snap_, ci)), ids(impactedServices(*snap_, ci.id)));
    EXPECT_EQ(failedAncestor(*snap_, ci, has_incident), failedAncestor(*snap_, ci.id, has_incident));
  }
  const auto other = testing::siteSnapshot();
  const ConfigurationItem& foreign = other->at(other->indexOf("app1"));
  EXPECT_EQ(snap_->indexOf(foreign), CiSnapshot::kNoCi);
  EXPECT_EQ(ids(impactedServices(*snap_, foreign)), Ids{});
  EXPECT_EQ(failedAncestor(*snap_, foreign, has_incident), std::nullopt);
}

TEST(Topology, FindCyclesReportsEachPath) {
  // 0 → 1 → 2 → 0, and 3 → 3 is left to the caller (self edges are rejected before).
  const Csr graph = Csr::build(4, {{0, 1}, {1, 2}, {2, 0}, {3, 1}});
  const auto cycles = findCycles(4, graph, 10);
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_EQ(cycles[0], (std::vector<uint32_t>{0, 1, 2, 0}));
  EXPECT_TRUE(findCycles(3, Csr::build(3, {{0, 1}, {1, 2}, {0, 2}}), 10).empty());
}

TEST(Topology, DeepChainsDoNotRecurse) {
  std::vector<ConfigurationItem> cis(100000);
  for (size_t i = 0; i < cis.size(); ++i) {
    cis[i].id = "ci" + std::to_string(i);
    if (i > 0) cis[i].depends_on = {"ci" + std::to_string(i - 1)};
  }
  auto snap = buildSnapshot(std::move(cis));
  ASSERT_TRUE(snap) << snap.error().message();
  EXPECT_EQ(dependsOnClosure(**snap, "ci99999").size(), 99999u);
  EXPECT_EQ(topologyRoot(**snap, "ci99999")->id, "ci0");
}

}  // namespace
}  // namespace vigil::cmdb
