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

}  // namespace

void toJson(const Incident& in, json& out, bool with_details) {
  out = json::object();
  out["id"] = in.id;
  out["key"] = in.key;
  out["title"] = in.title;
  out["description"] = in.description;
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
  out["symptom_count"] = in.symptom_count;
  json labels = json::object();
  for (const auto& [k, v] : in.labels) labels[k] = v;
  out["labels"] = std::move(labels);
  out["revision"] = in.revision;
  out["flapping"] = in.flapping;
  out["stale"] = in.stale;
  json provenance = {{"rule", in.rule},
                     {"rule_set_version", in.provenance.rule_set_version},
                     {"primitive", in.provenance.primitive.empty() ? json(nullptr) : json(in.provenance.primitive)}};
  if (with_details) {
    json events = json::array();
    for (const auto& e : in.provenance.events) {
      events.push_back({{"time", formatRfc3339(e.at)},
                        {"source", e.source},
                        {"severity", severityName(e.severity)},
                        {"state", eventStateName(e.state)},
                        {"message", e.message}});
    }
    provenance["events"] = std::move(events);
  }
  out["provenance"] = std::move(provenance);
  if (in.sla.started_at) {
    out["sla"] = {{"started_at", optionalTime(in.sla.started_at)},
                  {"acknowledge_due", optionalTime(in.sla.acknowledge_due)},
                  {"resolve_due", optionalTime(in.sla.resolve_due)},
                  {"acknowledge_breached", in.sla.acknowledge_breached},
                  {"resolve_breached", in.sla.resolve_breached}};
  } else {
    out["sla"] = nullptr;
  }
  out["escalations"] = in.escalations;
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

}  // namespace vigil::incidents
