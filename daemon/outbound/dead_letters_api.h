// The webhook dead letters over HTTP (docs/noc.md, "Dead letters"):
//   GET  /api/v1/webhooks/dead-letters?receiver=NAME&limit=N   (operator)
//   POST /api/v1/webhooks/dead-letters/retry  {"receiver": NAME, "ids": [KEY, …]}   (operator)
// Each returns the HTTP status and the JSON answer; errors as {"error":{"code","message"}}.
// Thread-safety: as Webhooks (any thread).
#pragma once

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "daemon/outbound/webhooks.h"

namespace vigil::outbound {

std::pair<int, nlohmann::json> listDeadLettersAction(const Webhooks& webhooks, const nlohmann::json& query);
std::pair<int, nlohmann::json> retryDeadLettersAction(Webhooks& webhooks, const nlohmann::json& body,
                                                      const std::string& actor);

}  // namespace vigil::outbound
