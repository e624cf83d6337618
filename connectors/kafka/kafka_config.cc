#include "connectors/kafka/kafka_config.h"

#include <memory>

#include <librdkafka/rdkafkacpp.h>

#include "daemon/yaml_util.h"

namespace vigil::connectors::kafka {

namespace {


Result<std::vector<std::string>> readStringList(std::string_view file, const YAML::Node& node) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    auto s = readString(file, node);
    if (!s) return fail(s.error());
    size_t start = 0;
    while (start <= s->size()) {
      size_t comma = s->find(',', start);
      if (comma == std::string::npos) comma = s->size();
      std::string item = s->substr(start, comma - start);
      while (!item.empty() && item.front() == ' ') item.erase(item.begin());
      while (!item.empty() && item.back() == ' ') item.pop_back();
      if (!item.empty()) out.push_back(std::move(item));
      start = comma + 1;
    }
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      auto s = readString(file, item);
      if (!s) return fail(s.error());
      if (s->empty()) return fail(yamlError(file, item, "empty entry"));
      out.push_back(std::move(*s));
    }
  } else {
    return fail(yamlError(file, node, "expected a list of strings or a comma-separated string"));
  }
  if (out.empty()) return fail(yamlError(file, node, "must not be empty"));
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

// librdkafka knows its property names; asking it catches typos at load instead of at start.
Status checkProperty(std::string_view file, const YAML::Node& key_node, const std::string& key,
                     const std::string& value) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  if (conf->set(key, value, error) != RdKafka::Conf::CONF_OK) {
    return yamlError(file, key_node, "properties." + key + ": " + error);
  }
  return Status::ok();
}

}  // namespace

Result<KafkaConfig> parseKafkaConfig(const YAML::Node& node, std::string_view file) {
  KafkaConfig config;
  ConfigErrors errors;
  try {
    if (!node || !node.IsMap()) {
      return fail(yamlError(file, node, "kafka: expected a mapping with brokers and topics"));
    }
    errors.add(checkKeys(file, node,
                         {"brokers", "topics", "group", "output_topic", "dead_letter_topic",
                          "properties", "field_mapping", "keep_unmapped", "batch_max_events",
                          "poll_timeout", "assignment_strategy", "lag_interval", "pause_after", "cmdb_topic",
                          "cmdb_group", "cmdb_debounce"}));
    if (const YAML::Node n = node["brokers"]) {
      std::vector<std::string> brokers;
      if (errors.take(readStringList(file, n), brokers)) config.brokers = join(brokers);
    } else {
      errors.add(yamlError(file, node, "kafka.brokers is required"));
    }
    if (const YAML::Node n = node["topics"]) {
      errors.take(readStringList(file, n), config.topics);
    } else {
      errors.add(yamlError(file, node, "kafka.topics is required"));
    }
    if (const YAML::Node n = node["group"]) {
      if (errors.take(readString(file, n), config.group) && config.group.empty()) {
        errors.add(yamlError(file, n, "group must not be empty"));
      }
    }
    if (const YAML::Node n = node["output_topic"]) errors.take(readString(file, n), config.output_topic);
    if (const YAML::Node n = node["dead_letter_topic"]) {
      errors.take(readString(file, n), config.dead_letter_topic);
    }
    if (const YAML::Node n = node["cmdb_topic"]) errors.take(readString(file, n), config.cmdb_topic);
    if (const YAML::Node n = node["cmdb_group"]) errors.take(readString(file, n), config.cmdb_group);
    if (const YAML::Node n = node["cmdb_debounce"]) {
      std::chrono::milliseconds value{};
      if (errors.take(readDuration(file, n), value)) {
        if (value.count() < 10 || value.count() > 3600000) {
          errors.add(yamlError(file, n, "cmdb_debounce must be between 10ms and 1h"));
        } else {
          config.cmdb_debounce = value;
        }
      }
    }
    for (const auto& topic : config.topics) {
      if (!config.cmdb_topic.empty() && topic == config.cmdb_topic) {
        errors.add(yamlError(file, node["cmdb_topic"], "cmdb_topic is also consumed as events"));
      }
      if (!config.dead_letter_topic.empty() && topic == config.dead_letter_topic) {
        errors.add(yamlError(file, node["dead_letter_topic"], "dead_letter_topic is also consumed"));
      }
      if (!config.output_topic.empty() && topic == config.output_topic) {
        errors.add(yamlError(file, node["output_topic"], "output_topic is also consumed"));
      }
    }
    if (const YAML::Node n = node["properties"]) {
      if (!n.IsMap()) {
        errors.add(yamlError(file, n, "properties: expected a mapping of librdkafka properties"));
      } else {
        for (const auto& entry : n) {
          std::string key;
          std::string value;
          if (!errors.take(readString(file, entry.first), key) ||
              !errors.take(readString(file, entry.second), value)) {
            continue;
          }
          if (key == "enable.auto.commit" || key == "group.id" || key == "bootstrap.servers") {
            errors.add(yamlError(file, entry.first,
                                 "properties." + key + " is set by vigil (use brokers/group; "
                                 "offsets are committed with the incidents)"));
            continue;
          }
          errors.add(checkProperty(file, entry.first, key, value));
          config.properties.emplace_back(std::move(key), std::move(value));
        }
      }
    }
    if (const YAML::Node n = node["field_mapping"]) errors.take(parseFieldMapping(n, file), config.field_mapping);
    if (const YAML::Node n = node["keep_unmapped"]) {
      bool keep = true;
      if (errors.take(readBool(file, n), keep)) config.field_mapping.setKeepUnmapped(keep);
    }
    if (const YAML::Node n = node["batch_max_events"]) {
      int64_t value = 0;
      if (errors.take(readInt(file, n, 1, 100000), value)) config.batch_max_events = static_cast<size_t>(value);
    }
    if (const YAML::Node n = node["poll_timeout"]) {
      std::chrono::milliseconds value{};
      if (errors.take(readDuration(file, n), value)) {
        if (value.count() < 1 || value.count() > 10000) {
          errors.add(yamlError(file, n, "poll_timeout must be between 1ms and 10s"));
        } else {
          config.poll_timeout = value;
        }
      }
    }
    if (const YAML::Node n = node["assignment_strategy"]) {
      if (errors.take(readString(file, n), config.assignment_strategy) &&
          config.assignment_strategy != "cooperative-sticky" && config.assignment_strategy != "range" &&
          config.assignment_strategy != "roundrobin") {
        errors.add(yamlError(file, n, "assignment_strategy: expected cooperative-sticky, range or roundrobin"));
      }
    }
    if (const YAML::Node n = node["lag_interval"]) {
      std::chrono::milliseconds value{};
      if (errors.take(readDuration(file, n), value)) {
        if (value.count() < 100 || value.count() > 3600000) {
          errors.add(yamlError(file, n, "lag_interval must be between 100ms and 1h"));
        } else {
          config.lag_interval = value;
        }
      }
    }
    if (const YAML::Node n = node["pause_after"]) {
      std::chrono::milliseconds value{};
      if (errors.take(readDuration(file, n), value)) {
        if (value.count() < 1 || value.count() > 60000) {
          errors.add(yamlError(file, n, "pause_after must be between 1ms and 1m"));
        } else {
          config.pause_after = value;
        }
      }
    }
  } catch (const YAML::Exception& e) {
    errors.add(yamlError(file, e.mark, e.msg));
  }
  if (!errors.empty()) return fail(errors.status());
  return config;
}

}  // namespace vigil::connectors::kafka
