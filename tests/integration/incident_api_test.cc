// The NOC's side of the API against the real vigild: lifecycle actions with their error statuses,
// tokens and roles, and the live stream of committed changes with Last-Event-ID resume.
#include <gtest/gtest.h>

#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

using nlohmann::json;

uint64_t openIncident(const VigildInstance& vigild, const std::string& host, const std::string& token = "") {
  auto r = httpPost(vigild.url("/api/v1/events"), R"({"host":")" + host + R"(","type":"bgp","state":"problem","severity":"major"})",
                    token);
  EXPECT_EQ(r.status, 202) << r.body;
  auto list = vigild.incidents("key=" + host + "/bgp");
  return list.empty() ? 0 : list[0]["id"].get<uint64_t>();
}

TEST(IncidentLifecycleApi, AckResolveCloseReopenWithTheRightStatuses) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const uint64_t id = openIncident(vigild, "edge1");
  ASSERT_NE(id, 0u);
  const std::string base = vigild.url("/api/v1/incidents/" + std::to_string(id));

  auto ack = httpPost(base + "/ack", R"({"actor":"alice","comment":"looking"})");
  ASSERT_EQ(ack.status, 200) << ack.body;
  auto acked = json::parse(ack.body);
  EXPECT_EQ(acked["state"], "acknowledged");
  EXPECT_FALSE(acked["acknowledged_at"].is_null());
  EXPECT_EQ(acked["timeline"].back()["actor"], "alice");

  auto again = httpPost(base + "/ack", "");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("it is acknowledged"), std::string::npos);
  EXPECT_EQ(httpPost(base + "/close", "").status, 409);
  EXPECT_EQ(httpPost(vigild.url("/api/v1/incidents/987654/ack"), "").status, 404);
  EXPECT_EQ(httpPost(base + "/severity", R"({"severity":"apocalyptic"})").status, 400);
  EXPECT_EQ(httpPost(base + "/assign", R"({})").status, 400);
  EXPECT_EQ(httpPost(base + "/comment", "not json").status, 400);

  ASSERT_EQ(httpPost(base + "/assign", R"({"group":"noc-l2","assignee":"bob"})").status, 200);
  ASSERT_EQ(httpPost(base + "/priority", R"({"priority":"P1"})").status, 200);
  ASSERT_EQ(httpPost(base + "/comment", R"({"text":"carrier ticket 4711"})").status, 200);
  ASSERT_EQ(httpPost(base + "/resolve", R"({"comment":"carrier fixed it"})").status, 200);
  // Resolved incidents leave memory; the correlator reads them back from the store to close them.
  auto closed = httpPost(base + "/close", "");
  ASSERT_EQ(closed.status, 200) << closed.body;
  auto j = json::parse(closed.body);
  EXPECT_EQ(j["state"], "closed");
  EXPECT_EQ(j["assignment_group"], "noc-l2");
  EXPECT_EQ(j["assignee"], "bob");
  EXPECT_EQ(j["priority"], "P1");
  std::vector<std::string> actions;
  for (const auto& t : j["timeline"]) actions.push_back(t["action"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"opened", "acknowledged", "assigned", "priority_changed", "commented",
                                               "resolved", "closed"}));
  EXPECT_EQ(httpPost(base + "/reopen", "").status, 409);  // closed is final

  // A new problem on the same key after the close opens a new incident.
  const uint64_t second = openIncident(vigild, "edge1");
  EXPECT_GT(second, id);
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(IncidentLifecycleApi, ReopenBringsAResolvedIncidentBackUnderItsKey) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const uint64_t id = openIncident(vigild, "core9");
  const std::string base = vigild.url("/api/v1/incidents/" + std::to_string(id));
  ASSERT_EQ(httpPost(base + "/resolve", "").status, 200);
  ASSERT_EQ(httpPost(base + "/reopen", "").status, 200);
  // The next event on the key updates the reopened incident instead of opening another.
  EXPECT_EQ(openIncident(vigild, "core9"), id);
  EXPECT_EQ(vigild.getJson("/api/v1/incidents/" + std::to_string(id))["event_count"], 2);
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(ApiAuth, TokensAndRolesGateEveryEndpoint) {
  const std::string viewer = "viewer-token-0123456789", op = "operator-token-0123456789", ingest = "ingest-token-0123456789";
  setenv("VIGIL_TEST_OPERATOR_TOKEN", op.c_str(), 1);
  VigildInstance vigild("", "  tokens:\n"
                            "    - {name: wall, token: " + viewer + ", role: viewer}\n"
                            "    - {name: alice, token_env: VIGIL_TEST_OPERATOR_TOKEN, role: operator}\n"
                            "    - {name: zabbix, token: " + ingest + ", role: ingest}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  EXPECT_EQ(httpGet(vigild.url("/api/v1/incidents")).status, 401);
  EXPECT_EQ(httpGet(vigild.url("/api/v1/incidents"), "wrong-token-0123456789").status, 401);
  EXPECT_EQ(httpGet(vigild.url("/api/v1/incidents"), viewer).status, 200);
  EXPECT_EQ(httpPost(vigild.url("/api/v1/events"), R"({"host":"x","state":"problem"})", viewer).status, 403);
  ASSERT_EQ(httpPost(vigild.url("/api/v1/events"), R"({"host":"x","type":"t","state":"problem"})", ingest).status, 202);
  auto list = json::parse(httpGet(vigild.url("/api/v1/incidents"), viewer).body)["incidents"];
  ASSERT_EQ(list.size(), 1u);
  const std::string ack = vigild.url("/api/v1/incidents/" + std::to_string(list[0]["id"].get<uint64_t>()) + "/ack");
  EXPECT_EQ(httpPost(ack, "", ingest).status, 403);
  auto acked = httpPost(ack, R"({"actor":"mallory"})", op);
  ASSERT_EQ(acked.status, 200) << acked.body;
  // The token's name is the actor; a body cannot claim to be someone else.
  EXPECT_EQ(json::parse(acked.body)["timeline"].back()["actor"], "alice");
  EXPECT_EQ(httpGet(vigild.url("/healthz")).status, 200);  // probes need no token
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(ApiAuth, ShortOrMissingTokensAreConfigErrors) {
  unsetenv("VIGIL_TEST_UNSET_TOKEN");
  TempDir dir;
  writeFile(dir.file("a.yaml"), "http:\n  tokens:\n    - {name: a, token: short, role: viewer}\n");
  writeFile(dir.file("b.yaml"), "http:\n  tokens:\n    - {name: b, token_env: VIGIL_TEST_UNSET_TOKEN}\n");
  std::string out;
  EXPECT_EQ(run({vigildPath(), "--check-config", "--config", dir.file("a.yaml")}, &out), 1);
  EXPECT_NE(out.find(":3:7: token of 'a' is shorter than 16 characters"), std::string::npos) << out;
  EXPECT_EQ(run({vigildPath(), "--check-config", "--config", dir.file("b.yaml")}, &out), 1);
  EXPECT_NE(out.find("VIGIL_TEST_UNSET_TOKEN is not set"), std::string::npos) << out;
}

// Reads an SSE stream with curl in the background until `count` events arrived.
std::vector<json> readStream(const VigildInstance& vigild, const std::string& last_event_id, size_t count,
                             const std::function<void()>& trigger) {
  const std::string out = vigild.dir().file("stream-" + last_event_id + ".txt");
  std::vector<std::string> argv = {"curl", "-sN", "--max-time", "60", vigild.url("/api/v1/stream")};
  if (!last_event_id.empty()) argv.insert(argv.end() - 1, {"-H", "Last-Event-ID: " + last_event_id});
  Process curl(argv, out);
  EXPECT_TRUE(waitFor([&] { return readFile(out).find(": connected") != std::string::npos; })) << readFile(out);
  trigger();
  std::vector<json> events;
  waitFor([&] {
    events.clear();
    const std::string text = readFile(out);
    for (size_t pos = 0; (pos = text.find("data: ", pos)) != std::string::npos;) {
      const size_t end = text.find('\n', pos);
      if (end == std::string::npos) break;
      events.push_back(json::parse(text.substr(pos + 6, end - pos - 6), nullptr, false));
      pos = end;
    }
    return events.size() >= count;
  });
  curl.stop(SIGTERM);
  return events;
}

TEST(LiveStream, SendsCommittedChangesAndResumesFromLastEventId) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  uint64_t id = 0;
  auto live = readStream(vigild, "", 2, [&] {
    id = openIncident(vigild, "stream1");
    httpPost(vigild.url("/api/v1/incidents/" + std::to_string(id) + "/ack"), "");
  });
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0]["change"], "opened");
  EXPECT_EQ(live[0]["incident"]["id"], id);
  EXPECT_EQ(live[1]["change"], "acknowledged");
  EXPECT_EQ(live[1]["incident"]["state"], "acknowledged");
  EXPECT_EQ(live[1]["seq"], live[0]["seq"].get<uint64_t>() + 1);

  // A client that saw only the first event resumes and gets the second and everything after.
  const std::string seen = std::to_string(live[0]["seq"].get<uint64_t>());
  auto resumed = readStream(vigild, seen, 2, [&] {
    httpPost(vigild.url("/api/v1/incidents/" + std::to_string(id) + "/resolve"), "");
  });
  ASSERT_EQ(resumed.size(), 2u);
  EXPECT_EQ(resumed[0]["change"], "acknowledged");
  EXPECT_EQ(resumed[1]["change"], "resolved");
  EXPECT_EQ(vigild.stop(), 0);
}

}  // namespace
}  // namespace vigil::testing

namespace vigil::testing {
namespace {

TEST(AlertIntake, AlertmanagerFiringThenResolvedIsOneIncident) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const std::string firing = R"({"receiver":"vigil","status":"firing","version":"4","groupKey":"{}","alerts":[
    {"status":"firing","labels":{"alertname":"HighLatency","instance":"api1:8080","severity":"critical"},
     "annotations":{"summary":"p99 above 2s"},"startsAt":"2026-11-22T20:00:00Z","endsAt":"0001-01-01T00:00:00Z",
     "fingerprint":"aa11bb22cc33dd44"}]})";
  std::string resolved = firing;
  resolved.replace(resolved.find(R"("status":"firing","labels")"), 17, R"("status":"resolved")");
  resolved.replace(resolved.find("0001-01-01T00:00:00Z"), 20, "2026-11-22T20:10:00Z");

  auto r = httpPost(vigild.url("/api/v1/alertmanager"), firing);
  ASSERT_EQ(r.status, 202) << r.body;
  auto open = vigild.incidents("key=alertmanager/aa11bb22cc33dd44");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0]["state"], "open");
  EXPECT_EQ(open[0]["severity"], "critical");
  EXPECT_EQ(open[0]["host"], "api1");
  EXPECT_EQ(open[0]["title"], "HighLatency on api1: p99 above 2s");
  ASSERT_EQ(httpPost(vigild.url("/api/v1/alertmanager"), firing).status, 202);  // repeated notification
  ASSERT_EQ(httpPost(vigild.url("/api/v1/alertmanager"), resolved).status, 202);
  auto after = vigild.incidents("key=alertmanager/aa11bb22cc33dd44");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0]["state"], "resolved");
  EXPECT_EQ(after[0]["event_count"], 3);
  EXPECT_EQ(after[0]["resolved_at"], "2026-11-22T20:10:00.000Z");
  EXPECT_EQ(httpPost(vigild.url("/api/v1/alertmanager"), R"({"version":"3"})").status, 400);
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(AlertIntake, PagerDutyTriggerAcknowledgeResolve) {
  VigildInstance vigild;
  ASSERT_TRUE(vigild.start()) << vigild.log();
  auto trigger = httpPost(vigild.url("/api/v1/pagerduty"), R"({"routing_key":"r","event_action":"trigger","dedup_key":"db-disk-7",
      "payload":{"summary":"db7 disk 97%","source":"db7","severity":"critical","class":"disk"}})");
  ASSERT_EQ(trigger.status, 202) << trigger.body;
  EXPECT_EQ(nlohmann::json::parse(trigger.body)["dedup_key"], "db-disk-7");
  auto list = vigild.incidents("key=pagerduty/db-disk-7");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["title"], "db7 disk 97%");
  ASSERT_EQ(httpPost(vigild.url("/api/v1/pagerduty"), R"({"event_action":"acknowledge","dedup_key":"db-disk-7"})").status, 202);
  EXPECT_EQ(vigild.incidents("key=pagerduty/db-disk-7")[0]["state"], "acknowledged");
  ASSERT_EQ(httpPost(vigild.url("/api/v1/pagerduty"), R"({"event_action":"resolve","dedup_key":"db-disk-7"})").status, 202);
  auto done = vigild.incidents("key=pagerduty/db-disk-7");
  EXPECT_EQ(done[0]["state"], "resolved");
  EXPECT_EQ(done[0]["timeline"].size(), 0u);  // list view has no timeline
  auto full = vigild.getJson("/api/v1/incidents/" + std::to_string(done[0]["id"].get<uint64_t>()));
  EXPECT_EQ(full["timeline"][1]["actor"], "pagerduty");
  EXPECT_EQ(httpPost(vigild.url("/api/v1/pagerduty"), R"({"event_action":"resolve"})").status, 400);
  EXPECT_EQ(vigild.stop(), 0);
}

}  // namespace
}  // namespace vigil::testing

namespace vigil::testing {
namespace {

TEST(HttpLimits, OversizeBodiesAreRefusedAndTheDaemonCarriesOn) {
  VigildInstance vigild("", "  max_body_size: 1KiB\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const std::string big = R"({"host":"x","state":"problem","message":")" + std::string(1500, 'a') + R"("})";
  auto r = httpPost(vigild.url("/api/v1/events"), big);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("over the limit of 1024"), std::string::npos) << r.body;
  // Far over the limit the connection is dropped unread, so memory stays bounded.
  EXPECT_EQ(httpPost(vigild.url("/api/v1/events"), std::string(1 << 20, ' ')).status, 0);
  EXPECT_TRUE(vigild.incidents().empty());
  EXPECT_EQ(httpPost(vigild.url("/api/v1/events"), R"({"host":"x","type":"t","state":"problem"})").status, 202);
  EXPECT_EQ(vigild.stop(), 0);
}

}  // namespace
}  // namespace vigil::testing
