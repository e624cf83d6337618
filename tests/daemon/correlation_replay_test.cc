// Event time, not arrival time: one recorded stream (a JSON-lines file) replayed through the real
// pipeline and store twice — one event per batch, then everything in big batches with the
// correlator's wall clock far away — gives identical incidents.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "connectors/replay/replay_source.h"
#include "daemon/correlation/correlation_component.h"
#include "daemon/time_util.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRules = R"(
rules:
  - name: crc
    match: {message: {regex: 'CRC error on (?P<port>\S+)'}}
    set: {type: crc, state: problem, severity: minor}
    key: '{{host}}/crc/{{port}}'
    threshold: {count: 3, window: 5m}
  - name: bgp-down
    match: {message: {regex: 'BGP peer (?P<peer>\S+) down'}}
    set: {type: bgp, state: problem, severity: major}
    key: '{{host}}/bgp/{{peer}}'
    pair: {timeout: 20m}
    reopen_within: 10m
    auto_close_after: 2h
  - name: bgp-up
    match: {message: {regex: 'BGP peer (?P<peer>\S+) up'}}
    set: {type: bgp, state: ok}
    key: '{{host}}/bgp/{{peer}}'
  - name: port-down
    match: {message: {regex: 'port (?P<port>\S+) down'}}
    set: {type: link, state: problem, severity: minor}
    key: '{{host}}/port/{{port}}'
    flapping: {changes: 3, window: 10m, quiet: 5m}
  - name: port-up
    match: {message: {regex: 'port (?P<port>\S+) up'}}
    set: {type: link, state: ok}
    key: '{{host}}/port/{{port}}'
  - name: psu
    match: {message: {regex: 'power supply (?P<psu>\d+) failed'}}
    set: {type: power, state: problem, severity: major}
    key: '{{host}}/psu/{{psu}}'
    group: {by: '{{labels.site}}', window: 2m}
  - name: backup
    match: {message: {regex: 'backup (?P<job>\S+) finished'}}
    set: {type: backup, severity: major}
    key: '{{host}}/backup/{{job}}'
    heartbeat: {every: 30m}
)";

// A recorded stream: an hour and a half of a small network, with repeats, flaps and silences.
std::string recordedStream() {
  const TimePoint t0 = TimePoint(std::chrono::seconds(1'780'000'000));
  std::ostringstream out;
  auto line = [&](std::chrono::seconds at, const std::string& host, const std::string& message,
                  const std::string& extra = "") {
    out << R"({"time":")" << formatRfc3339(t0 + at) << R"(","host":")" << host << R"(","source":"recorded","message":")"
        << message << '"' << extra << "}\n";
  };
  for (int i = 0; i < 6; ++i) {
    line(std::chrono::seconds(i * 10), "db1", "backup nightly finished");
    line(std::chrono::seconds(60 + i * 40), "sw" + std::to_string(i % 2), "CRC error on ge-0/0/1");
  }
  line(5min, "r1", "BGP peer 10.0.0.1 down");
  line(7min, "r1", "BGP peer 10.0.0.2 down");
  line(9min, "r1", "BGP peer 10.0.0.1 up");
  line(12min, "r1", "BGP peer 10.0.0.1 down");  // within reopen_within: reopens
  for (int i = 0; i < 8; ++i) {
    line(std::chrono::seconds(15 * 60 + i * 45), "sw4", std::string("port p7 ") + (i % 2 == 0 ? "down" : "up"));
  }
  for (int i = 0; i < 5; ++i) {
    line(std::chrono::seconds(20 * 60 + i * 20), "pdu" + std::to_string(i), "power supply 1 failed",
         R"(,"labels":{"site":"par1"})");
  }
  line(25min, "x", "unrelated chatter");
  line(24min, "sw0", "CRC error on ge-0/0/9");  // a little late
  line(40min, "r2", "BGP peer 10.9.9.9 down");
  line(70min, "db1", "backup nightly finished");  // after the heartbeat incident opened at ~30m
  line(95min, "r1", "BGP peer 10.0.0.1 up");
  line(4h, "x", "end of the recording");  // lets every timer come due (auto-close included)
  return out.str();
}

// The incidents as a comparable text: everything that must not depend on arrival.
std::string snapshot(store::Store& store) {
  std::ostringstream out;
  EXPECT_TRUE(store.scanIncidents(0, [&](incidents::Incident&& in) {
    out << in.id << ' ' << in.key << ' ' << incidents::incidentStateName(in.state) << ' '
        << severityName(in.severity) << " count=" << in.event_count << " first=" << formatRfc3339(in.first_seen)
        << " last=" << formatRfc3339(in.last_seen)
        << " resolved=" << (in.resolved_at ? formatRfc3339(*in.resolved_at) : "-")
        << " closed=" << (in.closed_at ? formatRfc3339(*in.closed_at) : "-") << " flapping=" << in.flapping
        << " stale=" << in.stale << " primitive=" << in.provenance.primitive
        << " triggers=" << in.provenance.events.size() << " timeline=";
    for (const auto& t : in.timeline) out << t.action << '@' << formatRfc3339(t.at) << ',';
    out << '\n';
    return true;
  }).isOk());
  return out.str();
}

std::string replay(const testing::TempDir& dir, const std::string& name, const std::string& file, size_t batch,
                   TimePoint wall) {
  auto store = store::Store::open({.path = dir.file(name), .sync = false});
  EXPECT_TRUE(store) << store.error().toString();
  auto rules = rules::RuleSet::loadString(kRules, "rules.yaml");
  EXPECT_TRUE(rules) << rules.error().toString();
  metrics::MetricsRegistry registry;
  metrics::PipelineMetrics metrics(registry.registry());
  correlation::CorrelationComponent correlation({5min, /*wall_clock=*/false}, *rules);
  PipelineOptions options;
  options.max_batch_events = batch;
  options.clock = [wall] { return wall; };
  Pipeline pipeline(options, *rules, **store, metrics);
  pipeline.addComponent(&correlation);
  EXPECT_TRUE(pipeline.start().isOk());
  auto stats = connectors::replayFile(file, pipeline, {.batch_events = batch});
  pipeline.stop();
  EXPECT_TRUE(stats) << stats.error().toString();
  EXPECT_EQ(stats->failed, 0u);
  return snapshot(**store);
}

TEST(CorrelationReplay, SameStreamAtDifferentSpeedsGivesIdenticalIncidents) {
  testing::TempDir dir;
  const std::string file = dir.file("recorded.jsonl");
  std::ofstream(file) << recordedStream();

  const std::string slow = replay(dir, "slow", file, 1, Clock::now());
  const std::string fast = replay(dir, "fast", file, 4096, Clock::now() + 24h);
  EXPECT_EQ(slow, fast);

  // The stream exercises every primitive, so the comparison means something.
  for (const char* expected : {"primitive=threshold 3 in 5m", "pair timeout 20m then resolve", "flapping@", "calm@",
                               "primitive=group by {{labels.site}} in 2m", "primitive=heartbeat every 30m",
                               "reopened@", "closed@", " closed "}) {
    EXPECT_NE(slow.find(expected), std::string::npos) << expected << " missing in:\n" << slow;
  }
}

}  // namespace
}  // namespace vigil
