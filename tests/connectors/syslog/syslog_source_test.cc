// SyslogSource over real sockets on 127.0.0.1 port 0, fed by util-linux `logger` and by plain
// sockets. Waits are on conditions with generous timeouts, never on sleeps.
#include "connectors/syslog/syslog_source.h"

#include <algorithm>
#include <cstdlib>

#include <asio/connect.hpp>
#include <asio/ip/udp.hpp>
#include <asio/write.hpp>
#include <gtest/gtest.h>

#include "tests/connectors/syslog/source_fixture.h"

namespace vigil::connectors::syslog {
namespace {

using testing::CollectingSink;
using testing::eventually;
using testing::kTimeout;
using testing::label;
using testing::SyslogSourceTest;

bool haveLogger() { return std::system("logger --version >/dev/null 2>&1") == 0; }

TEST_F(SyslogSourceTest, ReportsTheRealPortsItBound) {
  auto endpoints = start("listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0]\n");
  ASSERT_EQ(endpoints.size(), 2u);
  EXPECT_EQ(endpoints[0].rfind("udp://127.0.0.1:", 0), 0u);
  EXPECT_EQ(endpoints[1].rfind("tcp://127.0.0.1:", 0), 0u);
  EXPECT_NE(portOf(endpoints[0]), 0);
  EXPECT_NE(portOf(endpoints[1]), 0);
}

TEST_F(SyslogSourceTest, FailsToStartWhenThePortIsTaken) {
  auto endpoints = start("listen: [tcp://127.0.0.1:0]\n");
  auto node = loadYamlString("listen: [" + endpoints[0] + "]\n", "test.yaml");
  auto second = makeSyslogSource(*node, "test.yaml", context_);
  ASSERT_TRUE(second.has_value());
  CollectingSink other;
  Status s = (*second)->start(other);
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find(endpoints[0]), std::string::npos) << s.message();
}

TEST_F(SyslogSourceTest, ReceivesUdpFromLogger) {
  if (!haveLogger()) GTEST_SKIP() << "util-linux logger not installed";
  const uint16_t port = portOf(start("listen: [udp://127.0.0.1:0]\n")[0]);
  const std::string cmd = "logger --udp -n 127.0.0.1 -P " + std::to_string(port) +
                          " -t noc-test -p local7.err 'Interface Gi0/1 down'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto events = sink_.waitFor(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].source, "syslog/udp");
  EXPECT_EQ(events[0].message, "Interface Gi0/1 down");
  EXPECT_EQ(events[0].severity, Severity::kMajor);
  EXPECT_EQ(label(events[0], "app"), "noc-test");
  EXPECT_EQ(label(events[0], "facility"), "local7");
  EXPECT_EQ(label(events[0], "peer"), "127.0.0.1");
  EXPECT_EQ(label(events[0], "sd.timeQuality.tzKnown"), "1");
  EXPECT_EQ(metric("vigil_syslog_messages_total", {{"transport", "udp"}}), 1);
}

TEST_F(SyslogSourceTest, ReceivesTcpFromLoggerWithBothFramings) {
  if (!haveLogger()) GTEST_SKIP() << "util-linux logger not installed";
  const uint16_t port = portOf(start("listen: [tcp://127.0.0.1:0]\n")[0]);
  const std::string base = "logger --tcp -n 127.0.0.1 -P " + std::to_string(port) + " -t noc-test";
  ASSERT_EQ(std::system(("seq 1 200 | " + base).c_str()), 0);
  ASSERT_EQ(std::system(("seq 201 400 | " + base + " --octet-count").c_str()), 0);
  ASSERT_EQ(std::system(("seq 401 450 | " + base + " --rfc3164").c_str()), 0);
  auto events = sink_.waitFor(450);
  ASSERT_EQ(events.size(), 450u);
  std::vector<bool> seen(451, false);
  for (const Event& e : events) {
    EXPECT_EQ(e.source, "syslog/tcp");
    EXPECT_EQ(label(e, "app"), "noc-test");
    EXPECT_EQ(label(e, "syslog_parse_error"), "<none>") << e.message;
    const int n = std::stoi(e.message);
    ASSERT_TRUE(n >= 1 && n <= 450);
    seen[static_cast<size_t>(n)] = true;
  }
  EXPECT_EQ(std::count(seen.begin() + 1, seen.end(), true), 450);
}

TEST_F(SyslogSourceTest, FramesOctetCountedAndLfMessagesSplitAcrossWrites) {
  const uint16_t port = portOf(start("listen: [tcp://127.0.0.1:0]\n")[0]);
  auto socket = connect(port);
  const std::string stream =
      "<13>Jan 10 10:20:30 h1 a: lf one\n"
      "42 <13>1 2024-01-10T10:20:30Z h2 b - - - oct\n"
      "<187>123: *Mar  1 00:04:28.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down\n";
  for (size_t i = 0; i < stream.size(); i += 5) {
    asio::write(socket, asio::buffer(stream.substr(i, 5)));
  }
  auto events = sink_.waitFor(3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].host, "h1");
  EXPECT_EQ(events[0].message, "lf one");
  EXPECT_EQ(events[1].host, "h2");
  EXPECT_EQ(events[1].message, "oct");
  EXPECT_EQ(events[2].host, "127.0.0.1");
  EXPECT_EQ(label(events[2], "mnemonic"), "LINK-3-UPDOWN");
  EXPECT_TRUE(eventually([&] { return metric("vigil_syslog_connections", {}) == 1; }));
  socket.close();
  EXPECT_TRUE(eventually([&] { return metric("vigil_syslog_connections", {}) == 0; }));
}

TEST_F(SyslogSourceTest, TcpBackpressureLosesNothing) {
  const uint16_t port = portOf(start("listen: [tcp://127.0.0.1:0]\nbatch_max_events: 64\n")[0]);
  sink_.refuseNext(25);
  constexpr int kCount = 20000;
  std::string stream;
  for (int i = 0; i < kCount; ++i) {
    stream += "<13>Jan 10 10:20:30 host app[1]: message " + std::to_string(i) + "\n";
  }
  auto socket = connect(port);
  asio::write(socket, asio::buffer(stream));
  socket.close();
  auto events = sink_.waitFor(kCount);
  ASSERT_EQ(events.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(events[static_cast<size_t>(i)].message, "message " + std::to_string(i));
  }
  EXPECT_EQ(sink_.refused(), 25);
  EXPECT_EQ(metric("vigil_syslog_messages_total", {{"transport", "tcp"}}), kCount);
  EXPECT_GE(metric("vigil_syslog_backpressure_pauses_total", {{"transport", "tcp"}}), 1);
}

TEST_F(SyslogSourceTest, UdpDropsAndCountsWhenThePipelineIsFull) {
  const uint16_t port = portOf(start("listen: [udp://127.0.0.1:0]\n")[0]);
  sink_.refuse_all = true;
  asio::ip::udp::socket socket(client_io_, asio::ip::udp::v4());
  const asio::ip::udp::endpoint to(asio::ip::make_address("127.0.0.1"), port);
  socket.send_to(asio::buffer(std::string("<13>Jan 10 10:20:30 h a: dropped")), to);
  EXPECT_TRUE(eventually([&] {
    return metric("vigil_syslog_dropped_total", {{"transport", "udp"}, {"reason", "queue_full"}}) == 1;
  }));
  sink_.refuse_all = false;
  socket.send_to(asio::buffer(std::string("<13>Jan 10 10:20:30 h a: kept")), to);
  auto events = sink_.waitFor(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].message, "kept");
}

TEST_F(SyslogSourceTest, DropsOversizeAndBinaryButKeepsMalformedText) {
  const uint16_t port = portOf(start("listen: [udp://127.0.0.1:0]\nmax_message_size: 512\n")[0]);
  asio::ip::udp::socket socket(client_io_, asio::ip::udp::v4());
  const asio::ip::udp::endpoint to(asio::ip::make_address("127.0.0.1"), port);
  socket.send_to(asio::buffer(std::string(600, 'x')), to);
  socket.send_to(asio::buffer(std::string("\x01\x02\x00\x03\x04", 5)), to);
  socket.send_to(asio::buffer(std::string("<13>1 not-a-time h a - - - text")), to);
  auto events = sink_.waitFor(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].message, "<13>1 not-a-time h a - - - text");
  EXPECT_EQ(events[0].host, "127.0.0.1");
  EXPECT_EQ(label(events[0], "syslog_parse_error"), "bad_timestamp");
  EXPECT_TRUE(eventually([&] {
    return metric("vigil_syslog_dropped_total", {{"transport", "udp"}, {"reason", "oversize"}}) == 1 &&
           metric("vigil_syslog_dropped_total", {{"transport", "udp"}, {"reason", "parse_error"}}) == 1;
  }));
  EXPECT_EQ(metric("vigil_syslog_unparsed_total", {{"transport", "udp"}}), 1);
}

TEST_F(SyslogSourceTest, ClosesConnectionsAboveTheLimit) {
  const uint16_t port = portOf(start("listen: [tcp://127.0.0.1:0]\nmax_connections: 1\n")[0]);
  auto first = connect(port);
  asio::write(first, asio::buffer(std::string("<13>Jan 10 10:20:30 h a: first\n")));
  ASSERT_EQ(sink_.waitFor(1).size(), 1u);  // the first connection is accepted and counted
  auto second = connect(port);
  EXPECT_TRUE(closedByPeer(second));
  EXPECT_EQ(metric("vigil_syslog_dropped_total", {{"transport", "tcp"}, {"reason", "too_many_connections"}}), 1);
  asio::write(first, asio::buffer(std::string("<13>Jan 10 10:20:30 h a: still open\n")));
  EXPECT_EQ(sink_.waitFor(2).size(), 2u);
}

TEST_F(SyslogSourceTest, IdleTimeoutClosesSilentConnections) {
  const uint16_t port = portOf(start("listen: [tcp://127.0.0.1:0]\nidle_timeout: 200ms\n")[0]);
  auto socket = connect(port);
  EXPECT_TRUE(closedByPeer(socket));
  EXPECT_TRUE(eventually([&] { return metric("vigil_syslog_connections", {}) == 0; }));
}

TEST_F(SyslogSourceTest, AbsurdOctetCountClosesTheConnection) {
  const uint16_t port = portOf(start("listen: [tcp://127.0.0.1:0]\n")[0]);
  auto socket = connect(port);
  asio::write(socket, asio::buffer(std::string("999999999 <13>x")));
  EXPECT_TRUE(closedByPeer(socket));
}

TEST_F(SyslogSourceTest, StopClosesListenersAndNeverCallsTheSinkAgain) {
  auto endpoints = start("listen: [tcp://127.0.0.1:0, udp://127.0.0.1:0]\n");
  const uint16_t tcp_port = portOf(endpoints[0]);
  auto open = connect(tcp_port);
  asio::write(open, asio::buffer(std::string("<13>Jan 10 10:20:30 h a: before\n")));
  ASSERT_EQ(sink_.waitFor(1).size(), 1u);
  source_->stop();
  const int offers = sink_.offers();
  EXPECT_TRUE(closedByPeer(open));
  asio::ip::tcp::socket late(client_io_);
  asio::error_code error;
  late.connect({asio::ip::make_address("127.0.0.1"), tcp_port}, error);
  EXPECT_TRUE(error) << "listener still accepting after stop()";
  EXPECT_EQ(sink_.offers(), offers);
  source_->stop();  // idempotent
}

TEST_F(SyslogSourceTest, ListensOnIpv6Loopback) {
  asio::ip::tcp::acceptor probe(client_io_);
  asio::error_code error;
  probe.open(asio::ip::tcp::v6(), error);
  if (!error) probe.bind({asio::ip::make_address("::1"), 0}, error);
  if (error) GTEST_SKIP() << "no IPv6 loopback here";
  probe.close();
  auto endpoints = start("listen: [\"tcp://[::1]:0\"]\n");
  ASSERT_EQ(endpoints.size(), 1u);
  EXPECT_EQ(endpoints[0].rfind("tcp://[::1]:", 0), 0u);
  asio::ip::tcp::socket socket(client_io_);
  socket.connect({asio::ip::make_address("::1"), portOf(endpoints[0])});
  asio::write(socket, asio::buffer(std::string("<13>Jan 10 10:20:30 h6 a: over v6\n")));
  auto events = sink_.waitFor(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(label(events[0], "peer"), "::1");
}

}  // namespace
}  // namespace vigil::connectors::syslog
