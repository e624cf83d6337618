#include "daemon/config/print_config.h"

#include <filesystem>

#include "daemon/config/secrets.h"

namespace vigil::config {

namespace {

std::string duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

// A deep copy of `node` with the values of secret keys replaced.
YAML::Node masked(const YAML::Node& node) {
  if (node.IsMap()) {
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      out[key] = entry.second.IsScalar() && isSecretKey(key) ? YAML::Node(std::string(kMaskedSecret))
                                                             : masked(entry.second);
    }
    return out;
  }
  if (node.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& item : node) out.push_back(masked(item));
    return out;
  }
  return YAML::Node(node.Scalar());
}

// Relative rule and CMDB globs are resolved against the config's directory; print them as
// absolute paths, so the output means the same wherever it is saved.
std::vector<std::string> resolved(const std::vector<std::string>& globs, const std::string& base_dir) {
  std::vector<std::string> out;
  for (const auto& g : globs) {
    std::error_code ec;
    const auto path = std::filesystem::absolute(std::filesystem::path(base_dir) / g, ec);
    out.push_back(ec ? g : path.lexically_normal().string());
  }
  return out;
}

}  // namespace

std::string printConfig(const DaemonConfig& config) {
  YAML::Emitter out;
  out << YAML::Comment("effective config of " + config.path + " (defaults filled in, secrets masked)");
  out << YAML::BeginMap;
  out << YAML::Key << "data_dir" << YAML::Value << config.data_dir;
  out << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "level" << YAML::Value << config.log.level;
  out << YAML::Key << "format" << YAML::Value << config.log.format;
  out << YAML::EndMap;

  const auto& http = config.http;
  const bool v6 = http.host.find(':') != std::string::npos;
  out << YAML::Key << "http" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "listen" << YAML::Value
      << (v6 ? "[" + http.host + "]" : http.host) + ":" + std::to_string(http.port);
  out << YAML::Key << "max_body_size" << YAML::Value << http.max_body_bytes;
  out << YAML::Key << "max_connections" << YAML::Value << http.max_connections;
  out << YAML::Key << "read_timeout" << YAML::Value << duration(http.read_timeout);
  if (!http.tokens.empty()) {
    out << YAML::Key << "tokens" << YAML::Value << YAML::BeginSeq;
    for (const auto& t : http.tokens) {
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << t.name;
      out << YAML::Key << "token" << YAML::Value << std::string(kMaskedSecret);
      out << YAML::Key << "role" << YAML::Value << std::string(api::roleName(t.role)) << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;

  if (config.syslog) out << YAML::Key << "syslog" << YAML::Value << masked(*config.syslog);
  if (config.kafka) out << YAML::Key << "kafka" << YAML::Value << masked(*config.kafka);

  out << YAML::Key << "rules" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "files" << YAML::Value << YAML::Flow << resolved(config.rule_files, config.base_dir);
  out << YAML::EndMap;
  out << YAML::Key << "cmdb" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "files" << YAML::Value << YAML::Flow << resolved(config.cmdb_files, config.base_dir);
  out << YAML::Key << "symptom_window" << YAML::Value << duration(config.pipeline.symptom_window);
  out << YAML::EndMap;
  out << YAML::Key << "pipeline" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "queue_capacity" << YAML::Value << config.pipeline.queue_capacity_events;
  out << YAML::Key << "queue_bytes" << YAML::Value << config.pipeline.queue_capacity_bytes;
  out << YAML::Key << "max_batch_events" << YAML::Value << config.pipeline.max_batch_events;
  out << YAML::EndMap;
  out << YAML::Key << "store" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "sync" << YAML::Value << config.store.sync;
  out << YAML::Key << "block_cache" << YAML::Value << config.store.block_cache_bytes;
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace vigil::config
