// Helpers shared by the rules tests: building events and evaluating inline rule files.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "daemon/event.h"
#include "rules/decision.h"
#include "rules/rule_set.h"

namespace vigil::rules::testing {

// The parts of an Event the rules read, with designated initialisers in tests.
struct EventSpec {
  std::string source = "syslog/udp";
  std::string host = "sw1";
  std::string ci;
  std::string type;
  Severity severity = Severity::kInfo;
  EventState state = EventState::kNone;
  std::string message;
  std::vector<std::pair<std::string, std::string>> labels = {};
};

inline Event makeEvent(const EventSpec& spec) {
  Event e;
  e.source = spec.source;
  e.host = spec.host;
  e.ci = spec.ci;
  e.type = spec.type;
  e.severity = spec.severity;
  e.state = spec.state;
  e.message = spec.message;
  for (const auto& [k, v] : spec.labels) {
    e.labels.set(k, v);
  }
  return e;
}

// Compiles `yaml` or fails the test with the load errors.
inline std::shared_ptr<const RuleSet> mustLoad(std::string_view yaml) {
  auto set = RuleSet::loadString(yaml, "test.yaml");
  if (!set) {
    ADD_FAILURE() << set.error().message();
    return nullptr;
  }
  return *set;
}

// The load error of `yaml` as text ("" when it loaded).
inline std::string loadError(std::string_view yaml) {
  auto set = RuleSet::loadString(yaml, "test.yaml");
  return set ? std::string() : set.error().message();
}

}  // namespace vigil::rules::testing
