// The wiring of vigild: loads and checks everything a config names, then builds, starts and stops
// the components in order (store → pipeline → io threads → sources → HTTP) and back.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/config/daemon_config.h"
#include "daemon/status.h"
#include "daemon/cmdb/ci_index.h"
#include "rules/rule_set.h"

namespace vigil {

// Everything --check-config validates: the config file, its rules and its connector sections.
struct CheckedConfig {
  config::DaemonConfig config;
  std::shared_ptr<const rules::RuleSet> rules;
  std::shared_ptr<const cmdb::CiSnapshot> cmdb;
  std::shared_ptr<const rules::RuleSet> shadow_rules;  // rules.shadow.files; null when none
};
Result<CheckedConfig> loadAndCheck(const std::string& config_path);

// Runs the daemon until SIGTERM/SIGINT; SIGHUP reloads the rules. Returns the exit code.
int runDaemon(CheckedConfig checked);

// Runs the pipeline on the config's store over one JSON-lines file, then exits.
int runReplay(CheckedConfig checked, const std::string& file);

}  // namespace vigil
