// The choice of standby replicas (connectors/kafka/standby_replicas.h): every core computes it
// alone from the owners it sees, so it must depend on nothing but the partition, the owner and
// the set of cores.
#include "connectors/kafka/standby_replicas.h"

#include <algorithm>
#include <map>

#include <gtest/gtest.h>

namespace vigil::connectors::kafka {
namespace {

const std::vector<std::string> kCores = {"http://c1:8080", "http://c2:8080", "http://c3:8080", "http://c4:8080"};

TEST(StandbyReplicas, NeverTheOwnerAtMostTheCountTheSameInAnyOrder) {
  for (uint16_t p = 0; p < 64; ++p) {
    const std::string& owner = kCores[p % kCores.size()];
    const auto one = StandbyReplicas::standbysOf(p, owner, kCores, 1);
    ASSERT_EQ(one.size(), 1u);
    EXPECT_NE(one[0], owner);
    const auto two = StandbyReplicas::standbysOf(p, owner, kCores, 2);
    ASSERT_EQ(two.size(), 2u);
    EXPECT_EQ(two[0], one[0]) << "a second replica moved the first";
    EXPECT_NE(two[1], owner);
    EXPECT_NE(two[0], two[1]);
    // More than there are other cores: every other core, once.
    EXPECT_EQ(StandbyReplicas::standbysOf(p, owner, kCores, 10).size(), kCores.size() - 1);
    std::vector<std::string> shuffled(kCores.rbegin(), kCores.rend());
    shuffled.push_back(kCores[0]);  // a core named twice (as the owner of two partitions)
    EXPECT_EQ(StandbyReplicas::standbysOf(p, owner, shuffled, 2), two);
    EXPECT_TRUE(StandbyReplicas::standbysOf(p, owner, {owner}, 1).empty()) << "no other core: no standby";
  }
}

TEST(StandbyReplicas, SpreadOverTheCoresAndStableWhenAnotherCoreLeaves) {
  std::map<std::string, int> kept;
  int moved = 0;
  for (uint16_t p = 0; p < 400; ++p) {
    const std::string& owner = kCores[p % kCores.size()];
    const auto chosen = StandbyReplicas::standbysOf(p, owner, kCores, 1);
    ++kept[chosen[0]];
    // A core that is neither the owner nor the standby leaves: the standby stays (rendezvous).
    std::vector<std::string> fewer = kCores;
    const auto leaving = std::find_if(fewer.begin(), fewer.end(), [&](const auto& c) { return c != owner && c != chosen[0]; });
    fewer.erase(leaving);
    if (StandbyReplicas::standbysOf(p, owner, fewer, 1) != chosen) ++moved;
  }
  EXPECT_EQ(moved, 0);
  for (const auto& c : kCores) EXPECT_GT(kept[c], 60) << c << " keeps too few: " << kept[c] << " of 400";
}

}  // namespace
}  // namespace vigil::connectors::kafka
