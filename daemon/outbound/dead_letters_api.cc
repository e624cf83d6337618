#include "daemon/outbound/dead_letters_api.h"

#include <charconv>

#include <spdlog/spdlog.h>

namespace vigil::outbound {

using nlohmann::json;

namespace {

constexpr size_t kDefaultLimit = 1000;
constexpr size_t kMaxLimit = 10000;

std::pair<int, json> error(int status, const std::string& message) {
  return {status, {{"error", {{"code", status}, {"message", message}}}}};
}

json toJson(const DeadLetter& d) {
  return {{"id", d.id},         {"receiver", d.receiver}, {"incident", d.incident},
          {"seq", d.seq},       {"change", d.change},     {"error", d.error},
          {"attempts", d.attempts}, {"dead_at", d.dead_at.empty() ? json(nullptr) : json(d.dead_at)},
          {"configured", d.configured}};
}

}  // namespace

std::pair<int, json> listDeadLettersAction(const Webhooks& webhooks, const json& query) {
  DeadLetterFilter filter;
  size_t limit = kDefaultLimit;
  for (const auto& [name, value] : query.items()) {
    if (!value.is_string()) return error(400, name + ": given more than once");
    const std::string text = value.get<std::string>();
    if (name == "receiver") {
      filter.receiver = text;
    } else if (name == "limit") {
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
      if (ec != std::errc() || end != text.data() + text.size() || limit == 0 || limit > kMaxLimit) {
        return error(400, "limit: expected 1.." + std::to_string(kMaxLimit));
      }
    } else {
      return error(400, "unknown query parameter '" + name + "'");
    }
  }
  auto letters = webhooks.deadLetters(filter, limit);
  if (!letters) return error(500, letters.error().toString());
  json items = json::array();
  for (const auto& d : *letters) items.push_back(toJson(d));
  return {200, {{"dead_letters", std::move(items)}}};
}

std::pair<int, json> retryDeadLettersAction(Webhooks& webhooks, const json& body, const std::string& actor) {
  DeadLetterFilter filter;
  if (!body.is_null() && !body.is_object()) return error(400, "body: expected a JSON object");
  if (body.is_object()) {
    for (const auto& [name, value] : body.items()) {
      if (name == "receiver") {
        if (!value.is_string()) return error(400, "receiver: expected a string");
        filter.receiver = value.get<std::string>();
      } else if (name == "ids") {
        if (!value.is_array()) return error(400, "ids: expected an array of dead-letter ids");
        for (const auto& id : value) {
          if (!id.is_string()) return error(400, "ids: expected an array of dead-letter ids");
          filter.ids.push_back(id.get<std::string>());
        }
        if (filter.ids.empty()) return error(400, "ids: empty (leave it out to retry all)");
      } else {
        return error(400, "body: unknown field '" + name + "'");
      }
    }
  }
  auto outcome = webhooks.retryDeadLetters(filter);
  if (!outcome) return error(500, outcome.error().toString());
  spdlog::info("webhook dead letters: {} retried by {} ({} not found, {} of receivers not configured)",
               outcome->retried, actor, outcome->not_found.size(), outcome->skipped_unconfigured.size());
  return {200,
          {{"retried", outcome->retried},
           {"not_found", outcome->not_found},
           {"skipped_unconfigured", outcome->skipped_unconfigured}}};
}

}  // namespace vigil::outbound
