// Slow senders (slowloris) against the TCP listener: a peer that dribbles bytes more slowly
// than idle_timeout is closed, with its partial frame discarded, while a busy sender on the same
// listener keeps going and loses nothing.
#include <atomic>
#include <thread>

#include <asio/write.hpp>
#include <gtest/gtest.h>

#include "tests/connectors/syslog/source_fixture.h"

namespace vigil::connectors::syslog {
namespace {

using testing::eventually;
using testing::SyslogSourceTest;

TEST_F(SyslogSourceTest, OneByteAtATimeSenderIsClosedAndOthersAreUnaffected) {
  const uint16_t port = portOf(start("listen: [tcp://127.0.0.1:0]\nidle_timeout: 300ms\n")[0]);

  // The busy sender: one message every few milliseconds until told to stop, so it is never idle.
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  auto busy = connect(port);
  std::thread busy_thread([&] {
    while (!stop.load()) {
      const std::string msg = "<13>Jan 10 10:20:30 busy app: message " + std::to_string(sent.load()) + "\n";
      asio::error_code error;
      asio::write(busy, asio::buffer(msg), error);
      if (error) return;
      sent.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // pacing, not synchronisation
    }
  });
  ASSERT_TRUE(eventually([&] { return sink_.size() >= 5; }));

  // The slow sender: a few bytes of a frame, then nothing for longer than idle_timeout.
  auto slow = connect(port);
  const auto opened = std::chrono::steady_clock::now();
  for (char c : std::string("<13>Jan")) {
    asio::write(slow, asio::buffer(&c, 1));
  }
  EXPECT_TRUE(closedByPeer(slow));  // blocks until the server closes it (30 s receive timeout)
  const auto held = std::chrono::steady_clock::now() - opened;
  EXPECT_GE(held, std::chrono::milliseconds(300));
  EXPECT_LT(held, std::chrono::seconds(20));

  stop = true;
  busy_thread.join();
  const auto events = sink_.waitFor(static_cast<size_t>(sent.load()));
  ASSERT_EQ(events.size(), static_cast<size_t>(sent.load()));  // nothing lost, nothing from slow
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].message, "message " + std::to_string(i));
  }
  EXPECT_EQ(metric("vigil_syslog_connections", {}), 1);  // the busy one is still open
  EXPECT_EQ(metric("vigil_syslog_dropped_total", {{"transport", "tcp"}, {"reason", "parse_error"}}), 0);
}

}  // namespace
}  // namespace vigil::connectors::syslog
