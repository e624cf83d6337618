#include <atomic>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "daemon/cmdb/cmdb_registry.h"
#include "daemon/cmdb/unbound_log.h"
#include "tests/support/temp_dir.h"

namespace vigil::cmdb {
namespace {

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(CmdbRegistry, ReloadSwapsTheSnapshotWhileOldReadersKeepTheirs) {
  testing::TempDir dir;
  writeFile(dir.file("cmdb.yaml"), "cis:\n  - {id: sw1, class: switch, aliases: [sw1]}\n");
  auto first = loadCmdbFiles({"cmdb.yaml"}, dir.path().string());
  ASSERT_TRUE(first) << first.error().message();
  CmdbRegistry registry(*first);

  const std::shared_ptr<const CiSnapshot> old = registry.current();
  const ConfigurationItem* old_ci = old->bindHost("sw1").ci;
  ASSERT_NE(old_ci, nullptr);

  writeFile(dir.file("cmdb.yaml"), "cis:\n  - {id: sw2, class: switch, aliases: [sw1, sw2]}\n");
  ASSERT_TRUE(registry.reload({"cmdb.yaml"}, dir.path().string()).isOk());

  const auto now = registry.current();
  EXPECT_NE(now.get(), old.get());
  EXPECT_GT(now->generation(), old->generation());
  EXPECT_EQ(now->bindHost("sw1").ci->id, "sw2");
  // The old snapshot, and pointers into it, are untouched while held.
  EXPECT_EQ(old->bindHost("sw1").ci, old_ci);
  EXPECT_EQ(old_ci->id, "sw1");
  EXPECT_FALSE(old->bindHost("sw2"));
}

TEST(CmdbRegistry, FailedReloadKeepsTheOldSnapshotAndSaysWhy) {
  testing::TempDir dir;
  writeFile(dir.file("cmdb.yaml"), "cis:\n  - {id: sw1, class: switch}\n");
  CmdbRegistry registry(*loadCmdbFiles({"cmdb.yaml"}, dir.path().string()));
  const auto before = registry.current();
  writeFile(dir.file("cmdb.yaml"), "cis:\n  - {id: sw1, class: switch, depends_on: [gone]}\n");
  const Status s = registry.reload({"cmdb.yaml"}, dir.path().string());
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message(), dir.file("cmdb.yaml") + ":2:43: CI 'sw1' depends_on unknown CI 'gone'");
  EXPECT_EQ(registry.current(), before);
}

TEST(CmdbRegistry, ReadersOnOtherThreadsSeeAWholeSnapshot) {
  auto a = loadCmdbString("cis:\n  - {id: a, class: server, aliases: [h]}\n", "a.yaml");
  auto b = loadCmdbString("cis:\n  - {id: b, class: server, aliases: [h]}\n", "b.yaml");
  ASSERT_TRUE(a && b);
  CmdbRegistry registry(*a);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop) {
      const auto snap = registry.current();
      const Binding binding = snap->bindHost("h");
      if (!binding || (binding.ci->id != "a" && binding.ci->id != "b")) ++bad;
    }
  });
  for (int i = 0; i < 2000; ++i) registry.set(i % 2 ? *a : *b);
  stop = true;
  reader.join();
  EXPECT_EQ(bad, 0);
}

TEST(CmdbRegistry, StartsEmpty) {
  CmdbRegistry registry;
  ASSERT_NE(registry.current(), nullptr);
  EXPECT_EQ(registry.current()->size(), 0u);
}

Event unboundEvent(std::string source, std::string host, std::string message = "x") {
  Event e;
  e.source = std::move(source);
  e.host = std::move(host);
  e.message = std::move(message);
  e.received_at = TimePoint(std::chrono::seconds(1700000000));
  return e;
}

TEST(UnboundLog, GroupsBySourceAndHostAndCountsPerSource) {
  UnboundLog log(2);
  log.record(unboundEvent("syslog/udp", "ghost1"));
  log.record(unboundEvent("syslog/udp", "ghost2", "first"));
  log.record(unboundEvent("syslog/udp", "ghost2", "second"));
  log.record(unboundEvent("http", "ghost3"));  // a third group: over capacity, only counted
  const auto entries = log.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].host, "ghost2");
  EXPECT_EQ(entries[0].count, 2u);
  EXPECT_EQ(entries[0].last_message, "second");
  EXPECT_EQ(log.overflow(), 1u);
  EXPECT_EQ(log.totalsBySource().at("syslog/udp"), 3u);
  EXPECT_EQ(log.totalsBySource().at("http"), 1u);

  nlohmann::json j;
  log.toJson(j);
  EXPECT_EQ(j["entries"][0]["host"], "ghost2");
  EXPECT_EQ(j["entries"][0]["first_seen"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(j["totals"]["http"], 1);
  EXPECT_EQ(j["overflow"], 1);
  log.clear();
  EXPECT_TRUE(log.entries().empty());
}

}  // namespace
}  // namespace vigil::cmdb
