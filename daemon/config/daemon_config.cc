#include "daemon/config/daemon_config.h"

#include <filesystem>

#include "daemon/config/secrets.h"
#include "daemon/yaml_util.h"

namespace vigil::config {

namespace {

void parseStringList(std::string_view file, const YAML::Node& node, std::vector<std::string>& out,
                     ConfigErrors& errors) {
  if (node.IsScalar()) {
    out = {node.Scalar()};
    return;
  }
  if (!node.IsSequence()) {
    errors.add(yamlError(file, node, "expected a list of strings"));
    return;
  }
  out.clear();
  for (const auto& item : node) {
    std::string s;
    if (errors.take(readString(file, item), s)) out.push_back(std::move(s));
  }
}

void parseRateLimit(std::string_view file, const YAML::Node& node, api::RateLimitConfig& limit, ConfigErrors& errors) {
  if (!node.IsMap()) return errors.add(yamlError(file, node, "rate_limit: expected a mapping"));
  errors.add(checkKeys(file, node, {"requests_per_second", "burst"}));
  int64_t n = 0;
  if (node["requests_per_second"] && errors.take(readInt(file, node["requests_per_second"], 0, 10000000), n)) {
    limit.requests_per_second = static_cast<double>(n);
  }
  if (node["burst"] && errors.take(readInt(file, node["burst"], 1, 10000000), n)) limit.burst = static_cast<double>(n);
}

// Relative certificate paths are relative to the config file, like rule and CMDB files.
void parseTls(std::string_view file, const YAML::Node& node, HttpConfig& http, ConfigErrors& errors) {
  if (!node.IsMap()) return errors.add(yamlError(file, node, "tls: expected a mapping"));
  errors.add(checkKeys(file, node, {"cert", "key", "client_ca"}));
  TlsConfig tls;
  const auto base = std::filesystem::path(file).parent_path();
  auto readPath = [&](const char* key, std::string& out, bool required) {
    if (!node[key]) {
      if (required) errors.add(yamlError(file, node, std::string("missing '") + key + "'"));
      return;
    }
    if (!errors.take(readString(file, node[key]), out)) return;
    out = (base / out).string();
    if (!std::filesystem::exists(out)) errors.add(yamlError(file, node[key], "no such file: " + out));
  };
  readPath("cert", tls.cert, true);
  readPath("key", tls.key, true);
  readPath("client_ca", tls.client_ca, false);
  http.tls = std::move(tls);
}

void parseHttp(std::string_view file, const YAML::Node& node, HttpConfig& http, ConfigErrors& errors) {
  errors.add(checkKeys(file, node, {"listen", "max_body_size", "max_connections", "read_timeout", "tokens",
                                    "rate_limit", "tls", "max_labels", "max_field_size"}));
  if (node["rate_limit"]) parseRateLimit(file, node["rate_limit"], http.rate_limit, errors);
  if (node["tls"]) parseTls(file, node["tls"], http, errors);
  if (node["tokens"]) errors.take(api::parseTokens(node["tokens"], file), http.tokens);
  if (node["listen"]) {
    std::string listen;
    if (errors.take(readString(file, node["listen"]), listen)) {
      const auto colon = listen.rfind(':');
      int64_t port = -1;
      if (colon != std::string::npos) {
        try {
          port = std::stoll(listen.substr(colon + 1));
        } catch (...) {
          port = -1;
        }
      }
      if (colon == std::string::npos || port < 0 || port > 65535) {
        errors.add(yamlError(file, node["listen"], "expected HOST:PORT, got '" + listen + "'"));
      } else {
        http.host = listen.substr(0, colon);
        if (http.host.size() > 2 && http.host.front() == '[') http.host = http.host.substr(1, http.host.size() - 2);
        http.port = static_cast<uint16_t>(port);
      }
    }
  }
  if (node["max_body_size"]) errors.take(readSize(file, node["max_body_size"]), http.max_body_bytes);
  if (node["max_connections"]) {
    int64_t n = 0;
    if (errors.take(readInt(file, node["max_connections"], 1, 100000), n)) http.max_connections = static_cast<size_t>(n);
  }
  if (node["read_timeout"]) errors.take(readDuration(file, node["read_timeout"]), http.read_timeout);
  if (int64_t n = 0; node["max_labels"] && errors.take(readInt(file, node["max_labels"], 1, 100000), n)) {
    http.max_labels = static_cast<size_t>(n);
  }
  if (node["max_field_size"]) errors.take(readSize(file, node["max_field_size"]), http.max_field_bytes);
}

void parsePipeline(std::string_view file, const YAML::Node& node, PipelineOptions& p, ConfigErrors& errors) {
  errors.add(checkKeys(file, node, {"queue_capacity", "queue_bytes", "max_batch_events"}));
  int64_t n = 0;
  if (node["queue_capacity"] && errors.take(readInt(file, node["queue_capacity"], 1, 100000000), n)) {
    p.queue_capacity_events = static_cast<size_t>(n);
  }
  if (node["queue_bytes"] && errors.take(readSize(file, node["queue_bytes"]), p.queue_capacity_bytes) &&
      p.queue_capacity_bytes < (size_t{1} << 20)) {
    errors.add(yamlError(file, node["queue_bytes"], "must be at least 1MiB"));
  }
  if (node["max_batch_events"] && errors.take(readInt(file, node["max_batch_events"], 1, 1000000), n)) {
    p.max_batch_events = static_cast<size_t>(n);
  }
}

}  // namespace

Result<DaemonConfig> loadDaemonConfig(const std::string& path) {
  auto doc = loadYamlFile(path);
  if (!doc) return fail(doc.error());
  const YAML::Node& root = *doc;
  DaemonConfig config;
  config.path = path;
  config.base_dir = std::filesystem::path(path).parent_path().string();
  if (root.IsNull()) return config;  // an empty file means all defaults

  ConfigErrors errors;
  errors.add(checkKeys(path, root, {"data_dir", "log", "http", "syslog", "kafka", "cmdb", "rules",
                                    "pipeline", "store", "sla", "escalation", "webhooks", "maintenance", "verdicts",
                                    "scaleout"}));
  if (!errors.empty()) return fail(errors.status());
  // Sections must be mappings: yaml-cpp throws on a key lookup in a scalar or a list.
  for (const char* section : {"log", "http", "pipeline", "store", "rules", "cmdb", "maintenance", "verdicts"}) {
    if (root[section] && !root[section].IsMap()) errors.add(yamlError(path, root[section], std::string(section) + ": expected a mapping"));
  }
  if (!errors.empty()) return fail(errors.status());
  if (root["data_dir"]) errors.take(readString(path, root["data_dir"]), config.data_dir);
  if (const auto log = root["log"]) {
    errors.add(checkKeys(path, log, {"level", "format"}));
    if (log["level"] && errors.take(readString(path, log["level"]), config.log.level)) {
      const auto& l = config.log.level;
      if (l != "trace" && l != "debug" && l != "info" && l != "warn" && l != "error") {
        errors.add(yamlError(path, log["level"], "expected trace, debug, info, warn or error"));
      }
    }
    if (log["format"] && errors.take(readString(path, log["format"]), config.log.format) &&
        config.log.format != "text" && config.log.format != "json") {
      errors.add(yamlError(path, log["format"], "expected text or json"));
    }
  }
  if (root["http"]) parseHttp(path, root["http"], config.http, errors);
  if (root["pipeline"]) parsePipeline(path, root["pipeline"], config.pipeline, errors);
  if (const auto store = root["store"]) {
    errors.add(checkKeys(path, store, {"sync", "block_cache", "memtable_budget"}));
    if (store["sync"]) errors.take(readBool(path, store["sync"]), config.store.sync);
    if (store["block_cache"]) errors.take(readSize(path, store["block_cache"]), config.store.block_cache_bytes);
    if (store["memtable_budget"]) {
      errors.take(readSize(path, store["memtable_budget"]), config.store.memtable_budget_bytes);
    }
  }
  if (const auto rules = root["rules"]) {
    errors.add(checkKeys(path, rules, {"files", "allowed_lateness", "shadow"}));
    if (rules["files"]) parseStringList(path, rules["files"], config.rule_files, errors);
    if (rules["allowed_lateness"]) {
      errors.take(readDuration(path, rules["allowed_lateness"]), config.rules_allowed_lateness);
    }
    if (const auto shadow = rules["shadow"]) {
      errors.add(checkKeys(path, shadow, {"files"}));
      if (shadow.IsMap() && shadow["files"]) parseStringList(path, shadow["files"], config.shadow_rule_files, errors);
    }
  }
  if (const auto cmdb = root["cmdb"]) {
    errors.add(checkKeys(path, cmdb, {"files", "symptom_window"}));
    if (cmdb["files"]) parseStringList(path, cmdb["files"], config.cmdb_files, errors);
    if (cmdb["symptom_window"]) errors.take(readDuration(path, cmdb["symptom_window"]), config.pipeline.symptom_window);
  }
  if (const auto maintenance = root["maintenance"]) {
    errors.add(checkKeys(path, maintenance, {"files"}));
    if (maintenance["files"]) parseStringList(path, maintenance["files"], config.maintenance_files, errors);
  }
  if (const auto verdicts = root["verdicts"]) {
    errors.add(checkKeys(path, verdicts, {"retention", "max_records"}));
    if (verdicts["retention"]) errors.take(readDuration(path, verdicts["retention"]), config.verdicts.retention);
    int64_t n = 0;
    if (verdicts["max_records"] && errors.take(readInt(path, verdicts["max_records"], 1, int64_t{1} << 47), n)) {
      config.verdicts.max_records = static_cast<uint64_t>(n);
    }
  }
  if (root["syslog"]) config.syslog = root["syslog"];
  if (root["kafka"]) {
    config.kafka = root["kafka"];  // resolved in place, so error marks stay
    errors.add(resolveKafkaSecrets(path, *config.kafka));
  }
  if (root["sla"]) config.sla = root["sla"];
  if (root["escalation"]) config.escalation = root["escalation"];
  if (root["webhooks"]) config.webhooks = root["webhooks"];
  if (root["scaleout"]) config.scaleout = root["scaleout"];
  config.store.path = (std::filesystem::path(config.data_dir) / "store").string();
  if (!errors.empty()) return fail(errors.status());
  return config;
}

}  // namespace vigil::config
