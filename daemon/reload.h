// ConfigReloader: what SIGHUP and POST /api/v1/reload do. Re-reads the config file, its rules,
// its CMDB and the API tokens to the side and swaps them in together only when every one of
// them is valid: a reload applies all of it or none. Keys that only take effect at start
// (listeners, data_dir, store, pipeline, log, connector sections) are compared with the running
// config and reported as needing a restart. Every outcome is logged and counted:
//   vigil_config_reloads_total{result="success|failure"}
//   vigil_config_last_reload_success_timestamp_seconds
// Thread-safety: reload() may be called from any thread; reloads are serialised.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "daemon/api/http_api.h"
#include "daemon/config/daemon_config.h"
#include "daemon/daemon.h"
#include "daemon/pipeline.h"

namespace vigil {

struct ReloadOutcome {
  bool ok = false;
  std::vector<std::string> errors;         // "file:line:col: message" lines
  std::vector<std::string> needs_restart;  // config keys that changed but apply only at start
  size_t rules = 0;
  std::string rules_version;
  size_t cis = 0;
  size_t tokens = 0;
  // {"result":"success|failure","errors":[…],"needs_restart":[…],"rules":N,…}
  nlohmann::json toJson() const;
};

class ConfigReloader {
 public:
  // Puts a newly loaded CMDB in place (merged with other feeds); an error refuses the reload.
  using ApplyCmdb = std::function<Status(std::shared_ptr<const cmdb::CiSnapshot>)>;

  // `running` is the config vigild started with. `http` may be null (replay mode). Without
  // `apply_cmdb` the loaded CMDB goes to the pipeline as it is.
  ConfigReloader(config::DaemonConfig running, Pipeline& pipeline, api::HttpApi* http,
                 prometheus::Registry& registry, ApplyCmdb apply_cmdb = nullptr);
  ReloadOutcome reload();
  // Called after each successful reload with what was loaded, to swap in further parts (for
  // example the maintenance windows of the config). REQUIRES: before the first reload().
  void addApplier(std::function<void(CheckedConfig&)> apply) { appliers_.push_back(std::move(apply)); }

 private:
  std::mutex mutex_;
  const config::DaemonConfig running_;
  Pipeline& pipeline_;
  api::HttpApi* http_;
  ApplyCmdb apply_cmdb_;
  std::vector<std::function<void(CheckedConfig&)>> appliers_;
  prometheus::Counter& successes_;
  prometheus::Counter& failures_;
  prometheus::Gauge& last_success_;
};

// The config keys whose values differ between `running` and `loaded` among those that only
// take effect at start.
std::vector<std::string> keysNeedingRestart(const config::DaemonConfig& running, const config::DaemonConfig& loaded);

}  // namespace vigil
