// VerdictLog's store layout (verdict_layout.h): one chunk per batch plus one index record per
// bucket of the CIs in it, read back by event and by CI, and trimmed by retention, on the real
// store.
#include <algorithm>
#include <functional>
#include <set>

#include <gtest/gtest.h>

#include <prometheus/registry.h>

#include "daemon/store/store.h"
#include "daemon/time_util.h"
#include "daemon/verdicts/verdict_layout.h"
#include "daemon/verdicts/verdict_log.h"
#include "tests/support/temp_dir.h"

namespace vigil::verdicts {
namespace {

class VerdictLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::Store::open({.path = dir_.file("db")}));
    log_ = std::make_unique<VerdictLog>(VerdictOptions{.retention = std::chrono::hours(1)},
                                        [this] { return now_; }, registry_);
    ASSERT_TRUE(log_->restore(*store_).isOk());
  }

  // One correlator batch of `n` events that opened nothing, by default alternating between two
  // CIs and unbound; returns how many store ops the batch wrote.
  size_t batch(size_t n, const std::function<std::string(size_t i)>& ci_of = twoCis) {
    now_ += std::chrono::seconds(1);
    log_->onTick(now_, engine_);
    const uint64_t first = log_->reserve(n);
    for (size_t i = 0; i < n; ++i) {
      Event e;
      e.host = "h" + std::to_string(first + i);
      e.ci = ci_of(i);
      Verdict v;
      v.reason = Reason::kNoMatch;
      v.detail = "event " + std::to_string(first + i);
      log_->onIntake(e, first + i);
      log_->onVerdict(e, v);
    }
    std::vector<store::StateOp> ops;
    log_->collectStateOps(ops);
    EXPECT_TRUE(store_->write(ops).isOk());
    return ops.size();
  }

  static std::string twoCis(size_t i) { return i % 3 == 0 ? "" : i % 3 == 1 ? "sw1" : "sw2"; }

  std::vector<uint64_t> idsOf(std::string_view ci, size_t limit) {
    auto records = VerdictLog::byCi(*store_, ci, limit);
    EXPECT_TRUE(records.has_value());
    std::vector<uint64_t> ids;
    for (const auto& r : *records) {
      EXPECT_EQ(r.ci, ci);
      ids.push_back(r.event_id);
    }
    return ids;
  }

  std::vector<std::string> verdictKeys(std::string_view prefix) {
    std::vector<std::string> keys;
    EXPECT_TRUE(store_->scan(store::Column::kVerdicts, 0, prefix, [&](std::string_view key, std::string_view) {
      keys.emplace_back(key);
      return true;
    }).isOk());
    return keys;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  prometheus::Registry registry_;
  TimePoint now_ = fromUnixMillis(1'800'000'000'000);
  std::unique_ptr<VerdictLog> log_;
  incidents::IncidentEngine engine_;
};

TEST_F(VerdictLogTest, ABatchIsOneChunkPlusOneIndexRecordPerBucketOfItsCis) {
  // Chunk, the buckets of sw1 and sw2 and the next-id record for 300 events.
  const size_t buckets = ciBucket("sw1") == ciBucket("sw2") ? 1 : 2;
  EXPECT_EQ(batch(300), 2 + buckets);
  // 3 000 CIs: every bucket, not a put per CI.
  EXPECT_EQ(batch(3000, [](size_t i) { return "ci" + std::to_string(i); }), 2u + kCiBuckets);
  EXPECT_EQ(idsOf("ci1234", 10), (std::vector<uint64_t>{301 + 1234}));
}

// The bucket of a CI is part of the stored layout: the same in every build.
TEST(VerdictLayout, TheHashAndTheBucketsAreStable) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);  // FNV-1a's published test vectors
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
  EXPECT_EQ(ciBucket("sw1"), 28);
  EXPECT_EQ(ciBucket("sw2"), 9);
  EXPECT_EQ(ciBucket("core-router-7.dc2"), 9);
  EXPECT_EQ(ciBucketKey(0x0102, 0x0a0b), std::string("b\x01\x02\0\0\0\0\0\0\x0a\x0b", 11));
}

// The ids of `ci` in one chunk's bucket records, in the order the records give them.
std::vector<uint64_t> idsInRecords(const std::vector<store::StateOp>& ops, uint64_t chunk_last_id,
                                   std::string_view ci) {
  std::vector<uint64_t> ids;
  for (const auto& op : ops) {
    std::vector<uint64_t> found;
    EXPECT_TRUE(findCiIds(*op.value, chunk_last_id, ci, found));
    ids.insert(ids.end(), found.begin(), found.end());
  }
  return ids;
}

TEST(VerdictLayout, AnIndexRecordGivesEachCiItsIdsInAnyOrderAndRefusesATruncatedOne) {
  CiIndexBuilder builder;
  // Ids are reserved at intake: a batch may hold a later source's events before an earlier one's.
  const std::vector<std::pair<std::string, uint64_t>> added = {
      {"a", 500}, {"b", 501}, {"a", 420}, {"a", 9000}, {"b", 100}, {"a", 421}};
  for (const auto& [ci, id] : added) builder.add(ci, id);
  std::vector<store::StateOp> ops;
  builder.flush(9000, ops);
  EXPECT_EQ(idsInRecords(ops, 9000, "a"), (std::vector<uint64_t>{500, 420, 9000, 421}));
  EXPECT_EQ(idsInRecords(ops, 9000, "b"), (std::vector<uint64_t>{501, 100}));
  EXPECT_TRUE(idsInRecords(ops, 9000, "c").empty());
  for (const auto& op : ops) {
    std::vector<uint64_t> found;
    const std::string& record = *op.value;
    EXPECT_FALSE(findCiIds(std::string_view(record).substr(0, record.size() - 1), 9000, "zz", found));
  }
  ops.clear();
  builder.flush(9001, ops);  // started over: nothing left
  EXPECT_TRUE(ops.empty());
}

TEST(VerdictLayout, ACiAddedManyTimesAmongOthersKeepsItsIdsInTheOrderAdded) {
  // Past a few dozen pairs per bucket the grouping sort is no longer an insertion sort.
  CiIndexBuilder builder;
  std::vector<uint64_t> expected;
  uint64_t id = 1000;
  for (int i = 0; i < 300; ++i) {
    id = (id * 7919 + 13) % 100000 + 1;  // out of order, as ids reserved by several sources
    if (i % 3 == 0) {
      builder.add("router-1", id);
      expected.push_back(id);
    } else {
      builder.add("switch-" + std::to_string(i % 40), id);
    }
  }
  std::vector<store::StateOp> ops;
  builder.flush(100001, ops);
  EXPECT_EQ(idsInRecords(ops, 100001, "router-1"), expected);
}

TEST_F(VerdictLogTest, CisThatShareABucketKeepTheirOwnEventsNewestFirstAcrossChunks) {
  // Three CIs of one bucket and one of another.
  std::vector<std::string> same;
  std::string other;
  for (int i = 0; same.size() < 3 || other.empty(); ++i) {
    const std::string ci = "host-" + std::to_string(i);
    if (ciBucket(ci) == ciBucket("host-0")) {
      if (same.size() < 3) same.push_back(ci);
    } else if (other.empty()) {
      other = ci;
    }
  }
  const std::vector<std::string> cis = {same[0], same[1], "", same[2], other};
  for (int b = 0; b < 40; ++b) batch(25, [&](size_t i) { return cis[i % cis.size()]; });  // ids 1..1000
  // same[1] has the ids ≡ 2 (mod 5) within each batch of 25: 2, 7, … 997.
  std::vector<uint64_t> expected;
  for (uint64_t id = 997; expected.size() < 12; id -= 5) expected.push_back(id);
  EXPECT_EQ(idsOf(same[1], 12), expected);  // across three chunks
  EXPECT_EQ(idsOf(same[1], 1), (std::vector<uint64_t>{997}));
  EXPECT_EQ(idsOf(same[1], 1000).size(), 200u);
  EXPECT_EQ(idsOf(same[1], 1000).back(), 2u);
  EXPECT_EQ(idsOf(same[0], 1000).size(), 200u);
  EXPECT_EQ(idsOf(same[2], 3), (std::vector<uint64_t>{999, 994, 989}));
  EXPECT_EQ(idsOf(other, 2), (std::vector<uint64_t>{1000, 995}));
  EXPECT_TRUE(idsOf("host-none", 10).empty());
}

TEST_F(VerdictLogTest, TrimmingEverythingLeavesNoIndexRecordBehind) {
  auto ci_of = [](size_t i) { return i % 7 == 0 ? "" : "ci" + std::to_string(i % 150); };
  std::set<uint16_t> buckets;
  for (size_t i = 0; i < 400; ++i) {
    if (!ci_of(i).empty()) buckets.insert(ciBucket(ci_of(i)));
  }
  for (int b = 0; b < 5; ++b) batch(400, ci_of);
  EXPECT_EQ(verdictKeys("e").size(), 5u);
  EXPECT_EQ(verdictKeys("b").size(), 5 * buckets.size());
  now_ += std::chrono::hours(2);
  batch(0);  // its tick trims every chunk, its commit deletes them
  EXPECT_TRUE(verdictKeys("e").empty());
  EXPECT_TRUE(verdictKeys("b").empty());
  EXPECT_TRUE(idsOf("ci1", 10).empty());
}

TEST_F(VerdictLogTest, EventsAreFoundByIdAndByCiNewestFirst) {
  for (int i = 0; i < 5; ++i) batch(100);  // ids 1..500
  for (uint64_t id : {1u, 2u, 99u, 100u, 101u, 250u, 500u}) {
    auto r = VerdictLog::byEvent(*store_, id);
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(r.value().has_value()) << id;
    EXPECT_EQ(r.value()->event_id, id);
    EXPECT_EQ(r.value()->verdict.detail, "event " + std::to_string(id));
    EXPECT_EQ(r.value()->host, "h" + std::to_string(id));
  }
  EXPECT_FALSE(VerdictLog::byEvent(*store_, 501).value().has_value());

  auto sw1 = VerdictLog::byCi(*store_, "sw1", 40);
  ASSERT_TRUE(sw1.has_value());
  ASSERT_EQ(sw1->size(), 40u);
  // sw1 has ids ≡ 2 (mod 3) within each batch of 100 (ids first+1, first+4, …): newest first.
  for (size_t i = 0; i + 1 < sw1->size(); ++i) EXPECT_GT((*sw1)[i].event_id, (*sw1)[i + 1].event_id);
  for (const auto& r : *sw1) EXPECT_EQ(r.ci, "sw1");
  EXPECT_EQ(sw1->front().event_id, 500u - 2);  // batch 5 starts at 401: sw1 is 402, 405, …, 498
  EXPECT_EQ(VerdictLog::byCi(*store_, "sw2", 1000)->size(), 5u * 33);
  EXPECT_TRUE(VerdictLog::byCi(*store_, "nope", 10)->empty());
}

TEST_F(VerdictLogTest, RetentionTrimsWholeChunksAndTheirIndexRecords) {
  batch(100);  // ids 1..100
  now_ += std::chrono::hours(2);
  batch(100);  // ids 101..200; its tick trims the first chunk (older than the retention)
  now_ += std::chrono::seconds(2);
  batch(10);  // commits the trim's deletions
  EXPECT_FALSE(VerdictLog::byEvent(*store_, 50).value().has_value());
  EXPECT_TRUE(VerdictLog::byEvent(*store_, 150).value().has_value());
  auto sw1 = VerdictLog::byCi(*store_, "sw1", 1000);
  ASSERT_TRUE(sw1.has_value());
  for (const auto& r : *sw1) EXPECT_GT(r.event_id, 100u);
  const size_t buckets = ciBucket("sw1") == ciBucket("sw2") ? 1 : 2;
  EXPECT_EQ(verdictKeys("b").size(), 2 * buckets);  // those of the two remaining chunks
}

// A trim that finds the oldest chunk young remembers it; that chunk must still go once it ages
// past the retention, or once too many newer ids follow it.
TEST_F(VerdictLogTest, AChunkFoundYoungIsTrimmedOnceItAges) {
  batch(100);  // ids 1..100
  batch(100);  // ids 101..200; its tick finds chunk 1..100 young
  batch(100);  // and so does this one's
  ASSERT_TRUE(VerdictLog::byEvent(*store_, 50).value().has_value());
  now_ += std::chrono::hours(2);
  batch(10);  // trims the three chunks: all older than the retention now
  batch(10);  // commits the deletions
  EXPECT_FALSE(VerdictLog::byEvent(*store_, 50).value().has_value());
  EXPECT_FALSE(VerdictLog::byEvent(*store_, 250).value().has_value());
  EXPECT_TRUE(VerdictLog::byEvent(*store_, 305).value().has_value());
}

TEST_F(VerdictLogTest, AChunkFoundYoungIsTrimmedOnceTooManyIdsFollowIt) {
  log_ = std::make_unique<VerdictLog>(VerdictOptions{.retention = std::chrono::hours(1), .max_records = 150},
                                      [this] { return now_; }, registry_);
  ASSERT_TRUE(log_->restore(*store_).isOk());
  batch(100);  // ids 1..100
  batch(100);  // ids 101..200; its tick finds chunk 1..100 within the last 150 ids
  ASSERT_TRUE(VerdictLog::byEvent(*store_, 50).value().has_value());
  batch(100);  // ids 201..300; at its tick the last 150 ids start at 51: chunk 1..100 stays
  ASSERT_TRUE(VerdictLog::byEvent(*store_, 50).value().has_value());
  batch(10);  // at its tick they start at 151: chunk 1..100 goes, 101..200 stays
  batch(10);  // commits the deletions
  EXPECT_FALSE(VerdictLog::byEvent(*store_, 50).value().has_value());
  EXPECT_TRUE(VerdictLog::byEvent(*store_, 150).value().has_value());
  auto sw1 = VerdictLog::byCi(*store_, "sw1", 1000);
  ASSERT_TRUE(sw1.has_value());
  for (const auto& r : *sw1) EXPECT_GT(r.event_id, 100u);
}

}  // namespace
}  // namespace vigil::verdicts
