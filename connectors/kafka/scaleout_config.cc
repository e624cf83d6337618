#include "connectors/kafka/scaleout_config.h"

namespace vigil::connectors::kafka {

Result<ScaleoutConfig> parseScaleoutConfig(const YAML::Node& node, const YAML::Node& kafka, std::string_view file) {
  ScaleoutConfig config;
  if (!node || node.IsNull()) return config;  // no section: standalone
  ConfigErrors errors;
  try {
    if (!node.IsMap()) return fail(yamlError(file, node, "scaleout: expected a mapping"));
    errors.add(checkKeys(file, node, {"role", "ingest_topic", "changelog_topic", "domain", "restore_timeout",
                                         "standby_replicas",
                                         // read_side_config.h
                                         "advertised_url", "read_model_max_incidents", "forward_timeout",
                                         "read_model_stream_backlog"}));
    errors.add(parseReadSideConfig(node, file, config.read_side));
    if (const YAML::Node n = node["role"]) {
      std::string role;
      if (errors.take(readString(file, n), role)) {
        if (role == "standalone") {
          config.role = Role::kStandalone;
        } else if (role == "edge") {
          config.role = Role::kEdge;
        } else if (role == "core") {
          config.role = Role::kCore;
        } else {
          errors.add(yamlError(file, n, "role must be standalone, edge or core"));
        }
      }
    }
    for (auto [name, target] : {std::pair{"ingest_topic", &config.ingest_topic},
                                std::pair{"changelog_topic", &config.changelog_topic}}) {
      if (const YAML::Node n = node[name]) {
        if (errors.take(readString(file, n), *target) && target->empty()) {
          errors.add(yamlError(file, n, std::string(name) + " must not be empty"));
        }
      }
    }
    if (const YAML::Node n = node["domain"]) {
      std::string domain;
      if (errors.take(readString(file, n), domain)) {
        if (domain == "topology_root") {
          config.domain = DomainKey::kTopologyRoot;
        } else if (domain == "ci") {
          config.domain = DomainKey::kCi;
        } else if (domain == "host") {
          config.domain = DomainKey::kHost;
        } else {
          errors.add(yamlError(file, n, "domain must be topology_root, ci or host"));
        }
      }
    }
    if (const YAML::Node n = node["restore_timeout"]) {
      std::chrono::milliseconds value{};
      if (errors.take(readDuration(file, n), value)) {
        if (value < std::chrono::seconds(1) || value > std::chrono::hours(1)) {
          errors.add(yamlError(file, n, "restore_timeout must be between 1s and 1h"));
        } else {
          config.restore_timeout = value;
        }
      }
    }
    if (const YAML::Node n = node["standby_replicas"]) {
      int64_t value = 0;
      if (errors.take(readInt(file, n, 0, 32), value)) config.standby_replicas = static_cast<size_t>(value);
    }
    if (config.role != Role::kStandalone && (!kafka || !kafka.IsMap())) {
      errors.add(yamlError(file, node["role"], "role edge and core need the kafka section (brokers)"));
    } else if (config.role == Role::kCore) {
      const YAML::Node topics = kafka["topics"];
      const bool only_ingest = topics && ((topics.IsScalar() && topics.Scalar() == config.ingest_topic) ||
                                          (topics.IsSequence() && topics.size() == 1 &&
                                           topics[0].IsScalar() && topics[0].Scalar() == config.ingest_topic));
      if (!only_ingest) {
        errors.add(yamlError(file, topics ? topics : kafka,
                             "role core: kafka.topics must be exactly scaleout.ingest_topic (" +
                                 config.ingest_topic + "): a partition's number is its state shard"));
      }
      if (config.changelog_topic == config.ingest_topic) {
        errors.add(yamlError(file, node["changelog_topic"], "changelog_topic must differ from ingest_topic"));
      }
    }
  } catch (const YAML::Exception& e) {
    errors.add(yamlError(file, e.mark, e.msg));
  }
  if (!errors.empty()) return fail(errors.status());
  return config;
}

}  // namespace vigil::connectors::kafka
