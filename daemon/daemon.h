// The wiring of vigild: loads and checks everything a config names, then builds, starts and stops
// the components in order (store → pipeline → io threads → sources → HTTP) and back.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/config/daemon_config.h"
#include "daemon/status.h"
#include "daemon/cmdb/ci_index.h"
#include "daemon/maintenance/window.h"
#include "daemon/outbound/webhook_config.h"
#include "daemon/sla/sla_policy.h"
#include "rules/rule_set.h"

namespace vigil {

// Everything --check-config validates: the config file, its rules and its connector sections.
struct CheckedConfig {
  config::DaemonConfig config;
  std::shared_ptr<const rules::RuleSet> rules;
  std::shared_ptr<const cmdb::CiSnapshot> cmdb;
  // With allow_stored_cmdb: why cmdb.files did not load (cmdb is then null); the daemon falls
  // back to the CMDB stored at the last good load (cmdb_feeds.h).
  std::string cmdb_error;
  std::vector<std::shared_ptr<const maintenance::MaintenanceWindow>> maintenance_windows;
  std::shared_ptr<const rules::RuleSet> shadow_rules;  // rules.shadow.files; null when none
  sla::SlaPolicy sla;                                   // `sla:` and `escalation:`
  std::vector<outbound::WebhookConfig> webhooks;        // `webhooks:`
};
Result<CheckedConfig> loadAndCheck(const std::string& config_path, bool allow_stored_cmdb = false);

// Runs the daemon until SIGTERM/SIGINT; SIGHUP reloads config, rules, CMDB, tokens, maintenance
// windows, SLA, escalation and webhooks (reload.h).
// Returns the exit code.
int runDaemon(CheckedConfig checked);

// Runs the pipeline on the config's store over one JSON-lines file, then exits.
int runReplay(CheckedConfig checked, const std::string& file);

}  // namespace vigil
