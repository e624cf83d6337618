// Outbound webhooks: the `webhooks:` section of vigild's config, each receiver's matcher and its
// body template.
//
//   webhooks:
//     - name: tickets                      # [A-Za-z0-9_.-]+, unique; part of the idempotency key
//       url: https://tickets.example/api/vigil
//       match:                             # every list given must contain the value (any of)
//         change: [opened, resolved]       # opened|updated|acknowledged|resolved|closed|reopened
//         state: [open, resolved]
//         severity: [critical, major]
//         priority: [P1, P2]
//         service: [payments]              # any of the incident's services
//         ci: [...], assignment_group: [...], host: [...], rule: [...]
//       template: {summary: "{{incident.title}}", id: "{{incident.id}}", what: "{{change}}"}
//       headers: {X-Api-Key: secret}
//       timeout: 10s                       # per call
//       max_retries: 10                    # then the change goes to the dead letters
//       backoff: {initial: 1s, max: 5m}    # doubled per failed attempt
//
// The template is a JSON/YAML value whose strings may hold {{path}} references into the change
// record {"seq","change","incident":{…}}: a string that is exactly one reference takes the
// referenced value with its type; references inside longer strings are replaced by their text.
// Without a template the body is the change record itself.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "daemon/incidents/incident.h"
#include "daemon/incidents/incident_engine.h"
#include "daemon/status.h"

namespace vigil::outbound {

struct WebhookMatcher {
  std::vector<incidents::ChangeKind> changes;
  std::vector<incidents::IncidentState> states;
  std::vector<Severity> severities;
  std::vector<uint8_t> priorities;
  std::vector<std::string> services;
  std::vector<std::string> cis;
  std::vector<std::string> groups;
  std::vector<std::string> hosts;
  std::vector<std::string> rules;

  bool matches(incidents::ChangeKind change, const incidents::Incident& in) const;
  bool operator==(const WebhookMatcher&) const = default;
};

struct WebhookConfig {
  std::string name;
  std::string url;
  WebhookMatcher match;
  std::optional<nlohmann::json> body_template;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{10000};
  int max_retries = 10;
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{300000};
  bool operator==(const WebhookConfig&) const = default;  // a reload restarts a receiver that changed
};

Result<std::vector<WebhookConfig>> parseWebhooks(const YAML::Node& section, std::string_view file);

// The body sent for one change record (`record` is the change record's JSON).
std::string renderBody(const WebhookConfig& config, const nlohmann::json& record);

}  // namespace vigil::outbound
