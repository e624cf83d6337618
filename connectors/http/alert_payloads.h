// Decoders for the alert payloads monitoring tools push over HTTP. Each alert becomes one Event;
// the shipped rules (config/rules.d/20-alert-intake.yaml) key the incidents by the tool's own
// dedup identity, so firing/resolved or trigger/resolve pairs land on the same incident.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon/event.h"
#include "daemon/status.h"

namespace vigil::connectors::http {

// Prometheus Alertmanager webhook payload, version 4. Per alert: host from the labels `host`,
// `hostname`, `instance` (port stripped), `node` or `job`; type = alertname; state from status
// (firing → problem, resolved → ok); severity from the `severity` label; message from the
// summary or description annotation; time from startsAt/endsAt. Labels are kept as they are,
// annotations as `annotation.<name>`, and `fingerprint` (computed from the labels when the
// sender left it out) identifies the alert.
Status decodeAlertmanager(std::string_view body, TimePoint received_at, std::vector<Event>& out);

// What a PagerDuty Events API v2 body asks for.
struct PagerDutyRequest {
  enum class Action : uint8_t { kTrigger, kAcknowledge, kResolve };
  Action action = Action::kTrigger;
  std::string dedup_key;  // generated for a trigger that has none
  Event event;            // source "pagerduty", labels.dedup_key set; state problem or ok
};
Result<PagerDutyRequest> decodePagerDuty(std::string_view body, TimePoint received_at);

}  // namespace vigil::connectors::http
