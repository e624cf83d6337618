#include "daemon/daemon.h"

#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "connectors/kafka/kafka_config.h"
#include "connectors/kafka/kafka_output.h"
#include "connectors/kafka/kafka_source.h"
#include "connectors/replay/replay_source.h"
#include "connectors/syslog/syslog_config.h"
#include "connectors/syslog/syslog_source.h"
#include "daemon/api/http_api.h"
#include "daemon/cmdb/cmdb_loader.h"
#include "daemon/correlator_setup.h"
#include "daemon/rules_runtime/shadow_rules.h"
#include "daemon/metrics/metrics.h"
#include "daemon/pipeline.h"
#include "daemon/yaml_util.h"
#include "daemon/store/store.h"

namespace vigil {

namespace {

Result<std::shared_ptr<const rules::RuleSet>> loadRules(const config::DaemonConfig& config) {
  return rules::RuleSet::loadFiles(config.rule_files, config.base_dir);
}

Result<std::shared_ptr<const cmdb::CiSnapshot>> loadCmdb(const config::DaemonConfig& config) {
  if (config.cmdb_files.empty()) return cmdb::CiSnapshot::empty();
  return cmdb::loadCmdbFiles(config.cmdb_files, config.base_dir);
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

// SIGHUP: rules and CMDB are loaded to the side; each is swapped in only when it is valid.
void reloadRulesAndCmdb(const config::DaemonConfig& config, Pipeline& pipeline) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t usec = static_cast<uint64_t>(now.tv_sec) * 1000000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", static_cast<unsigned long long>(usec));
  auto rules = loadRules(config);
  if (rules) {
    pipeline.setRules(*rules);
    spdlog::info("reload: {} rules loaded (version {})", (*rules)->size(), (*rules)->version());
  } else {
    spdlog::error("reload: rules rejected, keeping the running set:\n{}", rules.error().message());
  }
  auto cmdb = loadCmdb(config);
  if (cmdb) {
    pipeline.setCmdb(*cmdb);
    spdlog::info("reload: CMDB loaded ({} CIs)", (*cmdb)->size());
  } else {
    spdlog::error("reload: CMDB rejected, keeping the running one:\n{}", cmdb.error().message());
  }
  sd_notify(0, "READY=1");
}

}  // namespace

Result<CheckedConfig> loadAndCheck(const std::string& config_path) {
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
  if (!cmdb) errors += (errors.empty() ? "" : "\n") + cmdb.error().message();
  if (config->syslog) {
    auto syslog = connectors::syslog::parseSyslogConfig(*config->syslog, config_path);
    if (!syslog) errors += (errors.empty() ? "" : "\n") + syslog.error().message();
  }
  if (config->kafka) {
    auto kafka = connectors::kafka::parseKafkaConfig(*config->kafka, config_path);
    if (!kafka) errors += (errors.empty() ? "" : "\n") + kafka.error().message();
  }
  if (!errors.empty()) return fail(Status::invalidArgument(errors));
  return CheckedConfig{std::move(*config), std::move(*rules), std::move(*cmdb), std::move(shadow_rules)};
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
  auto correlator = Correlator::build({config.pipeline, checked.rules, checked.cmdb, **store, pipeline_metrics,
                                       registry.registry()});
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
            << " bad lines\n";
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
  auto correlator = Correlator::build({pipeline_options, checked.rules, checked.cmdb, **store, pipeline_metrics,
                                       registry.registry()});
  Pipeline& pipeline = correlator->pipeline();
  if (checked.shadow_rules) correlator->shadow().setCandidate(checked.shadow_rules, "config");
  api::HttpApi http(config.http, io.io(), pipeline, **store, registry);
  http.setShadowRules(&correlator->shadow());
  pipeline.addListener(&http.streamListener());
  if (kafka_output) {
    pipeline.addListener(kafka_output.get());
    if (Status s = kafka_output->start(); !s.isOk()) {
      spdlog::critical("kafka output: {}", s.toString());
      return 1;
    }
  }
  if (Status s = pipeline.start(); !s.isOk()) {
    spdlog::critical("pipeline: {}", s.toString());
    return 1;
  }
  spdlog::info("rules: {} loaded (version {})", checked.rules->size(), checked.rules->version());

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
  if (config.kafka) {
    auto kafka = connectors::kafka::makeKafkaSource(*config.kafka, config.path, **store, context);
    if (!kafka) {
      spdlog::critical("{}", kafka.error().message());
      return 1;
    }
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
      reloadRulesAndCmdb(config, pipeline);
      continue;
    }
    spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }

  sd_notify(0, "STOPPING=1");
  http.setReady(false);
  for (auto& source : sources) source->stop();
  pipeline.stop();  // drains the queue and commits; callbacks still answer through the io threads
  if (kafka_output) kafka_output->stop();  // sends what the pipeline committed last
  http.stop();
  io.stop();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace vigil
