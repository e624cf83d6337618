#include "connectors/kafka/changelog_progress.h"

#include <gtest/gtest.h>

namespace vigil::connectors::kafka {
namespace {

TEST(ChangelogProgress, CaughtUpOnceEveryPartitionIsReadToItsEndAsOfTheStart) {
  ChangelogProgress progress(2);
  progress.setStart(0, 0, 3);
  progress.setStart(1, 0, 0);  // empty: nothing to read
  EXPECT_FALSE(progress.caughtUp());
  progress.read(0, 0);
  progress.read(0, 1);
  EXPECT_FALSE(progress.caughtUp());
  progress.read(0, 2);
  EXPECT_TRUE(progress.caughtUp());
  EXPECT_EQ(progress.next(0), 3);
  EXPECT_EQ(progress.lag(0, 10), 7);  // records written since the start are lag, not a condition
}

TEST(ChangelogProgress, RecordsDeletedByRetentionCountAsRead) {
  ChangelogProgress progress(2);
  progress.setStart(0, 40, 40);  // every record deleted: nothing can ever be read there
  progress.setStart(1, 0, 5);
  progress.read(1, 4);
  EXPECT_TRUE(progress.caughtUp());
  EXPECT_EQ(progress.next(0), 40);
  EXPECT_EQ(progress.lag(0, 40), 0);
}

TEST(ChangelogProgress, RetentionThatOvertakesTheReaderMovesItOn) {
  ChangelogProgress progress(1);
  progress.setStart(0, 0, 100);
  progress.read(0, 9);
  progress.skipDeleted(0, 100);  // deleted while being read
  EXPECT_TRUE(progress.caughtUp());
  progress.skipDeleted(0, -1);  // not known: changes nothing
  progress.skipDeleted(0, 50);  // an older report: never moves back
  EXPECT_EQ(progress.next(0), 100);
}

}  // namespace
}  // namespace vigil::connectors::kafka
