// API tokens and roles. With no tokens configured the API is open (the shipped config listens on
// loopback only); with tokens, every request needs one: `Authorization: Bearer TOKEN`, or
// `?access_token=TOKEN` for the browser's EventSource, which cannot set headers.
// Thread-safety: immutable after construction.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/status.h"

namespace vigil::api {

// Ordered: each role may do what the roles before it may.
enum class Role : uint8_t { kViewer, kIngest, kOperator, kAdmin };
std::string_view roleName(Role role);

struct ApiToken {
  std::string name;   // shown as the actor in incident timelines
  std::string token;
  Role role = Role::kViewer;
};

// Parses `http.tokens`: a list of {name, token | token_env, role}. token_env names an environment
// variable holding the secret, so it stays out of the file.
Result<std::vector<ApiToken>> parseTokens(const YAML::Node& node, std::string_view file);

class Authenticator {
 public:
  explicit Authenticator(std::vector<ApiToken> tokens) : tokens_(std::move(tokens)) {}
  bool enabled() const { return !tokens_.empty(); }
  // The token behind an Authorization header value or query token, or nullopt when none matches.
  const ApiToken* find(std::string_view authorization_header, std::string_view query_token) const;

 private:
  std::vector<ApiToken> tokens_;
};

}  // namespace vigil::api
