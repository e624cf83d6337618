#include "daemon/daemon.h"

#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "connectors/kafka/cmdb_topic.h"
#include "connectors/kafka/kafka_config.h"
#include "connectors/kafka/kafka_output.h"
#include "connectors/kafka/kafka_source.h"
#include "connectors/kafka/read_model.h"
#include "connectors/kafka/ingest_forwarder.h"
#include "connectors/kafka/scaleout_config.h"
#include "connectors/kafka/scaleout_core.h"
#include "connectors/kafka/standby_replicas.h"
#include "connectors/replay/replay_source.h"
#include "connectors/syslog/syslog_config.h"
#include "connectors/syslog/syslog_source.h"
#include "daemon/api/http_api.h"
#include "daemon/api/peer_forwarder.h"
#include "daemon/cmdb/cmdb_feeds.h"
#include "daemon/cmdb/cmdb_loader.h"
#include "daemon/correlator_setup.h"
#include "daemon/maintenance/maintenance.h"
#include "daemon/metrics/collectors.h"
#include "daemon/rules_runtime/shadow_rules.h"
#include "daemon/metrics/metrics.h"
#include "daemon/outbound/dead_letters_api.h"
#include "daemon/outbound/webhooks.h"
#include "daemon/pipeline.h"
#include "daemon/reload.h"
#include "daemon/store/backup.h"
#include "daemon/sla/sla_clocks.h"
#include "daemon/yaml_util.h"
#include "daemon/store/store.h"
#include "daemon/verdicts/verdict_log.h"

namespace vigil {

namespace {

Result<std::shared_ptr<const rules::RuleSet>> loadRules(const config::DaemonConfig& config) {
  return rules::RuleSet::loadFiles(config.rule_files, config.base_dir);
}

Result<sla::SlaPolicy> loadSlaPolicy(const config::DaemonConfig& config) {
  return sla::parseSlaPolicy(config.sla.value_or(YAML::Node()), config.escalation.value_or(YAML::Node()), config.path);
}

Result<std::shared_ptr<const cmdb::CiSnapshot>> loadCmdb(const config::DaemonConfig& config) {
  if (config.cmdb_files.empty()) return cmdb::CiSnapshot::empty();
  return cmdb::loadCmdbFiles(config.cmdb_files, config.base_dir);
}

Result<std::vector<maintenance::WindowPtr>> loadMaintenance(const config::DaemonConfig& config) {
  if (config.maintenance_files.empty()) return std::vector<maintenance::WindowPtr>{};
  return maintenance::loadWindowFiles(config.maintenance_files, config.base_dir);
}

// The io threads that run syslog and HTTP; stopped last so commit callbacks can still answer.
class IoThreads {
 public:
  explicit IoThreads(size_t count) : guard_(asio::make_work_guard(io_)) {
    for (size_t i = 0; i < count; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~IoThreads() { stop(); }
  void stop() {
    guard_.reset();
    io_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  asio::io_context& io() { return io_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

// Signals are blocked in every thread and taken synchronously here, so no handler runs on an
// arbitrary thread in the middle of something.
sigset_t blockDaemonSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

Result<CheckedConfig> loadAndCheck(const std::string& config_path, bool allow_stored_cmdb) {
  using CmdbPtr = std::shared_ptr<const cmdb::CiSnapshot>;
  auto config = config::loadDaemonConfig(config_path);
  if (!config) return fail(config.error());
  std::string errors;
  auto rules = loadRules(*config);
  if (!rules) errors += rules.error().message();
  std::shared_ptr<const rules::RuleSet> shadow_rules;
  if (!config->shadow_rule_files.empty()) {
    auto shadow = rules::RuleSet::loadFiles(config->shadow_rule_files, config->base_dir);
    if (shadow) {
      shadow_rules = std::move(*shadow);
    } else {
      errors += (errors.empty() ? "" : "\n") + shadow.error().message();
    }
  }
  auto cmdb = loadCmdb(*config);
  std::string cmdb_error;
  if (!cmdb && allow_stored_cmdb) {
    cmdb_error = cmdb.error().message();
    cmdb = Result<CmdbPtr>(CmdbPtr());
  }
  if (!cmdb) errors += (errors.empty() ? "" : "\n") + cmdb.error().message();
  auto windows = loadMaintenance(*config);
  if (!windows) errors += (errors.empty() ? "" : "\n") + windows.error().message();
  if (config->syslog) {
    auto syslog = connectors::syslog::parseSyslogConfig(*config->syslog, config_path);
    if (!syslog) errors += (errors.empty() ? "" : "\n") + syslog.error().message();
  }
  if (config->kafka) {
    auto kafka = connectors::kafka::parseKafkaConfig(*config->kafka, config_path);
    if (!kafka) errors += (errors.empty() ? "" : "\n") + kafka.error().message();
  }
  if (auto scaleout = connectors::kafka::parseScaleoutConfig(config->scaleout.value_or(YAML::Node()),
                                                            config->kafka.value_or(YAML::Node()), config_path);
      !scaleout) {
    errors += (errors.empty() ? "" : "\n") + scaleout.error().message();
  }
  auto hooks = outbound::parseWebhooks(config->webhooks.value_or(YAML::Node()), config_path);
  if (!hooks) errors += (errors.empty() ? "" : "\n") + hooks.error().message();
  auto sla = loadSlaPolicy(*config);
  if (!sla) errors += (errors.empty() ? "" : "\n") + sla.error().message();
  if (!errors.empty()) return fail(Status::invalidArgument(errors));
  return CheckedConfig{std::move(*config),  std::move(*rules),       std::move(*cmdb), std::move(cmdb_error),
                      std::move(*windows), std::move(shadow_rules), std::move(*sla),  std::move(*hooks)};
}

int runReplay(CheckedConfig checked, const std::string& file) {
  const auto& config = checked.config;
  auto store = store::Store::open(config.store);
  if (!store) {
    spdlog::critical("{}", store.error().toString());
    return 1;
  }
  metrics::MetricsRegistry registry;
  metrics::PipelineMetrics pipeline_metrics(registry.registry());
  auto correlator = Correlator::build({.options = config.pipeline,
                                       .rules = checked.rules,
                                       .cmdb = checked.cmdb,
                                       .store = **store,
                                       .metrics = pipeline_metrics,
                                       .registry = registry.registry(),
                                       .allowed_lateness = config.rules_allowed_lateness,
                                       .wall_clock = false,
                                       .verdicts = config.verdicts,
                                       .maintenance_windows = std::move(checked.maintenance_windows)});
  Pipeline& pipeline = correlator->pipeline();
  if (Status s = pipeline.start(); !s.isOk()) {
    spdlog::critical("pipeline: {}", s.toString());
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  auto stats = connectors::replayFile(file, pipeline);
  pipeline.stop();
  if (!stats) {
    spdlog::critical("replay: {}", stats.error().toString());
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "replayed " << stats->events << " events from " << stats->lines << " lines in " << seconds
            << " s (" << static_cast<uint64_t>(stats->events / std::max(seconds, 1e-9)) << " events/s); "
            << stats->committed << " committed, " << stats->failed << " failed, " << stats->bad_lines
            << " bad lines" << std::endl;  // flushed now, before the teardown (benchmarks/scaling reads it)
  // The pipeline has stopped, so nothing touches the correlator again. Its state is left to the
  // kernel, which takes the memory back at exit at once: freeing a 1 M-event replay's incidents
  // one by one took 50–60 ms, 3 % of the run (docs/performance.md, session 16). Reachable from
  // this static, so LeakSanitizer does not report it; volatile, or the compiler drops the unread
  // static and its pointer with it. The store still closes when `store` goes.
  [[maybe_unused]] static Correlator* volatile left_to_exit = correlator.release();
  return stats->failed == 0 ? 0 : 1;
}

int runDaemon(CheckedConfig checked) {
  const auto& config = checked.config;
  const sigset_t signals = blockDaemonSignals();

  auto store = store::Store::open(config.store);
  if (!store) {
    spdlog::critical("{}", store.error().toString());
    return 1;
  }
  spdlog::info("store: opened {} (schema version {})", config.store.path, (*store)->schemaVersion());

  metrics::MetricsRegistry registry;
  registry.addCollectable(metrics::makeStoreCollector(**store));
  metrics::PipelineMetrics pipeline_metrics(registry.registry());
  std::unique_ptr<connectors::kafka::KafkaOutput> kafka_output;  // declared first: outlives the pipeline
  if (config.kafka) {
    auto output = connectors::kafka::makeKafkaOutput(*config.kafka, config.path, **store, registry.registry());
    if (!output) {
      spdlog::critical("{}", output.error().message());
      return 1;
    }
    kafka_output = std::move(*output);
  }
  // Declared first: outlives the pipeline.
  outbound::Webhooks webhooks(std::move(checked.webhooks), **store, registry.registry());
  IoThreads io(2);
  PipelineOptions pipeline_options = config.pipeline;
  uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0) {
    // Ping at twice the rate systemd expects, from the correlator itself.
    pipeline_options.heartbeat = [interval = std::chrono::microseconds(watchdog_usec / 2),
                                  last = std::chrono::steady_clock::time_point{}]() mutable {
      const auto now = std::chrono::steady_clock::now();
      if (now - last < interval) return;
      last = now;
      sd_notify(0, "WATCHDOG=1");
    };
    spdlog::info("systemd watchdog: {} ms", watchdog_usec / 1000);
  }
  // Scale-out; declared first: the pipeline calls into them until it is destroyed.
  std::unique_ptr<connectors::kafka::IngestForwarder> forwarder;
  std::unique_ptr<connectors::kafka::ScaleoutCore> core;
  std::unique_ptr<connectors::kafka::ReadModel> read_model;
  std::unique_ptr<connectors::kafka::StandbyReplicas> standby;  // reads read_model: declared after it
  std::unique_ptr<api::PeerForwarder> peer_forwarder;
  auto correlator = Correlator::build({.options = pipeline_options,
                                       .rules = checked.rules,
                                       .cmdb = nullptr,  // set by cmdb_feeds below
                                       .store = **store,
                                       .metrics = pipeline_metrics,
                                       .registry = registry.registry(),
                                       .allowed_lateness = config.rules_allowed_lateness,
                                       .wall_clock = true,
                                       .verdicts = config.verdicts,
                                       .maintenance_windows = std::move(checked.maintenance_windows),
                                       .sla = std::move(checked.sla)});
  Pipeline& pipeline = correlator->pipeline();
  auto& maintenance = correlator->maintenance();
  // Scale-out (docs/scale-out.md): an edge forwards its intake to the ingest topic; a core owns
  // the state of its ingest partitions and keeps it in the changelog.
  auto scaleout = *connectors::kafka::parseScaleoutConfig(config.scaleout.value_or(YAML::Node()),
                                                          config.kafka.value_or(YAML::Node()), config.path);
  if (scaleout.read_side.advertised_url.empty() && config.http.port != 0) {
    scaleout.read_side.advertised_url =
        connectors::kafka::advertisedUrlFor(config.http.host, config.http.port, config.http.tls.has_value());
  }
  if (scaleout.role != connectors::kafka::Role::kStandalone) {
    auto kafka_config = *connectors::kafka::parseKafkaConfig(*config.kafka, config.path);
    if (scaleout.role == connectors::kafka::Role::kEdge) {
      forwarder = std::make_unique<connectors::kafka::IngestForwarder>(
          kafka_config, scaleout, [&pipeline] { return pipeline.cmdb(); }, registry.registry());
      if (Status s = forwarder->start(); !s.isOk()) {
        spdlog::critical("scale-out edge: {}", s.toString());
        return 1;
      }
      pipeline.setIntake(forwarder.get());
    } else {
      core = std::make_unique<connectors::kafka::ScaleoutCore>(kafka_config, scaleout, **store, pipeline,
                                                               registry.registry());
      if (Status s = core->start(); !s.isOk()) {
        spdlog::critical("scale-out core: {}", s.toString());
        return 1;
      }
      // The read side: this core's API answers for every partition (docs/scale-out.md).
      if (scaleout.read_side.advertised_url.empty()) {
        spdlog::warn("scale-out core: http listens on port 0 and scaleout.advertised_url is not set: the API "
                     "answers for this core's partitions only{}",
                     scaleout.standby_replicas > 0 ? ", and standby_replicas is off (a core is known by its URL)" : "");
      } else {
        read_model = std::make_unique<connectors::kafka::ReadModel>(kafka_config, scaleout, registry.registry());
        peer_forwarder = std::make_unique<api::PeerForwarder>(scaleout.read_side.forward_timeout, registry.registry());
        if (scaleout.standby_replicas > 0) {  // warm copies of other cores' partitions
          standby = std::make_unique<connectors::kafka::StandbyReplicas>(kafka_config, scaleout, **store, *read_model,
                                                                         registry.registry());
          if (Status s = standby->start(); !s.isOk()) {
            spdlog::critical("scale-out standby: {}", s.toString());
            return 1;
          }
          core->setStandby(standby.get());
        }
      }
      // Notifications follow the partitions: see docs/scale-out.md, "Notifications".
      webhooks.setPartitioned([&core = *core] { return core.durableChangeSeq(); });
      pipeline.addComponent(&webhooks);
    }
  }
  if (checked.shadow_rules) correlator->shadow().setCandidate(checked.shadow_rules, "config");
  // The files' CIs (or, when they fail, the stored ones) merged with the CMDB topic's.
  cmdb::CmdbFeeds cmdb_feeds(**store, [&pipeline](auto snapshot) { pipeline.setCmdb(std::move(snapshot)); });
  if (Status s = cmdb_feeds.start(checked.cmdb, checked.cmdb_error); !s.isOk()) {
    spdlog::critical("cmdb: {}", s.message());
    return 1;
  }
  std::unique_ptr<connectors::kafka::CmdbTopicConsumer> cmdb_topic;
  if (config.kafka) {
    auto consumer = connectors::kafka::makeCmdbTopicConsumer(*config.kafka, config.path, cmdb_feeds, registry.registry());
    if (!consumer) {
      spdlog::critical("{}", consumer.error().message());
      return 1;
    }
    cmdb_topic = std::move(*consumer);
    if (cmdb_topic) {
      if (Status s = cmdb_topic->start(); !s.isOk()) {
        spdlog::critical("kafka cmdb topic: {}", s.toString());
        return 1;
      }
    }
  }
  api::HttpApi http(config.http, io.io(), pipeline, **store, registry);
  http.setMaintenance(&maintenance, &correlator->verdicts());
  http.setShadowRules(&correlator->shadow());
  if (read_model) {
    http.setReadSide(read_model.get(), peer_forwarder.get());
    if (Status s = read_model->start(); !s.isOk()) {
      spdlog::critical("scale-out read side: {}", s.toString());
      return 1;
    }
  }
  pipeline.addListener(&http.streamListener());
  ConfigReloader reloader(config, pipeline, &http, registry.registry(),
                          [&cmdb_feeds](auto snapshot) { return cmdb_feeds.reloadFiles(std::move(snapshot)); });
  reloader.addApplier([&maintenance](CheckedConfig& loaded) {
    maintenance.setConfigWindows(std::move(loaded.maintenance_windows));
  });
  // SLA and escalation apply from the correlator's next tick; webhook receivers restart as changed.
  reloader.addApplier([&correlator, &webhooks](CheckedConfig& loaded) {
    if (auto* clocks = correlator->sla()) clocks->setPolicy(std::move(loaded.sla));
    if (Status s = webhooks.setReceivers(std::move(loaded.webhooks)); !s.isOk()) {
      spdlog::error("reload: webhooks: {}", s.toString());
    }
  });
  http.addAction(api::HttpApi::Method::kGet, "/api/v1/webhooks/dead-letters", api::Role::kOperator,
                 [&webhooks](const nlohmann::json& query, const std::string&) {
                   return outbound::listDeadLettersAction(webhooks, query);
                 });
  http.addAction(api::HttpApi::Method::kPost, "/api/v1/webhooks/dead-letters/retry", api::Role::kOperator,
                 [&webhooks](const nlohmann::json& body, const std::string& actor) {
                   return outbound::retryDeadLettersAction(webhooks, body, actor);
                 });
  http.addAdminAction("/api/v1/reload", [&reloader](const nlohmann::json&) {
    const ReloadOutcome outcome = reloader.reload();
    return std::pair{outcome.ok ? 200 : 422, outcome.toJson()};
  });
  http.addAdminAction("/api/v1/admin/backup", [&store = **store](const nlohmann::json& body) {
    return store::backupAction(store, body);
  });
  if (kafka_output) {
    pipeline.addListener(kafka_output.get());
    if (Status s = kafka_output->start(); !s.isOk()) {
      spdlog::critical("kafka output: {}", s.toString());
      return 1;
    }
  }
  pipeline.addListener(&webhooks);  // even with none configured: a reload may add receivers
  if (Status s = webhooks.start(); !s.isOk()) {
    spdlog::critical("webhooks: {}", s.toString());
    return 1;
  }
  if (Status s = pipeline.start(); !s.isOk()) {
    spdlog::critical("pipeline: {}", s.toString());
    return 1;
  }
  spdlog::info("rules: {} loaded (version {})", checked.rules->size(), checked.rules->version());
  if (core) {
    if (Status s = core->forgetUntilAssigned(); !s.isOk()) {
      spdlog::critical("scale-out core: {}", s.toString());
      return 1;
    }
  }

  connectors::SourceContext context{io.io(), registry.registry()};
  std::vector<connectors::SourcePtr> sources;
  if (config.syslog) {
    auto syslog = connectors::syslog::makeSyslogSource(*config.syslog, config.path, context);
    if (!syslog) {
      spdlog::critical("{}", syslog.error().message());
      return 1;
    }
    sources.push_back(std::move(*syslog));
  }
  if (config.kafka && !forwarder) {  // an edge consumes no events from Kafka
    auto kafka = connectors::kafka::makeKafkaSource(*config.kafka, config.path, **store, context);
    if (!kafka) {
      spdlog::critical("{}", kafka.error().message());
      return 1;
    }
    if (core) (*kafka)->setHandoff(core.get());
    sources.push_back(std::move(*kafka));
  }
  for (auto& source : sources) {
    if (Status s = source->start(pipeline); !s.isOk()) {
      spdlog::critical("{}: {}", source->name(), s.toString());
      return 1;
    }
  }

  if (Status s = http.start(); !s.isOk()) {
    spdlog::critical("http: {}", s.toString());
    return 1;
  }
  const std::string url = http.endpoint();
  spdlog::info("http: board {}/  api {}/api/v1/incidents  metrics {}/metrics", url, url, url);
  http.setReady(true, [&sources] {
    std::vector<std::string> waiting;
    for (const auto& source : sources) {
      if (!source->ready()) waiting.emplace_back(source->name());
    }
    return waiting;
  });
  sd_notify(0, "READY=1");

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      reloader.reload();
      continue;
    }
    spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }

  sd_notify(0, "STOPPING=1");
  http.setReady(false);
  if (core) core->beginShutdown();
  for (auto& source : sources) source->stop();
  if (cmdb_topic) cmdb_topic->stop();
  pipeline.stop();  // drains the queue and commits; callbacks still answer through the io threads
  if (core) core->stop();  // after the last commit: its changelog records are sent
  if (standby) standby->stop();  // writes what its copies have applied, for a restart
  if (read_model) read_model->stop();
  if (forwarder) forwarder->stop();  // after the sources: what they offered is delivered
  if (kafka_output) kafka_output->stop();  // sends what the pipeline committed last
  webhooks.stop();  // what is not delivered yet waits in the outbox for the next start
  http.stop();
  io.stop();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace vigil
