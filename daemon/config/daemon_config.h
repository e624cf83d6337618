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
#include "daemon/pipeline.h"
#include "daemon/status.h"
#include "daemon/store/store.h"

namespace vigil::config {

struct HttpConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  uint64_t max_body_bytes = 4ull << 20;    // larger request bodies get 413
  size_t max_connections = 256;
  std::chrono::milliseconds read_timeout{30000};
  std::vector<api::ApiToken> tokens;       // empty: no authentication (loopback use)
};

struct LogConfig {
  std::string level = "info";  // trace|debug|info|warn|error
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
  std::vector<std::string> shadow_rule_files;  // globs: candidate rules run in shadow mode
  std::vector<std::string> cmdb_files;
  std::optional<YAML::Node> syslog;  // parsed by the syslog connector
  std::optional<YAML::Node> kafka;   // parsed by the Kafka connector
};

// Reads and checks the whole file. Errors are "file:line:col: message", one per line.
Result<DaemonConfig> loadDaemonConfig(const std::string& path);

}  // namespace vigil::config
