#include "daemon/api/auth.h"

#include <cstdlib>

#include "daemon/yaml_util.h"

namespace vigil::api {

std::string_view roleName(Role role) {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kIngest: return "ingest";
    case Role::kOperator: return "operator";
    case Role::kAdmin: return "admin";
  }
  return "viewer";
}

Result<std::vector<ApiToken>> parseTokens(const YAML::Node& node, std::string_view file) {
  if (!node.IsSequence()) return fail(yamlError(file, node, "expected a list of {name, token, role}"));
  std::vector<ApiToken> tokens;
  for (const auto& item : node) {
    if (Status s = checkKeys(file, item, {"name", "token", "token_env", "role"}); !s.isOk()) return fail(s);
    ApiToken t;
    if (!item["name"]) return fail(yamlError(file, item, "token needs a name"));
    auto name = readString(file, item["name"]);
    if (!name) return fail(name.error());
    t.name = *name;
    if (item["token"] && item["token_env"]) return fail(yamlError(file, item, "give token or token_env, not both"));
    if (item["token"]) {
      auto v = readString(file, item["token"]);
      if (!v) return fail(v.error());
      t.token = *v;
    } else if (item["token_env"]) {
      auto v = readString(file, item["token_env"]);
      if (!v) return fail(v.error());
      const char* secret = std::getenv(v->c_str());
      if (secret == nullptr || *secret == '\0') {
        return fail(yamlError(file, item["token_env"], "environment variable " + *v + " is not set"));
      }
      t.token = secret;
    } else {
      return fail(yamlError(file, item, "token needs token or token_env"));
    }
    if (t.token.size() < 16) return fail(yamlError(file, item, "token of '" + t.name + "' is shorter than 16 characters"));
    const std::string role = item["role"] ? item["role"].Scalar() : "viewer";
    if (role == "viewer") t.role = Role::kViewer;
    else if (role == "ingest") t.role = Role::kIngest;
    else if (role == "operator") t.role = Role::kOperator;
    else if (role == "admin") t.role = Role::kAdmin;
    else return fail(yamlError(file, item["role"], "role: expected viewer, ingest, operator or admin"));
    tokens.push_back(std::move(t));
  }
  return tokens;
}

namespace {

// Compares in time independent of where the first difference is.
bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::shared_ptr<const ApiToken> Authenticator::find(std::string_view header, std::string_view query_token) const {
  std::string_view presented = query_token;
  constexpr std::string_view kBearer = "Bearer ";
  if (header.substr(0, kBearer.size()) == kBearer) presented = header.substr(kBearer.size());
  if (presented.empty()) return nullptr;
  auto tokens = table();
  for (const auto& t : *tokens) {
    // Aliasing: the token keeps its whole table alive, even across a replace().
    if (constantTimeEquals(t.token, presented)) return std::shared_ptr<const ApiToken>(tokens, &t);
  }
  return nullptr;
}

void Authenticator::replace(Table tokens) {
  auto table = std::make_shared<const Table>(std::move(tokens));
  std::lock_guard lock(mutex_);
  tokens_ = std::move(table);
}

}  // namespace vigil::api
