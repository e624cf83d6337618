// API tokens and roles. With no tokens configured the API is open (the shipped config listens on
// loopback only); with tokens, every request needs one: `Authorization: Bearer TOKEN`, or
// `?access_token=TOKEN` for the browser's EventSource, which cannot set headers.
// Thread-safety: find() and replace() may be called from any thread; a reload swaps the whole
// token table at once, and a token found before the swap stays valid while it is held.
#pragma once

#include <memory>
#include <mutex>
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
  using Table = std::vector<ApiToken>;
  explicit Authenticator(Table tokens) : tokens_(std::make_shared<const Table>(std::move(tokens))) {}
  bool enabled() const { return !table()->empty(); }
  // The token behind an Authorization header value or query token, or null when none matches.
  std::shared_ptr<const ApiToken> find(std::string_view authorization_header, std::string_view query_token) const;
  // Swaps in a new token table (SIGHUP / POST /api/v1/reload).
  void replace(Table tokens);

 private:
  std::shared_ptr<const Table> table() const {
    std::lock_guard lock(mutex_);
    return tokens_;
  }
  mutable std::mutex mutex_;
  std::shared_ptr<const Table> tokens_;  // GUARDED_BY(mutex_)
};

}  // namespace vigil::api
