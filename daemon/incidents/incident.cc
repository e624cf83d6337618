#include "daemon/incidents/incident.h"

#include <nlohmann/json.hpp>

#include "daemon/time_util.h"

namespace vigil::incidents {

using nlohmann::json;

std::string_view incidentStateName(IncidentState state) {
  switch (state) {
    case IncidentState::kOpen: return "open";
    case IncidentState::kAcknowledged: return "acknowledged";
    case IncidentState::kResolved: return "resolved";
    case IncidentState::kClosed: return "closed";
  }
  return "open";
}

std::optional<IncidentState> parseIncidentState(std::string_view name) {
  for (auto s : {IncidentState::kOpen, IncidentState::kAcknowledged, IncidentState::kResolved,
                 IncidentState::kClosed}) {
    if (incidentStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::string priorityName(uint8_t priority) { return "P" + std::to_string(priority); }

uint8_t defaultPriority(Severity severity) { return static_cast<uint8_t>(severity) + 1; }

namespace {

json optionalTime(const std::optional<TimePoint>& t) {
  return t ? json(formatRfc3339(*t)) : json(nullptr);
}

std::optional<TimePoint> readOptionalTime(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return parseRfc3339(it->get<std::string>());
}

TimePoint readTime(const json& j, const char* field) {
  return readOptionalTime(j, field).value_or(TimePoint{});
}

}  // namespace

void toJson(const Incident& in, json& out, bool with_details) {
  out = json::object();
  out["id"] = in.id;
  out["key"] = in.key;
  out["title"] = in.title;
  out["state"] = incidentStateName(in.state);
  out["severity"] = severityName(in.severity);
  out["priority"] = priorityName(in.priority);
  out["host"] = in.host;
  out["type"] = in.type;
  out["ci"] = in.ci.empty() ? json(nullptr) : json(in.ci);
  out["services"] = in.services;
  out["assignment_group"] = in.assignment_group.empty() ? json(nullptr) : json(in.assignment_group);
  out["assignee"] = in.assignee.empty() ? json(nullptr) : json(in.assignee);
  out["event_count"] = in.event_count;
  out["first_seen"] = formatRfc3339(in.first_seen);
  out["last_seen"] = formatRfc3339(in.last_seen);
  out["acknowledged_at"] = optionalTime(in.acknowledged_at);
  out["resolved_at"] = optionalTime(in.resolved_at);
  out["closed_at"] = optionalTime(in.closed_at);
  out["rule"] = in.rule;
  out["parent"] = in.parent ? json(*in.parent) : json(nullptr);
  json labels = json::object();
  for (const auto& [k, v] : in.labels) labels[k] = v;
  out["labels"] = std::move(labels);
  out["revision"] = in.revision;
  if (!with_details) return;
  json timeline = json::array();
  for (const auto& t : in.timeline) {
    timeline.push_back({{"at", formatRfc3339(t.at)}, {"action", t.action}, {"actor", t.actor},
                        {"detail", t.detail}});
  }
  out["timeline"] = std::move(timeline);
  json events = json::array();
  for (const auto& e : in.recent_events) {
    events.push_back({{"time", formatRfc3339(e.at)},
                      {"source", e.source},
                      {"severity", severityName(e.severity)},
                      {"state", eventStateName(e.state)},
                      {"message", e.message}});
  }
  out["recent_events"] = std::move(events);
}

std::string toJsonString(const Incident& incident, bool with_details) {
  json j;
  toJson(incident, j, with_details);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Incident> incidentFromJson(std::string_view text) {
  // nlohmann throws on malformed input; keep that inside this adapter.
  try {
    const json j = json::parse(text);
    Incident in;
    in.id = j.at("id").get<uint64_t>();
    in.key = j.at("key").get<std::string>();
    in.title = j.value("title", "");
    in.state = parseIncidentState(j.at("state").get<std::string>()).value_or(IncidentState::kOpen);
    in.severity = parseSeverity(j.at("severity").get<std::string>()).value_or(Severity::kInfo);
    const std::string priority = j.value("priority", "P5");
    in.priority = static_cast<uint8_t>(priority.size() == 2 ? priority[1] - '0' : 5);
    in.host = j.value("host", "");
    in.type = j.value("type", "");
    if (j.contains("ci") && j["ci"].is_string()) in.ci = j["ci"].get<std::string>();
    if (j.contains("services")) in.services = j["services"].get<std::vector<std::string>>();
    if (j.contains("assignment_group") && j["assignment_group"].is_string()) {
      in.assignment_group = j["assignment_group"].get<std::string>();
    }
    if (j.contains("assignee") && j["assignee"].is_string()) in.assignee = j["assignee"].get<std::string>();
    in.event_count = j.value("event_count", uint64_t{0});
    in.first_seen = readTime(j, "first_seen");
    in.last_seen = readTime(j, "last_seen");
    in.acknowledged_at = readOptionalTime(j, "acknowledged_at");
    in.resolved_at = readOptionalTime(j, "resolved_at");
    in.closed_at = readOptionalTime(j, "closed_at");
    in.rule = j.value("rule", "");
    if (j.contains("parent") && j["parent"].is_number_unsigned()) in.parent = j["parent"].get<uint64_t>();
    if (j.contains("labels")) {
      for (const auto& [k, v] : j["labels"].items()) in.labels.set(k, v.get<std::string>());
    }
    in.revision = j.value("revision", uint64_t{0});
    if (j.contains("timeline")) {
      for (const auto& t : j["timeline"]) {
        in.timeline.push_back({readTime(t, "at"), t.value("action", ""), t.value("actor", ""),
                               t.value("detail", "")});
      }
    }
    if (j.contains("recent_events")) {
      for (const auto& e : j["recent_events"]) {
        in.recent_events.push_back(
            {readTime(e, "time"), e.value("source", ""),
             parseSeverity(e.value("severity", "info")).value_or(Severity::kInfo),
             parseEventState(e.value("state", "")).value_or(EventState::kNone),
             e.value("message", "")});
      }
    }
    return in;
  } catch (const json::exception& e) {
    return fail(Status::corruption(std::string("bad incident record: ") + e.what()));
  }
}

}  // namespace vigil::incidents
