// Maintenance windows and verdicts against the real vigild: a window made through the API holds
// back an event on a CI behind the maintained switch, the verdict says so, ending the window is
// audited and opens the incident that was held, and API windows survive a restart.
#include <csignal>

#include <gtest/gtest.h>

#include "daemon/time_util.h"
#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

using nlohmann::json;

const std::string kAdmin = "admin-token-0123456789";
const std::string kViewer = "viewer-token-0123456789";
const std::string kIngest = "ingest-token-0123456789";

TEST(MaintenanceApi, WindowSuppressesAuditsAndReleasesTheHeldIncident) {
  TempDir cmdb_dir;
  const std::string cmdb = cmdb_dir.file("cmdb.yaml");
  writeFile(cmdb, "cis:\n"
                  "  - {id: sw1, class: switch}\n"
                  "  - {id: srv1, class: server, depends_on: [sw1]}\n"
                  "  - {id: srv2, class: server}\n");
  VigildInstance vigild("cmdb: {files: [" + cmdb + "]}\n",
                        "  tokens:\n"
                        "    - {name: alice, token: " + kAdmin + ", role: admin}\n"
                        "    - {name: wall, token: " + kViewer + ", role: viewer}\n"
                        "    - {name: zabbix, token: " + kIngest + ", role: ingest}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();

  const TimePoint now = Clock::now();
  const json window = {{"author", "alice"}, {"reason", "sw1 firmware"}, {"ticket", "CHG-42"},
                       {"start", formatRfc3339(now - std::chrono::minutes(1))},
                       {"end", formatRfc3339(now + std::chrono::hours(1))},
                       {"scope", json::array({{{"topology", "sw1"}}})}};
  EXPECT_EQ(httpPost(vigild.url("/api/v1/maintenance"), window.dump(), kViewer).status, 403);
  auto bad = httpPost(vigild.url("/api/v1/maintenance"), R"({"author":"a","reason":"r","start":"soon"})", kAdmin);
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("body:1:"), std::string::npos) << bad.body;
  auto created = httpPost(vigild.url("/api/v1/maintenance"), window.dump(), kAdmin);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = json::parse(created.body)["id"];
  EXPECT_EQ(json::parse(created.body)["active"], true);

  auto preview = httpGet(vigild.url("/api/v1/maintenance/" + id + "/preview"), kViewer);
  ASSERT_EQ(preview.status, 200) << preview.body;
  EXPECT_EQ(json::parse(preview.body)["cis"], json::array({"sw1", "srv1"}));
  EXPECT_EQ(json::parse(preview.body)["next_occurrences"].size(), 1u);

  // srv1 depends on sw1: its failure is held; srv2 is outside the window and opens.
  auto posted = httpPost(vigild.url("/api/v1/events"),
                         R"([{"ci":"srv1","type":"maint-test","state":"problem","severity":"major"},
                             {"ci":"srv2","type":"maint-test","state":"problem","severity":"major"}])",
                         kIngest);
  ASSERT_EQ(posted.status, 202) << posted.body;
  const auto ids = json::parse(posted.body)["ids"];
  ASSERT_EQ(ids.size(), 2u);
  auto verdict = httpGet(vigild.url("/api/v1/events/" + ids[0].get<std::string>() + "/verdict"), kViewer);
  ASSERT_EQ(verdict.status, 200) << verdict.body;
  auto v = json::parse(verdict.body);
  EXPECT_EQ(v["reason"], "maintenance");
  EXPECT_EQ(v["window_id"], id);
  EXPECT_EQ(v["ci"], "srv1");
  EXPECT_EQ(httpGet(vigild.url("/api/v1/events/" + ids[1].get<std::string>() + "/verdict"), kViewer).status, 404);
  auto open = json::parse(httpGet(vigild.url("/api/v1/incidents?state=open"), kViewer).body)["incidents"];
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0]["ci"], "srv2");
  auto by_ci = json::parse(httpGet(vigild.url("/api/v1/verdicts?ci=srv1&limit=5"), kViewer).body);
  ASSERT_EQ(by_ci["verdicts"].size(), 1u);
  EXPECT_EQ(by_ci["verdicts"][0]["event_id"], ids[0]);
  EXPECT_NE(httpGet(vigild.url("/metrics")).body.find("vigil_events_suppressed_total{reason=\"maintenance\"} 1"),
            std::string::npos);

  // Ending the window is audited with who did it, and srv1's held failure opens.
  EXPECT_EQ(httpRequest("DELETE", vigild.url("/api/v1/maintenance/" + id), "", kViewer).status, 403);
  auto ended = httpRequest("DELETE", vigild.url("/api/v1/maintenance/" + id), "", kAdmin);
  ASSERT_EQ(ended.status, 200) << ended.body;
  EXPECT_EQ(json::parse(ended.body)["ended_by"], "alice");
  EXPECT_EQ(httpRequest("DELETE", vigild.url("/api/v1/maintenance/" + id), "", kAdmin).status, 409);
  EXPECT_EQ(httpRequest("DELETE", vigild.url("/api/v1/maintenance/mw-999"), "", kAdmin).status, 404);
  ASSERT_TRUE(waitFor([&] {
    auto list = json::parse(httpGet(vigild.url("/api/v1/incidents?state=open&ci=srv1"), kViewer).body)["incidents"];
    return list.size() == 1 && list[0]["labels"]["maintenance_window"] == id;
  })) << httpGet(vigild.url("/api/v1/incidents"), kViewer).body;

  // The window and its audit survive a restart.
  ASSERT_EQ(vigild.stop(), 0);
  ASSERT_TRUE(vigild.start()) << vigild.log();
  auto stored = httpGet(vigild.url("/api/v1/maintenance/" + id), kViewer);
  ASSERT_EQ(stored.status, 200) << stored.body;
  auto w = json::parse(stored.body);
  EXPECT_EQ(w["ticket"], "CHG-42");
  EXPECT_FALSE(w["ended_at"].is_null());
  ASSERT_EQ(w["audit"].size(), 2u);
  EXPECT_EQ(w["audit"][0]["action"], "created");
  EXPECT_EQ(w["audit"][0]["actor"], "alice");
  EXPECT_EQ(w["audit"][1]["action"], "ended");
  EXPECT_EQ(w["audit"][1]["actor"], "alice");
  EXPECT_EQ(json::parse(httpGet(vigild.url("/api/v1/maintenance"), kViewer).body)["windows"].size(), 1u);
}

TEST(MaintenanceApi, ChangingAWindowIsAuditedAndConfigWindowsAreReadOnly) {
  TempDir files;
  writeFile(files.file("mw.yaml"), "windows:\n"
                                   "  - id: sunday-patching\n"
                                   "    author: ops\n"
                                   "    reason: weekly patching\n"
                                   "    dtstart: 2026-03-01T02:00\n"
                                   "    time_zone: Europe/Paris\n"
                                   "    duration: 2h\n"
                                   "    rrule: FREQ=WEEKLY;BYDAY=SU\n"
                                   "    scope: [{match: {host: {prefix: lab-}}}]\n");
  VigildInstance vigild("maintenance: {files: [" + files.file("mw.yaml") + "]}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  auto list = json::parse(httpGet(vigild.url("/api/v1/maintenance")).body)["windows"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], "sunday-patching");
  auto preview = json::parse(httpGet(vigild.url("/api/v1/maintenance/sunday-patching/preview")).body);
  EXPECT_EQ(preview["next_occurrences"].size(), 5u);
  EXPECT_EQ(httpRequest("DELETE", vigild.url("/api/v1/maintenance/sunday-patching")).status, 409);

  const json body = {{"author", "bob"}, {"reason", "r1"}, {"start", "2030-01-01T00:00:00Z"},
                     {"end", "2030-01-01T01:00:00Z"}, {"scope", json::array({{{"ci", "x"}}})}};
  auto created = httpPost(vigild.url("/api/v1/maintenance"), body.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = json::parse(created.body)["id"];
  json changed = body;
  changed["reason"] = "r2";
  auto put = httpRequest("PUT", vigild.url("/api/v1/maintenance/" + id), changed.dump());
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(json::parse(put.body)["reason"], "r2");
  auto w = json::parse(httpGet(vigild.url("/api/v1/maintenance/" + id)).body);
  ASSERT_EQ(w["audit"].size(), 2u);
  EXPECT_EQ(w["audit"][1]["action"], "changed");
  EXPECT_EQ(w["audit"][1]["actor"], "bob");  // no tokens: the author stands for the actor
  EXPECT_EQ(w["audit"][0]["definition"]["reason"], "r1");  // the trail keeps what it was

  // A broken file on SIGHUP keeps the running windows.
  writeFile(files.file("mw.yaml"), "windows:\n  - id: x\n");
  kill(vigild.pid(), SIGHUP);
  ASSERT_TRUE(waitFor([&] { return vigild.log().find("keeping the running config") != std::string::npos; }));
  EXPECT_EQ(json::parse(httpGet(vigild.url("/api/v1/maintenance")).body)["windows"].size(), 2u);
}

}  // namespace
}  // namespace vigil::testing
