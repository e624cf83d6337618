// Outbound webhooks against the real vigild and a real HTTP receiver process on loopback that
// fails its first calls: every change arrives, each idempotency key is acknowledged once, the
// orphaned-ticket rule holds, and a kill -9 of vigild re-delivers nothing already acknowledged.
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/vigild_fixture.h"
#include "tests/support/webhook_receiver.h"

namespace vigil::testing {
namespace {

using nlohmann::json;

using Receiver = WebhookReceiver;

void postEvent(const VigildInstance& vigild, const std::string& host, const std::string& state,
               const std::string& severity) {
  auto r = httpPost(vigild.url("/api/v1/events"), json{{"host", host}, {"type", "bgp"}, {"state", state},
                                                       {"severity", severity}}.dump());
  ASSERT_EQ(r.status, 202) << r.body;
}

bool outboxEmpty(const VigildInstance& vigild) {
  return httpGet(vigild.url("/metrics")).body.find("vigil_webhook_queue_depth{receiver=\"tickets\"} 0") !=
         std::string::npos;
}

TEST(Webhooks, EveryChangeArrivesOnceAcrossRetriesAndAKill9) {
  TempDir dir;
  Receiver receiver(dir, 3);
  const uint16_t port = receiver.port();
  ASSERT_NE(port, 0) << readFile(dir.file("receiver.out"));
  VigildInstance vigild("webhooks:\n"
                        "  - name: tickets\n"
                        "    url: http://127.0.0.1:" + std::to_string(port) + "/hook\n"
                        "    match: {severity: [critical, major], state: [open, acknowledged]}\n"
                        "    headers: {X-Source: vigil}\n"
                        "    max_retries: 50\n"
                        "    backoff: {initial: 50ms, max: 200ms}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();

  for (const char* host : {"h1", "h2", "h3", "h4"}) postEvent(vigild, host, "problem", "major");
  postEvent(vigild, "h5", "problem", "minor");  // never matches: never told
  // The matcher no longer matches a resolved incident, but the receiver was told of h1's opening.
  postEvent(vigild, "h1", "ok", "major");
  postEvent(vigild, "h5", "ok", "minor");
  ASSERT_TRUE(waitFor([&] { return receiver.acknowledged().size() == 5 && outboxEmpty(vigild); }))
      << receiver.acknowledged().size() << "\n" << vigild.log();

  ASSERT_EQ(vigild.kill(), -SIGKILL);
  ASSERT_TRUE(vigild.start()) << vigild.log();
  postEvent(vigild, "h2", "ok", "major");
  postEvent(vigild, "h3", "ok", "major");
  postEvent(vigild, "h6", "problem", "critical");
  ASSERT_TRUE(waitFor([&] { return receiver.acknowledged().size() == 8 && outboxEmpty(vigild); }))
      << receiver.acknowledged().size() << "\n" << vigild.log();

  // Each key acknowledged exactly once; the first three calls failed and were retried.
  const auto acked = receiver.acknowledged();
  for (const auto& [key, count] : acked) EXPECT_EQ(count, 1) << key;
  const auto calls = receiver.calls();
  ASSERT_GE(calls.size(), 11u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(calls[i]["status"], 500);
  EXPECT_EQ(calls[3]["status"], 200);
  EXPECT_EQ(calls[3]["key"], calls[0]["key"]);  // the retry carries the same key

  // No gaps: each matched incident's opening, and the resolves of the told ones, in order.
  std::map<std::string, std::vector<std::string>> by_host;
  std::set<std::string> keys;
  for (const auto& c : calls) {
    if (c["status"] != 200) continue;
    const json body = json::parse(c["body"].get<std::string>());
    by_host[body["incident"]["host"]].push_back(body["change"]);
    const std::string expected_key =
        "tickets-" + std::to_string(body["incident"]["id"].get<uint64_t>()) + "-" + std::to_string(body["seq"].get<uint64_t>());
    EXPECT_EQ(c["key"], expected_key);
    keys.insert(expected_key);
  }
  EXPECT_EQ(keys.size(), 8u);
  using V = std::vector<std::string>;
  EXPECT_EQ(by_host["h1"], (V{"opened", "resolved"}));
  EXPECT_EQ(by_host["h2"], (V{"opened", "resolved"}));
  EXPECT_EQ(by_host["h3"], (V{"opened", "resolved"}));
  EXPECT_EQ(by_host["h4"], (V{"opened"}));
  EXPECT_EQ(by_host["h6"], (V{"opened"}));
  EXPECT_FALSE(by_host.contains("h5"));
  const std::string metrics = httpGet(vigild.url("/metrics")).body;
  EXPECT_NE(metrics.find("vigil_webhook_deliveries_total{receiver=\"tickets\"} 3"), std::string::npos)
      << "after the restart: h2, h3 resolved and h6 opened";
}

TEST(Webhooks, TemplateShapesTheBody) {
  TempDir dir;
  Receiver receiver(dir, 0);
  const uint16_t port = receiver.port();
  ASSERT_NE(port, 0);
  VigildInstance vigild("webhooks:\n"
                        "  - name: chat\n"
                        "    url: http://127.0.0.1:" + std::to_string(port) + "/chat\n"
                        "    template: {text: '{{change}}: {{incident.title}}', id: '{{incident.id}}', sev: '{{incident.severity}}'}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  postEvent(vigild, "core9", "problem", "critical");
  ASSERT_TRUE(waitFor([&] { return receiver.acknowledged().size() == 1; })) << vigild.log();
  const json body = json::parse(receiver.calls().at(0)["body"].get<std::string>());
  EXPECT_TRUE(body["id"].is_number()) << body;
  EXPECT_EQ(body["sev"], "critical");
  EXPECT_EQ(body["text"].get<std::string>().rfind("opened: ", 0), 0u) << body;
  EXPECT_EQ(receiver.calls().at(0)["path"], "/chat");
}

}  // namespace
}  // namespace vigil::testing
