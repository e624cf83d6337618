#include "daemon/bounded_queue.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(BoundedQueue, RefusesWhenFullAndLeavesTheItem) {
  BoundedQueue<std::vector<int>> q(10);
  std::vector<int> a(8, 1), b(5, 2);
  EXPECT_TRUE(q.tryPush(a, a.size()));
  EXPECT_FALSE(q.tryPush(b, b.size()));
  EXPECT_EQ(b.size(), 5u);  // untouched, so the caller can retry
  std::vector<std::vector<int>> out;
  EXPECT_TRUE(q.popBatch(out, 100, std::chrono::milliseconds(0)));
  EXPECT_EQ(out.size(), 1u);
  EXPECT_TRUE(q.tryPush(b, b.size()));
}

TEST(BoundedQueue, TakesAnOversizedItemWhenEmpty) {
  BoundedQueue<int> q(4);
  int big = 1;
  EXPECT_TRUE(q.tryPush(big, 100));
  int small = 2;
  EXPECT_FALSE(q.tryPush(small, 1));
}

TEST(BoundedQueue, PopBatchRespectsMaxWeightButTakesAtLeastOne) {
  BoundedQueue<int> q(100);
  for (int i = 0; i < 5; ++i) {
    int v = i;
    ASSERT_TRUE(q.tryPush(v, 10));
  }
  std::vector<int> out;
  ASSERT_TRUE(q.popBatch(out, 25, std::chrono::milliseconds(0)));
  EXPECT_EQ(out, (std::vector<int>{0, 1}));
  out.clear();
  ASSERT_TRUE(q.popBatch(out, 5, std::chrono::milliseconds(0)));
  EXPECT_EQ(out, (std::vector<int>{2}));
}

TEST(BoundedQueue, BlockingPushWaitsForRoomAndCloseDrains) {
  BoundedQueue<int> q(1);
  int first = 1;
  ASSERT_TRUE(q.tryPush(first, 1));
  std::thread producer([&] { EXPECT_TRUE(q.push(2, 1)); });
  std::vector<int> out;
  while (out.size() < 2) {
    ASSERT_TRUE(q.popBatch(out, 1, std::chrono::milliseconds(100)));
  }
  producer.join();
  EXPECT_EQ(out, (std::vector<int>{1, 2}));
  q.close();
  EXPECT_FALSE(q.push(3, 1));
  out.clear();
  EXPECT_FALSE(q.popBatch(out, 1, std::chrono::milliseconds(10)));
}

TEST(BoundedQueue, InterruptEndsTheWaitOfTheNextPopWithNothingQueued) {
  BoundedQueue<int> q(10);
  std::vector<int> out;
  q.interrupt();  // before the pop: the pop must not wait its hour
  ASSERT_TRUE(q.popBatch(out, 10, std::chrono::hours(1)));
  EXPECT_TRUE(out.empty());
  std::thread waker([&] { q.interrupt(); });  // during the pop
  ASSERT_TRUE(q.popBatch(out, 10, std::chrono::hours(1)));
  waker.join();
  EXPECT_TRUE(out.empty());
  int v = 7;
  ASSERT_TRUE(q.tryPush(v, 1));  // the interrupt is used up: items still come through
  ASSERT_TRUE(q.popBatch(out, 10, std::chrono::hours(1)));
  EXPECT_EQ(out, (std::vector<int>{7}));
}

TEST(BoundedQueue, BytesBoundHoldsBackBelowTheWeightCapacityAndLosesNothing) {
  BoundedQueue<int> q(1000, 100);  // room for 1000 events, but only 100 bytes
  int first = 1, second = 2;
  ASSERT_TRUE(q.tryPush(first, 1, 60));
  EXPECT_FALSE(q.tryPush(second, 1, 60));  // the weight fits, the bytes do not
  EXPECT_EQ(second, 2);
  EXPECT_EQ(q.bytes(), 60u);
  // A blocking producer waits for room in bytes, then everything arrives in order.
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    for (int v = 2; v <= 6; ++v) {
      EXPECT_TRUE(q.push(v, 1, 60));
      pushed = v;
    }
  });
  std::vector<int> out;
  while (out.size() < 6) {
    ASSERT_TRUE(q.popBatch(out, 1000, std::chrono::milliseconds(100)));
    EXPECT_LE(q.bytes(), 100u);  // never more than one 60-byte item waiting
  }
  producer.join();
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(q.weight(), 0u);
}

TEST(BoundedQueue, TakesAnItemLargerThanTheByteCapacityWhenEmpty) {
  BoundedQueue<int> q(10, 100);
  int big = 1, small = 2;
  EXPECT_TRUE(q.tryPush(big, 1, 1000));
  EXPECT_FALSE(q.tryPush(small, 1, 1));
  std::vector<int> out;
  ASSERT_TRUE(q.popBatch(out, 10, std::chrono::milliseconds(0)));
  EXPECT_TRUE(q.tryPush(small, 1, 1));
}

}  // namespace
}  // namespace vigil
