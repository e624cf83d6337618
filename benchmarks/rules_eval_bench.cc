// RuleSet::evaluate() throughput over a generated 200-rule set that looks like a real one:
// mostly message regexes with captures (syslog), some `type:` rules (Kafka/HTTP events), some
// label rules that every event must be checked against.
//
//   build-rules/benchmarks/rules_eval_bench --benchmark_filter=Rules
//
// Targets: >= 1 M events/s/core for events that match no rule; >= 300 k events/s for events that
// match a rule and update an incident (RuleSet + IncidentEngine in memory, BM_RulesUpdateIncident).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "daemon/event.h"
#include "daemon/incidents/incident_engine.h"
#include "rules/rule_set.h"

namespace vigil::rules {
namespace {

constexpr int kRules = 200;

std::string generateRules() {
  std::string yaml = "rules:\n";
  for (int i = 0; i < kRules; ++i) {
    const std::string id = std::to_string(i);
    yaml += "  - name: rule-" + id + "\n    match:\n      source: {prefix: syslog}\n";
    if (i % 10 < 7) {  // 140 message regexes with captures
      yaml += "      message: {regex: '%FAC" + id +
              "-\\d-[A-Z_]+: Interface (?P<interface>[^\\s,]+), changed state to (?P<to>down|up)'}\n";
    } else if (i % 10 < 9) {  // 40 typed rules
      yaml += "      type: type" + id + "\n      severity: {ge: minor}\n";
    } else {  // 20 label rules
      yaml += "      labels.app: app" + id + "\n      labels.mnemonic: {exists: true}\n";
    }
    // Only the regex rules capture `interface`; the others read the label.
    const std::string iface = i % 10 < 7 ? "{{interface}}" : "{{labels.interface}}";
    yaml += "    set:\n      type: link\n      state: problem\n      severity: major\n"
            "      labels: {interface: '" + iface + "'}\n"
            "    key: '{{host}}/link/" + iface + "'\n"
            "    title: 'Link down on {{host}} " + iface + "'\n";
  }
  return yaml;
}

std::shared_ptr<const RuleSet> ruleSet() {
  static const std::shared_ptr<const RuleSet> set = [] {
    auto s = RuleSet::loadString(generateRules(), "bench.yaml");
    if (!s) {
      std::fprintf(stderr, "%s\n", s.error().message().c_str());
      std::abort();
    }
    return *s;
  }();
  return set;
}

Event syslogEvent(std::string message) {
  Event e;
  e.source = "syslog/udp";
  e.host = "core-sw-01.example.net";
  e.message = std::move(message);
  e.labels.set("app", "sshd");
  e.labels.set("facility", "auth");
  return e;
}

void BM_RulesNoMatch(benchmark::State& state) {
  auto set = ruleSet();
  std::vector<Event> events = {
      syslogEvent("%SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.20.30.40)"),
      syslogEvent("Accepted publickey for deploy from 10.0.0.9 port 50122 ssh2: ED25519 SHA256:x"),
      syslogEvent("%SEC-6-IPACCESSLOGP: list 101 denied tcp 10.1.1.1(1234) -> 10.2.2.2(80), 1 pkt"),
      syslogEvent("%FAC999-5-UPDOWN: Interface GigabitEthernet0/1, changed state to down"),
  };
  Decision decision;
  size_t i = 0;
  for (auto _ : state) {
    Event& e = events[i++ & 3];
    set->evaluate(e, decision);
    benchmark::DoNotOptimize(decision.action);
  }
  if (decision.action != Action::kNone) {
    state.SkipWithError("an event matched");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RulesNoMatch)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_RulesMatch(benchmark::State& state) {
  auto set = ruleSet();
  // Matches rule 153 (a regex rule late in the file): captures, set, key and title rendered.
  Event e = syslogEvent("%FAC153-3-UPDOWN: Interface TenGigabitEthernet1/0/48, changed state to down");
  Decision decision;
  for (auto _ : state) {
    e.type.clear();
    e.state = EventState::kNone;
    set->evaluate(e, decision);
    benchmark::DoNotOptimize(decision.key.data());
  }
  if (decision.rule != "rule-153") {
    state.SkipWithError("the event did not match rule-153");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RulesMatch)->Repetitions(5)->ReportAggregatesOnly(true);

// The correlator's step for an event that updates an open incident: rules (a regex rule with
// captures, set, key and title) then the incident engine (count, severity, recent events). The
// changes are taken once per 8192 events, as the pipeline does once per batch.
void BM_RulesUpdateIncident(benchmark::State& state) {
  auto set = ruleSet();
  incidents::IncidentEngine engine;
  incidents::ChangeSet changes;
  std::vector<Event> events;
  for (int i = 0; i < 16; ++i) {
    events.push_back(syslogEvent("%FAC" + std::to_string(10 * i + i % 7) + "-3-UPDOWN: Interface TenGigabitEthernet1/0/" +
                                 std::to_string(i) + ", changed state to down"));
  }
  Decision decision;
  size_t n = 0;
  int64_t updated = 0;
  for (auto _ : state) {
    Event& e = events[n & 15];
    e.type.clear();
    e.state = EventState::kNone;
    set->evaluate(e, nullptr, decision);
    updated += engine.apply(e, decision) == incidents::ApplyOutcome::kUpdated;
    if ((++n & 8191) == 0) engine.takeChanges(changes);
  }
  if (updated + 16 < static_cast<int64_t>(state.iterations())) {
    state.SkipWithError("events did not update incidents");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RulesUpdateIncident)->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace vigil::rules
