// Correlation primitives and lifecycle hooks, on a virtual clock (the events' own times; no
// sleeping), with state committed to and restored from the real Store.
#include "daemon/correlation/correlation_component.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "tests/support/temp_dir.h"

// Counts operator new in this binary (the no-allocation test below).
namespace {
thread_local long g_allocations = 0;
}  // namespace
// GCC pairs the inlined free() with operator new and warns; this pair is consistent (malloc/free).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
// The nothrow forms too (simdjson allocates with them): otherwise the library's operator new
// allocates and ours frees with free(), which ASan reports as a mismatch.
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace vigil {
namespace {

using namespace std::chrono_literals;
using incidents::ApplyOutcome;
using incidents::Incident;
using incidents::IncidentState;

const TimePoint kT0 = TimePoint(std::chrono::seconds(1'780'000'000));

// The correlator's per-event steps (as Pipeline::process runs them) over a real Store: each
// feed() is one committed batch, so a new Harness on the same directory is a restart.
class Harness {
 public:
  Harness(const std::string& db, const std::string& yaml, std::chrono::milliseconds lateness = 5min) {
    auto store = store::Store::open({.path = db, .sync = false});
    EXPECT_TRUE(store) << store.error().toString();
    store_ = std::move(*store);
    setRules(yaml);
    component_ = std::make_unique<correlation::CorrelationComponent>(
        correlation::CorrelationOptions{lateness, /*wall_clock=*/true}, rules_);
    EXPECT_TRUE(store_->restoreInto(engine_).isOk());
    Status s = component_->restore(*store_);
    EXPECT_TRUE(s.isOk()) << s.toString();
  }

  void setRules(const std::string& yaml) {
    auto rules = rules::RuleSet::loadString(yaml, "rules.yaml");
    ASSERT_TRUE(rules) << rules.error().toString();
    rules_ = *rules;
    if (component_) component_->onRules(rules_);
  }

  ApplyOutcome feed(Event event) {
    rules_->evaluate(event, decision_);
    component_->onEvent(event, decision_, engine_);
    const ApplyOutcome outcome = engine_.apply(event, decision_);
    commit();
    return outcome;
  }

  // An idle round of the live correlator at virtual time `now`.
  void tick(TimePoint now) {
    component_->onTick(now, engine_);
    commit();
  }

  void commit() {
    engine_.takeChanges(changes_);
    component_->onChanges(changes_);
    component_->collectStateOps(changes_.state_ops);
    Status s = store_->commit(changes_, {});
    ASSERT_TRUE(s.isOk()) << s.toString();
  }

  std::vector<Incident> incidents() const {
    std::vector<Incident> out;
    EXPECT_TRUE(store_->scanIncidents(0, [&](Incident&& in) {
      out.insert(out.begin(), std::move(in));  // oldest first
      return true;
    }).isOk());
    return out;
  }

  // Scale-out: keeps every partition record the store commits, as the changelog would carry it.
  void recordChangelog() {
    store_->setPartitionObserver([this](std::vector<store::PartitionRecord>&& records) {
      for (auto& r : records) changelog_.push_back(std::move(r));
    });
  }
  std::vector<store::PartitionRecord> changelogOf(uint16_t partition) const {
    std::vector<store::PartitionRecord> out;
    for (const auto& r : changelog_) {
      if (r.partition == partition) out.push_back(r);
    }
    return out;
  }
  // Scale-out takeover as ScaleoutCore does it: restore the records, then load the partition.
  void takeOver(uint16_t partition, const std::vector<store::PartitionRecord>& records) {
    ASSERT_TRUE(store_->applyPartitionRecords(records, partition, "changelog/test", "0").isOk());
    engine_.dropPartition(partition);
    ASSERT_TRUE(store_->restorePartitionInto(engine_, partition).isOk());
    Status s = component_->loadPartition(*store_, partition);
    ASSERT_TRUE(s.isOk()) << s.toString();
  }
  // The partition moved away.
  void handOver(uint16_t partition) {
    engine_.dropPartition(partition);
    component_->forgetPartition(partition);
    ASSERT_TRUE(store_->dropPartition(partition).isOk());
  }

  // The rules and the correlation step of the per-event path, apart (no engine, no commit).
  void evaluate(Event& event) { rules_->evaluate(event, decision_); }
  void correlate(Event& event) { component_->onEvent(event, decision_, engine_); }

  const rules::Decision& decision() const { return decision_; }
  const rules::RuleSet& rules() const { return *rules_; }
  correlation::CorrelationComponent& component() { return *component_; }

 private:
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<const rules::RuleSet> rules_;
  incidents::IncidentEngine engine_;
  std::unique_ptr<correlation::CorrelationComponent> component_;
  rules::Decision decision_;
  incidents::ChangeSet changes_;
  std::vector<store::PartitionRecord> changelog_;
};

Event event(std::string host, std::string message, std::chrono::seconds at, std::string site = "") {
  Event e;
  e.source = "test";
  e.host = std::move(host);
  e.message = std::move(message);
  e.occurred_at = kT0 + at;
  e.received_at = Clock::now();  // arrival time must not matter
  if (!site.empty()) e.labels.set("site", site);
  return e;
}

constexpr const char* kThreshold = R"(
rules:
  - name: crc-errors
    match: {message: {regex: 'CRC error on (?P<port>\S+)'}}
    set: {type: crc, state: problem, severity: minor}
    key: '{{host}}/crc/{{port}}'
    threshold: {count: 3, window: 5m}
)";

TEST(Correlation, ThresholdHoldsBelowCountAndOpensOnTheNth) {
  testing::TempDir dir;
  Harness h(dir.file("db"), kThreshold);
  EXPECT_EQ(h.feed(event("sw1", "CRC error on ge-0/0/1", 0s)), ApplyOutcome::kHeld);
  EXPECT_EQ(h.decision().reason, "below threshold 1/3");
  EXPECT_EQ(h.feed(event("sw1", "CRC error on ge-0/0/1", 60s)), ApplyOutcome::kHeld);
  EXPECT_EQ(h.decision().reason, "below threshold 2/3");
  EXPECT_EQ(h.feed(event("sw2", "CRC error on ge-0/0/1", 70s)), ApplyOutcome::kHeld);  // another key
  EXPECT_TRUE(h.incidents().empty());
  EXPECT_EQ(h.feed(event("sw1", "CRC error on ge-0/0/1", 120s)), ApplyOutcome::kOpened);
  EXPECT_EQ(h.feed(event("sw1", "CRC error on ge-0/0/1", 130s)), ApplyOutcome::kUpdated);

  auto all = h.incidents();
  ASSERT_EQ(all.size(), 1u);
  const Incident& in = all[0];
  EXPECT_EQ(in.key, "sw1/crc/ge-0/0/1");
  EXPECT_EQ(in.first_seen, kT0 + 120s);
  EXPECT_EQ(in.rule, "crc-errors");
  EXPECT_EQ(in.provenance.rule_set_version, h.rules().version());
  EXPECT_EQ(in.provenance.primitive, "threshold 3 in 5m");
  ASSERT_EQ(in.provenance.events.size(), 3u);
  EXPECT_EQ(in.provenance.events[0].at, kT0);
  EXPECT_EQ(in.provenance.events[2].at, kT0 + 120s);
  EXPECT_EQ(in.provenance.events[0].message, "CRC error on ge-0/0/1");
}

TEST(Correlation, ThresholdCountsOnlyWithinTheWindowOfEventTime) {
  testing::TempDir dir;
  Harness h(dir.file("db"), kThreshold);
  EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 0s)), ApplyOutcome::kHeld);
  EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 6min)), ApplyOutcome::kHeld);
  EXPECT_EQ(h.decision().reason, "below threshold 1/3");  // the first fell out of the window
  EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 7min)), ApplyOutcome::kHeld);
  EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 8min)), ApplyOutcome::kOpened);
}

TEST(Correlation, ThresholdStateSurvivesARestart) {
  testing::TempDir dir;
  {
    Harness h(dir.file("db"), kThreshold);
    EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 0s)), ApplyOutcome::kHeld);
    EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 10s)), ApplyOutcome::kHeld);
    EXPECT_EQ(h.decision().reason, "below threshold 2/3");
  }
  Harness h(dir.file("db"), kThreshold);
  EXPECT_EQ(h.component().stateCount(), 1u);
  EXPECT_EQ(h.component().clock(), kT0 + 10s);
  EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 20s)), ApplyOutcome::kOpened);
  ASSERT_EQ(h.incidents().size(), 1u);
  EXPECT_EQ(h.incidents()[0].provenance.events.size(), 3u);
}

// The held events' strings go through the state record's JSON: quotes, backslashes and control
// characters come back as they were, invalid UTF-8 as U+FFFD (as the DOM encoding stored it).
TEST(Correlation, HeldEventsWithOddStringsSurviveARestart) {
  testing::TempDir dir;
  const std::string odd = "CRC error on p1 \"q\" \\ \t\x01 caf\xc3\xa9 bad\xff\xe2\x82";
  {
    Harness h(dir.file("db"), kThreshold);
    Event first = event("sw1", odd, 0s);
    first.source = "src \"\\\x02\x80";
    EXPECT_EQ(h.feed(first), ApplyOutcome::kHeld);
    EXPECT_EQ(h.feed(event("sw1", odd, 10s)), ApplyOutcome::kHeld);
  }
  Harness h(dir.file("db"), kThreshold);
  EXPECT_EQ(h.component().stateCount(), 1u);
  EXPECT_EQ(h.feed(event("sw1", odd, 20s)), ApplyOutcome::kOpened);
  const std::vector<Incident> incidents = h.incidents();
  ASSERT_EQ(incidents.size(), 1u);
  const auto& held = incidents[0].provenance.events;
  ASSERT_EQ(held.size(), 3u);
  const std::string replaced = "CRC error on p1 \"q\" \\ \t\x01 caf\xc3\xa9 bad\xef\xbf\xbd\xef\xbf\xbd";
  EXPECT_EQ(held[0].message, replaced);
  EXPECT_EQ(held[0].source, "src \"\\\x02\xef\xbf\xbd");
  EXPECT_EQ(held[1].message, replaced);
  EXPECT_EQ(held[2].message, odd);  // the third was never stored as correlation state
}

TEST(Correlation, StateOfUnchangedRulesSurvivesAReloadAndChangedRulesLoseIt) {
  testing::TempDir dir;
  Harness h(dir.file("db"), kThreshold);
  EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 0s)), ApplyOutcome::kHeld);
  EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 10s)), ApplyOutcome::kHeld);
  // Another rule added: the threshold's state stays.
  h.setRules(std::string(kThreshold) + R"(
  - name: other
    match: {message: {regex: 'other'}}
)");
  EXPECT_EQ(h.component().stateCount(), 1u);
  EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 20s)), ApplyOutcome::kOpened);

  // The count changed: the state of the old primitive is dropped.
  EXPECT_EQ(h.feed(event("sw9", "CRC error on p1", 30s)), ApplyOutcome::kHeld);
  EXPECT_EQ(h.component().stateCount(), 1u);
  std::string changed = kThreshold;
  changed.replace(changed.find("count: 3"), 8, "count: 4");
  h.setRules(changed);
  EXPECT_EQ(h.component().stateCount(), 0u);
  EXPECT_EQ(h.feed(event("sw9", "CRC error on p1", 40s)), ApplyOutcome::kHeld);
  EXPECT_EQ(h.decision().reason, "below threshold 1/4");
}

std::string pairRules(const std::string& on_timeout) {
  return R"(
rules:
  - name: bgp-down
    match: {message: {regex: 'BGP peer (?P<peer>\S+) down'}}
    set: {type: bgp, state: problem, severity: major}
    key: '{{host}}/bgp/{{peer}}'
    pair: {timeout: 30m, on_timeout: )" + on_timeout + R"(}
  - name: bgp-up
    match: {message: {regex: 'BGP peer (?P<peer>\S+) up'}}
    set: {type: bgp, state: ok}
    key: '{{host}}/bgp/{{peer}}'
)";
}

TEST(Correlation, PairClearResolvesAndTimeoutResolvesAtItsDeadline) {
  testing::TempDir dir;
  Harness h(dir.file("db"), pairRules("resolve"));
  EXPECT_EQ(h.feed(event("r1", "BGP peer 10.0.0.1 down", 0s)), ApplyOutcome::kOpened);
  EXPECT_EQ(h.feed(event("r1", "BGP peer 10.0.0.1 up", 5min)), ApplyOutcome::kResolved);
  EXPECT_EQ(h.component().stateCount(), 0u);
  EXPECT_EQ(h.feed(event("r1", "BGP peer 10.0.0.2 down", 10min)), ApplyOutcome::kOpened);
  EXPECT_EQ(h.feed(event("r1", "BGP peer 10.0.0.2 down", 20min)), ApplyOutcome::kUpdated);
  // Event time passes the deadline (10m + 30m): the timeout acts as of 40m.
  EXPECT_EQ(h.feed(event("r9", "unrelated", 45min)), ApplyOutcome::kIgnored);
  auto all = h.incidents();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].state, IncidentState::kResolved);
  ASSERT_TRUE(all[1].resolved_at);
  EXPECT_EQ(*all[1].resolved_at, kT0 + 40min);
  EXPECT_EQ(all[1].timeline.back().detail, "no clear within 30m (pair timeout)");
}

TEST(Correlation, PairTimeoutCanMarkStaleOrEscalate) {
  testing::TempDir dir;
  {
    Harness h(dir.file("stale"), pairRules("stale"));
    h.feed(event("r1", "BGP peer p down", 0s));
    h.tick(kT0 + 29min);
    EXPECT_FALSE(h.incidents()[0].stale);
    h.tick(kT0 + 31min);
    const Incident in = h.incidents()[0];
    EXPECT_TRUE(in.stale);
    EXPECT_EQ(in.state, IncidentState::kOpen);
    EXPECT_EQ(in.timeline.back().action, "stale");
    EXPECT_EQ(in.timeline.back().at, kT0 + 30min);
  }
  Harness h(dir.file("escalate"), pairRules("escalate"));
  h.feed(event("r1", "BGP peer p down", 0s));
  h.tick(kT0 + 31min);
  EXPECT_EQ(h.incidents()[0].severity, Severity::kCritical);
  EXPECT_EQ(h.incidents()[0].timeline.back().action, "escalated");
}

constexpr const char* kFlapping = R"(
rules:
  - name: port-down
    match: {message: {regex: 'port (?P<port>\S+) down'}}
    set: {type: link, state: problem, severity: minor}
    key: '{{host}}/{{port}}'
    flapping: {changes: 4, window: 10m, quiet: 5m}
  - name: port-up
    match: {message: {regex: 'port (?P<port>\S+) up'}}
    set: {type: link, state: ok}
    key: '{{host}}/{{port}}'
)";

TEST(Correlation, FlappingHoldsTheIncidentOpenThenCalmsAndResolves) {
  testing::TempDir dir;
  Harness h(dir.file("db"), kFlapping);
  EXPECT_EQ(h.feed(event("sw1", "port p1 down", 0s)), ApplyOutcome::kOpened);
  EXPECT_EQ(h.feed(event("sw1", "port p1 up", 60s)), ApplyOutcome::kResolved);     // change 1
  EXPECT_EQ(h.feed(event("sw1", "port p1 down", 120s)), ApplyOutcome::kOpened);    // change 2
  EXPECT_EQ(h.feed(event("sw1", "port p1 up", 180s)), ApplyOutcome::kResolved);    // change 3
  EXPECT_EQ(h.feed(event("sw1", "port p1 down", 240s)), ApplyOutcome::kOpened);    // change 4: flapping
  EXPECT_TRUE(h.incidents().back().flapping);
  EXPECT_EQ(h.feed(event("sw1", "port p1 up", 300s)), ApplyOutcome::kHeld);
  EXPECT_EQ(h.decision().reason, "flapping");
  EXPECT_EQ(h.feed(event("sw1", "port p1 down", 360s)), ApplyOutcome::kUpdated);
  EXPECT_EQ(h.feed(event("sw1", "port p1 up", 420s)), ApplyOutcome::kHeld);
  EXPECT_EQ(h.incidents().size(), 3u);
  EXPECT_EQ(h.incidents().back().state, IncidentState::kOpen);

  h.tick(kT0 + 420s + 4min);  // not quiet long enough yet
  EXPECT_EQ(h.incidents().back().state, IncidentState::kOpen);
  h.tick(kT0 + 420s + 6min);  // quiet for 5m after the last change, last state ok
  const Incident in = h.incidents().back();
  EXPECT_FALSE(in.flapping);
  EXPECT_EQ(in.state, IncidentState::kResolved);
  EXPECT_EQ(*in.resolved_at, kT0 + 420s + 5min);
  EXPECT_EQ(h.component().stateCount(), 0u);
}

TEST(Correlation, GroupJoinsABurstIntoOneIncident) {
  testing::TempDir dir;
  Harness h(dir.file("db"), R"(
rules:
  - name: power
    match: {message: {regex: 'power supply (?P<psu>\d+) failed'}}
    set: {type: power, state: problem, severity: major}
    key: '{{host}}/psu/{{psu}}'
    group: {by: '{{labels.site}}/power', window: 2m}
)");
  const std::string par = "par1";
  EXPECT_EQ(h.feed(event("a", "power supply 1 failed", 0s, par)), ApplyOutcome::kOpened);
  EXPECT_EQ(h.feed(event("b", "power supply 1 failed", 30s, par)), ApplyOutcome::kUpdated);
  EXPECT_EQ(h.feed(event("c", "power supply 2 failed", 90s, par)), ApplyOutcome::kUpdated);
  EXPECT_EQ(h.feed(event("d", "power supply 1 failed", 100s, "lon1")), ApplyOutcome::kOpened);
  EXPECT_EQ(h.feed(event("e", "power supply 1 failed", 150s, par)), ApplyOutcome::kOpened);  // window closed
  auto all = h.incidents();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].key, "a/psu/1");
  EXPECT_EQ(all[0].event_count, 3u);
  EXPECT_EQ(all[0].provenance.primitive, "group by {{labels.site}}/power in 2m");
  EXPECT_EQ(all[2].key, "e/psu/1");
}

constexpr const char* kHeartbeat = R"(
rules:
  - name: backup-heartbeat
    match: {message: {regex: 'backup (?P<job>\S+) finished'}}
    set: {type: backup, severity: major}
    key: '{{host}}/backup/{{job}}'
    title: 'Backup {{job}} on {{host}} missing'
    heartbeat: {every: 5m}
)";

TEST(Correlation, HeartbeatOpensWhenTheEventStaysAwayAndTheNextOneResolves) {
  testing::TempDir dir;
  Harness h(dir.file("db"), kHeartbeat);
  EXPECT_EQ(h.feed(event("db1", "backup nightly finished", 0s)), ApplyOutcome::kHeld);
  EXPECT_EQ(h.decision().reason, "heartbeat");
  EXPECT_EQ(h.feed(event("db1", "backup nightly finished", 4min)), ApplyOutcome::kHeld);
  h.tick(kT0 + 8min);
  EXPECT_TRUE(h.incidents().empty());
  h.tick(kT0 + 10min);  // due at 4m + 5m
  auto all = h.incidents();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].key, "db1/backup/nightly");
  EXPECT_EQ(all[0].title, "Backup nightly on db1 missing");
  EXPECT_EQ(all[0].first_seen, kT0 + 9min);
  EXPECT_EQ(all[0].severity, Severity::kMajor);
  EXPECT_EQ(all[0].provenance.primitive, "heartbeat every 5m");
  h.tick(kT0 + 20min);  // still missing: no second incident
  EXPECT_EQ(h.incidents().size(), 1u);
  EXPECT_EQ(h.feed(event("db1", "backup nightly finished", 21min)), ApplyOutcome::kResolved);
  EXPECT_EQ(h.incidents()[0].state, IncidentState::kResolved);
}

TEST(Correlation, HeartbeatTimerSurvivesARestart) {
  testing::TempDir dir;
  {
    Harness h(dir.file("db"), kHeartbeat);
    EXPECT_EQ(h.feed(event("db1", "backup nightly finished", 0s)), ApplyOutcome::kHeld);
  }
  Harness h(dir.file("db"), kHeartbeat);
  h.tick(kT0 + 4min);
  EXPECT_TRUE(h.incidents().empty());
  h.tick(kT0 + 6min);
  ASSERT_EQ(h.incidents().size(), 1u);
  EXPECT_EQ(h.incidents()[0].first_seen, kT0 + 5min);
}

constexpr const char* kLifecycle = R"(
rules:
  - name: disk-full
    match: {message: {regex: 'disk (?P<disk>\S+) full'}}
    set: {type: disk, state: problem, severity: major}
    key: '{{host}}/disk/{{disk}}'
    reopen_within: 10m
    auto_close_after: 1h
  - name: disk-ok
    match: {message: {regex: 'disk (?P<disk>\S+) ok'}}
    set: {type: disk, state: ok}
    key: '{{host}}/disk/{{disk}}'
)";

TEST(Correlation, ReopensWithinTheWindowOtherwiseOpensANewIncident) {
  testing::TempDir dir;
  Harness h(dir.file("db"), kLifecycle);
  EXPECT_EQ(h.feed(event("s1", "disk sda full", 0s)), ApplyOutcome::kOpened);
  EXPECT_EQ(h.feed(event("s1", "disk sda ok", 60s)), ApplyOutcome::kResolved);
  EXPECT_EQ(h.feed(event("s1", "disk sda full", 5min)), ApplyOutcome::kUpdated);
  auto all = h.incidents();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, IncidentState::kOpen);
  EXPECT_EQ(all[0].event_count, 3u);
  EXPECT_FALSE(all[0].resolved_at);
  bool reopened = false;
  for (const auto& t : all[0].timeline) reopened |= t.action == "reopened" && t.actor == "rule:disk-full";
  EXPECT_TRUE(reopened);

  EXPECT_EQ(h.feed(event("s1", "disk sda ok", 6min)), ApplyOutcome::kResolved);
  EXPECT_EQ(h.feed(event("s1", "disk sda full", 17min)), ApplyOutcome::kOpened);  // 11m later: new
  EXPECT_EQ(h.incidents().size(), 2u);
}

TEST(Correlation, AutoClosesResolvedIncidentsAfterThePeriod) {
  testing::TempDir dir;
  Harness h(dir.file("db"), kLifecycle);
  h.feed(event("s1", "disk sda full", 0s));
  h.feed(event("s1", "disk sda ok", 60s));
  EXPECT_EQ(h.component().resolvedCount(), 1u);
  h.tick(kT0 + 60min);
  EXPECT_EQ(h.incidents()[0].state, IncidentState::kResolved);
  h.tick(kT0 + 62min);
  const Incident in = h.incidents()[0];
  EXPECT_EQ(in.state, IncidentState::kClosed);
  EXPECT_EQ(*in.closed_at, kT0 + 61min);
  EXPECT_EQ(in.timeline.back().actor, "rule:disk-full");
  EXPECT_EQ(h.component().resolvedCount(), 0u);
}

// Scale-out: an event of partition 3 (a domain of another core).
Event onPartition3(Event e) {
  e.partition = 3;
  return e;
}

TEST(CorrelationHandover, AThresholdCountGoesOnWhereTheOldOwnerLeftIt) {
  testing::TempDir dir;
  Harness a(dir.file("a"), kThreshold);
  a.recordChangelog();
  EXPECT_EQ(a.feed(onPartition3(event("sw1", "CRC error on p1", 0s))), ApplyOutcome::kHeld);
  EXPECT_EQ(a.feed(onPartition3(event("sw1", "CRC error on p1", 10s))), ApplyOutcome::kHeld);
  EXPECT_EQ(a.feed(event("sw2", "CRC error on p1", 10s)), ApplyOutcome::kHeld);  // partition 0 stays

  Harness b(dir.file("b"), kThreshold);
  b.takeOver(3, a.changelogOf(3));
  EXPECT_EQ(b.component().stateCount(), 1u);
  a.handOver(3);
  EXPECT_EQ(a.component().stateCount(), 1u);  // only partition 0's count is left
  EXPECT_EQ(b.feed(onPartition3(event("sw1", "CRC error on p1", 20s))), ApplyOutcome::kOpened);
  ASSERT_EQ(b.incidents().size(), 1u);
  EXPECT_EQ(b.incidents()[0].provenance.events.size(), 3u);
  EXPECT_EQ(b.incidents()[0].provenance.events[0].at, kT0);
  EXPECT_EQ(b.component().stateCount(), 0u);
}

TEST(CorrelationHandover, APairTimeoutFiresOnTheNewOwnerOnly) {
  testing::TempDir dir;
  Harness a(dir.file("a"), pairRules("resolve"));
  a.recordChangelog();
  EXPECT_EQ(a.feed(onPartition3(event("r1", "BGP peer p down", 0s))), ApplyOutcome::kOpened);
  Harness b(dir.file("b"), pairRules("resolve"));
  b.takeOver(3, a.changelogOf(3));
  a.handOver(3);
  a.tick(kT0 + 31min);  // the old owner's timer is gone with the partition
  EXPECT_TRUE(a.incidents().empty());
  b.tick(kT0 + 31min);
  auto all = b.incidents();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, IncidentState::kResolved);
  EXPECT_EQ(*all[0].resolved_at, kT0 + 30min);
  EXPECT_EQ(all[0].timeline.back().detail, "no clear within 30m (pair timeout)");
}

TEST(CorrelationHandover, HeartbeatsAndAutoCloseTimersMoveWithTheirPartition) {
  testing::TempDir dir;
  const std::string rules = std::string(kLifecycle) + std::string(kHeartbeat).substr(std::string(kHeartbeat).find("  - name"));
  Harness a(dir.file("a"), rules);
  a.recordChangelog();
  EXPECT_EQ(a.feed(onPartition3(event("db1", "backup nightly finished", 0s))), ApplyOutcome::kHeld);
  EXPECT_EQ(a.feed(onPartition3(event("s1", "disk sda full", 0s))), ApplyOutcome::kOpened);
  EXPECT_EQ(a.feed(onPartition3(event("s1", "disk sda ok", 60s))), ApplyOutcome::kResolved);
  Harness b(dir.file("b"), rules);
  b.takeOver(3, a.changelogOf(3));
  EXPECT_EQ(b.component().resolvedCount(), 1u);
  a.handOver(3);
  EXPECT_EQ(a.component().stateCount() + a.component().resolvedCount(), 0u);
  b.tick(kT0 + 6min);  // the heartbeat was due at 5m
  b.tick(kT0 + 62min);  // the auto-close at 61m
  auto all = b.incidents();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].key, "s1/disk/sda");
  EXPECT_EQ(all[0].state, IncidentState::kClosed);
  EXPECT_EQ(*all[0].closed_at, kT0 + 61min);
  EXPECT_EQ(all[1].key, "db1/backup/nightly");
  EXPECT_EQ(all[1].first_seen, kT0 + 5min);
}

TEST(Correlation, LateEventsAreCountedAndSeenAtTheLatenessEdge) {
  testing::TempDir dir;
  Harness h(dir.file("db"), kThreshold, /*lateness=*/1min);
  EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 10min)), ApplyOutcome::kHeld);
  EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 9min + 30s)), ApplyOutcome::kHeld);  // within lateness
  EXPECT_EQ(h.component().lateEvents(), 0u);
  EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 2min)), ApplyOutcome::kOpened);  // late, counted at 9m
  EXPECT_EQ(h.component().lateEvents(), 1u);
}

TEST(Correlation, RulesWithoutPrimitivesKeepNoState) {
  testing::TempDir dir;
  Harness h(dir.file("db"), pairRules("resolve").substr(0, pairRules("resolve").find("    pair:")));
  EXPECT_EQ(h.feed(event("r1", "BGP peer p down", 0s)), ApplyOutcome::kOpened);
  EXPECT_EQ(h.component().stateCount(), 0u);
  EXPECT_TRUE(h.incidents()[0].provenance.primitive.empty());
  ASSERT_EQ(h.incidents()[0].provenance.events.size(), 1u);  // the event that opened it
}

TEST(Correlation, RulesWithoutPrimitivesPayNoAllocation) {
  testing::TempDir dir;
  Harness h(dir.file("db"), std::string(kThreshold) + R"(
  - name: plain
    match: {message: {regex: 'Interface (?P<port>\S+) down'}}
    set: {type: link, state: problem}
    key: '{{host}}/link/{{port}}'
)");
  EXPECT_EQ(h.feed(event("sw1", "CRC error on p1", 0s)), ApplyOutcome::kHeld);  // some state exists
  Event plain = event("sw1", "Interface ge-0/0/1 down", 10s);
  Event noise = event("sw1", "%SYS-5-CONFIG_I: Configured from console", 10s);
  for (Event* e : {&plain, &noise}) {  // warm up the scratch strings
    h.evaluate(*e);
    h.correlate(*e);
  }
  ASSERT_GT(g_allocations, 0);  // the counter works
  long correlating_a_match = 0;
  long a_miss = 0;
  for (int i = 0; i < 1000; ++i) {
    h.evaluate(plain);  // the rules' own matching path is not measured here
    EXPECT_EQ(h.decision().action, rules::Action::kOpen);
    long before = g_allocations;
    h.correlate(plain);
    correlating_a_match += g_allocations - before;
    before = g_allocations;
    h.evaluate(noise);
    h.correlate(noise);
    a_miss += g_allocations - before;
  }
  EXPECT_EQ(correlating_a_match, 0);
  EXPECT_EQ(a_miss, 0);
  EXPECT_EQ(h.decision().action, rules::Action::kNone);
}

}  // namespace
}  // namespace vigil
