// RulesHarness: runs events through the real correlator (Correlator::build — the same Pipeline,
// IncidentEngine and components as vigild) on a temporary store with a virtual clock, one event
// per committed batch, and records what the rules decided for each. The engine behind
// `vigilctl rules test`.
// Thread-safety: use from one thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cmdb/ci_index.h"
#include "daemon/correlator_setup.h"
#include "daemon/event_json.h"
#include "daemon/incidents/incident.h"
#include "daemon/metrics/metrics.h"
#include "daemon/status.h"
#include "rules/rule_set.h"

namespace vigil::cli {

// What happened to one event.
struct EventTrace {
  Event event;                       // as the rules left it
  std::vector<std::string> matched;  // names of the rules whose match held, in order
  rules::Decision decision;
  incidents::ApplyOutcome outcome = incidents::ApplyOutcome::kIgnored;
};

std::string_view outcomeName(incidents::ApplyOutcome outcome);

// One input line → an event: a JSON object (first non-blank character '{') or a syslog line
// (RFC 5424 or 3164, as the syslog connector parses them). `format` is auto, json or syslog.
// `now` is the arrival time given to events and the year anchor of RFC 3164 timestamps.
Result<std::vector<Event>> parseInputLine(std::string_view line, std::string_view format, TimePoint now,
                                          EventDecoder& decoder);

class RulesHarness {
 public:
  // Opens a store in a new temporary directory (removed by the destructor) and starts the
  // correlator with the virtual clock at `start`.
  static Result<std::unique_ptr<RulesHarness>> start(std::shared_ptr<const rules::RuleSet> rules,
                                                     std::shared_ptr<const cmdb::CiSnapshot> cmdb,
                                                     PipelineOptions options, TimePoint start);
  ~RulesHarness();

  // The virtual clock: never goes back.
  TimePoint now() const { return TimePoint(Clock::duration(now_.load())); }
  // Moves the clock forward to `t` and lets the components act on it (timers), committed.
  Status advanceTo(TimePoint t);
  // Runs one event (the clock first moves to its time) and waits until its batch is committed.
  Result<EventTrace> feed(Event event);
  // Stops the correlator and returns every incident in the store, oldest first.
  Result<std::vector<incidents::Incident>> finish();

 private:
  class Observer;
  RulesHarness() = default;
  Status pushAndWait(connectors::EventBatch batch);

  std::string dir_;
  std::atomic<Clock::rep> now_{0};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<metrics::MetricsRegistry> registry_;
  std::unique_ptr<metrics::PipelineMetrics> metrics_;
  std::unique_ptr<Observer> observer_;
  std::unique_ptr<Correlator> correlator_;  // last: stopped first
};

}  // namespace vigil::cli
