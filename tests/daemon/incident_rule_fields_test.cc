// What the rules' decision brings to an incident: description, priority from the matrix,
// the assignment group (a rule's wins over the CI's), annotations; and that they survive the store
// encoding.
#include <gtest/gtest.h>

#include "daemon/incidents/incident_codec.h"
#include "daemon/incidents/incident_engine.h"
#include "daemon/time_util.h"

namespace vigil::incidents {
namespace {

Event problem(Severity severity) {
  Event e;
  e.source = "test";
  e.host = "fw1";
  e.type = "firewall";
  e.state = EventState::kProblem;
  e.severity = severity;
  e.received_at = fromUnixMillis(1768040430123);  // the store keeps milliseconds
  e.message = "sessions 93%";
  return e;
}

rules::Decision decision(uint8_t priority, std::string group) {
  rules::Decision d;
  d.action = rules::Action::kOpen;
  d.key = "fw1/sessions";
  d.title = "Sessions";
  d.rule = "r";
  d.description = "Session table of fw1 is filling up";
  d.priority = priority;
  d.assignment_group = std::move(group);
  d.annotate("runbook", "rb/1");
  return d;
}

TEST(IncidentRuleFields, DecisionSetsDescriptionPriorityGroupAndLabels) {
  IncidentEngine engine;
  OpenContext context;
  context.assignment_group = "network";  // the CI's owner group
  ASSERT_EQ(engine.apply(problem(Severity::kMinor), decision(2, "security"), &context), ApplyOutcome::kOpened);
  const Incident* in = engine.findActive(0, "fw1/sessions");
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in->description, "Session table of fw1 is filling up");
  EXPECT_EQ(in->priority, 2);  // from the rules, not the severity (minor would be P3)
  EXPECT_EQ(in->assignment_group, "security");
  ASSERT_NE(in->labels.find("runbook"), nullptr);
  EXPECT_EQ(*in->labels.find("runbook"), "rb/1");

  // An update adds annotations and never raises the priority number.
  rules::Decision update = decision(4, "");
  update.annotate("seen", "twice");
  ASSERT_EQ(engine.apply(problem(Severity::kMinor), update, &context), ApplyOutcome::kUpdated);
  EXPECT_EQ(in->priority, 2);
  EXPECT_EQ(*in->labels.find("seen"), "twice");
  ASSERT_EQ(engine.apply(problem(Severity::kMinor), decision(1, ""), &context), ApplyOutcome::kUpdated);
  EXPECT_EQ(in->priority, 1);
}

TEST(IncidentRuleFields, WithoutARuleGroupTheCiGroupStandsAndPriorityFollowsSeverity) {
  IncidentEngine engine;
  OpenContext context;
  context.assignment_group = "network";
  rules::Decision d = decision(0, "");
  d.annotation_count = 0;
  ASSERT_EQ(engine.apply(problem(Severity::kWarning), d, &context), ApplyOutcome::kOpened);
  const Incident* in = engine.findActive(0, "fw1/sessions");
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in->assignment_group, "network");
  EXPECT_EQ(in->priority, defaultPriority(Severity::kWarning));
  EXPECT_EQ(in->labels.find("runbook"), nullptr);
}

TEST(IncidentRuleFields, DescriptionSurvivesTheStoreEncoding) {
  IncidentEngine engine;
  ASSERT_EQ(engine.apply(problem(Severity::kMajor), decision(0, "")), ApplyOutcome::kOpened);
  Incident in = *engine.findActive(0, "fw1/sessions");
  std::string bytes;
  encodeIncident(in, true, bytes);
  auto back = decodeIncident(bytes);
  ASSERT_TRUE(back) << back.error().toString();
  EXPECT_EQ(*back, in);
  EXPECT_EQ(back->description, "Session table of fw1 is filling up");
  // An incident without a description encodes as before (no extension record).
  in.description.clear();
  std::string plain;
  encodeIncident(in, true, plain);
  EXPECT_EQ(plain.size() + 2 + std::string("Session table of fw1 is filling up").size(), bytes.size());
}

}  // namespace
}  // namespace vigil::incidents
