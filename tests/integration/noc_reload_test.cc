// The NOC's config reload and webhook dead letters against the real vigild, with real receiver
// processes: SIGHUP / POST /api/v1/reload apply `sla:`, `escalation:` and `webhooks:` all or
// nothing (a broken section keeps the running one and says file:line:col); a receiver added by a
// reload starts delivering while the outbox of one that stays keeps its records; dead letters
// are listed and retried (API and vigilctl) and then delivered exactly once with the same key.
#include <csignal>

#include <gtest/gtest.h>

#include "daemon/time_util.h"
#include "tests/support/vigild_fixture.h"
#include "tests/support/webhook_receiver.h"

namespace vigil::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kViewerToken = "viewer-token-0123456789";
constexpr const char* kOperatorToken = "operator-token-0123456789";

// "line:col" (1-based) of the first `needle` in the config file.
std::string positionInConfig(const VigildInstance& vigild, const std::string& needle) {
  const std::string config = readFile(vigild.configPath());
  const auto at = config.find(needle);
  if (at == std::string::npos) return "?";
  const auto line_start = config.rfind('\n', at);
  const size_t line = 1 + static_cast<size_t>(std::count(config.begin(), config.begin() + static_cast<long>(at), '\n'));
  const size_t col = at - (line_start == std::string::npos ? 0 : line_start + 1) + 1;
  return std::to_string(line) + ":" + std::to_string(col);
}

bool reloaded(const VigildInstance& vigild, const char* result, double count) {
  return waitFor([&] { return metricValue(vigild, std::string("vigil_config_reloads_total{result=\"") + result + "\"}") == count; });
}

// Posts a bgp event and waits for its host's incident.
json openIncident(const VigildInstance& vigild, const std::string& host, const std::string& token = "") {
  auto r = httpPost(vigild.url("/api/v1/events"),
                    json{{"host", host}, {"type", "bgp"}, {"state", "problem"}, {"severity", "major"}}.dump(), token);
  EXPECT_EQ(r.status, 202) << r.body;
  json incident;
  waitFor([&] {
    auto j = json::parse(httpGet(vigild.url("/api/v1/incidents?host=" + host), token).body, nullptr, false);
    if (!j.is_object() || j["incidents"].empty()) return false;
    incident = j["incidents"][0];
    return true;
  });
  return incident;
}

json incident(const VigildInstance& vigild, uint64_t id) { return vigild.getJson("/api/v1/incidents/" + std::to_string(id)); }

// The acknowledge due time minus the clocks' start.
std::chrono::milliseconds acknowledgeTarget(const json& in) {
  if (!in["sla"].is_object() || !in["sla"]["acknowledge_due"].is_string()) return -1ms;
  const auto started = parseRfc3339(in["sla"]["started_at"].get<std::string>());
  const auto due = parseRfc3339(in["sla"]["acknowledge_due"].get<std::string>());
  return std::chrono::duration_cast<std::chrono::milliseconds>(*due - *started);
}

// The hosts of the incidents in the calls `receiver` acknowledged, with their paths.
std::vector<std::string> acknowledgedHosts(const WebhookReceiver& receiver) {
  std::vector<std::string> hosts;
  for (const auto& c : receiver.calls()) {
    if (c["status"] != 200) continue;
    hosts.push_back(json::parse(c["body"].get<std::string>())["incident"]["host"].get<std::string>() + " " +
                    c["path"].get<std::string>());
  }
  return hosts;
}

TEST(NocReload, SlaPolicyReloadsAndABrokenSectionKeepsTheRunningOne) {
  VigildInstance vigild("sla:\n  P2: {acknowledge: 30m, resolve: 8h}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const json first = openIncident(vigild, "sla-1");
  ASSERT_EQ(first["priority"], "P2") << first.dump();
  EXPECT_EQ(acknowledgeTarget(first), 30min) << first.dump();

  // A typo in sla: the whole reload fails with the key's position; the 30 m target stays.
  replaceInConfig(vigild, "resolve: 8h}", "resolv: 8h}");
  const std::string where = positionInConfig(vigild, "resolv:");
  kill(vigild.pid(), SIGHUP);
  ASSERT_TRUE(reloaded(vigild, "failure", 1)) << vigild.log();
  EXPECT_NE(vigild.log().find(vigild.configPath() + ":" + where + ": unknown key 'resolv'"), std::string::npos)
      << where << "\n" << vigild.log();
  EXPECT_EQ(acknowledgeTarget(openIncident(vigild, "sla-2")), 30min);

  // A good one: the running incidents' due times follow from the next tick, new ones start with it.
  replaceInConfig(vigild, "{acknowledge: 30m, resolv: 8h}", "{acknowledge: 5m, resolve: 8h}");
  kill(vigild.pid(), SIGHUP);
  ASSERT_TRUE(reloaded(vigild, "success", 1)) << vigild.log();
  EXPECT_TRUE(waitFor([&] { return acknowledgeTarget(incident(vigild, first["id"])) == 5min; }))
      << incident(vigild, first["id"]).dump();
  EXPECT_EQ(acknowledgeTarget(openIncident(vigild, "sla-3")), 5min);

  // POST /api/v1/reload with a broken webhooks: section answers 422 with the position, and changes nothing.
  replaceInConfig(vigild, "sla:\n", "webhooks:\n  - name: x\n    url: ftp://nowhere\nsla:\n");
  auto r = httpPost(vigild.url("/api/v1/reload"), "");
  ASSERT_EQ(r.status, 422) << r.body;
  const std::string errors = json::parse(r.body)["errors"].dump();
  EXPECT_NE(errors.find(vigild.configPath() + ":" + positionInConfig(vigild, "ftp://")), std::string::npos) << errors;
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(NocReload, WebhookReceiversAddedChangedAndRemovedWithoutLosingOutboxes) {
  TempDir dir;
  WebhookReceiver a(dir, 0, "a");
  WebhookReceiver b(dir, 0, "b");
  ASSERT_NE(a.port(), 0);
  ASSERT_NE(b.port(), 0);
  a.answer(503);  // a is down: its records wait in its outbox
  const std::string receiver_a = "  - name: a\n    url: " + a.url("/a") +
                                 "\n    max_retries: 100000\n    backoff: {initial: 50ms, max: 200ms}\n";
  VigildInstance vigild("webhooks:\n" + receiver_a);
  ASSERT_TRUE(vigild.start()) << vigild.log();
  openIncident(vigild, "wh-1");
  openIncident(vigild, "wh-2");
  ASSERT_TRUE(waitFor([&] { return metricValue(vigild, R"(vigil_webhook_queue_depth{receiver="a"})") == 2; })) << vigild.log();

  // Reload adds b: it starts with the next change; a keeps its two waiting records.
  replaceInConfig(vigild, receiver_a, receiver_a + "  - name: b\n    url: " + b.url("/b") + "\n");
  kill(vigild.pid(), SIGHUP);
  ASSERT_TRUE(reloaded(vigild, "success", 1)) << vigild.log();
  openIncident(vigild, "wh-3");
  ASSERT_TRUE(waitFor([&] { return b.acknowledged().size() == 1; })) << vigild.log();
  EXPECT_EQ(acknowledgedHosts(b), std::vector<std::string>{"wh-3 /b"});
  a.answer(0);
  ASSERT_TRUE(waitFor([&] { return a.acknowledged().size() == 3; })) << vigild.log();
  EXPECT_EQ(acknowledgedHosts(a), (std::vector<std::string>{"wh-1 /a", "wh-2 /a", "wh-3 /a"}));

  // b's URL changes, and a is removed; a's position stays in the store.
  replaceInConfig(vigild, receiver_a, "");
  replaceInConfig(vigild, b.url("/b"), b.url("/b2"));
  ASSERT_EQ(httpPost(vigild.url("/api/v1/reload"), "").status, 200);
  openIncident(vigild, "wh-4");
  ASSERT_TRUE(waitFor([&] { return b.acknowledged().size() == 2; })) << vigild.log();
  EXPECT_EQ(acknowledgedHosts(b), (std::vector<std::string>{"wh-3 /b", "wh-4 /b2"}));

  // a back under its name: it resumes after the last change it routed, so wh-4 is not lost.
  replaceInConfig(vigild, "webhooks:\n", "webhooks:\n" + receiver_a);
  ASSERT_EQ(httpPost(vigild.url("/api/v1/reload"), "").status, 200);
  ASSERT_TRUE(waitFor([&] { return a.acknowledged().size() == 4; })) << vigild.log();
  EXPECT_EQ(acknowledgedHosts(a).back(), "wh-4 /a");
  for (const auto* receiver : {&a, &b}) {
    for (const auto& [key, count] : receiver->acknowledged()) EXPECT_EQ(count, 1) << key;
  }
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(NocDeadLetters, ListedRetriedAndDeliveredOnceWithTheSameKey) {
  TempDir dir;
  WebhookReceiver receiver(dir, 0);
  ASSERT_NE(receiver.port(), 0);
  receiver.answer(400);  // a permanent error: dead at once
  VigildInstance vigild("webhooks:\n  - name: tickets\n    url: " + receiver.url("/hook") +
                            "\n    backoff: {initial: 50ms, max: 200ms}\n",
                        std::string("  tokens:\n    - {name: wall, token: ") + kViewerToken +
                            ", role: viewer}\n    - {name: ops-bob, token: " + kOperatorToken + ", role: operator}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  const json opened = openIncident(vigild, "dl-1", kOperatorToken);
  ASSERT_TRUE(waitFor([&] {
    return metricValue(vigild, R"(vigil_webhook_dead_letters_total{receiver="tickets"})", {}, kViewerToken) == 1;
  })) << vigild.log();
  const std::string key = receiver.calls().at(0)["key"];

  const std::string list_url = vigild.url("/api/v1/webhooks/dead-letters");
  EXPECT_EQ(httpGet(list_url, kViewerToken).status, 403);
  auto r = httpGet(list_url, kOperatorToken);
  ASSERT_EQ(r.status, 200) << r.body;
  const json letters = json::parse(r.body)["dead_letters"];
  ASSERT_EQ(letters.size(), 1u) << r.body;
  const json& d = letters[0];
  EXPECT_EQ(d["id"], key);
  EXPECT_EQ(d["receiver"], "tickets");
  EXPECT_EQ(d["incident"], opened["id"]);
  EXPECT_EQ(key, "tickets-" + opened["id"].dump() + "-" + d["seq"].dump());
  EXPECT_EQ(d["change"], "opened");
  EXPECT_EQ(d["error"], "HTTP 400");
  EXPECT_EQ(d["attempts"], 1);
  EXPECT_TRUE(d["dead_at"].is_string() && parseRfc3339(d["dead_at"].get<std::string>())) << d.dump();
  EXPECT_EQ(d["configured"], true);
  EXPECT_EQ(httpGet(list_url + "?receiver=other", kOperatorToken).body, R"({"dead_letters":[]})");
  EXPECT_EQ(httpGet(list_url + "?limit=0", kOperatorToken).status, 400);

  std::string out;
  const std::vector<std::string> ctl = {vigilctlPath(), "--url", vigild.url(""), "--token", kOperatorToken, "webhooks",
                                        "dead-letters"};
  ASSERT_EQ(run(ctl, &out), 0) << out;
  EXPECT_NE(out.find(key), std::string::npos) << out;
  EXPECT_NE(out.find("HTTP 400"), std::string::npos) << out;

  // Refused retries change nothing.
  const std::string retry_url = vigild.url("/api/v1/webhooks/dead-letters/retry");
  EXPECT_EQ(httpPost(retry_url, "{}", kViewerToken).status, 403);
  EXPECT_EQ(httpPost(retry_url, R"({"ids":"all"})", kOperatorToken).status, 400);
  r = httpPost(retry_url, R"({"ids":["tickets-0-0"]})", kOperatorToken);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["retried"], 0);
  EXPECT_EQ(json::parse(r.body)["not_found"], json::array({"tickets-0-0"}));

  // The receiver is fixed; the retry delivers the change once, under the same key.
  receiver.answer(0);
  std::vector<std::string> retry = ctl;
  retry.push_back("--retry");
  ASSERT_EQ(run(retry, &out), 0) << out;
  EXPECT_NE(out.find("retried 1"), std::string::npos) << out;
  ASSERT_TRUE(waitFor([&] { return receiver.acknowledged()[key] == 1; })) << vigild.log();
  EXPECT_TRUE(waitFor([&] {
    return metricValue(vigild, R"(vigil_webhook_queue_depth{receiver="tickets"})", {}, kViewerToken) == 0;
  }));
  EXPECT_EQ(metricValue(vigild, R"(vigil_webhook_dead_letter_retries_total{receiver="tickets"})", {}, kViewerToken), 1);
  EXPECT_EQ(json::parse(httpGet(list_url, kOperatorToken).body)["dead_letters"].size(), 0u);
  // A later change is delivered as usual, and the retried one is never sent again.
  openIncident(vigild, "dl-2", kOperatorToken);
  ASSERT_TRUE(waitFor([&] { return receiver.acknowledged().size() == 2; })) << vigild.log();
  const auto calls = receiver.calls();
  EXPECT_EQ(std::count_if(calls.begin(), calls.end(), [&](const json& c) { return c["key"] == key; }), 2)
      << "one 400, one 200";
  EXPECT_EQ(vigild.stop(), 0);
}

}  // namespace
}  // namespace vigil::testing
