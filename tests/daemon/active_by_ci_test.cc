#include "daemon/incidents/active_by_ci.h"

#include <map>
#include <random>

#include <gtest/gtest.h>

namespace vigil::incidents {
namespace {

Event makeEvent(const std::string& ci, Severity severity) {
  Event e;
  e.source = "test";
  e.host = ci;
  e.ci = ci;
  e.type = "link";
  e.state = EventState::kProblem;
  e.severity = severity;
  e.received_at = Clock::now();
  e.message = "msg";
  return e;
}

rules::Decision decide(rules::Action action, std::string key) {
  rules::Decision d;
  d.action = action;
  d.key = std::move(key);
  d.title = d.key;
  d.rule = "r";
  return d;
}

// What a full recount gives: the worst severity of each CI's active incidents.
std::map<std::string, Severity> recount(const IncidentEngine& engine) {
  std::map<std::string, Severity> worst;
  engine.forEachActive([&](const Incident& in) {
    if (in.ci.empty()) return;
    auto [it, inserted] = worst.try_emplace(in.ci, in.severity);
    if (!inserted) it->second = std::min(it->second, in.severity);
  });
  return worst;
}

TEST(ActiveSeverityByCi, KeptInStepBatchByBatchEqualsAFullRecount) {
  const std::vector<std::string> cis = {"sw1", "sw2", "srv1", "srv2", ""};
  std::mt19937 rng(7);
  IncidentEngine engine;
  ActiveSeverityByCi view;
  ChangeSet changes;
  size_t compared = 0;
  for (int batch = 0; batch < 300; ++batch) {
    const int events = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < events; ++i) {
      const std::string& ci = cis[rng() % cis.size()];
      const std::string key = ci + "/" + std::to_string(rng() % 3);
      const auto severity = static_cast<Severity>(rng() % 5);
      switch (rng() % 4) {
        case 0:
          engine.apply(makeEvent(ci, severity), decide(rules::Action::kResolve, key));
          break;
        case 1: {  // a person acknowledges or re-rates an active incident
          std::vector<IncidentId> ids;
          engine.forEachActive([&](const Incident& in) { ids.push_back(in.id); });
          if (ids.empty()) break;
          IncidentCommand cmd;
          cmd.id = ids[rng() % ids.size()];
          cmd.actor = "noc";
          cmd.verb = rng() % 2 ? IncidentCommand::Verb::kAcknowledge : IncidentCommand::Verb::kSetSeverity;
          cmd.severity = severity;
          (void)engine.command(cmd, Clock::now(), std::nullopt);
          break;
        }
        default:
          engine.apply(makeEvent(ci, severity), decide(rules::Action::kOpen, key));
      }
    }
    engine.takeChanges(changes);
    view.apply(changes);
    const auto expected = recount(engine);
    for (const auto& ci : cis) {
      if (ci.empty()) continue;
      const auto it = expected.find(ci);
      EXPECT_EQ(view.worst(ci), it == expected.end() ? std::nullopt : std::optional(it->second))
          << "batch " << batch << ", CI " << ci;
      ++compared;
    }
    EXPECT_EQ(view.cis(), expected.size()) << "batch " << batch;  // CIs with nothing active leave
  }
  EXPECT_EQ(compared, 300u * 4);
  ActiveSeverityByCi rebuilt;
  rebuilt.rebuild(engine);
  for (const auto& ci : cis) EXPECT_EQ(rebuilt.worst(ci), view.worst(ci)) << ci;
}

}  // namespace
}  // namespace vigil::incidents
