// DaemonConfig: vigild's YAML config file, parsed and checked once at load; const afterwards.
// Sections owned by a connector (syslog, kafka) are kept as YAML and parsed by that connector's
// factory, so each component keeps its keys, defaults and checks in one place.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/api/auth.h"
#include "daemon/api/rate_limiter.h"
#include "daemon/pipeline.h"
#include "daemon/status.h"
#include "daemon/store/store.h"
#include "daemon/verdicts/verdict.h"

namespace vigil::config {

// HTTPS instead of HTTP (`http.tls`); with client_ca, clients must present a certificate it signed.
struct TlsConfig {
  std::string cert;       // PEM certificate chain
  std::string key;        // PEM private key
  std::string client_ca;  // PEM CA bundle; empty: no client certificates
};

struct HttpConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  uint64_t max_body_bytes = 4ull << 20;    // larger request bodies get 413
  size_t max_connections = 256;
  std::chrono::milliseconds read_timeout{30000};
  size_t max_labels = 256;                 // per event; more is a 400 (a label map is not a payload)
  uint64_t max_field_bytes = 64 << 10;     // per string field or label value; longer is a 400
  std::vector<api::ApiToken> tokens;       // empty: no authentication (loopback use)
  api::RateLimitConfig rate_limit;         // per client IP, API and intake
  std::optional<TlsConfig> tls;
};

struct LogConfig {
  std::string level = "info";  // trace|debug|info|warn|error
  std::string format = "text";  // text|json (see daemon/logging.h)
};

struct DaemonConfig {
  std::string path;            // the file it was read from
  std::string base_dir;        // its directory: relative rule and CMDB paths start here
  std::string data_dir = "./vigil-data";  // relative to the working directory, like Prometheus
  LogConfig log;
  HttpConfig http;
  store::StoreOptions store;
  PipelineOptions pipeline;
  std::vector<std::string> rule_files;  // globs
  // rules.allowed_lateness: how far behind the correlation clock an event still counts in
  // windows as of its own time (docs/rules.md, "Event time").
  std::chrono::milliseconds rules_allowed_lateness{std::chrono::minutes(5)};
  std::vector<std::string> shadow_rule_files;  // globs: candidate rules run in shadow mode
  std::vector<std::string> cmdb_files;
  std::vector<std::string> maintenance_files;  // globs of maintenance window files
  verdicts::VerdictOptions verdicts;
  std::optional<YAML::Node> syslog;  // parsed by the syslog connector
  std::optional<YAML::Node> kafka;   // parsed by the Kafka connector
  std::optional<YAML::Node> sla;         // parsed by daemon/sla (with `escalation`)
  std::optional<YAML::Node> escalation;
  std::optional<YAML::Node> webhooks;    // parsed by daemon/outbound
  std::optional<YAML::Node> scaleout;    // parsed by connectors/kafka/scaleout_config
};

// Reads and checks the whole file. Errors are "file:line:col: message", one per line.
Result<DaemonConfig> loadDaemonConfig(const std::string& path);

}  // namespace vigil::config
