// Maintenance windows and verdicts in the correlator: RRULE expansion across DST changes, and
// suppression, release at the window's end and the verdict log through a real Pipeline and
// RocksDB store with a virtual clock (no sleeping).
#include <atomic>
#include <fstream>
#include <future>

#include <gtest/gtest.h>

#include "daemon/cmdb/ci_index.h"
#include "daemon/maintenance/maintenance.h"
#include "daemon/pipeline.h"
#include "daemon/time_util.h"
#include "daemon/verdicts/verdict_log.h"
#include "daemon/yaml_util.h"
#include "tests/daemon/pipeline_fixture.h"

namespace vigil {
namespace {

using maintenance::Interval;
using maintenance::Schedule;

TimePoint at(const char* rfc3339) { return *parseRfc3339(rfc3339); }

Interval occurrence(const char* start, const char* end) { return {at(start), at(end)}; }

TEST(MaintenanceSchedule, WeeklySundayTwoAmParisStaysLocalAcrossBothDstChanges) {
  auto s = Schedule::recurring("2026-03-01T02:00", "Europe/Paris", std::chrono::hours(2), "FREQ=WEEKLY;BYDAY=SU");
  ASSERT_TRUE(s) << s.error().toString();
  // 2026-03-29: clocks go 02:00 CET → 03:00 CEST; 02:00 does not exist and becomes 03:00 CEST.
  EXPECT_EQ(s->upcoming(at("2026-03-20T00:00:00Z"), 3),
            (std::vector<Interval>{occurrence("2026-03-22T01:00:00Z", "2026-03-22T03:00:00Z"),
                                   occurrence("2026-03-29T01:00:00Z", "2026-03-29T03:00:00Z"),
                                   occurrence("2026-04-05T00:00:00Z", "2026-04-05T02:00:00Z")}));
  // 2026-10-25: 03:00 CEST → 02:00 CET; 02:00 happens twice and the first one counts.
  EXPECT_EQ(s->upcoming(at("2026-10-20T00:00:00Z"), 2),
            (std::vector<Interval>{occurrence("2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"),
                                   occurrence("2026-11-01T01:00:00Z", "2026-11-01T03:00:00Z")}));
  const auto inside = s->at(at("2026-04-05T01:59:59Z"));
  ASSERT_TRUE(inside.covering);
  EXPECT_EQ(inside.covering->start, at("2026-04-05T00:00:00Z"));
  const auto outside = s->at(at("2026-04-05T02:00:00Z"));
  EXPECT_FALSE(outside.covering);
  EXPECT_EQ(outside.next_start, at("2026-04-12T00:00:00Z"));
  EXPECT_FALSE(s->at(at("2026-02-22T01:30:00Z")).covering);  // before DTSTART
}

TEST(MaintenanceSchedule, MonthlyDailyCountUntilAndOrdinals) {
  // The last Sunday of each month, three times.
  auto last_sunday = Schedule::recurring("2026-01-01T22:00", "UTC", std::chrono::hours(1), "FREQ=MONTHLY;BYDAY=-1SU;COUNT=3");
  ASSERT_TRUE(last_sunday) << last_sunday.error().toString();
  auto all = last_sunday->upcoming(at("2025-01-01T00:00:00Z"), 10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].start, at("2026-01-25T22:00:00Z"));
  EXPECT_EQ(all[1].start, at("2026-02-22T22:00:00Z"));
  EXPECT_EQ(all[2].start, at("2026-03-29T22:00:00Z"));
  // Every other day at 01:15 and 13:15 in New York, until a date.
  auto daily = Schedule::recurring("2026-06-01T00:00", "America/New_York", std::chrono::minutes(30),
                                   "FREQ=DAILY;INTERVAL=2;BYHOUR=1,13;BYMINUTE=15;UNTIL=20260603T235959Z");
  ASSERT_TRUE(daily) << daily.error().toString();
  auto d = daily->upcoming(at("2026-01-01T00:00:00Z"), 10);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].start, at("2026-06-01T05:15:00Z"));  // EDT is UTC-4
  EXPECT_EQ(d[1].start, at("2026-06-01T17:15:00Z"));
  EXPECT_EQ(d[2].start, at("2026-06-03T05:15:00Z"));
  EXPECT_EQ(d[3].start, at("2026-06-03T17:15:00Z"));
  // The 31st skips short months.
  auto the31st = Schedule::recurring("2026-01-31T00:00", "UTC", std::chrono::hours(1), "FREQ=MONTHLY");
  ASSERT_TRUE(the31st);
  auto m = the31st->upcoming(at("2026-01-01T00:00:00Z"), 2);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1].start, at("2026-03-31T00:00:00Z"));
}

TEST(MaintenanceSchedule, BadDefinitionsSayWhatIsWrong) {
  auto yearly = Schedule::recurring("2026-01-01T00:00", "UTC", std::chrono::hours(1), "FREQ=YEARLY");
  ASSERT_FALSE(yearly);
  EXPECT_NE(yearly.error().message().find("supported: DAILY, WEEKLY, MONTHLY"), std::string::npos);
  EXPECT_FALSE(Schedule::recurring("2026-01-01T00:00", "Mars/Olympus", std::chrono::hours(1), "FREQ=DAILY"));
  EXPECT_FALSE(Schedule::recurring("2026-01-01T00:00", "UTC", std::chrono::hours(1), "FREQ=WEEKLY;BYDAY=1SU"));
  EXPECT_FALSE(Schedule::recurring("2026-01-01", "UTC", std::chrono::hours(1), "FREQ=DAILY"));
  EXPECT_FALSE(Schedule::oneShot(at("2026-01-02T00:00:00Z"), at("2026-01-01T00:00:00Z")));
}

TEST(MaintenanceConfig, ErrorsPointAtFileLineAndColumn) {
  testing::TempDir dir;
  const std::string file = dir.file("mw.yaml");
  {
    std::ofstream out(file);
    out << "windows:\n"
           "  - id: sunday\n"
           "    author: alice\n"
           "    reason: patching\n"
           "    dtstart: 2026-03-01T02:00\n"
           "    time_zone: Europe/Paris\n"
           "    duration: 2h\n"
           "    rrule: FREQ=FORTNIGHTLY\n"
           "    scope: [{ci: sw1}, {match: {nonsense: x}}]\n";
  }
  auto windows = maintenance::loadWindowFiles({file}, "");
  ASSERT_FALSE(windows);
  EXPECT_NE(windows.error().message().find(file + ":8:12: rrule: 'FREQ=FORTNIGHTLY'"), std::string::npos)
      << windows.error().message();
  EXPECT_NE(windows.error().message().find(file + ":9:33: unknown field 'nonsense'"), std::string::npos)
      << windows.error().message();
}

constexpr const char* kRules = R"(
rules:
  - name: link-down
    match:
      message: {regex: 'Interface (?P<interface>\S+) down'}
    set: {type: link, state: problem, severity: major}
    key: '{{ci}}/link/{{interface}}'
    title: 'Link down on {{ci}} {{interface}}'
  - name: link-up
    match:
      message: {regex: 'Interface (?P<interface>\S+) up'}
    set: {type: link, state: ok}
    key: '{{ci}}/link/{{interface}}'
  - name: noise
    match: {message: {prefix: 'noise'}}
    action: drop
)";

class MaintenancePipelineTest : public testing::PipelineFixture {
 protected:
  void SetUp() override {
    openStoreAndRules(kRules);
    if (HasFatalFailure()) return;
    // core1 ← sw1 ← srv1 (srv1 depends on sw1, which depends on core1); srv2 stands alone.
    std::vector<cmdb::ConfigurationItem> cis(5);
    cis[0].id = "core1";
    cis[1].id = "sw1";
    cis[1].depends_on = {"core1"};
    cis[2].id = "srv1";
    cis[2].depends_on = {"sw1"};
    cis[2].assignment_group = "server-ops";
    cis[3].id = "srv2";
    cis[4].id = "web";  // a service delivered by srv1
    cis[4].ci_class = cmdb::CiClass::kService;
    cis[4].members = {"srv1"};
    auto snapshot = cmdb::buildSnapshot(std::move(cis));
    ASSERT_TRUE(snapshot) << snapshot.error().toString();
    cmdb_ = *snapshot;
    setNow("2026-11-29T01:00:00Z");
  }

  void setNow(const char* t) { now_ms_ = toUnixMillis(at(t)); }

  void start(const std::string& windows_yaml) {
    options_.clock = [this] { return fromUnixMillis(now_ms_.load()); };
    options_.tick_interval = std::chrono::hours(1);  // timers run when the test hands over a batch
    verdicts_ = std::make_unique<verdicts::VerdictLog>(verdicts::VerdictOptions{}, options_.clock, registry_.registry());
    maintenance_ = std::make_unique<maintenance::MaintenanceManager>(options_.clock, options_.symptom_window);
    auto doc = loadYamlString(windows_yaml, "mw.yaml");
    ASSERT_TRUE(doc) << doc.error().toString();
    std::vector<maintenance::WindowPtr> windows;
    for (const auto& node : (*doc)["windows"]) {
      ConfigErrors errors;
      auto w = maintenance::parseWindow(node, "mw.yaml", "mw.yaml", true, errors);
      ASSERT_TRUE(w) << errors.status().toString();
      windows.push_back(std::make_shared<const maintenance::MaintenanceWindow>(std::move(*w)));
    }
    maintenance_->setConfigWindows(std::move(windows));
    pipeline_ = std::make_unique<Pipeline>(options_, rules_, *store_, metrics_);
    pipeline_->setCmdb(cmdb_);
    pipeline_->setEventIdSource(verdicts_.get());
    pipeline_->addEventHook(verdicts_.get());
    pipeline_->addEventHook(maintenance_.get());
    pipeline_->addComponent(verdicts_.get());
    pipeline_->addComponent(maintenance_.get());
    ASSERT_TRUE(pipeline_->start().isOk());
  }

  // Hands over one batch (maybe empty: a timer round) and waits for its commit; returns the ids.
  std::vector<uint64_t> send(std::vector<Event> events) {
    std::promise<Status> done;
    connectors::EventBatch batch;
    for (auto& e : events) {
      e.source = "test";
      e.received_at = fromUnixMillis(now_ms_.load());
      e.occurred_at = e.received_at;
    }
    const uint64_t first = events.empty() ? 0 : verdicts_->reserve(events.size());
    std::vector<uint64_t> ids;
    for (size_t i = 0; i < events.size(); ++i) ids.push_back(first + i);
    batch.events = std::move(events);
    batch.on_commit = [&](const Status& s) { done.set_value(s); };
    EXPECT_TRUE(pipeline_->offer(batch, first));
    EXPECT_TRUE(done.get_future().get().isOk());
    return ids;
  }

  static Event event(std::string ci, std::string message) {
    Event e;
    e.ci = std::move(ci);
    e.message = std::move(message);
    return e;
  }


  verdicts::VerdictRecord verdictOf(uint64_t id) {
    auto r = verdicts::VerdictLog::byEvent(*store_, id);
    EXPECT_TRUE(r && *r) << "no verdict for event " << id;
    return r && *r ? **r : verdicts::VerdictRecord{};
  }

  double suppressed(const std::string& reason) {
    const std::string text = registry_.render();
    const std::string needle = "vigil_events_suppressed_total{reason=\"" + reason + "\"} ";
    const auto pos = text.find(needle);
    return pos == std::string::npos ? -1 : std::stod(text.substr(pos + needle.size()));
  }

  std::shared_ptr<const cmdb::CiSnapshot> cmdb_;
  std::atomic<int64_t> now_ms_{0};
  PipelineOptions options_;
  std::unique_ptr<verdicts::VerdictLog> verdicts_;
  std::unique_ptr<maintenance::MaintenanceManager> maintenance_;
  std::unique_ptr<Pipeline> pipeline_;  // last: stopped before the hooks go
};

constexpr const char* kTopologyWindow = R"(
windows:
  - id: sw1-firmware
    author: alice
    reason: firmware upgrade
    ticket: CHG-1234
    start: 2026-11-29T02:00:00Z
    end: 2026-11-29T04:00:00Z
    scope: [{topology: sw1}]
)";

TEST_F(MaintenancePipelineTest, SuppressedDuringTheWindowAndOpenedAtItsEndWhenStillFailing) {
  start(kTopologyWindow);
  // Before the window an outage on srv1 opens normally.
  send({event("srv1", "Interface eth9 down")});
  ASSERT_EQ(storedIncidents().size(), 1u);

  setNow("2026-11-29T02:30:00Z");
  const auto ids = send({event("srv1", "Interface eth0 down"),   // behind sw1: held
                         event("sw1", "Interface Gi0/1 down"),   // sw1 itself: held, then cleared
                         event("sw1", "Interface Gi0/1 up"),
                         event("srv2", "Interface eth0 down"),   // not in scope: opens
                         event("srv1", "Interface eth9 down"),   // open before the window: updates it
                         event("core1", "noise from core1")});   // dropped by a rule
  auto list = storedIncidents();
  ASSERT_EQ(list.size(), 2u);  // srv1/eth9 and srv2/eth0, nothing held opened
  EXPECT_EQ(list[0].key, "srv2/link/eth0");

  auto held = verdictOf(ids[0]);
  EXPECT_EQ(held.verdict.reason, verdicts::Reason::kMaintenance);
  EXPECT_EQ(held.verdict.window, "sw1-firmware");
  EXPECT_EQ(held.verdict.rule, "link-down");
  EXPECT_EQ(held.ci, "srv1");
  EXPECT_EQ(verdictOf(ids[2]).verdict.reason, verdicts::Reason::kMaintenance);
  auto update = verdictOf(ids[4]);
  EXPECT_EQ(update.verdict.reason, verdicts::Reason::kDeduplicated);
  EXPECT_EQ(update.verdict.incident, list[1].id);
  auto dropped = verdictOf(ids[5]);
  EXPECT_EQ(dropped.verdict.reason, verdicts::Reason::kDropped);
  EXPECT_EQ(dropped.verdict.rule, "noise");
  EXPECT_FALSE(verdicts::VerdictLog::byEvent(*store_, ids[3]).value());  // it opened an incident
  EXPECT_EQ(suppressed("maintenance"), 3);

  // By CI, newest first.
  auto by_ci = verdicts::VerdictLog::byCi(*store_, "sw1", 10);
  ASSERT_TRUE(by_ci);
  ASSERT_EQ(by_ci->size(), 2u);
  EXPECT_EQ((*by_ci)[0].event_id, ids[2]);

  // Still in the window: a timer round releases nothing.
  setNow("2026-11-29T03:59:59Z");
  send({});
  EXPECT_EQ(storedIncidents().size(), 2u);
  // The window ends with srv1's eth0 still down: its incident opens; sw1's cleared one does not.
  setNow("2026-11-29T04:00:00Z");
  send({});
  list = storedIncidents();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].key, "srv1/link/eth0");
  EXPECT_EQ(list[0].title, "Link down on srv1 eth0");
  EXPECT_EQ(list[0].rule, "link-down");
  ASSERT_NE(list[0].labels.find("maintenance_window"), nullptr);
  EXPECT_EQ(*list[0].labels.find("maintenance_window"), "sw1-firmware");
  // It opens with the CMDB context it would have had without the window.
  EXPECT_EQ(list[0].services, std::vector<std::string>{"web"});
  EXPECT_EQ(list[0].assignment_group, "server-ops");

  // After the window, events open incidents again.
  send({event("sw1", "Interface Gi0/2 down")});
  EXPECT_EQ(storedIncidents().size(), 4u);
}

TEST_F(MaintenancePipelineTest, HeldKeysSurviveARestart) {
  start(kTopologyWindow);
  setNow("2026-11-29T02:30:00Z");
  send({event("sw1", "Interface Gi0/3 down")});
  pipeline_->stop();
  pipeline_.reset();
  start(kTopologyWindow);
  setNow("2026-11-29T05:00:00Z");
  send({});
  auto list = storedIncidents();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].key, "sw1/link/Gi0/3");
}

// Scale-out: a key held on one instance is released by the instance that took its partition
// over; the old owner forgot it.
TEST_F(MaintenancePipelineTest, HeldKeysMoveWithTheirPartition) {
  std::vector<store::PartitionRecord> changelog;
  store_->setPartitionObserver([&](std::vector<store::PartitionRecord>&& records) {
    for (auto& r : records) changelog.push_back(std::move(r));
  });
  start(kTopologyWindow);
  setNow("2026-11-29T02:30:00Z");
  Event held = event("sw1", "Interface Gi0/3 down");
  held.partition = 3;
  send({held});
  auto onCorrelator = [&](std::function<void()> task) {
    std::promise<void> done;
    ASSERT_TRUE(pipeline_->submitTask([&](incidents::IncidentEngine&) {
      task();
      done.set_value();
    }));
    done.get_future().wait();
  };
  onCorrelator([&] { pipeline_->forgetPartition(3); });
  setNow("2026-11-29T05:00:00Z");
  send({});
  EXPECT_TRUE(storedIncidents().empty()) << "the old owner released a key it handed over";
  pipeline_->stop();
  pipeline_.reset();

  auto fresh = store::Store::open({.path = dir_.file("new-owner")});
  ASSERT_TRUE(fresh) << fresh.error().toString();
  store_ = std::move(*fresh);
  setNow("2026-11-29T03:00:00Z");
  start(kTopologyWindow);
  std::vector<store::PartitionRecord> moved;
  for (const auto& r : changelog) {
    if (r.partition == 3) moved.push_back(r);
  }
  ASSERT_FALSE(moved.empty()) << "the held key is not partition 3's state";
  ASSERT_TRUE(store_->applyPartitionRecords(moved, 3, "changelog/test", "0").isOk());
  Status loaded = Status::ok();
  onCorrelator([&] { loaded = pipeline_->loadPartition(3); });
  ASSERT_TRUE(loaded.isOk()) << loaded.toString();
  setNow("2026-11-29T05:00:00Z");
  send({});
  auto list = storedIncidents();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].key, "sw1/link/Gi0/3");
  EXPECT_EQ(list[0].partition(), 3);
}

TEST_F(MaintenancePipelineTest, VerdictsForEventsThatOpenNothingWithoutWindows) {
  start("windows: []\n");
  const auto ids = send({event("srv2", "something unrelated"), event("srv2", "Interface eth1 up"),
                         event("srv2", "Interface eth1 down"), event("srv2", "Interface eth1 down")});
  EXPECT_EQ(verdictOf(ids[0]).verdict.reason, verdicts::Reason::kNoMatch);
  EXPECT_EQ(verdictOf(ids[1]).verdict.reason, verdicts::Reason::kUnmatchedResolve);
  EXPECT_EQ(verdictOf(ids[3]).verdict.reason, verdicts::Reason::kDeduplicated);
  EXPECT_EQ(suppressed("no_match"), 1);
  EXPECT_EQ(suppressed("deduplicated"), 1);
  // Ids keep counting after a restart.
  pipeline_->stop();
  pipeline_.reset();
  start("windows: []\n");
  const auto more = send({event("srv2", "something unrelated")});
  EXPECT_GT(more[0], ids[3]);
}

TEST_F(MaintenancePipelineTest, ServiceAndMatcherScopes) {
  start(R"(
windows:
  - id: by-matcher
    author: bob
    reason: lab
    dtstart: 2026-11-01T00:00
    time_zone: Europe/Paris
    duration: 1d
    rrule: FREQ=DAILY
    scope: [{match: {ci: {prefix: srv2}}}]
  - id: by-service
    author: bob
    reason: release
    start: 2026-11-29T00:00:00Z
    end: 2026-11-30T00:00:00Z
    scope: [{service: web}]
)");
  const auto ids = send({event("srv2", "Interface eth0 down"), event("srv1", "Interface eth0 down"),
                         event("core1", "Interface eth0 down")});
  auto list = storedIncidents();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].ci, "core1");
  EXPECT_EQ(verdictOf(ids[0]).verdict.window, "by-matcher");
  EXPECT_EQ(verdictOf(ids[1]).verdict.window, "by-service");
  const auto windows = maintenance_->windows();
  ASSERT_EQ(windows.size(), 2u);
  EXPECT_EQ(maintenance::MaintenanceManager::preview(*windows[1], *cmdb_), (std::vector<std::string>{"srv1", "web"}));
}

}  // namespace
}  // namespace vigil
