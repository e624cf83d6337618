#include <gtest/gtest.h>

#include "daemon/cmdb/ci_index.h"
#include "daemon/cmdb/cmdb_loader.h"

namespace vigil::cmdb {
namespace {

constexpr const char* kCmdb = R"(cis:
  - id: sw-core
    class: switch
    aliases: [sw-core.par1.example.net, 10.1.0.1, 10.1.0.0/16]
  - id: sw-acc1
    class: switch
    aliases: [SW-ACC1, 10.1.1.0/24]
    depends_on: [sw-core]
  - id: srv1
    class: server
    aliases: [srv1.par1.example.net, 10.1.1.10, "2001:db8::10", "2001:db8:1::/48"]
  - id: srv2
    class: server
    aliases: srv2
  - id: web-par
    class: server
    aliases: [web.par1.example.net]
  - id: web-lon
    class: server
    aliases: [web.lon1.example.net]
  - id: rack-r12
    class: other
label_rules:
  - match: {site: par1, rack: R12}
    ci: rack-r12
  - match: {site: par1}
    ci: sw-core
)";

class BindingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = loadCmdbString(kCmdb, "cmdb.yaml");
    ASSERT_TRUE(loaded) << loaded.error().message();
    snap_ = *loaded;
  }
  Binding bindHost(std::string host) const {
    Event e;
    e.host = std::move(host);
    return snap_->bind(e);
  }
  // "id/kind" or "none", so a failure shows both.
  std::string bound(const Binding& b) const {
    if (!b) return std::string(matchKindName(b.kind));
    return b.ci->id + "/" + std::string(matchKindName(b.kind));
  }
  std::string host(std::string h) const { return bound(bindHost(std::move(h))); }

  std::shared_ptr<const CiSnapshot> snap_;
};

TEST_F(BindingTest, ExplicitCiWinsOverHost) {
  Event e;
  e.ci = "srv2";
  e.host = "srv1.par1.example.net";
  EXPECT_EQ(bound(snap_->bind(e)), "srv2/explicit_ci");
}

TEST_F(BindingTest, UnknownExplicitCiFallsThroughToHost) {
  Event e;
  e.ci = "no-such-ci";
  e.host = "srv1.par1.example.net";
  EXPECT_EQ(bound(snap_->bind(e)), "srv1/host");
}

TEST_F(BindingTest, HostMatchesAliasExactlyIgnoringCaseAndTrailingDot) {
  EXPECT_EQ(host("sw-acc1"), "sw-acc1/host");  // alias written SW-ACC1
  EXPECT_EQ(host("Sw-Acc1."), "sw-acc1/host");
  EXPECT_EQ(host("SRV1.PAR1.example.net"), "srv1/host");
  EXPECT_EQ(host("srv2"), "srv2/host");
}

TEST_F(BindingTest, LowercasesLongNamesWordByWordWithoutTouchingOtherBytes) {
  // Longer than 8 bytes so the word-at-a-time path runs; 'A', 'Z' and '_' (0x5f, just past 'Z')
  // in several byte positions.
  auto snap = loadCmdbString(
      "cis:\n  - {id: x, class: server, aliases: [az_za-09.zaaz_q.example-host.net]}\n", "t.yaml");
  ASSERT_TRUE(snap) << snap.error().message();
  EXPECT_EQ((*snap)->bindHost("AZ_ZA-09.ZAAZ_Q.EXAMPLE-HOST.NET").kind, MatchKind::kHost);
  EXPECT_EQ((*snap)->bindHost("aZ_zA-09.zAaZ_q.eXaMpLe-HoSt.NeT").kind, MatchKind::kHost);
  EXPECT_EQ((*snap)->bindHost("AZ_ZA-09.ZAAZ_Q.EXAMPLE-HOST.NE").kind, MatchKind::kNone);
}

TEST_F(BindingTest, FqdnMatchesShortNameAlias) {
  EXPECT_EQ(host("srv2.par1.example.net"), "srv2/fqdn");
  EXPECT_EQ(host("SW-ACC1.lon1.example.net"), "sw-acc1/fqdn");
}

TEST_F(BindingTest, ShortNameMatchesFqdnAlias) {
  EXPECT_EQ(host("srv1"), "srv1/short_name");
  EXPECT_EQ(host("SW-CORE"), "sw-core/short_name");
}

TEST_F(BindingTest, ShortNameSharedByTwoCisBindsNothingButTheirFqdnsDo) {
  EXPECT_EQ(host("web"), "none");
  EXPECT_EQ(host("web.lon1.example.net"), "web-lon/host");
  EXPECT_EQ(host("web.par1.example.net"), "web-par/host");
}

TEST_F(BindingTest, UnrelatedFqdnDoesNotMatchOnItsShortNameAgainstOtherFqdns) {
  // sw-core is only known as sw-core.par1.example.net; another domain is another host.
  EXPECT_EQ(host("sw-core.lon1.example.net"), "none");
}

TEST_F(BindingTest, IpAddressMatchesExactly) {
  EXPECT_EQ(host("10.1.1.10"), "srv1/ip");  // inside sw-acc1's /24, but the exact IP wins
  EXPECT_EQ(host("10.1.0.1"), "sw-core/ip");
  EXPECT_EQ(host("2001:db8::10"), "srv1/ip");
  EXPECT_EQ(host("2001:DB8:0::10"), "srv1/ip");
  EXPECT_EQ(host("::ffff:10.1.1.10"), "srv1/ip");  // IPv4-mapped IPv6 is the IPv4 address
}

TEST_F(BindingTest, CidrUsesLongestPrefix) {
  EXPECT_EQ(host("10.1.1.77"), "sw-acc1/cidr");   // /24 beats /16
  EXPECT_EQ(host("10.1.200.1"), "sw-core/cidr");  // only the /16
  EXPECT_EQ(host("2001:db8:1:ff::5"), "srv1/cidr");
  EXPECT_EQ(host("192.168.0.1"), "none");
  EXPECT_EQ(host("2001:db8:2::1"), "none");
}

TEST_F(BindingTest, LabelRulesApplyInOrderWhenNothingElseMatches) {
  Event e;
  e.host = "unknown-host";
  e.labels.set("site", "par1");
  e.labels.set("rack", "R12");
  EXPECT_EQ(bound(snap_->bind(e)), "rack-r12/label_rule");
  e.labels.erase("rack");
  EXPECT_EQ(bound(snap_->bind(e)), "sw-core/label_rule");
  e.labels.set("site", "lon1");
  EXPECT_EQ(bound(snap_->bind(e)), "none");
}

TEST_F(BindingTest, HostWinsOverLabelRules) {
  Event e;
  e.host = "srv2";
  e.labels.set("site", "par1");
  e.labels.set("rack", "R12");
  EXPECT_EQ(bound(snap_->bind(e)), "srv2/host");
}

TEST_F(BindingTest, EventWithoutHostCiOrLabelsBindsNothing) {
  EXPECT_EQ(bound(snap_->bind(Event{})), "none");
  EXPECT_EQ(host(std::string(300, 'a')), "none");  // longer than any host name
  EXPECT_EQ(host("."), "none");
  EXPECT_EQ(host("10.1.1"), "none");
}

TEST_F(BindingTest, FindsCisById) {
  ASSERT_NE(snap_->find("srv1"), nullptr);
  EXPECT_EQ(snap_->find("srv1")->ci_class, CiClass::kServer);
  EXPECT_EQ(snap_->find("srv1")->displayName(), "srv1");  // name defaults to the id
  EXPECT_EQ(snap_->find("SRV1"), nullptr);        // ids are case-sensitive
  EXPECT_EQ(snap_->indexOf("nope"), CiSnapshot::kNoCi);
  EXPECT_GT(snap_->indexMemoryBytes(), 0u);
}

TEST_F(BindingTest, BindAllGivesTheSameAnswersAsBind) {
  std::vector<Event> events;
  for (const char* h : {"srv1", "sw-acc1", "10.1.1.77", "web", "", "SRV2.par1.example.net",
                        "10.1.1.10", "2001:db8:1::9", "nobody", "sw-core.par1.example.net",
                        "srv2", "10.1.0.1", "x", "y", "z", "w", "srv1.par1.example.net"}) {
    Event e;
    e.host = h;
    events.push_back(std::move(e));
  }
  events[4].ci = "srv2";
  events[8].labels.set("site", "par1");
  std::vector<Binding> out(events.size());
  snap_->bindAll(events, out);
  for (size_t i = 0; i < events.size(); ++i) {
    const Binding one = snap_->bind(events[i]);
    EXPECT_EQ(out[i].ci, one.ci) << i;
    EXPECT_EQ(out[i].kind, one.kind) << i;
  }
  EXPECT_EQ(bound(out[4]), "srv2/explicit_ci");
  EXPECT_EQ(bound(out[8]), "sw-core/label_rule");
}

TEST(MatchKind, HasStableNames) {
  EXPECT_EQ(matchKindName(MatchKind::kExplicitCi), "explicit_ci");
  EXPECT_EQ(matchKindName(MatchKind::kShortName), "short_name");
  EXPECT_EQ(matchKindName(MatchKind::kLabelRule), "label_rule");
}

TEST(EmptySnapshot, BindsNothing) {
  Event e;
  e.host = "anything";
  e.ci = "x";
  EXPECT_FALSE(CiSnapshot::empty()->bind(e));
  EXPECT_EQ(CiSnapshot::empty()->size(), 0u);
}

TEST(BuildSnapshot, WorksWithoutYamlOrigins) {
  ConfigurationItem a;
  a.id = "a";
  a.aliases = {"a.example.net"};
  ConfigurationItem b;
  b.id = "b";
  b.depends_on = {"a", "missing"};
  auto snap = buildSnapshot({a, b});
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().message(), "cmdb: CI 'b' depends_on unknown CI 'missing'");
  b.depends_on = {"a"};
  snap = buildSnapshot({a, b});
  ASSERT_TRUE(snap) << snap.error().message();
  EXPECT_EQ((*snap)->bindHost("a").ci->id, "a");
}

}  // namespace
}  // namespace vigil::cmdb
