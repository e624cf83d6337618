// CmdbFeeds on a real store: the files' snapshot is published as it is (one copy of the CIs),
// the store gets only the CIs that changed, in bounded writes, and a start whose files do not
// load falls back to a complete stored CMDB only.
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/cmdb/cmdb_feeds.h"
#include "daemon/store/store.h"
#include "tests/support/temp_dir.h"

namespace vigil::cmdb {
namespace {

using store::Column;
using store::StateOp;

// `count` servers behind one switch; `variant` changes the location of server 0.
std::shared_ptr<const CiSnapshot> servers(size_t count, const std::string& variant = "hall A") {
  std::string text = "cis:\n  - {id: sw, class: switch}\n";
  for (size_t i = 0; i < count; ++i) {
    text += "  - {id: srv-" + std::to_string(i) + ", class: server, depends_on: [sw], location: '" +
            (i == 0 ? variant : "hall A") + "'}\n";
  }
  auto loaded = loadCmdbString(text, "cmdb.yaml");
  if (!loaded) ADD_FAILURE() << loaded.error().message();
  return loaded ? *loaded : nullptr;
}

size_t storedFileCis(const store::Store& store) {
  size_t n = 0;
  EXPECT_TRUE(store.scan(Column::kCmdb, 0, "file/ci/", [&](std::string_view, std::string_view) {
    ++n;
    return true;
  }).isOk());
  return n;
}

bool stored(const store::Store& store, std::string_view key) {
  auto value = store.get(Column::kCmdb, 0, key);
  return value && value->has_value();
}

TEST(CmdbFeeds, PublishesTheFilesSnapshotAndStoresOnlyWhatChangedInBoundedWrites) {
  testing::TempDir dir;
  auto store = store::Store::open({.path = dir.file("store")});
  ASSERT_TRUE(store);
  std::shared_ptr<const CiSnapshot> live;
  const size_t count = 2 * CmdbFeeds::kStoreChunk + 10;  // three writes
  {
    CmdbFeeds feeds(**store, [&](auto snapshot) { live = std::move(snapshot); });
    auto files = servers(count);
    ASSERT_TRUE(feeds.start(files, "").isOk());
    EXPECT_EQ(live, files);  // no second copy of the CIs
    EXPECT_EQ(storedFileCis(**store), count + 1);
    EXPECT_FALSE(stored(**store, "file/incomplete"));
  }
  {
    // srv-0 changed, the last server gone: one record written, one erased.
    CmdbFeeds feeds(**store, [&](auto snapshot) { live = std::move(snapshot); });
    ASSERT_TRUE(feeds.start(servers(count - 1, "hall B"), "").isOk());
    EXPECT_EQ(storedFileCis(**store), count);
    EXPECT_FALSE(stored(**store, "file/ci/srv-" + std::to_string(count - 1)));
    auto srv0 = (**store).get(Column::kCmdb, 0, "file/ci/srv-0");
    ASSERT_TRUE(srv0 && *srv0);
    EXPECT_THAT(**srv0, ::testing::HasSubstr("hall B"));
  }
  {
    // Files that do not load: the stored CMDB is used.
    CmdbFeeds feeds(**store, [&](auto snapshot) { live = std::move(snapshot); });
    ASSERT_TRUE(feeds.start(nullptr, "cmdb.yaml:1:1: broken").isOk());
    ASSERT_TRUE(live);
    EXPECT_EQ(live->size(), count);
    ASSERT_NE(live->find("srv-0"), nullptr);
    EXPECT_EQ(live->find("srv-0")->location, "hall B");
  }
}

TEST(CmdbFeeds, AStoredCmdbLeftIncompleteIsNotUsed) {
  testing::TempDir dir;
  auto store = store::Store::open({.path = dir.file("store")});
  ASSERT_TRUE(store);
  std::shared_ptr<const CiSnapshot> live;
  CmdbFeeds feeds(**store, [&](auto snapshot) { live = std::move(snapshot); });
  ASSERT_TRUE(feeds.start(servers(3), "").isOk());
  // A start that stopped between two of its writes leaves the marker behind.
  ASSERT_TRUE((**store).write({StateOp::put(Column::kCmdb, 0, "file/incomplete", "")}).isOk());
  CmdbFeeds after_crash(**store, [&](auto snapshot) { live = std::move(snapshot); });
  Status s = after_crash.start(nullptr, "cmdb.yaml:1:1: broken");
  EXPECT_FALSE(s.isOk());
  EXPECT_THAT(s.message(), ::testing::HasSubstr("cmdb.yaml:1:1: broken"));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("incomplete"));
  // The next good load completes it.
  ASSERT_TRUE(after_crash.start(servers(3), "").isOk());
  EXPECT_FALSE(stored(**store, "file/incomplete"));
  EXPECT_EQ(storedFileCis(**store), 4u);
}

}  // namespace
}  // namespace vigil::cmdb
