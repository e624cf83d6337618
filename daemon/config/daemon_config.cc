#include "daemon/config/daemon_config.h"

#include <filesystem>

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

void parseHttp(std::string_view file, const YAML::Node& node, HttpConfig& http, ConfigErrors& errors) {
  errors.add(checkKeys(file, node, {"listen", "max_body_size", "max_connections", "read_timeout", "tokens"}));
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
}

void parsePipeline(std::string_view file, const YAML::Node& node, PipelineOptions& p, ConfigErrors& errors) {
  errors.add(checkKeys(file, node, {"queue_capacity", "max_batch_events"}));
  int64_t n = 0;
  if (node["queue_capacity"] && errors.take(readInt(file, node["queue_capacity"], 1, 100000000), n)) {
    p.queue_capacity_events = static_cast<size_t>(n);
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
                                    "pipeline", "store"}));
  if (!errors.empty()) return fail(errors.status());
  if (root["data_dir"]) errors.take(readString(path, root["data_dir"]), config.data_dir);
  if (const auto log = root["log"]) {
    errors.add(checkKeys(path, log, {"level"}));
    if (log["level"] && errors.take(readString(path, log["level"]), config.log.level)) {
      const auto& l = config.log.level;
      if (l != "trace" && l != "debug" && l != "info" && l != "warn" && l != "error") {
        errors.add(yamlError(path, log["level"], "expected trace, debug, info, warn or error"));
      }
    }
  }
  if (root["http"]) parseHttp(path, root["http"], config.http, errors);
  if (root["pipeline"]) parsePipeline(path, root["pipeline"], config.pipeline, errors);
  if (const auto store = root["store"]) {
    errors.add(checkKeys(path, store, {"sync", "block_cache"}));
    if (store["sync"]) errors.take(readBool(path, store["sync"]), config.store.sync);
    if (store["block_cache"]) errors.take(readSize(path, store["block_cache"]), config.store.block_cache_bytes);
  }
  if (const auto rules = root["rules"]) {
    errors.add(checkKeys(path, rules, {"files", "shadow"}));
    if (rules["files"]) parseStringList(path, rules["files"], config.rule_files, errors);
    if (const auto shadow = rules["shadow"]) {
      errors.add(checkKeys(path, shadow, {"files"}));
      if (shadow["files"]) parseStringList(path, shadow["files"], config.shadow_rule_files, errors);
    }
  }
  if (const auto cmdb = root["cmdb"]) {
    errors.add(checkKeys(path, cmdb, {"files", "symptom_window"}));
    if (cmdb["files"]) parseStringList(path, cmdb["files"], config.cmdb_files, errors);
    if (cmdb["symptom_window"]) errors.take(readDuration(path, cmdb["symptom_window"]), config.pipeline.symptom_window);
  }
  if (root["syslog"]) config.syslog = root["syslog"];
  if (root["kafka"]) config.kafka = root["kafka"];
  config.store.path = (std::filesystem::path(config.data_dir) / "store").string();
  if (!errors.empty()) return fail(errors.status());
  return config;
}

}  // namespace vigil::config
