// SLA clocks and escalation on the real pipeline and store, driven by a virtual clock.
#include "daemon/sla/sla_clocks.h"

#include <algorithm>
#include <atomic>
#include <future>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "daemon/incidents/incident_codec.h"
#include "daemon/time_util.h"
#include "daemon/yaml_util.h"
#include "tests/daemon/pipeline_fixture.h"

namespace vigil::sla {
namespace {

using namespace std::chrono_literals;
using incidents::Incident;
using incidents::IncidentState;

constexpr const char* kPolicy = R"(
sla:
  P2: {acknowledge: 15m, resolve: 4h}
  P1: {acknowledge: 5m}
escalation:
  - name: p2-unacked
    after: 30m
    unless: acknowledged
    match: {priority: [P2]}
    set: {severity: critical, assignment_group: noc-l2}
  - name: page-duty-manager
    on: resolve_breach
    unless: none
    set: {assignee: duty-manager}
)";

SlaPolicy parsePolicy(const char* text) {
  auto doc = loadYamlString(text, "config.yaml");
  EXPECT_TRUE(doc) << doc.error().toString();
  auto policy = parseSlaPolicy((*doc)["sla"], (*doc)["escalation"], "config.yaml");
  EXPECT_TRUE(policy) << policy.error().toString();
  return policy ? *policy : SlaPolicy{};
}

class SlaClocksTest : public testing::PipelineFixture {
 protected:
  void SetUp() override { openStoreAndRules(testing::kLinkRules); }

  void start() {
    clocks_ = std::make_unique<SlaClocks>(parsePolicy(kPolicy), registry_.registry());
    PipelineOptions options;
    options.clock = [this] { return TimePoint(std::chrono::milliseconds(now_ms_.load())); };
    pipeline_ = std::make_unique<Pipeline>(options, rules_, *store_, metrics_);
    pipeline_->addComponent(clocks_.get());
    ASSERT_TRUE(pipeline_->start().isOk());
  }
  void restart() {
    pipeline_->stop();
    pipeline_.reset();
    start();
  }

  void setTime(std::chrono::milliseconds since_start) { now_ms_ = (kStart + since_start).count(); }

  // Hands over one batch (an event that matches no rule still runs the timers) and waits for it.
  void send(const std::string& host, const std::string& message, uint16_t partition = 0) {
    Event e;
    e.partition = partition;
    e.source = "test";
    e.host = host;
    e.message = message;
    e.received_at = TimePoint(std::chrono::milliseconds(now_ms_.load()));
    std::promise<Status> done;
    connectors::EventBatch batch;
    batch.events.push_back(std::move(e));
    batch.on_commit = [&](const Status& s) { done.set_value(s); };
    ASSERT_TRUE(pipeline_->offer(batch));
    ASSERT_TRUE(done.get_future().get().isOk());
  }
  void tick() { send("nobody", "nothing to see"); }

  Result<Incident> command(incidents::IncidentCommand cmd) {
    std::promise<Result<Incident>> done;
    EXPECT_TRUE(pipeline_->submit(cmd, [&](Result<Incident> r) { done.set_value(std::move(r)); }));
    return done.get_future().get();
  }

  Incident incident(incidents::IncidentId id) {
    auto in = store_->getIncident(id);
    EXPECT_TRUE(in && *in);
    return in && *in ? **in : Incident{};
  }

  static size_t countTimeline(const Incident& in, const std::string& action) {
    return static_cast<size_t>(std::count_if(in.timeline.begin(), in.timeline.end(),
                                             [&](const auto& t) { return t.action == action; }));
  }

  std::string metricsText() { return registry_.render(); }

  static constexpr std::chrono::milliseconds kStart{1'800'000'000'000};
  std::atomic<int64_t> now_ms_{kStart.count()};
  std::unique_ptr<SlaClocks> clocks_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(SlaClocksTest, DueTimesAreStampedOnOpenFromThePriority) {
  start();
  send("sw1", "Interface ge-0/0/1 down");
  const Incident in = incident(1);
  EXPECT_EQ(in.priority, 2);
  const TimePoint t0(kStart);
  EXPECT_EQ(in.sla.started_at, t0);
  EXPECT_EQ(in.sla.acknowledge_due, t0 + 15min);
  EXPECT_EQ(in.sla.resolve_due, t0 + 4h);
  EXPECT_FALSE(in.sla.acknowledge_breached);
  nlohmann::json j;
  incidents::toJson(in, j, false);
  EXPECT_EQ(j["sla"]["acknowledge_due"], formatRfc3339(t0 + 15min));
  EXPECT_EQ(j["sla"]["acknowledge_breached"], false);
}

TEST_F(SlaClocksTest, AcknowledgeBreachIsRecordedCountedAndEscalates) {
  start();
  send("sw1", "Interface ge-0/0/1 down");
  setTime(14min);
  tick();
  EXPECT_FALSE(incident(1).sla.acknowledge_breached);
  setTime(15min + 1s);
  tick();
  Incident in = incident(1);
  EXPECT_TRUE(in.sla.acknowledge_breached);
  EXPECT_FALSE(in.sla.resolve_breached);
  EXPECT_EQ(countTimeline(in, "sla_breached"), 1u);
  EXPECT_EQ(in.timeline.back().actor, "sla");
  EXPECT_NE(metricsText().find(R"(vigil_sla_breaches_total{clock="acknowledge",priority="P2"} 1)"), std::string::npos)
      << metricsText();
  EXPECT_EQ(in.severity, Severity::kMajor);  // not escalated yet

  setTime(30min);
  tick();
  in = incident(1);
  EXPECT_EQ(in.severity, Severity::kCritical);
  EXPECT_EQ(in.assignment_group, "noc-l2");
  EXPECT_EQ(in.escalations, std::vector<std::string>{"p2-unacked"});
  EXPECT_EQ(in.timeline.back().action, "escalated");
  EXPECT_EQ(in.timeline.back().actor, "escalation");
  EXPECT_EQ(countTimeline(in, "sla_breached"), 1u);  // recorded once, however many ticks

  setTime(31min);
  tick();
  EXPECT_EQ(countTimeline(incident(1), "escalated"), 1u);
}

TEST_F(SlaClocksTest, AcknowledgedInTimeNeitherBreachesNorEscalates) {
  start();
  send("sw1", "Interface ge-0/0/1 down");
  setTime(10min);
  auto acked = command({.verb = incidents::IncidentCommand::Verb::kAcknowledge, .id = 1, .actor = "alice"});
  ASSERT_TRUE(acked) << acked.error().toString();
  setTime(40min);
  tick();
  const Incident in = incident(1);
  EXPECT_FALSE(in.sla.acknowledge_breached);
  EXPECT_TRUE(in.escalations.empty());
  EXPECT_EQ(in.severity, Severity::kMajor);
}

TEST_F(SlaClocksTest, TimersSurviveARestartAndBreachTriggersEscalation) {
  start();
  send("sw1", "Interface ge-0/0/1 down");
  setTime(10min);
  ASSERT_TRUE(command({.verb = incidents::IncidentCommand::Verb::kAcknowledge, .id = 1, .actor = "alice"}));
  restart();  // nothing in memory: the resolve clock comes back from the stored incident
  setTime(4h + 1s);
  tick();
  const Incident in = incident(1);
  EXPECT_TRUE(in.sla.resolve_breached);
  EXPECT_FALSE(in.sla.acknowledge_breached);
  EXPECT_EQ(in.assignee, "duty-manager");  // `on: resolve_breach`, `unless: none`
  EXPECT_EQ(in.escalations, std::vector<std::string>{"page-duty-manager"});
  restart();
  setTime(5h);
  tick();
  EXPECT_EQ(countTimeline(incident(1), "escalated"), 1u);
  EXPECT_EQ(countTimeline(incident(1), "sla_breached"), 1u);
}

// Scale-out: an incident that moved in with its partition is checked at the next tick, not at
// the next rescan or at the deadlines this instance knew of.
TEST_F(SlaClocksTest, AnIncidentTakenOverIsCheckedAtTheNextTick) {
  std::vector<store::PartitionRecord> changelog;
  store_->setPartitionObserver([&](std::vector<store::PartitionRecord>&& records) {
    for (auto& r : records) changelog.push_back(std::move(r));
  });
  start();
  send("sw9", "Interface ge-0/0/9 down", 3);  // on the old owner, due to be acknowledged at 15m
  pipeline_->stop();
  pipeline_.reset();

  auto fresh = store::Store::open({.path = dir_.file("new-owner")});
  ASSERT_TRUE(fresh) << fresh.error().toString();
  store_ = std::move(*fresh);
  start();
  send("sw1", "Interface ge-0/0/1 down");
  ASSERT_TRUE(command({.verb = incidents::IncidentCommand::Verb::kAcknowledge, .id = 1, .actor = "alice"}));
  setTime(15min);
  tick();  // the new owner's next deadline is now 4h away
  std::vector<store::PartitionRecord> moved;
  for (const auto& r : changelog) {
    if (r.partition == 3) moved.push_back(r);
  }
  ASSERT_TRUE(store_->applyPartitionRecords(moved, 3, "changelog/test", "0").isOk());
  std::promise<Status> loaded;
  ASSERT_TRUE(pipeline_->submitTask([&](incidents::IncidentEngine&) { loaded.set_value(pipeline_->loadPartition(3)); }));
  ASSERT_TRUE(loaded.get_future().get().isOk());
  setTime(15min + 1s);
  tick();
  const incidents::IncidentId moved_id = (incidents::IncidentId{3} << 48) | 1;
  const Incident in = incident(moved_id);
  EXPECT_EQ(in.key, "sw9/link/ge-0/0/9");
  EXPECT_TRUE(in.sla.acknowledge_breached);
  EXPECT_EQ(countTimeline(in, "sla_breached"), 1u);
}

TEST_F(SlaClocksTest, PriorityChangeMovesTheDueTimes) {
  start();
  send("sw1", "Interface ge-0/0/1 down");
  ASSERT_TRUE(command({.verb = incidents::IncidentCommand::Verb::kSetPriority, .id = 1, .actor = "bob", .priority = 1}));
  setTime(SlaClocks::kRescanInterval);
  tick();
  EXPECT_EQ(incident(1).sla.acknowledge_due, TimePoint(kStart) + 5min);
  EXPECT_EQ(incident(1).sla.resolve_due, std::nullopt);
  setTime(6min);
  tick();
  EXPECT_TRUE(incident(1).sla.acknowledge_breached);
  EXPECT_NE(metricsText().find(R"(vigil_sla_breaches_total{clock="acknowledge",priority="P1"} 1)"), std::string::npos);
}

TEST_F(SlaClocksTest, ANewPolicyMovesTheDueTimesOfActiveIncidentsFromTheNextTick) {
  start();
  send("sw1", "Interface ge-0/0/1 down");
  setTime(2min);
  auto acked = command({.verb = incidents::IncidentCommand::Verb::kAcknowledge, .id = 1, .actor = "alice"});
  ASSERT_TRUE(acked) << acked.error().toString();
  send("sw2", "Interface ge-0/0/2 down");  // opened at 2 min, stays open
  clocks_->setPolicy(parsePolicy(R"(
sla:
  P2: {acknowledge: 1h, resolve: 10m}
escalation:
  - name: p2-resolve-late
    on: resolve_breach
    unless: none
    set: {assignee: duty-manager}
)"));
  tick();  // the policy applies from the next tick (an idle one may come first)
  Incident in = incident(1);
  EXPECT_EQ(in.sla.started_at, TimePoint(kStart));  // the clocks keep running from the open
  EXPECT_EQ(in.sla.acknowledge_due, TimePoint(kStart) + 1h);
  EXPECT_EQ(in.sla.resolve_due, TimePoint(kStart) + 10min);
  EXPECT_EQ(incident(2).sla.acknowledge_due, TimePoint(kStart) + 2min + 1h);

  setTime(10min + 1s);
  tick();
  in = incident(1);
  EXPECT_TRUE(in.sla.resolve_breached);
  EXPECT_EQ(in.escalations, std::vector<std::string>{"p2-resolve-late"});  // a step of the new policy
  EXPECT_EQ(in.assignee, "duty-manager");
  setTime(31min);
  tick();
  EXPECT_EQ(incident(2).assignment_group, "");  // the old policy's p2-unacked is gone

  clocks_->setPolicy(SlaPolicy{});  // sla: and escalation: removed
  tick();
  EXPECT_EQ(incident(2).sla.acknowledge_due, std::nullopt);
  EXPECT_TRUE(incident(1).sla.resolve_breached);  // what breached stays recorded
}

TEST(SlaCodecTest, SlaAndEscalationsRoundTrip) {
  Incident in;
  in.id = 7;
  in.key = "k";
  in.priority = 1;
  in.sla.started_at = TimePoint(std::chrono::milliseconds(1000));
  in.sla.acknowledge_due = TimePoint(std::chrono::milliseconds(2000));
  in.sla.acknowledge_breached = true;
  in.escalations = {"a", "b"};
  std::string bytes;
  incidents::encodeIncident(in, true, bytes);
  auto back = incidents::decodeIncident(bytes);
  ASSERT_TRUE(back) << back.error().toString();
  EXPECT_EQ(*back, in);
}

TEST(SlaPolicyTest, ErrorsPointAtTheLine) {
  auto doc = loadYamlString("sla:\n  P9: {acknowledge: 5m}\nescalation:\n  - after: 5m\n    set: {}\n", "c.yaml");
  ASSERT_TRUE(doc);
  auto policy = parseSlaPolicy((*doc)["sla"], (*doc)["escalation"], "c.yaml");
  ASSERT_FALSE(policy);
  EXPECT_NE(policy.error().message().find("c.yaml:2:3: expected a priority P1..P5, got 'P9'"), std::string::npos)
      << policy.error().message();
  EXPECT_NE(policy.error().message().find("c.yaml:5:10: 'set' changes nothing"), std::string::npos)
      << policy.error().message();
}

}  // namespace
}  // namespace vigil::sla
