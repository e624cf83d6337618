// CorrelationComponent: the state of the rules' correlation primitives (threshold, pair timeout,
// flapping, burst grouping, heartbeat) and lifecycle hooks (reopen_within, auto_close_after), on
// the correlator thread. See docs/rules.md, "Correlation" and "Event time".
//
// Clock. Windows and timers run on event time: the correlation clock is the latest event time
// seen (Event::time(): the event's own timestamp, arrival time when it has none). In live mode
// (`wall_clock`) onTick's wall time also advances it, so a heartbeat fires while traffic is
// quiet; a replay (`vigild --replay`) uses event time only, so the same stream gives the same
// incidents however it is batched or paced. Timers due at or before the clock fire before the
// next event is applied, and act at their own deadline (an incident resolved by a pair timeout
// at 10:30 says 10:30, whenever that was noticed).
// Late events: an event older than clock − allowed_lateness is counted (lateEvents()) and its
// primitives see it at clock − allowed_lateness; the incident step still uses its own time.
//
// State. One record per (partition, rule, key) in Column::kCorrelation — per (partition, key)
// for pair and flapping, whose problem and clear come from different rules — holding the rule's
// name and spec hash: at restore and on a rule-set change, records of rules that are gone or whose
// primitive changed are dropped; unchanged rules keep their state across restarts and reloads.
// Resolved incidents of rules with lifecycle hooks are remembered per key for reopen/auto-close.
// The records travel with their partition (scale-out changelog): a takeover loads them
// (loadPartition), so windows, pairs, flapping, heartbeats and auto-close timers go on there.
// Thread-safety: correlator thread only (a CorrelatorComponent).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <prometheus/counter.h>

#include "daemon/pipeline.h"
#include "rules/correlation.h"

namespace vigil::correlation {

struct CorrelationOptions {
  // How far behind the clock an event may be and still count in windows as of its own time.
  std::chrono::milliseconds allowed_lateness{std::chrono::minutes(5)};
  // Live: onTick's `now` advances the clock. Replay: event time only (deterministic).
  bool wall_clock = true;
  // Counts events later than allowed_lateness (vigil_events_late_total); may be null.
  prometheus::Counter* late_events = nullptr;
};

class CorrelationComponent final : public CorrelatorComponent {
 public:
  CorrelationComponent(CorrelationOptions options, std::shared_ptr<const rules::RuleSet> rules);

  Status restore(const store::Store& store) override;
  void onRules(const std::shared_ptr<const rules::RuleSet>& rules) override;
  void onTick(TimePoint now, incidents::IncidentEngine& engine) override;
  void onEvent(Event& event, rules::Decision& decision, incidents::IncidentEngine& engine) override;
  void onChanges(const incidents::ChangeSet& changes) override;
  void collectStateOps(std::vector<store::StateOp>& out) override;
  Status loadPartition(const store::Store& store, uint16_t partition) override;
  void forgetPartition(uint16_t partition) override;

  TimePoint clock() const { return clock_; }
  uint64_t lateEvents() const { return late_events_; }
  // Keys with primitive state, and resolved incidents remembered for the lifecycle hooks.
  size_t stateCount() const { return entries_.size(); }
  size_t resolvedCount() const { return resolved_.size(); }

 private:
  // The state of one primitive for one key.
  struct Entry {
    const rules::Correlation* spec = nullptr;  // in rules_
    uint16_t partition = 0;
    std::string key;                            // incident key; the group key for kGroup
    std::vector<TimePoint> times;               // threshold: held events; flapping: changes
    std::vector<rules::TriggerEvent> held;      // threshold: the held events (provenance)
    std::optional<TimePoint> deadline;          // when the timer acts
    EventState last_state = EventState::kNone;  // flapping
    bool flapping = false;
    bool opened = false;                        // heartbeat: its missing-incident is open
    std::string target;                         // group: the incident its events join
    // heartbeat: what the missing-event incident looks like
    std::string title, host, ci, type;
    Severity severity = Severity::kMajor;
  };
  // A resolved incident remembered for reopen_within / auto_close_after.
  struct Resolved {
    std::string rule;
    uint16_t partition = 0;
    std::string key;
    incidents::IncidentId id = 0;
    TimePoint resolved_at{};
    std::optional<TimePoint> deadline;  // auto-close
  };

  // Loads the records of one partition from the store (at start and on a takeover).
  Status loadRecords(const store::Store& store, uint16_t partition, size_t& kept, size_t& dropped);
  void correlate(Event& event, rules::Decision& decision, incidents::IncidentEngine& engine);
  // The active incident under `key` is about to be resolved at `at`: remember it when its rule
  // has lifecycle hooks.
  void noteResolved(uint16_t partition, const std::string& key, TimePoint at, incidents::IncidentEngine& engine);
  void advance(TimePoint to, incidents::IncidentEngine& engine);
  void fireDue(incidents::IncidentEngine& engine);
  void fire(const std::string& id, TimePoint at, incidents::IncidentEngine& engine);
  // False when the record has served its purpose.
  bool fireEntry(Entry& entry, TimePoint at, incidents::IncidentEngine& engine);
  void fireResolved(const Resolved& resolved, TimePoint at, incidents::IncidentEngine& engine);
  bool reopen(const Event& event, const rules::Decision& decision, TimePoint t, incidents::IncidentEngine& engine);

  void threshold(const std::string& id, const Event& event, rules::Decision& decision, TimePoint t,
                 incidents::IncidentEngine& engine);
  // pair and flapping: state per key, fed by every rule deciding on the key (the clear usually
  // comes from another rule than the problem).
  void keyed(const Event& event, rules::Decision& decision, TimePoint t, incidents::IncidentEngine& engine);
  void pair(const std::string& id, const rules::Correlation& c, rules::Decision& decision, TimePoint t);
  void flapping(const std::string& id, const rules::Correlation& c, rules::Decision& decision, TimePoint t,
                incidents::IncidentEngine& engine);
  void group(const Event& event, rules::Decision& decision, TimePoint t, incidents::IncidentEngine& engine);
  void heartbeat(const std::string& id, const Event& event, rules::Decision& decision, TimePoint t,
                 incidents::IncidentEngine& engine);

  Entry& entry(const std::string& id, const rules::Correlation* spec, uint16_t partition, const std::string& key);
  void erase(const std::string& id);
  void setDeadline(const std::string& id, std::optional<TimePoint>& slot, std::optional<TimePoint> deadline);
  const rules::Correlation* correlationOf(const std::string& rule) const;
  void resolveSynthetic(const Entry& entry, TimePoint at, std::string message, incidents::IncidentEngine& engine);

  const CorrelationOptions options_;
  std::shared_ptr<const rules::RuleSet> rules_;
  std::unordered_map<std::string, const rules::Correlation*> by_rule_;  // rules with a correlation
  bool has_lifecycle_ = false;  // some rule has reopen_within or auto_close_after
  bool commandOnResolved(incidents::IncidentEngine& engine, incidents::IncidentCommand::Verb verb, incidents::IncidentId id,
                         const std::string& rule, std::string text, TimePoint at) const;

  const store::Store* store_ = nullptr;

  TimePoint clock_{};        // correlation clock
  TimePoint event_clock_{};  // latest event time seen (persisted)
  bool clock_dirty_ = false;
  uint64_t late_events_ = 0;

  // Ids are u16 BE partition + record key: "s<rule>\0<key>" (threshold, heartbeat, group),
  // "k<key>" (pair, flapping: per key), "r<key>" (a resolved incident).
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<std::string, Resolved> resolved_;
  std::set<std::pair<TimePoint, std::string>> timers_;
  size_t keyed_ = 0;  // "k" records in entries_
  std::unordered_set<std::string> dirty_;
  std::set<uint16_t> partitions_;  // partitions holding records (for restore)
  bool partitions_dirty_ = false;

  std::vector<rules::TriggerEvent> triggers_;  // provenance of the decision being returned
  std::string id_;                             // scratch
};

}  // namespace vigil::correlation
