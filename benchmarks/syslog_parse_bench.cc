// Syslog hot paths: parsing (RFC 5424 / RFC 3164), parsing + mapping to Event, TCP framing.
// Target: >= 2 M msgs/s/core for the parser alone.
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "connectors/syslog/framer.h"
#include "connectors/syslog/syslog_event.h"
#include "connectors/syslog/syslog_parser.h"

namespace vigil::connectors::syslog {
namespace {

// Typical ~150-byte lines.
const std::string k5424 =
    R"(<165>1 2024-01-10T10:20:30.123456+01:00 core-rtr1.example.net ifmgr 2231 LINKDOWN )"
    R"([meta@32473 ifName="Gi0/1" seq="1234"] Interface GigabitEthernet0/1, changed state to down)";
const std::string k3164 =
    "<187>Jan 10 10:20:30 core-rtr1.example.net 1234: *Jan 10 10:20:30.123: %LINK-3-UPDOWN: "
    "Interface GigabitEthernet0/1, changed state to down, peer 10.1.1.2";
const std::string kJuniper =
    "<28>Jan 10 10:20:30 mx480-re0 mib2d[1234]: SNMP_TRAP_LINK_DOWN: ifIndex 545, ifAdminStatus "
    "up(1), ifOperStatus down(2), ifName ge-0/0/1";

const TimePoint kNow = Clock::now();

void parseOnly(benchmark::State& state, const std::string& line) {
  for (auto _ : state) {
    auto m = parseSyslog(line, kNow);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(line.size()));
}

void parseAndMap(benchmark::State& state, const std::string& line) {
  Event event;  // reused, as a connection reuses nothing across batches but strings keep capacity
  for (auto _ : state) {
    auto m = parseSyslog(line, kNow);
    toEvent(*m, "tcp", "10.1.1.1", kNow, event);
    benchmark::DoNotOptimize(event);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(line.size()));
}

void parseAndMapFresh(benchmark::State& state, const std::string& line) {
  for (auto _ : state) {
    Event event;  // what the source does: one new Event per message, moved into the batch
    auto m = parseSyslog(line, kNow);
    toEvent(*m, "tcp", "10.1.1.1", kNow, event);
    benchmark::DoNotOptimize(event);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(line.size()));
}

BENCHMARK_CAPTURE(parseOnly, rfc5424, k5424);
BENCHMARK_CAPTURE(parseOnly, rfc3164_cisco, k3164);
BENCHMARK_CAPTURE(parseOnly, rfc3164_juniper, kJuniper);
BENCHMARK_CAPTURE(parseAndMap, rfc5424, k5424);
BENCHMARK_CAPTURE(parseAndMap, rfc3164_cisco, k3164);
BENCHMARK_CAPTURE(parseAndMapFresh, rfc5424, k5424);
BENCHMARK_CAPTURE(parseAndMapFresh, rfc3164_cisco, k3164);

// Framer over a 64 KiB read chunk of LF-framed or octet-counted 150-byte messages.
void framerThroughput(benchmark::State& state) {
  const bool octet = state.range(0) != 0;
  std::string chunk;
  int64_t frames_per_chunk = 0;
  while (chunk.size() < 64 * 1024 - 200) {
    chunk += octet ? std::to_string(k3164.size()) + " " + k3164 : k3164 + "\n";
    ++frames_per_chunk;
  }
  Framer framer(64 * 1024);
  size_t frames = 0;
  for (auto _ : state) {
    framer.feed(chunk, [&](std::string_view f) { frames += f.size() != 0; });
  }
  benchmark::DoNotOptimize(frames);
  state.SetItemsProcessed(state.iterations() * frames_per_chunk);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(chunk.size()));
}
BENCHMARK(framerThroughput)->Arg(0)->Arg(1)->ArgName("octet_counted");

}  // namespace
}  // namespace vigil::connectors::syslog
