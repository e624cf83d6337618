// sd_notify as systemd would see it: a test-owned AF_UNIX datagram socket as NOTIFY_SOCKET, the
// real vigild, and the READY/WATCHDOG/RELOADING/STOPPING messages it sends.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>

#include <gtest/gtest.h>

#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

TEST(SystemdNotify, ReadyWatchdogReloadAndStopping) {
  VigildInstance vigild;
  const std::string path = vigild.dir().file("notify.sock");
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{0, 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string received;
  auto drain = [&] {
    char buf[512];
    for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) received.append(buf, static_cast<size_t>(n)).append("\n");
  };
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  setenv("WATCHDOG_USEC", "1000000", 1);
  const bool started = vigild.start();
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  ASSERT_TRUE(started) << vigild.log();
  EXPECT_TRUE(waitFor([&] {
    drain();
    return received.find("READY=1") != std::string::npos && received.find("WATCHDOG=1") != std::string::npos;
  })) << received;
  kill(vigild.pid(), SIGHUP);
  EXPECT_TRUE(waitFor([&] {
    drain();
    return received.find("RELOADING=1") != std::string::npos;
  })) << received;
  EXPECT_NE(received.find("MONOTONIC_USEC="), std::string::npos);
  EXPECT_EQ(vigild.stop(), 0);
  drain();
  EXPECT_NE(received.find("STOPPING=1"), std::string::npos) << received;
  close(fd);
}

}  // namespace
}  // namespace vigil::testing
