// Load run over loopback TCP: N sender threads, each on its own connection, send typical
// ~150-byte lines (half RFC 5424 octet-counted, half RFC 3164 LF-framed) as fast as the socket
// takes them to a SyslogSource whose sink only counts (so this measures the source: read,
// frame, parse, map to Event, batch, offer). The source runs on 2 io threads, like vigild.
// Reports sustained messages/s into the sink; run with --benchmark_repetitions for medians:
//   build/benchmarks/syslog_tcp_load_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <benchmark/benchmark.h>
#include <prometheus/registry.h>

#include "connectors/syslog/syslog_source.h"
#include "daemon/yaml_util.h"

namespace vigil::connectors::syslog {
namespace {

constexpr size_t kMessagesPerRun = 1'000'000;

class CountingSink final : public EventSink {
 public:
  bool offer(EventBatch& batch) override {
    count.fetch_add(batch.events.size(), std::memory_order_relaxed);
    batch.events.clear();
    return true;
  }
  bool push(EventBatch batch) override { return offer(batch); }
  std::atomic<size_t> count{0};
};

// One connection's stream: `n` messages, alternating the two shapes and framings.
std::string makeStream(size_t n, int sender) {
  std::string out;
  out.reserve(n * 160);
  for (size_t i = 0; i < n; ++i) {
    const std::string seq = std::to_string(i);
    if (i % 2 == 0) {
      const std::string msg = "<165>1 2024-01-10T10:20:30.123456+01:00 core-rtr" + std::to_string(sender) +
                              ".example.net ifmgr 2231 LINKDOWN [meta@32473 seq=\"" + seq +
                              "\"] Interface GigabitEthernet0/1, changed state to down";
      out += std::to_string(msg.size()) + " " + msg;
    } else {
      out += "<187>Jan 10 10:20:30 access-sw" + std::to_string(sender) + ".example.net " + seq +
             ": *Jan 10 10:20:30.123: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state "
             "to down\n";
    }
  }
  return out;
}

void BM_SyslogTcpLoad(benchmark::State& state) {
  const int senders = static_cast<int>(state.range(0));
  const size_t per_sender = kMessagesPerRun / static_cast<size_t>(senders);
  std::vector<std::string> streams;
  size_t bytes = 0;
  for (int s = 0; s < senders; ++s) {
    streams.push_back(makeStream(per_sender, s));
    bytes += streams.back().size();
  }
  for (auto _ : state) {
    asio::io_context io;
    auto work = asio::make_work_guard(io);
    std::vector<std::thread> io_threads;
    for (int i = 0; i < 2; ++i) io_threads.emplace_back([&] { io.run(); });
    prometheus::Registry registry;
    SourceContext context{io, registry};
    CountingSink sink;
    auto node = loadYamlString("listen: [tcp://127.0.0.1:0]\n", "bench.yaml");
    auto source = makeSyslogSource(*node, "bench.yaml", context);
    if (!source || !(*source)->start(sink)) {
      state.SkipWithError("cannot start the syslog source");
      break;
    }
    const std::string endpoint = (*source)->endpoints()[0];
    const auto port = static_cast<uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));

    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int s = 0; s < senders; ++s) {
      threads.emplace_back([&, s] {
        asio::io_context client_io;
        asio::ip::tcp::socket socket(client_io);
        socket.connect({asio::ip::make_address("127.0.0.1"), port});
        asio::write(socket, asio::buffer(streams[static_cast<size_t>(s)]));
      });
    }
    for (auto& t : threads) t.join();
    const size_t expected = per_sender * static_cast<size_t>(senders);
    while (sink.count.load(std::memory_order_relaxed) < expected) {
      std::this_thread::yield();
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    state.SetIterationTime(elapsed.count());

    (*source)->stop();
    work.reset();
    io.stop();
    for (auto& t : io_threads) t.join();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(per_sender * static_cast<size_t>(senders)));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
  state.counters["avg_line_bytes"] = static_cast<double>(bytes) / static_cast<double>(per_sender * senders);
}
BENCHMARK(BM_SyslogTcpLoad)->Arg(1)->Arg(4)->Arg(16)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vigil::connectors::syslog
