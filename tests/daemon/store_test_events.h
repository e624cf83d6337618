// The link events and open decisions the store tests commit through the incident engine.
#pragma once

#include <string>

#include "daemon/event.h"
#include "rules/decision.h"

namespace vigil::store::testing_events {

inline Event problem(const std::string& host, uint16_t partition = 0) {
  Event e;
  e.source = "test";
  e.host = host;
  e.type = "link";
  e.state = EventState::kProblem;
  e.severity = Severity::kMajor;
  e.partition = partition;
  e.received_at = Clock::now();
  e.message = "down";
  return e;
}

inline rules::Decision open(const std::string& key) {
  return {rules::Action::kOpen, key, "Link down " + key, "link-down"};
}

}  // namespace vigil::store::testing_events
