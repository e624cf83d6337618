#include "daemon/config/secrets.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "daemon/yaml_util.h"

namespace vigil::config {

namespace {

constexpr std::string_view kEnvSuffix = "_env";

struct EnvOverride {
  const char* variable;
  const char* property;
};
constexpr EnvOverride kKafkaOverrides[] = {
    {"VIGIL_KAFKA_SASL_PASSWORD", "sasl.password"},
    {"VIGIL_KAFKA_SSL_KEY_PASSWORD", "ssl.key.password"},
};

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

bool isSecretKey(std::string_view key) {
  if (endsWith(key, kEnvSuffix)) return false;
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower.find("password") != std::string::npos || lower.find("secret") != std::string::npos ||
         lower.find("token") != std::string::npos;
}

Status resolveKafkaSecrets(std::string_view file, YAML::Node kafka) {
  if (!kafka.IsMap()) return Status::ok();  // the Kafka connector reports the shape
  YAML::Node properties = kafka["properties"];
  if (properties && !properties.IsMap()) return Status::ok();
  ConfigErrors errors;
  if (properties) {
    std::vector<std::pair<std::string, YAML::Node>> from_env;  // property, its *_env key node
    for (const auto& entry : properties) {
      if (!entry.first.IsScalar() || !endsWith(entry.first.Scalar(), kEnvSuffix)) continue;
      from_env.emplace_back(entry.first.Scalar(), entry.second);
    }
    for (auto& [env_key, value_node] : from_env) {
      const std::string property = env_key.substr(0, env_key.size() - kEnvSuffix.size());
      std::string variable;
      if (!errors.take(readString(file, value_node), variable)) continue;
      if (properties[property]) {
        errors.add(yamlError(file, value_node, "give " + property + " or " + env_key + ", not both"));
        continue;
      }
      const char* value = std::getenv(variable.c_str());
      if (value == nullptr || *value == '\0') {
        errors.add(yamlError(file, value_node, "environment variable " + variable + " is not set"));
        continue;
      }
      properties.remove(env_key);
      properties[property] = std::string(value);
    }
  }
  for (const auto& o : kKafkaOverrides) {
    const char* value = std::getenv(o.variable);
    if (value == nullptr || *value == '\0') continue;
    kafka["properties"][o.property] = std::string(value);
  }
  return errors.empty() ? Status::ok() : errors.status();
}

}  // namespace vigil::config
