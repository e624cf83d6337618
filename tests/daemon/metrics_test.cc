// The service-assurance metrics driven through the real incident engine with a virtual clock,
// and the scrape-time collectors over /proc and a real RocksDB store.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

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
    return changes_.incidents.back()->id;
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
    for (const auto& in : changes_.incidents) committed_[in->id] = *in;
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

// recount(engine, changes) keeps the gauges of active incidents in step batch by batch; after any
// sequence of opens, updates, acknowledgements, resolutions, reopenings, severity and service
// changes, partitions dropped and restored, and services listed and unlisted, they read as a
// full recount of the engine reads.
TEST(AssuranceRecount, InStepBatchByBatchEqualsAFullRecount) {
  prometheus::Registry stepped_registry;
  prometheus::Registry full_registry;
  AssuranceMetrics stepped(stepped_registry);
  AssuranceMetrics full(full_registry);
  cmdb::ConfigurationItem shop, mail, db;
  shop.id = "shop";
  mail.id = "mail";
  db.id = "db";
  for (auto* s : {&shop, &mail, &db}) s->ci_class = cmdb::CiClass::kService;
  const std::vector<std::vector<std::string>> service_sets = {
      {}, {"shop"}, {"mail", "shop"}, {"db"}, {"unlisted"}, {"shop", "shop"}, {"db", "unlisted", "mail"}};
  std::mt19937 random(7);
  auto pick = [&](size_t n) { return static_cast<size_t>(random() % n); };

  IncidentEngine engine;
  ChangeSet changes;
  std::map<incidents::IncidentId, incidents::Incident> committed;
  const AssuranceMetrics::SteadyTime t0(seconds(1000));
  auto list = [&](std::vector<cmdb::ServiceHealth> services) {
    stepped.setHealth(services, t0);
    full.setHealth(services, t0);
  };
  auto gauges = [](prometheus::Registry& registry) {
    auto families = registry.Collect();
    std::erase_if(families, [](const prometheus::MetricFamily& f) {
      return f.name != "vigil_service_open_incidents" && f.name != "vigil_incidents_open";
    });
    return prometheus::TextSerializer().Serialize(families);
  };
  bool partition1_here = true;
  auto someId = [&]() -> std::optional<incidents::IncidentId> {
    if (committed.empty()) return std::nullopt;
    auto it = committed.begin();
    std::advance(it, pick(committed.size()));
    if (!partition1_here && incidents::partitionOf(it->first) == 1) return std::nullopt;  // not ours now
    return it->first;
  };

  list({{&shop, cmdb::Health::kUp}, {&mail, cmdb::Health::kUp}});
  double most_shop_critical = 0;
  double most_acknowledged = 0;
  for (int round = 0; round < 400; ++round) {
    for (size_t step = 0, steps = 1 + pick(6); step < steps; ++step) {
      const size_t what = pick(100);
      if (what < 45) {  // an event: opens, or updates the incident under its key (maybe worse)
        Event e;
        e.source = "test";
        e.partition = static_cast<uint16_t>(partition1_here ? pick(2) : 0);
        e.host = e.ci = "host-" + std::to_string(pick(30));
        e.state = EventState::kProblem;
        e.severity = static_cast<Severity>(pick(5));
        e.received_at = Clock::now();
        incidents::OpenContext context;
        context.services = service_sets[pick(service_sets.size())];
        engine.apply(e, {rules::Action::kOpen, e.host + "/link", "Link down", "link"}, &context);
      } else if (what < 60) {  // a clear
        Event e;
        e.source = "test";
        e.partition = static_cast<uint16_t>(partition1_here ? pick(2) : 0);
        e.host = e.ci = "host-" + std::to_string(pick(30));
        e.state = EventState::kOk;
        e.received_at = Clock::now();
        engine.apply(e, {rules::Action::kResolve, e.host + "/link", "Link down", "link"});
      } else if (what < 90) {  // a person's command
        const auto id = someId();
        if (!id) continue;
        IncidentCommand cmd;
        cmd.verb = std::array{IncidentCommand::Verb::kAcknowledge, IncidentCommand::Verb::kResolve,
                              IncidentCommand::Verb::kReopen, IncidentCommand::Verb::kSetSeverity,
                              IncidentCommand::Verb::kClose}[pick(5)];
        cmd.id = *id;
        cmd.severity = static_cast<Severity>(pick(5));
        std::optional<incidents::Incident> stored;
        if (!engine.isActive(*id)) stored = committed.at(*id);
        (void)engine.command(cmd, Clock::now(), std::move(stored));  // refused transitions are fine
      } else if (what < 96) {  // a component changes an incident's services
        if (const auto id = someId()) {
          engine.update(*id, [&](incidents::Incident& in) { in.services = service_sets[pick(service_sets.size())]; });
        }
      } else if (what < 98) {  // partition 1 moves away, or comes back as the store holds it
        engine.takeChanges(changes);  // what the batch so far did is committed first
        for (const auto& in : changes.incidents) committed[in->id] = *in;
        stepped.recount(engine, changes);
        full.recount(engine);
        if (partition1_here) {
          engine.dropPartition(1);
        } else {
          uint64_t next = 1;
          for (const auto& [id, in] : committed) {
            if (in.partition() != 1) continue;
            next = std::max(next, (id & ((uint64_t{1} << incidents::kPartitionShift) - 1)) + 1);
            if (in.isActive()) engine.restore(in);
          }
          engine.setNextSequence(1, next);
        }
        partition1_here = !partition1_here;
      } else {  // the CMDB lists other services
        std::vector<cmdb::ServiceHealth> services;
        for (auto* s : {&shop, &mail, &db}) {
          if (pick(2) == 0) services.push_back({s, cmdb::Health::kUp});
        }
        list(services);
      }
    }
    engine.takeChanges(changes);
    for (const auto& in : changes.incidents) committed[in->id] = *in;
    stepped.recount(engine, changes);
    full.recount(engine);
    ASSERT_EQ(gauges(stepped_registry), gauges(full_registry)) << "round " << round;
    const auto families = full_registry.Collect();
    most_shop_critical = std::max(most_shop_critical,
                                  sample(families, "vigil_service_open_incidents", {{"service", "shop"}, {"severity", "critical"}}));
    most_acknowledged = std::max(most_acknowledged, sample(families, "vigil_incidents_open", {{"state", "acknowledged"}}));
  }
  // The sequence reached the states the comparison is about.
  EXPECT_GT(most_shop_critical, 1);
  EXPECT_GT(most_acknowledged, 1);
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

TEST(StoreCollector, ReportsTheWalSyncsOfCommitsAsAHistogram) {
  vigil::testing::TempDir dir;
  auto store = store::Store::open({.path = dir.file("db"), .sync = true});
  ASSERT_TRUE(store) << store.error().toString();
  ASSERT_TRUE((*store)->write({store::StateOp::put(store::Column::kCorrelation, 0, "k", "v")}).isOk());
  const auto families = makeStoreCollector(**store)->Collect();
  auto wal = std::find_if(families.begin(), families.end(),
                          [](const auto& f) { return f.name == "vigil_store_wal_sync_duration_seconds"; });
  ASSERT_NE(wal, families.end());
  ASSERT_EQ(wal->type, prometheus::MetricType::Histogram);
  ASSERT_EQ(wal->metric.size(), 1u);
  const auto& h = wal->metric[0].histogram;
  EXPECT_GE(h.sample_count, 1u);  // the synced write
  ASSERT_FALSE(h.bucket.empty());
  EXPECT_EQ(h.bucket.back().cumulative_count, h.sample_count);
  EXPECT_TRUE(std::isinf(h.bucket.back().upper_bound));
  for (size_t i = 1; i < h.bucket.size(); ++i) EXPECT_GE(h.bucket[i].cumulative_count, h.bucket[i - 1].cumulative_count);
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
