// Shared by the socket-level syslog source tests: a collecting sink, condition polling and a
// fixture that runs a SyslogSource on two io threads with port-0 listeners on loopback.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "connectors/syslog/syslog_source.h"
#include "daemon/yaml_util.h"

namespace vigil::connectors::syslog::testing {

inline constexpr auto kTimeout = std::chrono::seconds(30);

// Collects every accepted event; refuses the first `refuse` offers (or all, if refuse_all).
class CollectingSink final : public EventSink {
 public:
  bool offer(EventBatch& batch) override {
    std::lock_guard lock(mu_);
    ++offers_;
    if (refuse_all || refuse_ > 0) {
      if (refuse_ > 0) --refuse_;
      ++refused_;
      return false;
    }
    for (Event& e : batch.events) events_.push_back(std::move(e));
    batch.events.clear();
    cv_.notify_all();
    return true;
  }
  bool push(EventBatch batch) override { return offer(batch); }

  void refuseNext(int n) {
    std::lock_guard lock(mu_);
    refuse_ = n;
  }
  // Waits until at least `n` events arrived; returns a copy of them.
  std::vector<Event> waitFor(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kTimeout, [&] { return events_.size() >= n; });
    return events_;
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return events_.size();
  }
  int refused() {
    std::lock_guard lock(mu_);
    return refused_;
  }
  int offers() {
    std::lock_guard lock(mu_);
    return offers_;
  }
  std::atomic<bool> refuse_all{false};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
  int refuse_ = 0;
  int refused_ = 0;
  int offers_ = 0;
};

// Polls a condition (not a sleep-and-hope): returns as soon as it holds.
template <typename P>
bool eventually(P pred) {
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

inline std::string label(const Event& e, std::string_view key) {
  const std::string* v = e.labels.find(key);
  return v ? *v : "<none>";
}

class SyslogSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  void TearDown() override {
    if (source_) source_->stop();
    source_.reset();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  // Starts a source from the YAML body of a `syslog:` section; returns its endpoints.
  std::vector<std::string> start(const std::string& yaml) {
    auto node = loadYamlString(yaml, "test.yaml");
    EXPECT_TRUE(node.has_value());
    auto source = makeSyslogSource(*node, "test.yaml", context_);
    EXPECT_TRUE(source.has_value()) << source.error().toString();
    source_ = std::move(*source);
    Status s = source_->start(sink_);
    EXPECT_TRUE(s.isOk()) << s.toString();
    return source_->endpoints();
  }

  static uint16_t portOf(const std::string& endpoint) {
    return static_cast<uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
  }

  double metric(const std::string& name, const std::map<std::string, std::string>& labels) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const auto& m : family.metric) {
        std::map<std::string, std::string> have;
        for (const auto& l : m.label) have[l.name] = l.value;
        bool match = true;
        for (const auto& [k, v] : labels) match = match && have[k] == v;
        if (match) return family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
      }
    }
    return -1;
  }

  // A blocking client connection with a receive timeout, so a test can never hang on it.
  asio::ip::tcp::socket connect(uint16_t port) {
    asio::ip::tcp::socket socket(client_io_);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval tv{30, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return socket;
  }

  // True when the server closed the connection (read returns EOF / reset).
  static bool closedByPeer(asio::ip::tcp::socket& socket) {
    char byte;
    asio::error_code error;
    socket.read_some(asio::buffer(&byte, 1), error);
    return error == asio::error::eof || error == asio::error::connection_reset;
  }

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{io_.get_executor()};
  std::vector<std::thread> threads_;
  prometheus::Registry registry_;
  SourceContext context_{io_, registry_};
  CollectingSink sink_;
  SourcePtr source_;
  asio::io_context client_io_;
};

}  // namespace vigil::connectors::syslog::testing
