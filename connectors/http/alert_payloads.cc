#include "connectors/http/alert_payloads.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "daemon/event_json.h"
#include "daemon/time_util.h"

namespace vigil::connectors::http {

namespace {

using nlohmann::json;

std::string stringField(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "10.0.0.5:9100" → "10.0.0.5", "[::1]:9100" → "::1", "db1" → "db1".
std::string hostOfInstance(std::string instance) {
  if (!instance.empty() && instance.front() == '[') {
    const auto close = instance.find(']');
    return close == std::string::npos ? instance : instance.substr(1, close - 1);
  }
  const auto colon = instance.rfind(':');
  if (colon != std::string::npos && instance.find(':') == colon) instance.resize(colon);
  return instance;
}

Severity alertSeverity(const std::string& label) {
  if (label == "critical" || label == "page" || label == "emergency") return Severity::kCritical;
  if (label == "error" || label == "high" || label == "major") return Severity::kMajor;
  if (label == "minor" || label == "medium") return Severity::kMinor;
  if (label == "info" || label == "informational" || label == "none" || label == "low") return Severity::kInfo;
  return Severity::kWarning;
}

// FNV-1a over the sorted labels: a stable identity when the sender sent no fingerprint.
std::string fingerprintOf(const json& labels) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  };
  for (const auto& [k, v] : labels.items()) {  // nlohmann's object is a sorted map
    mix(k);
    mix(v.is_string() ? v.get<std::string>() : v.dump());
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

Status decodeAlert(const json& alert, size_t index, TimePoint received_at, Event& e) {
  const std::string where = "alerts[" + std::to_string(index) + "]";
  if (!alert.is_object()) return Status::invalidArgument(where + ": expected an object");
  const json labels = alert.value("labels", json::object());
  const json annotations = alert.value("annotations", json::object());
  if (!labels.is_object() || !annotations.is_object()) {
    return Status::invalidArgument(where + ": labels and annotations must be objects");
  }
  const std::string status = stringField(alert, "status");
  if (status != "firing" && status != "resolved") {
    return Status::invalidArgument(where + ".status: expected firing or resolved");
  }
  e.source = "alertmanager";
  e.received_at = received_at;
  e.state = status == "firing" ? EventState::kProblem : EventState::kOk;
  e.type = stringField(labels, "alertname");
  if (e.type.empty()) return Status::invalidArgument(where + ".labels.alertname: missing");
  for (const char* name : {"host", "hostname", "instance", "node", "job"}) {
    e.host = hostOfInstance(stringField(labels, name));
    if (!e.host.empty()) break;
  }
  if (e.host.empty()) e.host = "alertmanager";
  e.severity = alertSeverity(stringField(labels, "severity"));
  e.message = stringField(annotations, "summary");
  if (e.message.empty()) e.message = stringField(annotations, "description");
  if (e.message.empty()) e.message = e.type;
  const std::string when = stringField(alert, e.state == EventState::kProblem ? "startsAt" : "endsAt");
  if (auto t = parseRfc3339(when)) e.occurred_at = *t;
  for (const auto& [k, v] : labels.items()) e.labels.set(k, v.is_string() ? v.get<std::string>() : v.dump());
  for (const auto& [k, v] : annotations.items()) {
    e.labels.set("annotation." + k, v.is_string() ? v.get<std::string>() : v.dump());
  }
  std::string fingerprint = stringField(alert, "fingerprint");
  e.labels.set("fingerprint", fingerprint.empty() ? fingerprintOf(labels) : fingerprint);
  if (auto url = stringField(alert, "generatorURL"); !url.empty()) e.labels.set("generator_url", url);
  return Status::ok();
}

}  // namespace

Status decodeAlertmanager(std::string_view body, TimePoint received_at, std::vector<Event>& out) {
  if (!jsonNestingWithin(body, kMaxJsonNesting)) {
    return Status::invalidArgument("body: nested deeper than " + std::to_string(kMaxJsonNesting) + " levels");
  }
  const json payload = json::parse(body, nullptr, false);
  if (!payload.is_object()) return Status::invalidArgument("body: expected an Alertmanager webhook JSON object");
  if (const std::string version = stringField(payload, "version"); version != "4") {
    return Status::invalidArgument("version: expected \"4\", got \"" + version + "\"");
  }
  auto alerts = payload.find("alerts");
  if (alerts == payload.end() || !alerts->is_array()) return Status::invalidArgument("alerts: expected an array");
  std::vector<Event> events(alerts->size());
  for (size_t i = 0; i < alerts->size(); ++i) {
    if (Status s = decodeAlert((*alerts)[i], i, received_at, events[i]); !s.isOk()) return s;
    if (auto receiver = stringField(payload, "receiver"); !receiver.empty()) events[i].labels.set("receiver", receiver);
  }
  for (auto& e : events) out.push_back(std::move(e));
  return Status::ok();
}

Result<PagerDutyRequest> decodePagerDuty(std::string_view body, TimePoint received_at) {
  if (!jsonNestingWithin(body, kMaxJsonNesting)) {
    return fail(Status::invalidArgument("body: nested deeper than " + std::to_string(kMaxJsonNesting) + " levels"));
  }
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return fail(Status::invalidArgument("body: expected a JSON object"));
  PagerDutyRequest r;
  const std::string action = stringField(j, "event_action");
  if (action == "trigger") r.action = PagerDutyRequest::Action::kTrigger;
  else if (action == "acknowledge") r.action = PagerDutyRequest::Action::kAcknowledge;
  else if (action == "resolve") r.action = PagerDutyRequest::Action::kResolve;
  else return fail(Status::invalidArgument("event_action: expected trigger, acknowledge or resolve"));
  r.dedup_key = stringField(j, "dedup_key");
  Event& e = r.event;
  e.source = "pagerduty";
  e.received_at = received_at;
  if (r.action == PagerDutyRequest::Action::kTrigger) {
    const json payload = j.value("payload", json());
    if (!payload.is_object()) return fail(Status::invalidArgument("payload: required for trigger"));
    e.message = stringField(payload, "summary");
    e.host = stringField(payload, "source");
    if (e.message.empty() || e.host.empty()) return fail(Status::invalidArgument("payload.summary and payload.source are required"));
    const std::string severity = stringField(payload, "severity");
    if (severity == "critical") e.severity = Severity::kCritical;
    else if (severity == "error") e.severity = Severity::kMajor;
    else if (severity == "warning") e.severity = Severity::kWarning;
    else if (severity == "info") e.severity = Severity::kInfo;
    else return fail(Status::invalidArgument("payload.severity: expected critical, error, warning or info"));
    e.type = stringField(payload, "class");
    if (e.type.empty()) e.type = stringField(payload, "component");
    if (auto t = parseRfc3339(stringField(payload, "timestamp"))) e.occurred_at = *t;
    for (const char* name : {"component", "group", "class"}) {
      if (auto v = stringField(payload, name); !v.empty()) e.labels.set(name, v);
    }
    if (auto details = payload.find("custom_details"); details != payload.end() && details->is_object()) {
      for (const auto& [k, v] : details->items()) e.labels.set("detail." + k, v.is_string() ? v.get<std::string>() : v.dump());
    }
    e.state = EventState::kProblem;
    if (r.dedup_key.empty()) r.dedup_key = fingerprintOf({{"source", e.host}, {"summary", e.message}});
  } else {
    if (r.dedup_key.empty()) return fail(Status::invalidArgument("dedup_key: required for " + action));
    e.host = "pagerduty";
    e.state = r.action == PagerDutyRequest::Action::kResolve ? EventState::kOk : EventState::kNone;
    e.message = action;
  }
  if (r.dedup_key.size() > 255) return fail(Status::invalidArgument("dedup_key: longer than 255 characters"));
  e.labels.set("dedup_key", r.dedup_key);
  return r;
}

}  // namespace vigil::connectors::http
