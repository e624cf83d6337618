#include "daemon/reload.h"

#include <chrono>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "daemon/cmdb/cmdb_loader.h"
#include "daemon/daemon.h"

namespace vigil {

namespace {

std::string dump(const std::optional<YAML::Node>& node) { return node ? YAML::Dump(*node) : std::string(); }

void splitLines(const std::string& text, std::vector<std::string>& out) {
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty()) out.push_back(std::move(line));
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

}  // namespace

std::vector<std::string> keysNeedingRestart(const config::DaemonConfig& running, const config::DaemonConfig& loaded) {
  std::vector<std::string> keys;
  auto check = [&keys](bool changed, const char* key) {
    if (changed) keys.emplace_back(key);
  };
  check(running.data_dir != loaded.data_dir, "data_dir");
  check(running.http.host != loaded.http.host || running.http.port != loaded.http.port, "http.listen");
  check(running.http.max_body_bytes != loaded.http.max_body_bytes, "http.max_body_size");
  check(running.http.max_connections != loaded.http.max_connections, "http.max_connections");
  check(running.http.read_timeout != loaded.http.read_timeout, "http.read_timeout");
  check(running.log.level != loaded.log.level, "log.level");
  check(running.log.format != loaded.log.format, "log.format");
  check(running.store.sync != loaded.store.sync, "store.sync");
  check(running.store.block_cache_bytes != loaded.store.block_cache_bytes, "store.block_cache");
  check(running.pipeline.queue_capacity_events != loaded.pipeline.queue_capacity_events, "pipeline.queue_capacity");
  check(running.pipeline.queue_capacity_bytes != loaded.pipeline.queue_capacity_bytes, "pipeline.queue_bytes");
  check(running.pipeline.max_batch_events != loaded.pipeline.max_batch_events, "pipeline.max_batch_events");
  check(running.pipeline.symptom_window != loaded.pipeline.symptom_window, "cmdb.symptom_window");
  check(dump(running.syslog) != dump(loaded.syslog), "syslog");
  check(dump(running.kafka) != dump(loaded.kafka), "kafka");
  return keys;
}

nlohmann::json ReloadOutcome::toJson() const {
  return {{"result", ok ? "success" : "failure"},
          {"errors", errors},
          {"needs_restart", needs_restart},
          {"rules", rules},
          {"rules_version", rules_version},
          {"cis", cis},
          {"tokens", tokens}};
}

ConfigReloader::ConfigReloader(config::DaemonConfig running, Pipeline& pipeline, api::HttpApi* http,
                               prometheus::Registry& registry, ApplyCmdb apply_cmdb)
    : running_(std::move(running)),
      pipeline_(pipeline),
      http_(http),
      apply_cmdb_(apply_cmdb ? std::move(apply_cmdb) : [&pipeline](std::shared_ptr<const cmdb::CiSnapshot> cmdb) {
        pipeline.setCmdb(std::move(cmdb));
        return Status::ok();
      }),
      successes_(prometheus::BuildCounter()
                     .Name("vigil_config_reloads_total")
                     .Help("Config reloads (SIGHUP or POST /api/v1/reload) by outcome")
                     .Register(registry)
                     .Add({{"result", "success"}})),
      failures_(prometheus::BuildCounter()
                    .Name("vigil_config_reloads_total")
                    .Help("Config reloads (SIGHUP or POST /api/v1/reload) by outcome")
                    .Register(registry)
                    .Add({{"result", "failure"}})),
      last_success_(prometheus::BuildGauge()
                        .Name("vigil_config_last_reload_success_timestamp_seconds")
                        .Help("Unix time of the last successful config reload (0: none since start)")
                        .Register(registry)
                        .Add({})) {}

ReloadOutcome ConfigReloader::reload() {
  std::lock_guard lock(mutex_);
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t usec = static_cast<uint64_t>(now.tv_sec) * 1000000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", static_cast<unsigned long long>(usec));

  ReloadOutcome outcome;
  auto checked = loadAndCheck(running_.path);  // the config, its rules, CMDB and connector sections
  // The CMDB goes in first: merged with the CMDB topic's CIs it may still be refused.
  Status cmdb_applied = checked ? apply_cmdb_(checked->cmdb) : Status::ok();
  if (!checked || !cmdb_applied.isOk()) {
    const std::string error = checked ? cmdb_applied.message() : checked.error().message();
    splitLines(error, outcome.errors);
    failures_.Increment();
    spdlog::error("reload of {} failed, keeping the running config, rules, CMDB and tokens:\n{}", running_.path,
                  error);
  } else {
    outcome.ok = true;
    outcome.needs_restart = keysNeedingRestart(running_, checked->config);
    outcome.rules = checked->rules->size();
    outcome.rules_version = checked->rules->version();
    outcome.cis = checked->cmdb->size();
    outcome.tokens = checked->config.http.tokens.size();
    pipeline_.setRules(checked->rules);
    for (auto& apply : appliers_) apply(*checked);
    if (http_ != nullptr) http_->setTokens(std::move(checked->config.http.tokens));
    successes_.Increment();
    last_success_.Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    spdlog::info("reload of {} succeeded: {} rules (version {}), {} CIs, {} API tokens", running_.path, outcome.rules,
                 outcome.rules_version, outcome.cis, outcome.tokens);
    for (const auto& key : outcome.needs_restart) {
      spdlog::warn("reload: {} changed; it takes effect only after a restart", key);
    }
  }
  sd_notify(0, "READY=1");
  return outcome;
}

}  // namespace vigil
