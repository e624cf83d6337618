// VerdictLog's store layout: one chunk per batch plus one CI entry per CI in it, read back by
// event and by CI, and trimmed by retention, on the real store.
#include <gtest/gtest.h>

#include <prometheus/registry.h>

#include "daemon/store/store.h"
#include "daemon/time_util.h"
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

  // One correlator batch of `n` events that opened nothing, alternating between two CIs and
  // unbound; returns how many store ops the batch wrote.
  size_t batch(size_t n) {
    now_ += std::chrono::seconds(1);
    log_->onTick(now_, engine_);
    const uint64_t first = log_->reserve(n);
    for (size_t i = 0; i < n; ++i) {
      Event e;
      e.host = "h" + std::to_string(first + i);
      e.ci = i % 3 == 0 ? "" : i % 3 == 1 ? "sw1" : "sw2";
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

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  prometheus::Registry registry_;
  TimePoint now_ = fromUnixMillis(1'800'000'000'000);
  std::unique_ptr<VerdictLog> log_;
  incidents::IncidentEngine engine_;
};

TEST_F(VerdictLogTest, ABatchIsOneChunkPlusOneEntryPerCi) {
  // Chunk, sw1, sw2 and the next-id record: 4 puts for 300 events.
  EXPECT_EQ(batch(300), 4u);
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

TEST_F(VerdictLogTest, RetentionTrimsWholeChunksAndTheirCiEntries) {
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
  size_t ci_keys = 0;
  ASSERT_TRUE(store_->scan(store::Column::kVerdicts, 0, "c", [&](std::string_view, std::string_view) {
    ++ci_keys;
    return true;
  }).isOk());
  EXPECT_EQ(ci_keys, 4u);  // sw1 and sw2 of the two remaining chunks
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
