// The service-assurance metrics driven through the real incident engine with a virtual clock,
// and the scrape-time collectors over /proc and a real RocksDB store.
#include <gtest/gtest.h>

#include <prometheus/text_serializer.h>

#include "daemon/metrics/assurance_metrics.h"
#include "daemon/metrics/collectors.h"
#include "daemon/metrics/metrics.h"
#include "daemon/store/store.h"
#include "tests/support/temp_dir.h"

namespace vigil::metrics {
namespace {

using incidents::ChangeSet;
using incidents::IncidentCommand;
using incidents::IncidentEngine;
using std::chrono::seconds;
using Labels = std::map<std::string, std::string>;

// The value of one sample (counter, gauge, or a histogram's count), or -1 when absent.
double sample(const std::vector<prometheus::MetricFamily>& families, const std::string& name, const Labels& labels) {
  for (const auto& f : families) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      Labels have;
      for (const auto& l : m.label) have[l.name] = l.value;
      if (have != labels) continue;
      switch (f.type) {
        case prometheus::MetricType::Counter: return m.counter.value;
        case prometheus::MetricType::Histogram: return static_cast<double>(m.histogram.sample_count);
        default: return m.gauge.value;
      }
    }
  }
  return -1;
}

class AssuranceMetricsTest : public ::testing::Test {
 protected:
  AssuranceMetricsTest() : metrics_(registry_) {
    shop_.id = "shop";
    shop_.ci_class = cmdb::CiClass::kService;
    mail_.id = "mail";
    mail_.ci_class = cmdb::CiClass::kService;
  }

  double value(const std::string& name, const Labels& labels) { return sample(registry_.Collect(), name, labels); }
  std::vector<cmdb::ServiceHealth> health(cmdb::Health shop, cmdb::Health mail) {
    return {{&shop_, shop}, {&mail_, mail}};
  }

  // Opens an incident on `host` affecting `services`, first seen at `at`; returns its id.
  incidents::IncidentId open(const std::string& host, std::vector<std::string> services, TimePoint at,
                             Severity severity = Severity::kCritical) {
    Event e;
    e.source = "test";
    e.host = host;
    e.ci = host;
    e.state = EventState::kProblem;
    e.severity = severity;
    e.received_at = at;
    incidents::OpenContext context;
    context.services = std::move(services);
    engine_.apply(e, {rules::Action::kOpen, host + "/link", "Link down", "link"}, &context);
    commit();
    return changes_.incidents.back().id;
  }
  void command(IncidentCommand::Verb verb, incidents::IncidentId id, TimePoint at) {
    IncidentCommand cmd;
    cmd.verb = verb;
    cmd.id = id;
    // A resolved incident lives in the store only: pass it back in, as the pipeline does.
    std::optional<incidents::Incident> stored;
    if (!engine_.isActive(id)) stored = committed_.at(id);
    ASSERT_TRUE(engine_.command(cmd, at, std::move(stored)).has_value());
    commit();
  }
  void commit() {
    engine_.takeChanges(changes_);
    for (const auto& in : changes_.incidents) committed_[in.id] = in;
    metrics_.committed(changes_);
    metrics_.recount(engine_);
  }

  prometheus::Registry registry_;
  AssuranceMetrics metrics_;
  cmdb::ConfigurationItem shop_;
  cmdb::ConfigurationItem mail_;
  IncidentEngine engine_;
  ChangeSet changes_;
  std::map<incidents::IncidentId, incidents::Incident> committed_;
  const AssuranceMetrics::SteadyTime t0_ = AssuranceMetrics::SteadyTime(seconds(1000));
};

TEST_F(AssuranceMetricsTest, DownTimeGrowsOnEveryTickWhileTheServiceStaysDown) {
  metrics_.setHealth(health(cmdb::Health::kDown, cmdb::Health::kDegraded), t0_);
  EXPECT_EQ(value("vigil_service_health", {{"service", "shop"}}), 2);
  EXPECT_EQ(value("vigil_service_down_seconds_total", {{"service", "shop"}}), 0);
  metrics_.advance(t0_ + seconds(10));
  metrics_.advance(t0_ + seconds(25));
  EXPECT_EQ(value("vigil_service_down_seconds_total", {{"service", "shop"}}), 25);
  EXPECT_EQ(value("vigil_service_degraded_seconds_total", {{"service", "mail"}}), 25);
  EXPECT_EQ(value("vigil_service_down_seconds_total", {{"service", "mail"}}), 0);
  // Up again: the time until the transition still counts as down, nothing after it.
  metrics_.setHealth(health(cmdb::Health::kUp, cmdb::Health::kUp), t0_ + seconds(30));
  metrics_.advance(t0_ + seconds(90));
  EXPECT_EQ(value("vigil_service_down_seconds_total", {{"service", "shop"}}), 30);
  EXPECT_EQ(value("vigil_service_degraded_seconds_total", {{"service", "mail"}}), 30);
  EXPECT_EQ(value("vigil_service_health", {{"service", "shop"}}), 0);
}

TEST_F(AssuranceMetricsTest, AServiceGoneFromTheCmdbLosesItsSeries) {
  metrics_.setHealth(health(cmdb::Health::kDown, cmdb::Health::kUp), t0_);
  EXPECT_EQ(value("vigil_service_open_incidents", {{"service", "mail"}, {"severity", "critical"}}), 0);
  metrics_.setHealth({{&shop_, cmdb::Health::kDown}}, t0_ + seconds(5));
  EXPECT_EQ(value("vigil_service_health", {{"service", "mail"}}), -1);
  EXPECT_EQ(value("vigil_service_down_seconds_total", {{"service", "mail"}}), -1);
  EXPECT_EQ(value("vigil_service_open_incidents", {{"service", "mail"}, {"severity", "critical"}}), -1);
  EXPECT_EQ(value("vigil_service_down_seconds_total", {{"service", "shop"}}), 5);
}

TEST_F(AssuranceMetricsTest, AcknowledgeAndResolveTimesAreObservedForEachService) {
  metrics_.setHealth(health(cmdb::Health::kUp, cmdb::Health::kUp), t0_);
  const TimePoint first_seen = Clock::now() - seconds(600);
  const auto id = open("web-1", {"shop", "mail"}, first_seen);
  EXPECT_EQ(value("vigil_incidents_total", {{"change", "opened"}, {"severity", "critical"}, {"priority", "P1"}}), 1);
  EXPECT_EQ(value("vigil_service_open_incidents", {{"service", "shop"}, {"severity", "critical"}}), 1);
  EXPECT_EQ(value("vigil_service_open_incidents", {{"service", "mail"}, {"severity", "critical"}}), 1);
  EXPECT_EQ(value("vigil_incidents_open", {{"state", "open"}}), 1);

  command(IncidentCommand::Verb::kAcknowledge, id, first_seen + seconds(45));
  EXPECT_EQ(value("vigil_incidents_open", {{"state", "open"}}), 0);
  EXPECT_EQ(value("vigil_incidents_open", {{"state", "acknowledged"}}), 1);
  for (const char* service : {"shop", "mail"}) {
    EXPECT_EQ(value("vigil_service_time_to_acknowledge_seconds", {{"service", service}, {"priority", "P1"}}), 1);
  }
  const auto families = registry_.Collect();
  for (const auto& f : families) {
    if (f.name != "vigil_service_time_to_acknowledge_seconds") continue;
    EXPECT_EQ(f.metric[0].histogram.sample_sum, 45);
    EXPECT_EQ(f.metric[0].histogram.bucket[1].cumulative_count, 0u);  // le=30
    EXPECT_EQ(f.metric[0].histogram.bucket[2].cumulative_count, 1u);  // le=60
  }

  command(IncidentCommand::Verb::kResolve, id, first_seen + seconds(300));
  EXPECT_EQ(value("vigil_service_time_to_resolve_seconds", {{"service", "shop"}, {"priority", "P1"}}), 1);
  EXPECT_EQ(value("vigil_service_time_to_resolve_seconds", {{"service", "mail"}, {"priority", "P1"}}), 1);
  EXPECT_EQ(value("vigil_service_open_incidents", {{"service", "shop"}, {"severity", "critical"}}), 0);
  EXPECT_EQ(value("vigil_incidents_open", {{"state", "acknowledged"}}), 0);
  EXPECT_EQ(value("vigil_incidents_total", {{"change", "resolved"}, {"severity", "critical"}, {"priority", "P1"}}), 1);
  command(IncidentCommand::Verb::kClose, id, first_seen + seconds(400));
  EXPECT_EQ(value("vigil_incidents_total", {{"change", "closed"}, {"severity", "critical"}, {"priority", "P1"}}), 1);
}

TEST_F(AssuranceMetricsTest, AnIncidentOnNoServiceIsObservedUnderNone) {
  const auto id = open("lonely", {}, Clock::now(), Severity::kWarning);
  command(IncidentCommand::Verb::kResolve, id, Clock::now());
  EXPECT_EQ(value("vigil_service_time_to_resolve_seconds", {{"service", "none"}, {"priority", "P4"}}), 1);
  EXPECT_EQ(value("vigil_incidents_total", {{"change", "opened"}, {"severity", "warning"}, {"priority", "P4"}}), 1);
}

TEST_F(AssuranceMetricsTest, CountsSymptomsAttachedToAParent) {
  const auto parent = open("switch", {"shop"}, Clock::now());
  Event e;
  e.source = "test";
  e.host = e.ci = "server";
  e.state = EventState::kProblem;
  e.severity = Severity::kMajor;
  e.received_at = Clock::now();
  incidents::OpenContext context;
  context.parent = parent;
  engine_.apply(e, {rules::Action::kOpen, "server/link", "Link down", "link"}, &context);
  commit();
  EXPECT_EQ(value("vigil_incident_symptoms_attached_total", {}), 1);
}

TEST(ProcStat, ParsesAfterACommandNameWithSpacesAndParentheses) {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  // cutime cstime priority nice threads itrealvalue starttime vsize rss ...
  const std::string line =
      "4242 (vigil (d) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 150 0 0 20 0 6 0 5000 104857600 2048 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
  ProcStat stat;
  ASSERT_TRUE(parseProcStat(line, 1'700'000'000, 100, 4096, stat));
  EXPECT_DOUBLE_EQ(stat.cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(stat.start_time_seconds, 1'700'000'050);
  EXPECT_DOUBLE_EQ(stat.virtual_bytes, 104857600);
  EXPECT_DOUBLE_EQ(stat.resident_bytes, 2048.0 * 4096);
  EXPECT_FALSE(parseProcStat("garbage", 0, 100, 4096, stat));
  EXPECT_FALSE(parseProcStat("1 (x) S 1 2", 0, 100, 4096, stat));
}

TEST(ProcessCollector, ReadsThisProcess) {
  const auto families = makeProcessCollector()->Collect();
  EXPECT_GT(sample(families, "process_resident_memory_bytes", {}), 1e6);
  EXPECT_GT(sample(families, "process_virtual_memory_bytes", {}), 1e6);
  EXPECT_GE(sample(families, "process_cpu_seconds_total", {}), 0);
  EXPECT_GE(sample(families, "process_open_fds", {}), 3);  // stdin, stdout, stderr at least
  EXPECT_GT(sample(families, "process_max_fds", {}), 0);
  const double start = sample(families, "process_start_time_seconds", {});
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 24 * 3600);  // a test binary started less than a day ago
}

TEST(StoreCollector, ReportsEveryColumnFamilyOfARealStore) {
  vigil::testing::TempDir dir;
  auto store = store::Store::open({.path = dir.file("db")});
  ASSERT_TRUE(store) << store.error().toString();
  const auto families = makeStoreCollector(**store)->Collect();
  for (const char* cf : {"default", "incidents", "keys", "correlation", "positions", "changes"}) {
    EXPECT_GE(sample(families, "vigil_store_live_sst_bytes", {{"cf", cf}}), 0) << cf;
    EXPECT_GT(sample(families, "vigil_store_memtable_bytes", {{"cf", cf}}), 0) << cf;  // an empty memtable has an arena
    EXPECT_GE(sample(families, "vigil_store_compactions_total", {{"cf", cf}}), 0) << cf;
  }
  EXPECT_EQ(sample(families, "vigil_store_write_stopped", {}), 0);
  EXPECT_EQ(sample(families, "vigil_store_delayed_write_rate_bytes", {}), 0);
}

TEST(MetricsRegistry, RendersBuildInfoAndTheProcessCollector) {
  MetricsRegistry registry;
  const std::string text = registry.render();
  EXPECT_NE(text.find("vigil_build_info{compiler=\""), std::string::npos) << text;
  EXPECT_NE(text.find("revision=\""), std::string::npos) << text;
  EXPECT_NE(text.find("\nprocess_open_fds "), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"), std::string::npos) << text;
}

}  // namespace
}  // namespace vigil::metrics
