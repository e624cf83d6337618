#include "connectors/http/alert_payloads.h"

#include <gtest/gtest.h>

#include "daemon/time_util.h"

namespace vigil::connectors::http {
namespace {

// A webhook body as Alertmanager 0.25 sends it (version 4), one firing and one resolved alert.
constexpr const char* kWebhook = R"({
  "receiver": "vigil",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "NodeFilesystemAlmostOutOfSpace", "instance": "db1.par1:9100",
                 "job": "node", "mountpoint": "/var", "severity": "critical"},
      "annotations": {"summary": "Filesystem /var has 2% left", "runbook_url": "https://runbooks/fs"},
      "startsAt": "2026-11-22T19:58:01.123Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus:9090/graph?g0.expr=...",
      "fingerprint": "5f4a2b8c0e1d3a77"
    },
    {
      "status": "resolved",
      "labels": {"alertname": "TargetDown", "job": "blackbox", "severity": "warning"},
      "annotations": {"description": "blackbox targets are down"},
      "startsAt": "2026-11-22T19:00:00Z",
      "endsAt": "2026-11-22T19:30:00Z"
    }
  ],
  "groupLabels": {"alertname": "NodeFilesystemAlmostOutOfSpace"},
  "commonLabels": {"job": "node"},
  "commonAnnotations": {},
  "externalURL": "http://alertmanager:9093",
  "version": "4",
  "groupKey": "{}:{alertname=\"NodeFilesystemAlmostOutOfSpace\"}",
  "truncatedAlerts": 0
})";

TEST(AlertmanagerDecoder, MapsFiringAndResolvedAlertsToEvents) {
  std::vector<Event> out;
  ASSERT_TRUE(decodeAlertmanager(kWebhook, Clock::now(), out).isOk());
  ASSERT_EQ(out.size(), 2u);
  const Event& fs = out[0];
  EXPECT_EQ(fs.source, "alertmanager");
  EXPECT_EQ(fs.host, "db1.par1");  // instance without its port
  EXPECT_EQ(fs.type, "NodeFilesystemAlmostOutOfSpace");
  EXPECT_EQ(fs.state, EventState::kProblem);
  EXPECT_EQ(fs.severity, Severity::kCritical);
  EXPECT_EQ(fs.message, "Filesystem /var has 2% left");
  EXPECT_EQ(formatRfc3339(*fs.occurred_at), "2026-11-22T19:58:01.123Z");
  EXPECT_EQ(*fs.labels.find("fingerprint"), "5f4a2b8c0e1d3a77");
  EXPECT_EQ(*fs.labels.find("mountpoint"), "/var");
  EXPECT_EQ(*fs.labels.find("annotation.runbook_url"), "https://runbooks/fs");
  EXPECT_EQ(*fs.labels.find("receiver"), "vigil");

  const Event& down = out[1];
  EXPECT_EQ(down.state, EventState::kOk);
  EXPECT_EQ(down.host, "blackbox");  // no instance: the job
  EXPECT_EQ(down.severity, Severity::kWarning);
  EXPECT_EQ(down.message, "blackbox targets are down");
  EXPECT_EQ(formatRfc3339(*down.occurred_at), "2026-11-22T19:30:00.000Z");
  ASSERT_NE(down.labels.find("fingerprint"), nullptr);
  EXPECT_EQ(down.labels.find("fingerprint")->size(), 16u);  // computed from the labels
}

TEST(AlertmanagerDecoder, ComputesTheSameFingerprintForTheSameLabels) {
  const char* a = R"({"version":"4","alerts":[{"status":"firing","labels":{"alertname":"X","b":"2","a":"1"}}]})";
  const char* b = R"({"version":"4","alerts":[{"status":"resolved","labels":{"a":"1","alertname":"X","b":"2"}}]})";
  std::vector<Event> out;
  ASSERT_TRUE(decodeAlertmanager(a, Clock::now(), out).isOk());
  ASSERT_TRUE(decodeAlertmanager(b, Clock::now(), out).isOk());
  EXPECT_EQ(*out[0].labels.find("fingerprint"), *out[1].labels.find("fingerprint"));
}

TEST(AlertmanagerDecoder, RejectsWhatIsNotAVersion4Webhook) {
  struct Case {
    const char* body;
    const char* error;
  } cases[] = {
      {"[]", "expected an Alertmanager webhook"},
      {R"({"version":"3","alerts":[]})", "version: expected \"4\""},
      {R"({"version":"4"})", "alerts: expected an array"},
      {R"({"version":"4","alerts":[{"status":"pending","labels":{"alertname":"X"}}]})", "alerts[0].status"},
      {R"({"version":"4","alerts":[{"status":"firing","labels":{}}]})", "alerts[0].labels.alertname: missing"},
  };
  for (const auto& c : cases) {
    std::vector<Event> out;
    Status s = decodeAlertmanager(c.body, Clock::now(), out);
    EXPECT_FALSE(s.isOk()) << c.body;
    EXPECT_NE(s.message().find(c.error), std::string::npos) << s.message();
    EXPECT_TRUE(out.empty());
  }
}

TEST(PagerDutyDecoder, TriggerAcknowledgeResolve) {
  auto trigger = decodePagerDuty(R"({"routing_key":"abc","event_action":"trigger","dedup_key":"disk-db1",
      "payload":{"summary":"DB1 disk full","source":"db1","severity":"error","component":"postgres",
                 "group":"prod","class":"disk","custom_details":{"free":"1%"}}})", Clock::now());
  ASSERT_TRUE(trigger) << trigger.error().toString();
  EXPECT_EQ(trigger->action, PagerDutyRequest::Action::kTrigger);
  EXPECT_EQ(trigger->event.host, "db1");
  EXPECT_EQ(trigger->event.type, "disk");
  EXPECT_EQ(trigger->event.severity, Severity::kMajor);
  EXPECT_EQ(trigger->event.state, EventState::kProblem);
  EXPECT_EQ(*trigger->event.labels.find("dedup_key"), "disk-db1");
  EXPECT_EQ(*trigger->event.labels.find("detail.free"), "1%");

  auto ack = decodePagerDuty(R"({"routing_key":"abc","event_action":"acknowledge","dedup_key":"disk-db1"})", Clock::now());
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->action, PagerDutyRequest::Action::kAcknowledge);
  auto resolve = decodePagerDuty(R"({"routing_key":"abc","event_action":"resolve","dedup_key":"disk-db1"})", Clock::now());
  ASSERT_TRUE(resolve);
  EXPECT_EQ(resolve->event.state, EventState::kOk);
  EXPECT_EQ(*resolve->event.labels.find("dedup_key"), "disk-db1");

  auto generated = decodePagerDuty(R"({"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}})", Clock::now());
  ASSERT_TRUE(generated);
  EXPECT_EQ(generated->dedup_key.size(), 16u);
}

TEST(PagerDutyDecoder, RejectsIncompleteEvents) {
  for (const char* body : {R"({"event_action":"explode"})", R"({"event_action":"resolve"})",
                           R"({"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"bad"}})",
                           R"({"event_action":"trigger"})", "nope"}) {
    EXPECT_FALSE(decodePagerDuty(body, Clock::now())) << body;
  }
}

}  // namespace
}  // namespace vigil::connectors::http
