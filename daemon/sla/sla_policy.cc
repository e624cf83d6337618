#include "daemon/sla/sla_policy.h"

#include <algorithm>

#include "daemon/config/yaml_list.h"
#include "daemon/yaml_util.h"

namespace vigil::sla {

std::string_view clockName(SlaClock clock) { return clock == SlaClock::kAcknowledge ? "acknowledge" : "resolve"; }

namespace {

using config::parsePriority;
using config::readList;

void parseStep(std::string_view file, const YAML::Node& node, size_t index, EscalationStep& step,
               ConfigErrors& errors) {
  errors.add(checkKeys(file, node, {"name", "after", "on", "unless", "match", "set"}));
  step.name = "escalation-" + std::to_string(index + 1);
  if (node["name"]) errors.take(readString(file, node["name"]), step.name);
  if (node["after"] && node["on"]) errors.add(yamlError(file, node, "give either 'after' or 'on', not both"));
  if (!node["after"] && !node["on"]) errors.add(yamlError(file, node, "missing 'after' (a duration) or 'on'"));
  if (node["after"]) errors.take(readDuration(file, node["after"]), step.after);
  if (node["on"]) {
    std::string on;
    if (errors.take(readString(file, node["on"]), on)) {
      if (on == "acknowledge_breach") {
        step.trigger = EscalationStep::Trigger::kAcknowledgeBreach;
      } else if (on == "resolve_breach") {
        step.trigger = EscalationStep::Trigger::kResolveBreach;
      } else {
        errors.add(yamlError(file, node["on"], "expected acknowledge_breach or resolve_breach"));
      }
    }
  }
  if (node["unless"]) {
    std::string unless;
    if (errors.take(readString(file, node["unless"]), unless)) {
      if (unless == "acknowledged" || unless == "none") {
        step.unless_acknowledged = unless == "acknowledged";
      } else {
        errors.add(yamlError(file, node["unless"], "expected acknowledged or none"));
      }
    }
  }
  auto severity = [](const std::string& s) { return parseSeverity(s); };
  auto text = [](const std::string& s) { return std::optional<std::string>(s); };
  if (const auto match = node["match"]) {
    errors.add(checkKeys(file, match, {"priority", "severity", "service", "assignment_group"}));
    if (match["priority"]) readList(file, match["priority"], "priority P1..P5", parsePriority, step.priorities, errors);
    if (match["severity"]) readList(file, match["severity"], "severity", severity, step.severities, errors);
    if (match["service"]) readList(file, match["service"], "service", text, step.services, errors);
    if (match["assignment_group"]) readList(file, match["assignment_group"], "group", text, step.groups, errors);
  }
  const auto set = node["set"];
  if (!set) {
    errors.add(yamlError(file, node, "missing 'set' (what the escalation changes)"));
    return;
  }
  errors.add(checkKeys(file, set, {"severity", "priority", "assignment_group", "assignee"}));
  std::string value;
  if (set["severity"] && errors.take(readString(file, set["severity"]), value)) {
    step.severity = parseSeverity(value);
    if (!step.severity) errors.add(yamlError(file, set["severity"], "unknown severity '" + value + "'"));
  }
  if (set["priority"] && errors.take(readString(file, set["priority"]), value)) {
    step.priority = parsePriority(value);
    if (!step.priority) errors.add(yamlError(file, set["priority"], "expected P1..P5, got '" + value + "'"));
  }
  if (set["assignment_group"] && errors.take(readString(file, set["assignment_group"]), value)) step.assignment_group = value;
  if (set["assignee"] && errors.take(readString(file, set["assignee"]), value)) step.assignee = value;
  if (!step.severity && !step.priority && !step.assignment_group && !step.assignee) {
    errors.add(yamlError(file, set, "'set' changes nothing: give severity, priority, assignment_group or assignee"));
  }
}

}  // namespace

bool EscalationStep::matches(const incidents::Incident& in) const {
  auto contains = [](const auto& list, const auto& v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
  };
  if (!contains(priorities, in.priority) || !contains(severities, in.severity) ||
      !contains(groups, in.assignment_group)) {
    return false;
  }
  if (services.empty()) return true;
  return std::any_of(in.services.begin(), in.services.end(),
                     [&](const std::string& s) { return contains(services, s); });
}

bool SlaPolicy::empty() const {
  return escalations.empty() && std::all_of(by_priority.begin(), by_priority.end(), [](const SlaTargets& t) {
           return !t.acknowledge && !t.resolve;
         });
}

Result<SlaPolicy> parseSlaPolicy(const YAML::Node& sla, const YAML::Node& escalation, std::string_view file) {
  SlaPolicy policy;
  ConfigErrors errors;
  if (sla && !sla.IsNull()) {
    if (!sla.IsMap()) {
      errors.add(yamlError(file, sla, "expected a map of priority (P1..P5) to {acknowledge, resolve}"));
    } else {
      for (const auto& entry : sla) {
        const std::string name = entry.first.as<std::string>("");
        const auto priority = parsePriority(name);
        if (!priority) {
          errors.add(yamlError(file, entry.first, "expected a priority P1..P5, got '" + name + "'"));
          continue;
        }
        const YAML::Node& targets = entry.second;
        errors.add(checkKeys(file, targets, {"acknowledge", "resolve"}));
        std::chrono::milliseconds d{0};
        SlaTargets& t = policy.by_priority[*priority];
        if (targets["acknowledge"] && errors.take(readDuration(file, targets["acknowledge"]), d)) t.acknowledge = d;
        if (targets["resolve"] && errors.take(readDuration(file, targets["resolve"]), d)) t.resolve = d;
      }
    }
  }
  if (escalation && !escalation.IsNull()) {
    if (!escalation.IsSequence()) {
      errors.add(yamlError(file, escalation, "expected a list of escalation steps"));
    } else {
      for (size_t i = 0; i < escalation.size(); ++i) {
        EscalationStep step;
        parseStep(file, escalation[i], i, step, errors);
        for (const auto& other : policy.escalations) {
          if (other.name == step.name) {
            errors.add(yamlError(file, escalation[i], "duplicate escalation name '" + step.name + "'"));
          }
        }
        policy.escalations.push_back(std::move(step));
      }
    }
  }
  if (!errors.empty()) return fail(errors.status());
  return policy;
}

}  // namespace vigil::sla
