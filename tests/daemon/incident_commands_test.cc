#include <gtest/gtest.h>

#include "daemon/incidents/incident_engine.h"

namespace vigil::incidents {
namespace {

using Verb = IncidentCommand::Verb;

class IncidentCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Event e;
    e.source = "test";
    e.host = "sw1";
    e.type = "link";
    e.state = EventState::kProblem;
    e.severity = Severity::kMajor;
    e.received_at = Clock::now();
    engine_.apply(e, {rules::Action::kOpen, "sw1/link", "Link down", "r"});
    engine_.takeChanges(changes_);
    id_ = changes_.incidents[0]->id;
  }

  Result<Incident> run(Verb verb, std::optional<Incident> stored = std::nullopt) {
    IncidentCommand cmd;
    cmd.verb = verb;
    cmd.id = id_;
    cmd.actor = "alice";
    cmd.text = "note";
    return engine_.command(cmd, Clock::now(), std::move(stored));
  }

  IncidentEngine engine_;
  ChangeSet changes_;
  IncidentId id_ = 0;
};

TEST_F(IncidentCommandsTest, AcknowledgeRecordsWhoAndWhen) {
  auto in = run(Verb::kAcknowledge);
  ASSERT_TRUE(in) << in.error().toString();
  EXPECT_EQ(in->state, IncidentState::kAcknowledged);
  EXPECT_TRUE(in->acknowledged_at.has_value());
  EXPECT_EQ(in->timeline.back().action, "acknowledged");
  EXPECT_EQ(in->timeline.back().actor, "alice");
  engine_.takeChanges(changes_);
  ASSERT_EQ(changes_.changes.size(), 1u);
  EXPECT_EQ(changes_.changes[0].kind, ChangeKind::kAcknowledged);
  EXPECT_TRUE(engine_.isActive(id_));  // acknowledged is still active: events keep updating it
}

TEST_F(IncidentCommandsTest, RefusesInvalidTransitions) {
  ASSERT_TRUE(run(Verb::kAcknowledge));
  auto again = run(Verb::kAcknowledge);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(again.error().message().find("it is acknowledged"), std::string::npos);
  auto close = run(Verb::kClose);
  ASSERT_FALSE(close);
  EXPECT_EQ(close.error().code(), Status::Code::kFailedPrecondition);
}

TEST_F(IncidentCommandsTest, ResolveCloseAndReopenThroughTheStoreCopy) {
  ASSERT_TRUE(run(Verb::kResolve));
  EXPECT_FALSE(engine_.isActive(id_));
  engine_.takeChanges(changes_);
  ASSERT_EQ(changes_.key_ops.size(), 1u);
  EXPECT_FALSE(changes_.key_ops[0].id.has_value());
  const Incident resolved = *changes_.incidents[0];

  // Not active any more: the caller supplies the stored copy.
  auto missing = run(Verb::kReopen);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Status::Code::kNotFound);
  auto reopened = run(Verb::kReopen, resolved);
  ASSERT_TRUE(reopened) << reopened.error().toString();
  EXPECT_EQ(reopened->state, IncidentState::kOpen);
  EXPECT_TRUE(engine_.isActive(id_));
  EXPECT_NE(engine_.findActive(0, "sw1/link"), nullptr);
  engine_.takeChanges(changes_);
  EXPECT_EQ(changes_.changes[0].kind, ChangeKind::kReopened);
  ASSERT_EQ(changes_.key_ops.size(), 1u);
  EXPECT_EQ(changes_.key_ops[0].id, std::optional<IncidentId>(id_));

  ASSERT_TRUE(run(Verb::kResolve));
  engine_.takeChanges(changes_);
  auto closed = run(Verb::kClose, *changes_.incidents[0]);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->state, IncidentState::kClosed);
  EXPECT_TRUE(closed->closed_at.has_value());
}

TEST_F(IncidentCommandsTest, ReopenRefusedWhenANewIncidentHoldsTheKey) {
  ASSERT_TRUE(run(Verb::kResolve));
  engine_.takeChanges(changes_);
  const Incident resolved = *changes_.incidents[0];
  Event e;
  e.host = "sw1";
  e.state = EventState::kProblem;
  e.received_at = Clock::now();
  engine_.apply(e, {rules::Action::kOpen, "sw1/link", "Link down", "r"});
  engine_.takeChanges(changes_);
  auto reopened = run(Verb::kReopen, resolved);
  ASSERT_FALSE(reopened);
  EXPECT_NE(reopened.error().message().find("is active under its key"), std::string::npos);
}

TEST_F(IncidentCommandsTest, AssignCommentAndChangeSeverityAndPriority) {
  IncidentCommand assign{.verb = Verb::kAssign, .id = id_, .actor = "bob", .group = "network", .assignee = "carol"};
  auto in = engine_.command(assign, Clock::now(), std::nullopt);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->assignment_group, "network");
  EXPECT_EQ(in->assignee, "carol");
  IncidentCommand sev{.verb = Verb::kSetSeverity, .id = id_, .severity = Severity::kCritical};
  in = engine_.command(sev, Clock::now(), std::nullopt);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->severity, Severity::kCritical);
  IncidentCommand pri{.verb = Verb::kSetPriority, .id = id_, .priority = 1};
  ASSERT_TRUE(engine_.command(pri, Clock::now(), std::nullopt));
  IncidentCommand bad{.verb = Verb::kSetPriority, .id = id_, .priority = 9};
  EXPECT_EQ(engine_.command(bad, Clock::now(), std::nullopt).error().code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(run(Verb::kComment));
  engine_.takeChanges(changes_);
  const auto& timeline = changes_.incidents[0]->timeline;
  ASSERT_EQ(timeline.size(), 5u);
  EXPECT_EQ(timeline[1].action, "assigned");
  EXPECT_EQ(timeline[2].action, "severity_changed");
  EXPECT_EQ(timeline[3].action, "priority_changed");
  EXPECT_EQ(timeline[4].action, "commented");
  EXPECT_EQ(changes_.incidents[0]->priority, 1);
}

}  // namespace
}  // namespace vigil::incidents
