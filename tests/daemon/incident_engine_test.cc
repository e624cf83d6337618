#include "daemon/incidents/incident_engine.h"

#include <map>
#include <random>

#include <gtest/gtest.h>

#include "daemon/incidents/active_by_ci.h"

namespace vigil::incidents {
namespace {

Event makeEvent(std::string host, EventState state, Severity severity = Severity::kMajor, uint16_t partition = 0) {
  Event e;
  e.source = "test";
  e.host = std::move(host);
  e.type = "link";
  e.state = state;
  e.severity = severity;
  e.partition = partition;
  e.received_at = Clock::now();
  e.message = "msg";
  return e;
}

rules::Decision decide(rules::Action action, std::string key) {
  rules::Decision d;
  d.action = action;
  d.key = std::move(key);
  d.title = "title " + d.key;
  d.rule = "r";
  return d;
}

TEST(IncidentEngine, OpensOnceAndCoalescesUpdatesWithinABatch) {
  IncidentEngine engine;
  EXPECT_EQ(engine.apply(makeEvent("a", EventState::kProblem, Severity::kMinor), decide(rules::Action::kOpen, "k")),
            ApplyOutcome::kOpened);
  EXPECT_EQ(engine.apply(makeEvent("a", EventState::kProblem, Severity::kCritical), decide(rules::Action::kOpen, "k")),
            ApplyOutcome::kUpdated);
  EXPECT_EQ(engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "k")),
            ApplyOutcome::kUpdated);
  ChangeSet changes;
  engine.takeChanges(changes);
  ASSERT_EQ(changes.incidents.size(), 1u);
  const Incident& in = *changes.incidents[0];
  EXPECT_EQ(in.id, 1u);
  EXPECT_EQ(in.event_count, 3u);
  EXPECT_EQ(in.severity, Severity::kCritical);  // the worst seen
  EXPECT_EQ(in.priority, 1);
  EXPECT_EQ(in.state, IncidentState::kOpen);
  EXPECT_EQ(in.revision, 1u);
  ASSERT_EQ(changes.changes.size(), 1u);
  EXPECT_EQ(changes.changes[0].kind, ChangeKind::kOpened);
  ASSERT_EQ(changes.key_ops.size(), 1u);
  EXPECT_EQ(changes.key_ops[0].id, std::optional<IncidentId>(1));
  ASSERT_EQ(changes.next_sequences.size(), 1u);
  EXPECT_EQ(changes.next_sequences[0].second, 2u);
}

TEST(IncidentEngine, AReusedChangeSetCarriesOnlyThisBatchsIncidentsInTheirCurrentState) {
  IncidentEngine engine;
  ChangeSet changes;
  engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "a"));
  engine.apply(makeEvent("b", EventState::kProblem), decide(rules::Action::kOpen, "b"));
  engine.apply(makeEvent("c", EventState::kProblem), decide(rules::Action::kOpen, "c"));
  engine.takeChanges(changes);
  ASSERT_EQ(changes.incidents.size(), 3u);
  engine.apply(makeEvent("c", EventState::kOk), decide(rules::Action::kResolve, "c"));
  engine.takeChanges(changes);
  // The slot that held "a" now holds "c", resolved: nothing of "a" is left in it.
  ASSERT_EQ(changes.incidents.size(), 1u);
  EXPECT_EQ(changes.incidents[0]->key, "c");
  EXPECT_EQ(changes.incidents[0]->title, "title c");
  EXPECT_EQ(changes.incidents[0]->state, IncidentState::kResolved);
  EXPECT_EQ(changes.incidents[0]->timeline.size(), 2u);
  EXPECT_EQ(changes.incidents[0]->recent_events.size(), 2u);
  EXPECT_EQ(changes.changes.size(), 1u);
  engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "a"));
  engine.apply(makeEvent("d", EventState::kProblem), decide(rules::Action::kOpen, "d"));
  engine.takeChanges(changes);
  ASSERT_EQ(changes.incidents.size(), 2u);
  EXPECT_EQ(changes.incidents[0]->key, "a");
  EXPECT_FALSE(changes.incidents[0]->resolved_at.has_value());
  EXPECT_EQ(changes.incidents[0]->event_count, 2u);
  EXPECT_EQ(changes.incidents[0]->revision, 2u);
  EXPECT_EQ(changes.incidents[1]->key, "d");
  EXPECT_EQ(changes.incidents[1]->recent_events.size(), 1u);
  EXPECT_EQ(*engine.findActive(0, "a"), *changes.incidents[0]);
  EXPECT_EQ(*engine.findActive(0, "d"), *changes.incidents[1]);
  engine.takeChanges(changes);
  EXPECT_TRUE(changes.incidents.empty());
  EXPECT_TRUE(changes.changes.empty());
  EXPECT_TRUE(changes.key_ops.empty());
}

TEST(IncidentEngine, ABatchHandedOutKeepsItsIncidentsAsTheyWereWhileTheEngineChangesThemAgain) {
  IncidentEngine engine;
  ChangeSet held;  // as the committer holds a batch while the correlator goes on
  engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "a"));
  engine.apply(makeEvent("b", EventState::kProblem), decide(rules::Action::kOpen, "b"));
  engine.takeChanges(held);
  ASSERT_EQ(held.incidents.size(), 2u);
  const IncidentId a = held.incidents[0]->id;
  const IncidentId b = held.incidents[1]->id;

  // Every way the engine changes an active incident.
  engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "a"));
  OpenContext symptom;
  symptom.parent = a;
  engine.apply(makeEvent("c", EventState::kProblem), decide(rules::Action::kOpen, "c"), &symptom);
  ASSERT_TRUE(engine.command({IncidentCommand::Verb::kAcknowledge, a, "ops"}, Clock::now(), std::nullopt).has_value());
  engine.modifyActive(0, "b")->stale = true;
  EXPECT_TRUE(engine.update(b, [](Incident& in) { in.escalations.push_back("page"); }));
  engine.apply(makeEvent("b", EventState::kOk), decide(rules::Action::kResolve, "b"));

  const Incident& held_a = *held.incidents[0];
  const Incident& held_b = *held.incidents[1];
  EXPECT_EQ(held_a.event_count, 1u);
  EXPECT_EQ(held_a.state, IncidentState::kOpen);
  EXPECT_EQ(held_a.symptom_count, 0u);
  EXPECT_EQ(held_a.timeline.size(), 1u);
  EXPECT_EQ(held_a.revision, 1u);
  EXPECT_EQ(held_b.state, IncidentState::kOpen);
  EXPECT_FALSE(held_b.stale);
  EXPECT_TRUE(held_b.escalations.empty());
  EXPECT_EQ(held_b.revision, 1u);

  ChangeSet next;
  engine.takeChanges(next);
  ASSERT_EQ(next.incidents.size(), 3u);
  EXPECT_EQ(next.incidents[0]->id, a);
  EXPECT_EQ(next.incidents[0]->event_count, 2u);
  EXPECT_EQ(next.incidents[0]->state, IncidentState::kAcknowledged);
  EXPECT_EQ(next.incidents[0]->symptom_count, 1u);
  EXPECT_EQ(next.incidents[0]->revision, 2u);
  EXPECT_EQ(next.incidents[2]->id, b);
  EXPECT_EQ(next.incidents[2]->state, IncidentState::kResolved);
  EXPECT_TRUE(next.incidents[2]->stale);
  EXPECT_EQ(next.incidents[2]->escalations.size(), 1u);
  EXPECT_EQ(next.incidents[2]->revision, 2u);
  EXPECT_EQ(*engine.findActive(0, "a"), *next.incidents[0]);

  // While a batch shares an incident, a change works on a copy; once no batch does, in place.
  const Incident* shared = engine.findActive(0, "a");
  engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "a"));
  EXPECT_NE(engine.findActive(0, "a"), shared);
  EXPECT_EQ(next.incidents[0]->event_count, 2u);
  engine.takeChanges(next);
  next.clear();
  held.clear();
  const Incident* unshared = engine.findActive(0, "a");
  engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "a"));
  EXPECT_EQ(engine.findActive(0, "a"), unshared);
  EXPECT_EQ(unshared->event_count, 4u);
}

TEST(IncidentEngine, ResolvesAndTheNextProblemOpensANewIncident) {
  IncidentEngine engine;
  ChangeSet changes;
  engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "k"));
  engine.takeChanges(changes);
  EXPECT_EQ(engine.apply(makeEvent("a", EventState::kOk), decide(rules::Action::kResolve, "k")),
            ApplyOutcome::kResolved);
  EXPECT_EQ(engine.activeCount(), 0u);
  engine.takeChanges(changes);
  ASSERT_EQ(changes.incidents.size(), 1u);
  EXPECT_EQ(changes.incidents[0]->state, IncidentState::kResolved);
  EXPECT_TRUE(changes.incidents[0]->resolved_at.has_value());
  EXPECT_EQ(changes.incidents[0]->timeline.size(), 2u);
  EXPECT_EQ(changes.incidents[0]->revision, 2u);
  ASSERT_EQ(changes.key_ops.size(), 1u);
  EXPECT_FALSE(changes.key_ops[0].id.has_value());

  EXPECT_EQ(engine.apply(makeEvent("a", EventState::kOk), decide(rules::Action::kResolve, "k")),
            ApplyOutcome::kUnmatchedResolve);
  EXPECT_EQ(engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "k")),
            ApplyOutcome::kOpened);
  engine.takeChanges(changes);
  ASSERT_EQ(changes.incidents.size(), 1u);
  EXPECT_EQ(changes.incidents[0]->id, 2u);
}

TEST(IncidentEngine, OpenAndResolveInOneBatchWriteOnlyTheKeysFinalState) {
  IncidentEngine engine;
  ChangeSet changes;
  engine.apply(makeEvent("x", EventState::kProblem), decide(rules::Action::kOpen, "x"));
  engine.takeChanges(changes);
  engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "k"));
  engine.apply(makeEvent("x", EventState::kOk), decide(rules::Action::kResolve, "x"));  // opened in an earlier batch
  engine.apply(makeEvent("a", EventState::kOk), decide(rules::Action::kResolve, "k"));
  engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "k"));
  engine.apply(makeEvent("b", EventState::kProblem), decide(rules::Action::kOpen, "b"));
  engine.apply(makeEvent("b", EventState::kOk), decide(rules::Action::kResolve, "b"));
  engine.takeChanges(changes);
  // Incident 2's put and delete of "k" cancel out, and so do incident 4's of "b"; "x" was put by
  // an earlier batch, so its delete stays.
  ASSERT_EQ(changes.key_ops.size(), 2u);
  EXPECT_EQ(changes.key_ops[0].key, "x");
  EXPECT_FALSE(changes.key_ops[0].id.has_value());
  EXPECT_EQ(changes.key_ops[1].key, "k");
  EXPECT_EQ(changes.key_ops[1].id, std::optional<IncidentId>(3));
  ASSERT_EQ(changes.incidents.size(), 4u);
  EXPECT_EQ(changes.incidents[1]->state, IncidentState::kResolved);
  EXPECT_EQ(changes.incidents[2]->state, IncidentState::kOpen);
  EXPECT_EQ(changes.changes.size(), 6u);  // the change log still has every transition
  engine.apply(makeEvent("a", EventState::kOk), decide(rules::Action::kResolve, "k"));
  engine.takeChanges(changes);
  ASSERT_EQ(changes.key_ops.size(), 1u);
  EXPECT_FALSE(changes.key_ops[0].id.has_value());
}

TEST(IncidentEngine, OpenAndResolveInOneBatchKeepTheIncidentsInOrder) {
  IncidentEngine engine;
  engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "k"));
  engine.apply(makeEvent("a", EventState::kOk), decide(rules::Action::kResolve, "k"));
  engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "k"));
  ChangeSet changes;
  engine.takeChanges(changes);
  ASSERT_EQ(changes.incidents.size(), 2u);
  EXPECT_EQ(changes.incidents[0]->state, IncidentState::kResolved);
  EXPECT_EQ(changes.incidents[1]->state, IncidentState::kOpen);
}

TEST(IncidentEngine, KeepsPartitionsApart) {
  IncidentEngine engine;
  engine.apply(makeEvent("a", EventState::kProblem, Severity::kMajor, 0), decide(rules::Action::kOpen, "k"));
  engine.apply(makeEvent("a", EventState::kProblem, Severity::kMajor, 3), decide(rules::Action::kOpen, "k"));
  ChangeSet changes;
  engine.takeChanges(changes);
  ASSERT_EQ(changes.incidents.size(), 2u);
  EXPECT_EQ(partitionOf(changes.incidents[0]->id), 0);
  EXPECT_EQ(partitionOf(changes.incidents[1]->id), 3);
  EXPECT_EQ(changes.incidents[1]->id, makeIncidentId(3, 1));
}

// findActive remembers its last answer: every change to which incident is active under a key
// (open, resolve, a person's reopen, restore, a partition leaving) must show in the next answer.
TEST(IncidentEngine, FindActiveAnswersTheCurrentStateAfterEveryKindOfChange) {
  IncidentEngine engine;
  EXPECT_EQ(engine.findActive(0, "k"), nullptr);
  ASSERT_EQ(engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kOpen, "k")), ApplyOutcome::kOpened);
  const Incident* opened = engine.findActive(0, "k");
  ASSERT_NE(opened, nullptr);
  EXPECT_EQ(opened->key, "k");
  EXPECT_EQ(engine.findActive(1, "k"), nullptr);  // same key, other partition
  ASSERT_NE(engine.findActive(0, "k"), nullptr);
  const IncidentId id = opened->id;

  ASSERT_EQ(engine.apply(makeEvent("a", EventState::kOk), decide(rules::Action::kResolve, "k")), ApplyOutcome::kResolved);
  EXPECT_EQ(engine.findActive(0, "k"), nullptr);
  EXPECT_EQ(engine.modifyActive(0, "k"), nullptr);

  auto reopened = engine.command({.verb = IncidentCommand::Verb::kReopen, .id = id}, Clock::now(), std::nullopt);
  ASSERT_TRUE(reopened) << reopened.error().toString();
  ASSERT_NE(engine.findActive(0, "k"), nullptr);
  EXPECT_EQ(engine.findActive(0, "k")->id, id);
  Incident* modified = engine.modifyActive(0, "k");
  ASSERT_NE(modified, nullptr);
  EXPECT_EQ(modified->id, id);

  ASSERT_EQ(engine.apply(makeEvent("b", EventState::kProblem, Severity::kMajor, 1), decide(rules::Action::kOpen, "k")),
            ApplyOutcome::kOpened);
  ASSERT_NE(engine.findActive(1, "k"), nullptr);
  engine.dropPartition(1);
  EXPECT_EQ(engine.findActive(1, "k"), nullptr);
  ASSERT_NE(engine.findActive(0, "k"), nullptr);

  EXPECT_EQ(engine.findActive(2, "restored"), nullptr);
  Incident stored;
  stored.id = makeIncidentId(2, 7);
  stored.key = "restored";
  stored.state = IncidentState::kOpen;
  engine.restore(stored);
  ASSERT_NE(engine.findActive(2, "restored"), nullptr);
  EXPECT_EQ(engine.findActive(2, "restored")->id, stored.id);
}

// The same over a random walk of events, against a model of which incident is active per key.
TEST(IncidentEngine, FindActiveAgreesWithTheOutcomesOverARandomWalk) {
  IncidentEngine engine;
  std::map<std::pair<uint16_t, std::string>, IncidentId> model;
  std::mt19937 random(7);
  const std::vector<std::string> keys = {"a", "b", "c"};
  ChangeSet changes;
  for (int step = 0; step < 2000; ++step) {
    const uint16_t partition = static_cast<uint16_t>(random() % 2);
    const std::string& key = keys[random() % keys.size()];
    const bool open = random() % 3 != 0;
    const ApplyOutcome outcome =
        engine.apply(makeEvent(key, open ? EventState::kProblem : EventState::kOk, Severity::kMajor, partition),
                     decide(open ? rules::Action::kOpen : rules::Action::kResolve, key));
    if (outcome == ApplyOutcome::kOpened) {
      model[{partition, key}] = engine.findActive(partition, key)->id;
    } else if (outcome == ApplyOutcome::kResolved) {
      model.erase({partition, key});
    }
    if (step % 50 == 0) engine.takeChanges(changes);
    for (uint16_t p : {0, 1}) {
      for (const auto& k : keys) {
        const Incident* in = engine.findActive(p, k);
        auto m = model.find({p, k});
        ASSERT_EQ(in != nullptr, m != model.end()) << "step " << step << " " << p << "/" << k;
        if (in) {
          EXPECT_EQ(in->id, m->second);
        }
      }
    }
  }
}

// The roots index is built on the first rootIncidentOn and kept from then on: an engine asked
// from the start and one asked only at the end answer the same, and both name the lowest id
// among the CI's active incidents that are not symptoms, through opens, symptoms, resolves,
// reopens, restores and a dropped partition.
TEST(IncidentEngine, RootIncidentOnIsTheLowestActiveNonSymptomWhetherItsIndexWasKeptOrBuiltLate) {
  IncidentEngine eager, late;
  const std::vector<std::string> cis = {"r1", "r2", "r3"};
  for (const auto& ci : cis) EXPECT_EQ(eager.rootIncidentOn(ci), std::nullopt);  // builds the index, empty
  std::mt19937 random(11);
  ChangeSet eager_changes, late_changes;
  std::map<IncidentId, Incident> resolved;  // as the store would hold them, for reopening
  for (int step = 0; step < 3000; ++step) {
    const uint16_t partition = static_cast<uint16_t>(random() % 2);
    const std::string key = "k" + std::to_string(random() % 12);
    Event event = makeEvent(key, EventState::kProblem, Severity::kMajor, partition);
    event.ci = cis[random() % cis.size()];
    const int what = static_cast<int>(random() % 10);
    if (what < 5) {
      OpenContext context;
      if (random() % 4 == 0) context.parent = eager.rootIncidentOn(cis[random() % cis.size()]);
      ASSERT_EQ(eager.apply(event, decide(rules::Action::kOpen, key), &context),
                late.apply(event, decide(rules::Action::kOpen, key), &context));
    } else if (what < 9) {
      event.state = EventState::kOk;
      ASSERT_EQ(eager.apply(event, decide(rules::Action::kResolve, key)),
                late.apply(event, decide(rules::Action::kResolve, key)));
    } else if (!resolved.empty()) {
      auto it = resolved.begin();
      std::advance(it, random() % resolved.size());
      const IncidentCommand reopen{IncidentCommand::Verb::kReopen, it->first, "ops"};
      ASSERT_EQ(eager.command(reopen, Clock::now(), it->second).has_value(),
                late.command(reopen, Clock::now(), it->second).has_value());
      resolved.erase(it);
    }
    if (step % 40 == 0) {
      eager.takeChanges(eager_changes);
      late.takeChanges(late_changes);
      for (const auto& in : eager_changes.incidents) {
        if (in->state == IncidentState::kResolved) resolved[in->id] = *in;
      }
    }
    if (step == 1520) {  // right after a takeChanges: between batches
      eager.dropPartition(1);
      late.dropPartition(1);
      std::erase_if(resolved, [](const auto& r) { return partitionOf(r.first) == 1; });
    }
  }
  Incident restored;
  restored.id = makeIncidentId(1, 1);  // lower than every other id of partition 1
  restored.key = "restored";
  restored.ci = "r2";
  eager.restore(restored);
  late.restore(restored);
  for (const auto& ci : cis) {
    std::optional<IncidentId> lowest;
    eager.forEachActive([&](const Incident& in) {
      if (in.ci == ci && !in.parent && (!lowest || in.id < *lowest)) lowest = in.id;
    });
    EXPECT_EQ(eager.rootIncidentOn(ci), lowest) << ci;
    EXPECT_EQ(late.rootIncidentOn(ci), lowest) << ci;
  }
  EXPECT_EQ(late.rootIncidentOn("r9"), std::nullopt);
}

TEST(IncidentEngine, IgnoresNoneAndCountsDrops) {
  IncidentEngine engine;
  EXPECT_EQ(engine.apply(makeEvent("a", EventState::kNone), decide(rules::Action::kNone, "k")), ApplyOutcome::kIgnored);
  EXPECT_EQ(engine.apply(makeEvent("a", EventState::kProblem), decide(rules::Action::kDrop, "k")), ApplyOutcome::kDropped);
  ChangeSet changes;
  engine.takeChanges(changes);
  EXPECT_TRUE(changes.empty());
}

TEST(IncidentEngine, KeepsOnlyTheLatestEventSamples) {
  IncidentEngine engine;
  for (int i = 0; i < 25; ++i) {
    Event e = makeEvent("a", EventState::kProblem);
    e.message = "m" + std::to_string(i);
    engine.apply(e, decide(rules::Action::kOpen, "k"));
  }
  ChangeSet changes;
  engine.takeChanges(changes);
  const auto& samples = changes.incidents[0]->recent_events;
  ASSERT_EQ(samples.size(), Incident::kMaxRecentEvents);
  EXPECT_EQ(samples.back().message, "m24");
  EXPECT_EQ(samples.front().message, "m15");
  for (size_t i = 0; i < samples.size(); ++i) EXPECT_EQ(samples[i].message, "m" + std::to_string(15 + i));  // oldest first
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
      Event event = makeEvent(ci, EventState::kProblem, severity);
      event.ci = ci;
      switch (rng() % 4) {
        case 0:
          engine.apply(event, decide(rules::Action::kResolve, key));
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
          engine.apply(event, decide(rules::Action::kOpen, key));
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
