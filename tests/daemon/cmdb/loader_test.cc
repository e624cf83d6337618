#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "daemon/cmdb/cmdb_loader.h"
#include "tests/support/temp_dir.h"

namespace vigil::cmdb {
namespace {

using ::testing::HasSubstr;

// The error text of loading `yaml` as cmdb.yaml; "" when it loads.
std::string errorOf(const std::string& yaml) {
  auto loaded = loadCmdbString(yaml, "cmdb.yaml");
  return loaded ? "" : loaded.error().message();
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(CmdbLoader, LoadsEveryField) {
  auto loaded = loadCmdbString(R"(cis:
  - id: db1
    name: Orders database
    class: database
    aliases: [db1.par1.example.net]
    labels: {site: par1, tier: data}
    assignment_group: dba
    criticality: 1
    location: PAR1 hall A
  - id: shop
    class: service
    members: [db1]
    depends_on: db1
)", "cmdb.yaml");
  ASSERT_TRUE(loaded) << loaded.error().message();
  const ConfigurationItem* db = (*loaded)->find("db1");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->name, "Orders database");
  EXPECT_EQ(db->ci_class, CiClass::kDatabase);
  EXPECT_EQ(db->aliases, std::vector<std::string>{"db1.par1.example.net"});
  ASSERT_NE(db->labels.find("tier"), nullptr);
  EXPECT_EQ(*db->labels.find("tier"), "data");
  EXPECT_EQ(db->assignment_group, "dba");
  EXPECT_EQ(db->criticality, 1);
  EXPECT_EQ(db->location, "PAR1 hall A");
  ASSERT_TRUE(db->origin);
  EXPECT_EQ(db->origin->item.line, 2);
  const ConfigurationItem* shop = (*loaded)->find("shop");
  EXPECT_EQ(shop->members, std::vector<std::string>{"db1"});
  EXPECT_EQ(shop->depends_on, std::vector<std::string>{"db1"});
  ASSERT_EQ((*loaded)->services().size(), 1u);
}

TEST(CmdbLoader, EmptyFileIsAnEmptyCmdb) {
  auto loaded = loadCmdbString("", "cmdb.yaml");
  ASSERT_TRUE(loaded);
  EXPECT_EQ((*loaded)->size(), 0u);
}

TEST(CmdbLoader, RejectsUnknownKeys) {
  EXPECT_THAT(errorOf("cmdb:\n  - id: a\n"),
              HasSubstr("cmdb.yaml:1:1: unknown key 'cmdb' (expected one of: cis, label_rules)"));
  EXPECT_THAT(errorOf("cis:\n  - id: a\n    class: server\n    colour: red\n"),
              HasSubstr("cmdb.yaml:4:5: unknown key 'colour'"));
}

TEST(CmdbLoader, RejectsBadValues) {
  EXPECT_EQ(errorOf("cis:\n  - id: a\n    class: toaster\n"),
            "cmdb.yaml:3:12: unknown class 'toaster' (expected one of: router, switch, firewall, "
            "load_balancer, server, vm, container, storage, database, application, link, site, "
            "service, other)");
  EXPECT_EQ(errorOf("cis:\n  - id: a\n    class: server\n    criticality: 9\n"),
            "cmdb.yaml:4:18: value 9 out of range [1, 5]");
  EXPECT_EQ(errorOf("cis:\n  - id: a\n    class: server\n    labels: [x]\n"),
            "cmdb.yaml:4:13: expected a mapping of label names to values");
  EXPECT_EQ(errorOf("cis:\n  - class: server\n"), "cmdb.yaml:2:5: CI without 'id'");
  EXPECT_EQ(errorOf("cis:\n  - id: a\n"), "cmdb.yaml:2:5: CI 'a' without 'class'");
  EXPECT_EQ(errorOf("cis: {a: 1}\n"), "cmdb.yaml:1:6: 'cis' must be a list of CIs");
}

TEST(CmdbLoader, RejectsMalformedAliases) {
  EXPECT_EQ(errorOf("cis:\n  - id: a\n    class: server\n    aliases: [ok, 'bad host', 10.0.0.0/33]\n"),
            "cmdb.yaml:4:19: invalid alias 'bad host' in CI 'a' (expected a host name, FQDN, IP "
            "address or CIDR)\n"
            "cmdb.yaml:4:31: invalid CIDR '10.0.0.0/33' in CI 'a'");
  EXPECT_EQ(errorOf("cis:\n  - id: a\n    class: switch\n    aliases: [10.1.0.5/24]\n"),
            "cmdb.yaml:4:15: CIDR '10.1.0.5/24' of CI 'a' has host bits set (did you mean "
            "10.1.0.0/24?)");
}

TEST(CmdbLoader, RejectsDuplicateIds) {
  EXPECT_EQ(errorOf("cis:\n  - id: a\n    class: server\n  - id: a\n    class: switch\n"),
            "cmdb.yaml:4:9: duplicate CI id 'a' (first defined at cmdb.yaml:2:9)");
}

TEST(CmdbLoader, RejectsEdgesToMissingCis) {
  EXPECT_EQ(errorOf(R"(cis:
  - id: app
    class: application
    depends_on: [db, cache]
  - id: db
    class: database
  - id: shop
    class: service
    members:
      - app
      - ghost
)"),
            "cmdb.yaml:4:22: CI 'app' depends_on unknown CI 'cache'\n"
            "cmdb.yaml:11:9: service 'shop' has unknown member 'ghost'");
}

TEST(CmdbLoader, RejectsMembersOnNonServices) {
  EXPECT_EQ(errorOf("cis:\n  - id: a\n    class: server\n    members: [b]\n  - id: b\n    class: server\n"),
            "cmdb.yaml:4:14: 'members' is only allowed on CIs of class service");
}

TEST(CmdbLoader, ReportsDependencyCyclesWithTheirPath) {
  EXPECT_EQ(errorOf(R"(cis:
  - id: a
    class: server
    depends_on: [b]
  - id: b
    class: switch
    depends_on: [c]
  - id: c
    class: router
    depends_on: [a]
  - id: d
    class: server
    depends_on: [d]
)"),
            "cmdb.yaml:13:18: CI 'd' depends on itself\n"
            "cmdb.yaml:4:18: dependency cycle: a -> b -> c -> a");
}

TEST(CmdbLoader, ReportsCyclesThroughServiceMembership) {
  EXPECT_EQ(errorOf(R"(cis:
  - id: shop
    class: service
    members: [app]
  - id: app
    class: application
    depends_on: [shop]
)"),
            "cmdb.yaml:4:15: dependency cycle: shop -> app -> shop");
}

TEST(CmdbLoader, RejectsAnAliasClaimedByTwoCis) {
  EXPECT_EQ(errorOf(R"(cis:
  - id: sw1
    class: switch
    aliases: [sw1.par1.example.net, 10.1.0.1, 10.1.0.0/24]
  - id: sw1-old
    class: switch
    aliases: [SW1.par1.example.net, 10.1.0.1, 10.1.0.0/24]
)"),
            "cmdb.yaml:7:15: alias 'SW1.par1.example.net' of CI 'sw1-old' is already claimed by "
            "CI 'sw1' (cmdb.yaml:2:5); an alias must name exactly one CI\n"
            "cmdb.yaml:7:37: alias '10.1.0.1' of CI 'sw1-old' is already claimed by CI 'sw1' "
            "(cmdb.yaml:2:5); an alias must name exactly one CI\n"
            "cmdb.yaml:7:47: alias '10.1.0.0/24' of CI 'sw1-old' is already claimed by CI 'sw1' "
            "(cmdb.yaml:2:5); an alias must name exactly one CI");
}

TEST(CmdbLoader, RejectsLabelRulesForUnknownCis) {
  EXPECT_EQ(errorOf("label_rules:\n  - match: {site: par1}\n    ci: nowhere\n"),
            "cmdb.yaml:2:5: label rule names unknown CI 'nowhere'");
  EXPECT_EQ(errorOf("label_rules:\n  - match: {}\n    ci: x\n"),
            "cmdb.yaml:2:12: 'match' must be a non-empty mapping of label names to values");
}

TEST(CmdbLoader, ReportsYamlSyntaxErrorsWithPosition) {
  EXPECT_THAT(errorOf("cis:\n  - id: [a\n"), HasSubstr("cmdb.yaml:3:1: "));
}

TEST(CmdbLoader, CollectsEveryErrorInOnePass) {
  const std::string e = errorOf(R"(cis:
  - id: a
    class: toaster
  - id: b
    class: server
    criticality: 0
  - id: c
    class: server
    owner: me
)");
  EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 2) << e;
  EXPECT_THAT(e, HasSubstr("cmdb.yaml:3:12: unknown class 'toaster'"));
  EXPECT_THAT(e, HasSubstr("cmdb.yaml:6:18: value 0 out of range [1, 5]"));
  EXPECT_THAT(e, HasSubstr("cmdb.yaml:9:5: unknown key 'owner'"));
}

// The entries of `cis` are read while the parser reads the file (no node tree of the whole file):
// what is reported must be what a whole-file read reports.
TEST(CmdbLoader, AnUnknownTopLevelKeyAfterTheCisIsReportedAlone) {
  EXPECT_EQ(errorOf("cis:\n  - id: a\n    class: toaster\n  - 3\nowner: me\n"),
            "cmdb.yaml:5:1: unknown key 'owner' (expected one of: cis, label_rules)");
}

TEST(CmdbLoader, ASyntaxErrorAfterBadCisIsTheFilesOnlyError) {
  testing::TempDir dir;
  writeFile(dir.file("a.yaml"), "cis:\n  - id: a\n    class: server\n");
  writeFile(dir.file("b.yaml"), "cis:\n  - id: b\n    class: toaster\n  - id: c\n    aliases: [x\n");
  auto loaded = loadCmdbFiles({"a.yaml", "b.yaml"}, dir.path().string());
  ASSERT_FALSE(loaded);
  const std::string e = loaded.error().message();
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_THAT(e, ::testing::StartsWith(dir.file("b.yaml") + ":6:1: "));
}

TEST(CmdbLoader, ReportsTheCisErrorsBeforeTheLabelRulesWhateverTheKeyOrder) {
  EXPECT_EQ(errorOf("label_rules:\n  - match: {site: x}\n    ci: nope\n  - 3\n"
                    "cis:\n  - id: a\n    class: toaster\n  - [b]\ncis: 7\n"),
            "cmdb.yaml:7:12: unknown class 'toaster' (expected one of: router, switch, firewall, "
            "load_balancer, server, vm, container, storage, database, application, link, site, "
            "service, other)\n"
            "cmdb.yaml:8:5: a CI must be a mapping\n"
            "cmdb.yaml:4:5: expected a mapping");
}

TEST(CmdbLoader, AliasesReadAsTheirAnchorsAndReportAtThem) {
  auto loaded = loadCmdbString(R"(cis:
  - id: a
    class: server
    labels: &par1 {site: par1}
    depends_on: &core [sw]
  - {id: sw, class: switch}
  - &template
    id: b
    class: server
    labels: *par1
    depends_on: *core
)", "cmdb.yaml");
  ASSERT_TRUE(loaded) << loaded.error().message();
  const ConfigurationItem* b = (*loaded)->find("b");
  ASSERT_NE(b, nullptr);
  ASSERT_NE(b->labels.find("site"), nullptr);
  EXPECT_EQ(*b->labels.find("site"), "par1");
  EXPECT_EQ(b->depends_on, std::vector<std::string>{"sw"});
  EXPECT_EQ(errorOf("cis:\n  - id: a\n    class: &c toaster\n  - id: b\n    class: *c\n"),
            "cmdb.yaml:3:12: unknown class 'toaster' (expected one of: router, switch, firewall, "
            "load_balancer, server, vm, container, storage, database, application, link, site, "
            "service, other)\n"
            "cmdb.yaml:3:12: unknown class 'toaster' (expected one of: router, switch, firewall, "
            "load_balancer, server, vm, container, storage, database, application, link, site, "
            "service, other)");
}

TEST(CmdbLoader, ReadsFlowStyleAndOnlyTheFirstDocument) {
  auto loaded = loadCmdbString("{cis: [{id: a, class: server, aliases: [a1, 10.0.0.1]}, {id: b, class: switch}]}\n"
                               "---\ncis: [{id: c, class: toaster}]\n",
                               "cmdb.yaml");
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ((*loaded)->size(), 2u);
  EXPECT_EQ((*loaded)->bindHost("10.0.0.1").ci, (*loaded)->find("a"));
}

TEST(CmdbLoader, ALargeFileLoadsEveryCi) {
  testing::TempDir dir;
  std::string text = "cis:\n  - {id: sw, class: switch}\n";
  for (int i = 0; i < 20000; ++i) {
    text += "  - id: srv-" + std::to_string(i) + "\n    class: server\n    aliases: [srv-" + std::to_string(i) +
            ".example.net]\n    depends_on: [sw]\n";
  }
  writeFile(dir.file("big.yaml"), text);
  auto loaded = loadCmdbFiles({"big.yaml"}, dir.path().string());
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ((*loaded)->size(), 20001u);
  const ConfigurationItem* last = (*loaded)->find("srv-19999");
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->origin->item.line, 2 + 4 * 19999 + 1);
  EXPECT_EQ((*loaded)->bindHost("SRV-19999.example.net").ci, last);
}

TEST(CmdbLoader, LoadsGlobsRelativeToBaseDirAndChecksAcrossFiles) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "cmdb.d");
  writeFile(dir.file("cmdb.d/10-network.yaml"),
            "cis:\n  - id: sw1\n    class: switch\n    aliases: [sw1]\n");
  writeFile(dir.file("cmdb.d/20-servers.yaml"),
            "cis:\n  - id: srv1\n    class: server\n    depends_on: [sw1]\n");
  auto loaded = loadCmdbFiles({"cmdb.d/*.yaml"}, dir.path().string());
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ((*loaded)->size(), 2u);

  writeFile(dir.file("cmdb.d/30-dup.yaml"), "cis:\n  - id: sw1\n    class: router\n");
  loaded = loadCmdbFiles({"cmdb.d/*.yaml"}, dir.path().string());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message(),
            dir.file("cmdb.d/30-dup.yaml") + ":2:9: duplicate CI id 'sw1' (first defined at " +
                dir.file("cmdb.d/10-network.yaml") + ":2:9)");
}

TEST(CmdbLoader, MissingFileWithoutWildcardIsAnError) {
  testing::TempDir dir;
  auto loaded = loadCmdbFiles({"nope.yaml", "none/*.yaml"}, dir.path().string());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message(), dir.file("nope.yaml") + ":1:1: cannot open file");
}

TEST(CmdbLoader, AFileThatCannotBeReadIsAnErrorNotACrash) {
  testing::TempDir dir;
  std::filesystem::create_directory(dir.file("cmdb.yaml"));  // opens, but reading it fails
  auto loaded = loadCmdbFiles({"cmdb.yaml"}, dir.path().string());
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().message(), HasSubstr(dir.file("cmdb.yaml") + ":1:1: cannot read file: "));
}

TEST(CmdbLoader, ShippedExampleLoads) {
  auto loaded = loadCmdbFiles({"config/cmdb.yaml"}, VIGIL_SOURCE_DIR);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_GE((*loaded)->size(), 10u);
  EXPECT_EQ((*loaded)->services().size(), 2u);
}

// A million CIs: every byte per CI is a megabyte (docs/performance.md "Scaling"). The rarely set
// strings are 8 bytes each while empty, the origin is a record in its file's table.
TEST(CmdbLoader, RareFieldsRoundTripThroughTheCompactForm) {
  static_assert(sizeof(CompactString) == sizeof(void*));
  EXPECT_LE(sizeof(ConfigurationItem), 176u);
  auto loaded = loadCmdbString(R"(cis:
  - id: db1
    name: Orders database
    class: database
    assignment_group: dba
    location: PAR1 hall A
  - id: srv-0000001.dc1.example.net
    class: server
  - id: same
    name: same
    class: server
)", "cmdb.yaml");
  ASSERT_TRUE(loaded) << loaded.error().message();
  const ConfigurationItem& db = *(*loaded)->find("db1");
  EXPECT_EQ(db.name, "Orders database");
  EXPECT_EQ(db.displayName(), "Orders database");
  EXPECT_EQ(db.assignment_group, std::string("dba"));
  EXPECT_EQ(db.location.view(), "PAR1 hall A");
  const ConfigurationItem& unnamed = *(*loaded)->find("srv-0000001.dc1.example.net");
  EXPECT_TRUE(unnamed.name.empty());
  EXPECT_TRUE(unnamed.location.empty());
  EXPECT_EQ(unnamed.displayName(), "srv-0000001.dc1.example.net");
  EXPECT_TRUE((*loaded)->find("same")->name.empty());  // a name equal to the id is not a second copy

  // The API's JSON is what it was: the name defaults to the id, unset strings are "".
  nlohmann::json j;
  toJson(unnamed, j);
  EXPECT_EQ(j["name"], "srv-0000001.dc1.example.net");
  EXPECT_EQ(j["assignment_group"], "");
  EXPECT_EQ(j["location"], "");
  toJson(db, j);
  EXPECT_EQ(j["name"], "Orders database");
  EXPECT_EQ(j["assignment_group"], "dba");
  EXPECT_EQ(j["location"], "PAR1 hall A");

  // Copies are deep and independent.
  ConfigurationItem copy = db;
  copy.location = "LON1";
  EXPECT_EQ(copy.location, "LON1");
  EXPECT_EQ(db.location, "PAR1 hall A");
  copy.name = std::string();
  EXPECT_EQ(copy.displayName(), "db1");
}

TEST(CmdbLoader, OriginsLiveInOneTablePerFileAndOutliveTheSnapshot) {
  testing::TempDir dir;
  writeFile(dir.file("a.yaml"), "cis:\n  - id: a1\n    class: switch\n    aliases: [a1.example.net, 10.0.0.1]\n"
                                    "  - id: a2\n    class: server\n    depends_on: [a1]\n");
  writeFile(dir.file("b.yaml"), "cis:\n  - id: s\n    class: service\n    members:\n      - a2\n      - a1\n");
  ConfigurationItem a2, s;
  {
    auto loaded = loadCmdbFiles({"*.yaml"}, dir.path().string());
    ASSERT_TRUE(loaded) << loaded.error().message();
    const ConfigurationItem& a1 = *(*loaded)->find("a1");
    a2 = *(*loaded)->find("a2");
    s = *(*loaded)->find("s");
    ASSERT_TRUE(a1.origin && a2.origin && s.origin);
    EXPECT_EQ(a1.origin->table, a2.origin->table);  // one table for a.yaml
    EXPECT_NE(a1.origin->table, s.origin->table);
    ASSERT_NE(a1.origin->alias(1), nullptr);
    EXPECT_EQ(a1.origin->alias(1)->line, 4);
    EXPECT_EQ(a1.origin->alias(1)->column, 31);
    EXPECT_EQ(a1.origin->alias(2), nullptr);
    EXPECT_EQ(a1.origin->dependsOn(0), nullptr);
  }
  // The snapshot is gone; the copies keep their file's table alive.
  EXPECT_EQ(a2.origin->file(), dir.file("a.yaml"));
  EXPECT_EQ(a2.origin->item.line, 5);
  EXPECT_EQ(a2.origin->alias(0), nullptr);
  ASSERT_NE(a2.origin->dependsOn(0), nullptr);
  EXPECT_EQ(a2.origin->dependsOn(0)->line, 7);
  EXPECT_EQ(a2.origin->dependsOn(0)->column, 18);
  EXPECT_EQ(s.origin->file(), dir.file("b.yaml"));
  ASSERT_NE(s.origin->member(1), nullptr);
  EXPECT_EQ(s.origin->member(1)->line, 6);
  EXPECT_EQ(s.origin->member(1)->column, 9);
  EXPECT_EQ(s.origin->member(2), nullptr);
}

}  // namespace
}  // namespace vigil::cmdb
