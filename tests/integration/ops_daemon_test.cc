// Operating the real vigild: config reload (SIGHUP and POST /api/v1/reload) with good and bad
// rules and tokens, --print-config with secrets masked, secrets from the environment, the JSON
// and journal log formats, and backup while running → restore into a new data dir.
#include <sys/stat.h>

#include <csignal>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "daemon/store/store.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/vigild_fixture.h"

namespace vigil::testing {
namespace {

using nlohmann::json;

constexpr const char* kAdminToken = "admin-token-0123456789";
constexpr const char* kOpsToken = "ops-token-0123456789ab";

// A rule that titles every bgp problem with `title`.
std::string bgpRule(const std::string& title) {
  return "rules:\n  - name: bgp-title\n    match: {type: bgp}\n    title: '" + title + " {{host}}'\n";
}

// Points the instance's config at its own rules file instead of the shipped rules.
void useOwnRules(const VigildInstance& vigild) {
  std::string config = readFile(vigild.configPath());
  const auto start = config.find("rules: {files: [");
  const auto end = config.find('\n', start);
  config.replace(start, end - start, "rules: {files: [" + vigild.dir().file("rules.yaml") + "]}");
  writeFile(vigild.configPath(), config);
}

std::string postEventTitle(const VigildInstance& vigild, const std::string& host, const std::string& token = "") {
  auto r = httpPost(vigild.url("/api/v1/events"),
                    R"({"host":")" + host + R"(","type":"bgp","state":"problem","message":"peer down"})", token);
  if (r.status != 202) return "HTTP " + std::to_string(r.status);
  std::string title;
  waitFor([&] {
    auto page = httpGet(vigild.url("/api/v1/incidents?host=" + host), token);
    auto j = json::parse(page.body, nullptr, false);
    if (!j.is_object() || j["incidents"].empty()) return false;
    title = j["incidents"][0]["title"];
    return true;
  });
  return title;
}

TEST(Reload, SighupSwapsGoodRulesAndKeepsTheRunningOnesOnErrors) {
  VigildInstance vigild;
  useOwnRules(vigild);
  writeFile(vigild.dir().file("rules.yaml"), bgpRule("first"));
  ASSERT_TRUE(vigild.start()) << vigild.log();
  EXPECT_EQ(postEventTitle(vigild, "r1"), "first r1");
  EXPECT_EQ(metricValue(vigild, R"(vigil_config_reloads_total{result="success"})"), 0);
  EXPECT_EQ(metricValue(vigild, "vigil_config_last_reload_success_timestamp_seconds"), 0);

  writeFile(vigild.dir().file("rules.yaml"), bgpRule("second"));
  kill(vigild.pid(), SIGHUP);
  ASSERT_TRUE(waitFor([&] { return metricValue(vigild, R"(vigil_config_reloads_total{result="success"})") == 1; }))
      << vigild.log();
  EXPECT_GT(metricValue(vigild, "vigil_config_last_reload_success_timestamp_seconds"), 1.7e9);
  EXPECT_EQ(postEventTitle(vigild, "r2"), "second r2");

  // A broken rules file: the reload fails as a whole, the running rules stay.
  writeFile(vigild.dir().file("rules.yaml"), "rules:\n  - name: broken\n    mtach: {type: bgp}\n");
  kill(vigild.pid(), SIGHUP);
  ASSERT_TRUE(waitFor([&] { return metricValue(vigild, R"(vigil_config_reloads_total{result="failure"})") == 1; }))
      << vigild.log();
  EXPECT_EQ(postEventTitle(vigild, "r3"), "second r3");
  const std::string log = vigild.log();
  EXPECT_NE(log.find("reload of " + vigild.configPath() + " failed"), std::string::npos) << log;
  EXPECT_NE(log.find(vigild.dir().file("rules.yaml") + ":3:5: unknown key 'mtach'"), std::string::npos) << log;
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(Reload, ApiReloadAnswersTheOutcomeSwapsTokensAndNamesRestartKeys) {
  VigildInstance vigild("", std::string("  tokens:\n    - {name: admin, token: ") + kAdminToken + ", role: admin}\n");
  useOwnRules(vigild);
  writeFile(vigild.dir().file("rules.yaml"), bgpRule("first"));
  ASSERT_TRUE(vigild.start()) << vigild.log();

  // Admin only.
  EXPECT_EQ(httpPost(vigild.url("/api/v1/reload"), "").status, 401);

  // Add a token and change a listener-level key: applied / reported as needing a restart.
  replaceInConfig(vigild, "role: admin}\n",
                  std::string("role: admin}\n    - {name: ops, token: ") + kOpsToken + ", role: viewer}\n" +
                      "  max_connections: 17\n");
  auto r = httpPost(vigild.url("/api/v1/reload"), "", kAdminToken);
  ASSERT_EQ(r.status, 200) << r.body;
  json outcome = json::parse(r.body);
  EXPECT_EQ(outcome["result"], "success");
  EXPECT_EQ(outcome["tokens"], 2);
  EXPECT_EQ(outcome["rules"], 1);
  EXPECT_EQ(outcome["needs_restart"], json::array({"http.max_connections"})) << outcome.dump();
  EXPECT_EQ(httpGet(vigild.url("/api/v1/incidents"), kOpsToken).status, 200);
  EXPECT_NE(vigild.log().find("http.max_connections changed; it takes effect only after a restart"), std::string::npos);

  // vigilctl reload with bad rules: 422 with each error, exit 1, everything running stays.
  writeFile(vigild.dir().file("rules.yaml"), bgpRule("second") + "    bogus: 1\n");
  std::string out;
  EXPECT_EQ(run({vigilctlPath(), "--url", vigild.url(""), "--token", kAdminToken, "reload"}, &out), 1) << out;
  EXPECT_NE(out.find(vigild.dir().file("rules.yaml") + ":5:5: unknown key 'bogus'"), std::string::npos) << out;
  r = httpPost(vigild.url("/api/v1/reload"), "", kAdminToken);
  ASSERT_EQ(r.status, 422) << r.body;
  outcome = json::parse(r.body);
  EXPECT_EQ(outcome["result"], "failure");
  ASSERT_FALSE(outcome["errors"].empty());
  EXPECT_EQ(httpGet(vigild.url("/api/v1/incidents"), kOpsToken).status, 200);
  EXPECT_EQ(postEventTitle(vigild, "r3", kAdminToken), "first r3");

  // Drop the ops token with good rules: it stops working at once; vigilctl prints the outcome.
  writeFile(vigild.dir().file("rules.yaml"), bgpRule("third"));
  replaceInConfig(vigild, std::string("    - {name: ops, token: ") + kOpsToken + ", role: viewer}\n", "");
  out.clear();
  EXPECT_EQ(run({vigilctlPath(), "--url", vigild.url(""), "--token", kAdminToken, "reload"}, &out), 0) << out;
  EXPECT_NE(out.find("reloaded: 1 rules"), std::string::npos) << out;
  EXPECT_NE(out.find("http.max_connections changed"), std::string::npos) << out;
  EXPECT_EQ(httpGet(vigild.url("/api/v1/incidents"), kOpsToken).status, 401);
  EXPECT_EQ(postEventTitle(vigild, "r2", kAdminToken), "third r2");
  const std::string metrics = httpGet(vigild.url("/metrics")).body;
  EXPECT_NE(metrics.find(R"(vigil_config_reloads_total{result="success"} 2)"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(vigil_config_reloads_total{result="failure"} 2)"), std::string::npos) << metrics;
  EXPECT_EQ(vigild.stop(), 0);
}

TEST(PrintConfig, FillsDefaultsMasksSecretsAndReadsThemFromTheEnvironment) {
  TempDir dir;
  const std::string path = dir.file("vigil.yaml");
  writeFile(path,
            "http:\n"
            "  tokens:\n"
            "    - {name: admin, token: literal-secret-token-1234, role: admin}\n"
            "    - {name: ops, token_env: VIGIL_TEST_OPS_TOKEN, role: operator}\n"
            "kafka:\n"
            "  brokers: [127.0.0.1:9092]\n"
            "  topics: [events]\n"
            "  properties:\n"
            "    security.protocol: sasl_ssl\n"
            "    sasl.mechanisms: PLAIN\n"
            "    sasl.username: vigil\n"
            "    ssl.key.password_env: VIGIL_TEST_KEY_PASSWORD\n");
  std::string out;
  // Unset variables are config errors at the key that names them.
  unsetenv("VIGIL_TEST_OPS_TOKEN");
  unsetenv("VIGIL_TEST_KEY_PASSWORD");
  EXPECT_EQ(run({vigildPath(), "--check-config", "--config", path}, &out), 1);
  EXPECT_NE(out.find(path + ":4:30: environment variable VIGIL_TEST_OPS_TOKEN is not set"), std::string::npos) << out;

  setenv("VIGIL_TEST_OPS_TOKEN", "env-secret-token-5678", 1);
  setenv("VIGIL_TEST_KEY_PASSWORD", "env-key-password-9", 1);
  setenv("VIGIL_KAFKA_SASL_PASSWORD", "env-sasl-password-0", 1);
  out.clear();
  const int code = run({vigildPath(), "--print-config", "--config", path}, &out);
  unsetenv("VIGIL_TEST_OPS_TOKEN");
  unsetenv("VIGIL_TEST_KEY_PASSWORD");
  unsetenv("VIGIL_KAFKA_SASL_PASSWORD");
  ASSERT_EQ(code, 0) << out;
  for (const char* secret : {"literal-secret-token-1234", "env-secret-token-5678", "env-key-password-9",
                             "env-sasl-password-0"}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << secret << " leaked:\n" << out;
  }
  YAML::Node printed = YAML::Load(out);
  EXPECT_EQ(printed["http"]["tokens"][1]["token"].as<std::string>(), "********");
  EXPECT_EQ(printed["http"]["tokens"][1]["role"].as<std::string>(), "operator");
  const YAML::Node props = printed["kafka"]["properties"];
  EXPECT_EQ(props["ssl.key.password"].as<std::string>(), "********") << out;   // from *_env
  EXPECT_EQ(props["sasl.password"].as<std::string>(), "********") << out;      // VIGIL_KAFKA_SASL_PASSWORD
  EXPECT_FALSE(props["ssl.key.password_env"]) << out;
  EXPECT_EQ(props["sasl.username"].as<std::string>(), "vigil");
  // Defaults filled in.
  EXPECT_EQ(printed["data_dir"].as<std::string>(), "./vigil-data");
  EXPECT_EQ(printed["http"]["listen"].as<std::string>(), "127.0.0.1:8080");
  EXPECT_EQ(printed["http"]["max_connections"].as<int>(), 256);
  EXPECT_EQ(printed["log"]["format"].as<std::string>(), "text");
  EXPECT_EQ(printed["pipeline"]["queue_capacity"].as<int>(), 65536);
  EXPECT_EQ(printed["pipeline"]["queue_bytes"].as<int64_t>(), int64_t{32} << 20);
  EXPECT_EQ(printed["cmdb"]["symptom_window"].as<std::string>(), "600s");
}

TEST(PrintConfig, OutputOfTheShippedConfigIsAValidConfig) {
  TempDir dir;
  std::string printed;
  ASSERT_EQ(run({vigildPath(), "--print-config", "--config", sourceDir() + "/config/vigil.yaml"}, &printed), 0)
      << printed;
  EXPECT_NE(printed.find("files: [" + sourceDir() + "/config/rules.d/*.yaml]"), std::string::npos) << printed;
  writeFile(dir.file("printed.yaml"), printed);
  std::string again;
  ASSERT_EQ(run({vigildPath(), "--print-config", "--config", dir.file("printed.yaml")}, &again), 0) << again;
  // Same config, apart from the comment naming the file.
  EXPECT_EQ(printed.substr(printed.find('\n')), again.substr(again.find('\n')));
}

TEST(Logging, JsonLinesParse) {
  VigildInstance vigild;
  replaceInConfig(vigild, "log: {level: debug}", "log: {level: debug, format: json}");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  kill(vigild.pid(), SIGHUP);  // a reload logs too
  EXPECT_TRUE(waitFor([&] { return vigild.log().find("reload of") != std::string::npos; }));
  EXPECT_EQ(vigild.stop(), 0);
  std::istringstream lines(vigild.log());
  std::string line;
  size_t records = 0;
  bool saw_info = false;
  while (std::getline(lines, line)) {
    const json record = json::parse(line, nullptr, false);
    ASSERT_TRUE(record.is_object()) << "not a JSON line: " << line;
    EXPECT_TRUE(record["ts"].is_string() && record["ts"].get<std::string>().ends_with("Z")) << line;
    EXPECT_TRUE(record["msg"].is_string()) << line;
    saw_info |= record["level"] == "info";
    ++records;
  }
  EXPECT_GT(records, 3u);
  EXPECT_TRUE(saw_info);
}

TEST(Logging, OnTheJournalLinesCarryThePriorityAndNoTimestamp) {
  VigildInstance vigild;
  // The fixture appends vigild's stderr to this file; naming it in JOURNAL_STREAM makes it "the
  // journal" as systemd would for StandardError=journal.
  const std::string log_path = vigild.dir().file("vigild.log");
  writeFile(log_path, "");
  struct stat st {};
  ASSERT_EQ(stat(log_path.c_str(), &st), 0);
  setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
  const bool started = vigild.start();
  unsetenv("JOURNAL_STREAM");
  ASSERT_TRUE(started) << vigild.log();
  EXPECT_EQ(vigild.stop(), 0);
  std::istringstream lines(vigild.log());
  std::string line;
  size_t info = 0;
  while (std::getline(lines, line)) {
    ASSERT_TRUE(line.size() > 3 && line[0] == '<' && line[2] == '>') << line;
    EXPECT_EQ(line.find("ts="), std::string::npos) << line;
    if (line.starts_with("<6>level=info ")) ++info;
  }
  EXPECT_GT(info, 2u) << vigild.log();
}

TEST(Backup, TakenWhileRunningRestoresIntoANewDataDir) {
  VigildInstance vigild("", std::string("  tokens:\n    - {name: admin, token: ") + kAdminToken + ", role: admin}\n");
  ASSERT_TRUE(vigild.start()) << vigild.log();
  for (const char* host : {"r1", "r2", "r3"}) {
    auto r = httpPost(vigild.url("/api/v1/events"),
                      std::string(R"({"host":")") + host + R"(","type":"bgp","state":"problem"})", kAdminToken);
    ASSERT_EQ(r.status, 202) << r.body;
  }
  TempDir backups;
  const std::string backup = backups.file("nightly");
  std::string out;
  // Only admins may back up.
  EXPECT_EQ(run({vigilctlPath(), "--url", vigild.url(""), "backup", "--to", backup}, &out), 1) << out;
  out.clear();
  ASSERT_EQ(run({vigilctlPath(), "--url", vigild.url(""), "--token", kAdminToken, "backup", "--to", backup}, &out), 0)
      << out;
  EXPECT_NE(out.find("backup in " + backup), std::string::npos) << out;
  const json manifest = json::parse(readFile(backup + "/vigil-backup.json"));
  EXPECT_EQ(manifest["schema_version"], store::Store::kSchemaVersion);
  // The same directory again: refused, the backup stays.
  out.clear();
  EXPECT_EQ(run({vigilctlPath(), "--url", vigild.url(""), "--token", kAdminToken, "backup", "--to", backup}, &out), 1);
  EXPECT_NE(out.find("HTTP 409"), std::string::npos) << out;

  // Restoring into the data dir of a running daemon is refused.
  const std::string running_data = vigild.dir().file("data");
  out.clear();
  EXPECT_EQ(run({vigilctlPath(), "restore", "--from", backup, "--data-dir", running_data, "--force"}, &out), 1);
  EXPECT_NE(out.find("is in use by process " + std::to_string(vigild.pid())), std::string::npos) << out;
  // A 4th incident after the backup is not in it.
  ASSERT_EQ(httpPost(vigild.url("/api/v1/events"), R"({"host":"r4","type":"bgp","state":"problem"})", kAdminToken).status,
            202);
  ASSERT_EQ(vigild.stop(), 0);

  VigildInstance restored;
  const std::string data = restored.dir().file("data");
  out.clear();
  ASSERT_EQ(run({vigilctlPath(), "restore", "--from", backup, "--data-dir", data}, &out), 0) << out;
  EXPECT_NE(out.find("restored " + backup), std::string::npos) << out;
  // A second restore without --force finds the store there.
  out.clear();
  EXPECT_EQ(run({vigilctlPath(), "restore", "--from", backup, "--data-dir", data}, &out), 1);
  EXPECT_NE(out.find("use --force"), std::string::npos) << out;
  // Not a backup at all.
  out.clear();
  EXPECT_EQ(run({vigilctlPath(), "restore", "--from", backups.path().string(), "--data-dir", data, "--force"}, &out), 1);
  EXPECT_NE(out.find("is not a vigil backup"), std::string::npos) << out;

  ASSERT_TRUE(restored.start()) << restored.log();
  const json open = restored.incidents("state=open");
  std::vector<std::string> keys;
  for (const auto& in : open) keys.push_back(in["key"]);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"r1/bgp", "r2/bgp", "r3/bgp"})) << open.dump();
  EXPECT_EQ(restored.stop(), 0);
}

}  // namespace
}  // namespace vigil::testing
