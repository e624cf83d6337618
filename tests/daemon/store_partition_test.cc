// The store's partition records for scale-out: what a commit hands the changelog, and a second
// store rebuilt from those records alone (apply, drop, load into an engine).
#include <algorithm>

#include <gtest/gtest.h>

#include "daemon/store/store.h"
#include "tests/daemon/store_test_events.h"
#include "tests/support/temp_dir.h"

namespace vigil::store {
namespace {

using incidents::ChangeSet;
using incidents::IncidentEngine;
using testing_events::open;
using testing_events::problem;

TEST(StorePartition, CommitsHandOverOnlyPartitionStateAndAnotherStoreRebuildsFromIt) {
  testing::TempDir dir;
  auto source = Store::open({.path = dir.file("a")});
  ASSERT_TRUE(source);
  std::vector<PartitionRecord> seen;
  (*source)->setPartitionObserver([&](std::vector<PartitionRecord>&& records) {
    for (auto& r : records) seen.push_back(std::move(r));
  });
  IncidentEngine engine;
  engine.apply(problem("a", 3), open("a/link"));
  engine.apply(problem("b", 5), open("b/link"));
  ChangeSet changes;
  engine.takeChanges(changes);
  changes.state_ops.push_back(StateOp::put(Column::kCorrelation, 3, "s/rule/a", "window"));
  changes.state_ops.push_back(StateOp::put(Column::kCorrelation, 0, "clock", "instance-wide"));
  changes.state_ops.push_back(StateOp::put(Column::kVerdicts, 3, "e1", "local audit"));
  ASSERT_TRUE((*source)->commit(changes, {{3, "kafka/ingest/3", "17"}, {5, "kafka/ingest/5", "4"}}).isOk());
  ASSERT_TRUE((*source)->putPosition(3, "output/kafka/out", "9").isOk());

  // Per partition: incident, key index, sequence, source position (+ the correlation record on 3).
  size_t on3 = 0, on5 = 0;
  for (const auto& r : seen) {
    ASSERT_TRUE(r.partition == 3 || r.partition == 5) << r.partition;
    EXPECT_TRUE(r.value.has_value());
    (r.partition == 3 ? on3 : on5)++;
  }
  EXPECT_EQ(on3, 5u);
  EXPECT_EQ(on5, 4u);

  auto target = Store::open({.path = dir.file("b")});
  ASSERT_TRUE(target);
  std::vector<PartitionRecord> of3;
  for (const auto& r : seen) {
    if (r.partition == 3) of3.push_back(r);
  }
  ASSERT_TRUE((*target)->applyPartitionRecords(of3, 3, "changelog/c", "42").isOk());
  const auto of5 = std::find_if(seen.begin(), seen.end(), [](const PartitionRecord& r) { return r.partition == 5; });
  ASSERT_NE(of5, seen.end());
  EXPECT_FALSE((*target)->applyPartitionRecords({*of5}, 3, "changelog/c", "43").isOk())
      << "a record of partition 5 applied as partition 3's";
  IncidentEngine restored;
  ASSERT_TRUE((*target)->restorePartitionInto(restored, 3).isOk());
  EXPECT_EQ(restored.activeCount(), 1u);
  ASSERT_NE(restored.findActive(3, "a/link"), nullptr);
  EXPECT_EQ(restored.findActive(3, "a/link")->id, engine.findActive(3, "a/link")->id);
  EXPECT_EQ(**(*target)->getPosition(3, "kafka/ingest/3"), "17");
  EXPECT_EQ(**(*target)->getPosition(3, "changelog/c"), "42");
  EXPECT_EQ(**(*target)->get(Column::kCorrelation, 3, "s/rule/a"), "window");

  // The next incident of partition 3 continues the sequence instead of reusing an id.
  restored.apply(problem("c", 3), open("c/link"));
  EXPECT_GT(restored.findActive(3, "c/link")->id, restored.findActive(3, "a/link")->id);

  // Dropping partition 3 keeps the instance's own records and the other partitions.
  ASSERT_TRUE((*source)->dropPartition(3).isOk());
  IncidentEngine after;
  ASSERT_TRUE((*source)->restoreInto(after).isOk());
  EXPECT_EQ(after.activeCount(), 1u);
  EXPECT_NE(after.findActive(5, "b/link"), nullptr);
  EXPECT_FALSE(*(*source)->getPosition(3, "kafka/ingest/3"));
  EXPECT_EQ(**(*source)->getPosition(3, "output/kafka/out"), "9");
  EXPECT_FALSE(*(*source)->get(Column::kCorrelation, 3, "s/rule/a"));
  EXPECT_EQ(**(*source)->get(Column::kCorrelation, 0, "clock"), "instance-wide");
  EXPECT_EQ(**(*source)->get(Column::kVerdicts, 3, "e1"), "local audit");
  EXPECT_FALSE(*(*source)->getIncident(engine.findActive(3, "a/link")->id));
}

// Held keys and delivered-notification records belong to their partition (they travel with it);
// maintenance windows and the webhook outbox stay the instance's. partitionsWithState lists the
// partitions a store holds state of, whatever kind.
TEST(StorePartition, HeldKeysAndDeliveredNotificationsArePartitionState) {
  testing::TempDir dir;
  auto store = Store::open({.path = dir.file("a")});
  ASSERT_TRUE(store);
  std::vector<PartitionRecord> seen;
  (*store)->setPartitionObserver([&](std::vector<PartitionRecord>&& records) {
    for (auto& r : records) seen.push_back(std::move(r));
  });
  const std::string held7 = std::string("h\0\x07", 3) + "sw1/link";
  ASSERT_TRUE((*store)->write({StateOp::put(Column::kMaintenance, 7, held7, "held"),
                               StateOp::put(Column::kMaintenance, 0, "w/mw-1", "a window"),
                               StateOp::put(Column::kOutbox, 9, "wn/tickets/00000000000000000001", "3 opened"),
                               StateOp::put(Column::kOutbox, 0, "wh/tickets/q/00000000000000000004", "queued")})
                  .isOk());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].partition, 7);
  EXPECT_EQ(seen[1].partition, 9);
  auto partitions = (*store)->partitionsWithState();
  ASSERT_TRUE(partitions);
  EXPECT_EQ(*partitions, std::vector<uint16_t>{7}) << "outbox records alone do not make a partition";

  IncidentEngine engine;
  engine.apply(problem("a", 2), open("a/link"));
  ChangeSet changes;
  engine.takeChanges(changes);
  ASSERT_TRUE((*store)->commit(changes, {{2, "kafka/ingest/2", "1"}}).isOk());
  partitions = (*store)->partitionsWithState();
  ASSERT_TRUE(partitions);
  EXPECT_EQ(*partitions, (std::vector<uint16_t>{2, 7}));

  ASSERT_TRUE((*store)->dropPartition(7).isOk());
  ASSERT_TRUE((*store)->dropPartition(9).isOk());
  EXPECT_FALSE(*(*store)->get(Column::kMaintenance, 7, held7));
  EXPECT_FALSE(*(*store)->get(Column::kOutbox, 9, "wn/tickets/00000000000000000001"));
  EXPECT_EQ(**(*store)->get(Column::kMaintenance, 0, "w/mw-1"), "a window");
  EXPECT_EQ(**(*store)->get(Column::kOutbox, 0, "wh/tickets/q/00000000000000000004"), "queued");
  partitions = (*store)->partitionsWithState();
  ASSERT_TRUE(partitions);
  EXPECT_EQ(*partitions, std::vector<uint16_t>{2});
}

}  // namespace
}  // namespace vigil::store
