// Secrets from the environment, so they stay out of the config file (which is a conffile,
// readable by the vigil group, and often in version control). One convention everywhere:
//   - a key `NAME_env: VAR` stands for `NAME: <value of $VAR>`: `token_env` in http.tokens,
//     and `sasl.password_env`, `ssl.key.password_env`, … in kafka.properties;
//   - fixed variables override the file: VIGIL_KAFKA_SASL_PASSWORD (kafka.properties
//     sasl.password) and VIGIL_KAFKA_SSL_KEY_PASSWORD (kafka.properties ssl.key.password).
// A named variable that is unset or empty is a config error at its file:line:col.
#pragma once

#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "daemon/status.h"

namespace vigil::config {

// Resolves the `*_env` keys and VIGIL_KAFKA_* overrides in the `kafka:` node, in place.
Status resolveKafkaSecrets(std::string_view file, YAML::Node kafka);

// True for keys whose values are secrets: names containing "password", "secret" or "token"
// (but not the `*_env` keys, which only name a variable).
bool isSecretKey(std::string_view key);

}  // namespace vigil::config
