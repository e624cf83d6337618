// SlaPolicy: the SLA targets per priority and the escalation steps, from the `sla:` and
// `escalation:` sections of vigild's config. Parsed once at load; const afterwards.
//
//   sla:
//     P1: {acknowledge: 15m, resolve: 4h}
//     P2: {acknowledge: 30m, resolve: 8h}
//   escalation:
//     - name: p1-unacked                  # optional; default "escalation-N"
//       after: 30m                        # since the clocks started (open or reopen) …
//       # on: acknowledge_breach          # … or when an SLA clock breaches (instead of after)
//       unless: acknowledged              # default; `none` escalates acknowledged ones too
//       match: {priority: [P1, P2], severity: [...], service: [...], assignment_group: [...]}
//       set: {severity: critical, priority: P1, assignment_group: noc-l2, assignee: ...}
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/event.h"
#include "daemon/incidents/incident.h"
#include "daemon/status.h"

namespace vigil::sla {

struct SlaTargets {
  std::optional<std::chrono::milliseconds> acknowledge;
  std::optional<std::chrono::milliseconds> resolve;
};

enum class SlaClock : uint8_t { kAcknowledge, kResolve };
std::string_view clockName(SlaClock clock);

struct EscalationStep {
  enum class Trigger : uint8_t { kAfter, kAcknowledgeBreach, kResolveBreach };
  std::string name;
  Trigger trigger = Trigger::kAfter;
  std::chrono::milliseconds after{0};
  bool unless_acknowledged = true;
  // Match: each non-empty list must contain the incident's value.
  std::vector<uint8_t> priorities;
  std::vector<Severity> severities;
  std::vector<std::string> services;  // any of the incident's services
  std::vector<std::string> groups;
  // Set:
  std::optional<Severity> severity;
  std::optional<uint8_t> priority;
  std::optional<std::string> assignment_group;
  std::optional<std::string> assignee;

  bool matches(const incidents::Incident& in) const;
};

struct SlaPolicy {
  std::array<SlaTargets, 6> by_priority;  // index 1..5
  std::vector<EscalationStep> escalations;

  bool empty() const;
  const SlaTargets& targets(uint8_t priority) const { return by_priority[priority < 6 ? priority : 0]; }
};

// Either node may be null (section absent). Errors are "file:line:col: message", one per line.
Result<SlaPolicy> parseSlaPolicy(const YAML::Node& sla, const YAML::Node& escalation, std::string_view file);

}  // namespace vigil::sla
