// vigilctl: the operator's command line for vigild — check a config, test rules against events,
// list and show incidents, replay events from a file through a running daemon, reload its
// config, back up and restore its data.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "daemon/build_info.h"
#include "daemon/cli/http_client.h"
#include "daemon/cli/rules_test.h"
#include "daemon/daemon.h"
#include "daemon/store/backup.h"

namespace {

using nlohmann::json;
using vigil::cli::HttpResponse;

struct Options {
  std::string url = "http://127.0.0.1:8080";
  std::string token;
};

// Prints the API's error and returns the exit code for it.
int reportFailure(const HttpResponse& r) {
  if (r.status == 0) {
    std::cerr << "vigilctl: cannot reach vigild: " << r.error << "\n";
    return 2;
  }
  auto j = json::parse(r.body, nullptr, false);
  std::cerr << "vigilctl: HTTP " << r.status << ": "
            << (j.is_object() && j.contains("error") ? j["error"].value("message", r.body) : r.body) << "\n";
  return 1;
}

std::string cellOf(const json& v) { return v.is_null() ? "-" : v.is_string() ? v.get<std::string>() : v.dump(); }

// The SLA clock that runs now: "ack HH:MM:SS" / "fix HH:MM:SS" (UTC due time), or "BREACHED".
std::string slaCell(const json& in) {
  const json& sla = in.contains("sla") ? in["sla"] : json();
  if (!sla.is_object()) return "-";
  const bool active = in["state"] == "open" || in["state"] == "acknowledged";
  if (sla.value("acknowledge_breached", false) || sla.value("resolve_breached", false)) return "BREACHED";
  if (!active) return "met";
  const bool ack_runs = in["state"] == "open" && sla["acknowledge_due"].is_string();
  const json& due = ack_runs ? sla["acknowledge_due"] : sla["resolve_due"];
  if (!due.is_string()) return "-";
  const std::string t = due.get<std::string>();  // 2026-11-22T20:01:29.123Z
  return std::string(ack_runs ? "ack " : "fix ") + (t.size() >= 19 ? t.substr(11, 8) : t);
}

int listIncidents(const Options& o, const std::string& query, bool as_json) {
  auto r = vigil::cli::httpGet(o.url + "/api/v1/incidents" + query, o.token);
  if (r.status != 200) return reportFailure(r);
  const json page = json::parse(r.body);
  if (as_json) {
    std::cout << page.dump(2) << "\n";
    return 0;
  }
  std::printf("%-8s %-9s %-3s %-13s %-6s %-20s %-12s %s\n", "ID", "SEVERITY", "PRI", "STATE", "EVENTS", "LAST SEEN",
              "SLA", "TITLE");
  for (const auto& in : page["incidents"]) {
    std::printf("%-8s %-9s %-3s %-13s %-6s %-20s %-12s %s\n", cellOf(in["id"]).c_str(), cellOf(in["severity"]).c_str(),
                cellOf(in["priority"]).c_str(), cellOf(in["state"]).c_str(), cellOf(in["event_count"]).c_str(),
                cellOf(in["last_seen"]).substr(0, 19).c_str(), slaCell(in).c_str(), cellOf(in["title"]).c_str());
  }
  if (!page["next_cursor"].is_null()) std::cout << "(more: --cursor " << cellOf(page["next_cursor"]) << ")\n";
  return 0;
}

// Posts the file's JSON lines in arrays of `batch` events; each 202 means committed.
int replay(const Options& o, const std::string& path, size_t batch) {
  std::ifstream file(path);
  if (!file) {
    std::cerr << "vigilctl: cannot open " << path << "\n";
    return 1;
  }
  std::string line, body;
  size_t in_body = 0, sent = 0, line_no = 0;
  auto flush = [&]() -> int {
    if (in_body == 0) return 0;
    auto r = vigil::cli::httpPost(o.url + "/api/v1/events", "[" + body + "]", o.token);
    if (r.status != 202) {
      std::cerr << "vigilctl: batch ending at line " << line_no << " refused\n";
      return reportFailure(r);
    }
    sent += in_body;
    body.clear();
    in_body = 0;
    return 0;
  };
  while (std::getline(file, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    body += in_body++ ? "," + line : line;
    if (in_body >= batch) {
      if (int rc = flush()) return rc;
    }
  }
  if (int rc = flush()) return rc;
  std::cout << "sent " << sent << " events, all committed\n";
  return 0;
}

// POST /api/v1/reload: prints what was loaded, or each error; exit 1 when rejected.
int reload(const Options& o) {
  auto r = vigil::cli::httpPost(o.url + "/api/v1/reload", "", o.token);
  if (r.status != 200 && r.status != 422) return reportFailure(r);
  const json outcome = json::parse(r.body, nullptr, false);
  if (r.status == 422) {
    std::cerr << "vigilctl: reload rejected; vigild keeps its running config:\n";
    for (const auto& e : outcome["errors"]) std::cerr << e.get<std::string>() << "\n";
    return 1;
  }
  std::cout << "reloaded: " << outcome["rules"] << " rules (version " << cellOf(outcome["rules_version"]) << "), "
            << outcome["cis"] << " CIs, " << outcome["tokens"] << " API tokens\n";
  for (const auto& key : outcome["needs_restart"]) {
    std::cout << key.get<std::string>() << " changed: restart vigild to apply it\n";
  }
  return 0;
}

// GET /api/v1/webhooks/dead-letters as a table; with `retry`, POST …/retry first and print
// what it did.
int deadLetters(const Options& o, const std::string& receiver, const std::vector<std::string>& ids, bool retry,
                bool as_json) {
  if (retry) {
    json body = json::object();
    if (!receiver.empty()) body["receiver"] = receiver;
    if (!ids.empty()) body["ids"] = ids;
    auto r = vigil::cli::httpPost(o.url + "/api/v1/webhooks/dead-letters/retry", body.dump(), o.token);
    if (r.status != 200) return reportFailure(r);
    const json outcome = json::parse(r.body);
    if (as_json) {
      std::cout << outcome.dump(2) << "\n";
      return 0;
    }
    std::cout << "retried " << outcome["retried"] << " dead letters (back in the outbox)\n";
    for (const auto& id : outcome["not_found"]) std::cerr << "not a dead letter: " << cellOf(id) << "\n";
    for (const auto& id : outcome["skipped_unconfigured"]) {
      std::cerr << "skipped, its receiver is not configured: " << cellOf(id) << "\n";
    }
    return outcome["not_found"].empty() ? 0 : 1;
  }
  std::string query = receiver.empty() ? "" : "?receiver=" + receiver;
  auto r = vigil::cli::httpGet(o.url + "/api/v1/webhooks/dead-letters" + query, o.token);
  if (r.status != 200) return reportFailure(r);
  json page = json::parse(r.body);
  if (!ids.empty()) {
    json kept = json::array();
    for (auto& d : page["dead_letters"]) {
      if (std::find(ids.begin(), ids.end(), d.value("id", "")) != ids.end()) kept.push_back(d);
    }
    page["dead_letters"] = kept;
  }
  if (as_json) {
    std::cout << page.dump(2) << "\n";
    return 0;
  }
  std::printf("%-36s %-16s %-8s %-8s %-12s %-8s %-20s %s\n", "ID", "RECEIVER", "INCIDENT", "SEQ", "CHANGE", "ATTEMPTS",
              "DEAD AT", "LAST ERROR");
  for (const auto& d : page["dead_letters"]) {
    std::printf("%-36s %-16s %-8s %-8s %-12s %-8s %-20s %s%s\n", cellOf(d["id"]).c_str(), cellOf(d["receiver"]).c_str(),
                cellOf(d["incident"]).c_str(), cellOf(d["seq"]).c_str(), cellOf(d["change"]).c_str(),
                cellOf(d["attempts"]).c_str(), cellOf(d["dead_at"]).substr(0, 19).c_str(), cellOf(d["error"]).c_str(),
                d.value("configured", true) ? "" : " (receiver not configured)");
  }
  return 0;
}

int backup(const Options& o, const std::string& dir) {
  // A relative path means one on this host, as the daemon cannot know our working directory.
  const std::string absolute = std::filesystem::absolute(dir).lexically_normal().string();
  auto r = vigil::cli::httpPost(o.url + "/api/v1/admin/backup", json{{"dir", absolute}}.dump(), o.token);
  if (r.status != 200) return reportFailure(r);
  const json info = json::parse(r.body);
  std::cout << "backup in " << cellOf(info["dir"]) << " (schema version " << info["schema_version"]
            << ", up to change " << info["last_change_seq"] << ")\n";
  return 0;
}

int restore(const std::string& from, const std::string& data_dir, bool force) {
  auto info = vigil::store::restoreBackup(from, data_dir, force);
  if (!info) {
    std::cerr << "vigilctl: restore: " << info.error().message() << "\n";
    return 1;
  }
  std::cout << "restored " << from << " into " << info->dir << " (schema version " << info->schema_version
            << ", up to change " << info->last_change_seq << ")\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vigilctl — operate vigild"};
  Options o;
  app.add_option("--url", o.url, "vigild's HTTP address")->envname("VIGIL_URL")->capture_default_str();
  app.add_option("--token", o.token, "API token")->envname("VIGIL_TOKEN");
  app.set_version_flag("--version", std::string("vigilctl ") + vigil::kVersion);
  app.require_subcommand(1);

  std::string config_path = "/etc/vigil/vigil.yaml";
  auto* check = app.add_subcommand("check-config", "validate a config file, its rules and CMDB");
  check->add_option("-c,--config", config_path, "config file")->capture_default_str();

  auto* incidents = app.add_subcommand("incidents", "list, show and act on incidents");
  incidents->require_subcommand(1);

  std::string state, severity, priority, host, cursor;
  size_t limit = 50;
  bool as_json = false;
  auto* list = incidents->add_subcommand("list", "list incidents, newest first");
  list->add_option("--state", state, "open|acknowledged|resolved|closed");
  list->add_option("--severity", severity, "critical|major|minor|warning|info");
  list->add_option("--priority", priority, "P1..P5");
  list->add_option("--host", host, "only this host");
  list->add_option("--limit", limit, "page size")->capture_default_str();
  list->add_option("--cursor", cursor, "next_cursor of a previous page");
  list->add_flag("--json", as_json, "print the API's JSON");

  uint64_t id = 0;
  auto* show = incidents->add_subcommand("show", "show one incident with its timeline");
  show->add_option("id", id, "incident id")->required();

  // Actions: each posts to /api/v1/incidents/{id}/{verb} and prints the incident after it.
  std::string comment, group, assignee, text, new_severity, new_priority;
  struct Action {
    const char* verb;
    const char* help;
    CLI::App* cmd = nullptr;
  };
  std::vector<Action> actions = {{"ack", "acknowledge"}, {"resolve", "resolve"}, {"close", "close a resolved incident"},
                                 {"reopen", "reopen a resolved incident"}, {"assign", "assign to a group and/or person"},
                                 {"comment", "add a comment"}, {"severity", "change the severity"},
                                 {"priority", "change the priority"}};
  for (auto& a : actions) {
    a.cmd = incidents->add_subcommand(a.verb, a.help);
    a.cmd->add_option("id", id, "incident id")->required();
    const std::string verb = a.verb;
    if (verb == "assign") {
      a.cmd->add_option("--group", group, "assignment group");
      a.cmd->add_option("--assignee", assignee, "person");
    } else if (verb == "comment") {
      a.cmd->add_option("text", text, "the comment")->required();
    } else if (verb == "severity") {
      a.cmd->add_option("severity", new_severity, "critical|major|minor|warning|info")->required();
    } else if (verb == "priority") {
      a.cmd->add_option("priority", new_priority, "P1..P5")->required();
    } else {
      a.cmd->add_option("-m,--comment", comment, "a note for the timeline");
    }
  }

  std::string replay_file;
  size_t batch = 500;
  auto* replay_cmd = app.add_subcommand("replay", "send a JSON-lines event file to vigild");
  replay_cmd->add_option("file", replay_file, "JSON-lines events")->required();
  replay_cmd->add_option("--batch", batch, "events per request")->capture_default_str();

  auto* reload_cmd = app.add_subcommand("reload", "make vigild reload its config, rules, CMDB and tokens (admin)");

  std::string dl_receiver;
  std::vector<std::string> dl_ids;
  bool dl_retry = false, dl_json = false;
  auto* webhooks_cmd = app.add_subcommand("webhooks", "outbound webhooks");
  webhooks_cmd->require_subcommand(1);
  auto* dead_cmd = webhooks_cmd->add_subcommand(
      "dead-letters", "list the deliveries given up on (operator); --retry puts them back into the outbox");
  dead_cmd->add_option("--receiver", dl_receiver, "only this receiver's");
  dead_cmd->add_option("--id", dl_ids, "only this dead letter (its id, the idempotency key); repeatable")
      ->allow_extra_args(false);
  dead_cmd->add_flag("--retry", dl_retry, "deliver them again, with the same idempotency keys");
  dead_cmd->add_flag("--json", dl_json, "print the API's JSON");

  std::string backup_dir;
  auto* backup_cmd = app.add_subcommand("backup", "checkpoint the running daemon's store into a directory (admin)");
  backup_cmd->add_option("--to", backup_dir, "new or empty directory on the daemon's host")->required();

  std::string restore_from, restore_data_dir;
  bool restore_force = false;
  auto* restore_cmd = app.add_subcommand("restore", "restore a backup into a data dir (offline: vigild stopped)");
  restore_cmd->add_option("--from", restore_from, "directory written by vigilctl backup")->required();
  restore_cmd->add_option("--data-dir", restore_data_dir, "the data_dir vigild will use")->required();
  restore_cmd->add_flag("--force", restore_force, "replace the data dir's existing store");

  vigil::cli::RulesTestOptions rules_test;
  std::vector<std::string> test_files;
  bool verbose = false;
  auto* rules_cmd = app.add_subcommand("rules", "work with rule files");
  rules_cmd->require_subcommand(1);
  auto* rules_test_cmd = rules_cmd->add_subcommand(
      "test", "run events (JSON or syslog lines) through the rules with a virtual clock, or check test files");
  rules_test_cmd->add_option("input", rules_test.input, "events file, - for stdin")->capture_default_str();
  // One glob per flag (repeat it), so the events file after it is not taken for a glob.
  rules_test_cmd->add_option("-r,--rules", rules_test.rule_files, "rule file glob, repeatable (default: from --config)")
      ->allow_extra_args(false);
  rules_test_cmd->add_option("--cmdb", rules_test.cmdb_files, "CMDB file glob, repeatable (default: from --config)")
      ->allow_extra_args(false);
  rules_test_cmd->add_option("-c,--config", rules_test.config_path, "a vigild config to take rules and CMDB from");
  rules_test_cmd->add_option("--format", rules_test.format, "auto|json|syslog")->capture_default_str();
  rules_test_cmd->add_option("--start", rules_test.start, "virtual clock start (RFC 3339; default now)");
  rules_test_cmd->add_flag("--json", rules_test.as_json, "print JSON");
  rules_test_cmd->add_option("-t,--tests", test_files, "rule test files (YAML) with expected outcomes");
  rules_test_cmd->add_flag("-v,--verbose", verbose, "with --tests: print every event's trace");

  CLI11_PARSE(app, argc, argv);

  if (*rules_test_cmd) {
    if (!test_files.empty()) return vigil::cli::runRulesTestFiles(test_files, verbose);
    return vigil::cli::runRulesTest(rules_test);
  }

  if (*check) {
    auto checked = vigil::loadAndCheck(config_path);
    if (!checked) {
      std::cerr << checked.error().message() << "\n";
      return 1;
    }
    std::cout << config_path << ": OK (" << checked->rules->size() << " rules)\n";
    return 0;
  }
  if (*list) {
    std::string q = "?limit=" + std::to_string(limit);
    if (!state.empty()) q += "&state=" + state;
    if (!severity.empty()) q += "&severity=" + severity;
    if (!priority.empty()) q += "&priority=" + priority;
    if (!host.empty()) q += "&host=" + host;
    if (!cursor.empty()) q += "&cursor=" + cursor;
    return listIncidents(o, q, as_json);
  }
  if (*show) {
    auto r = vigil::cli::httpGet(o.url + "/api/v1/incidents/" + std::to_string(id), o.token);
    if (r.status != 200) return reportFailure(r);
    std::cout << json::parse(r.body).dump(2) << "\n";
    return 0;
  }
  for (const auto& a : actions) {
    if (!*a.cmd) continue;
    json body = json::object();
    if (!comment.empty()) body["comment"] = comment;
    if (!group.empty()) body["group"] = group;
    if (!assignee.empty()) body["assignee"] = assignee;
    if (!text.empty()) body["text"] = text;
    if (!new_severity.empty()) body["severity"] = new_severity;
    if (!new_priority.empty()) body["priority"] = new_priority;
    auto r = vigil::cli::httpPost(o.url + "/api/v1/incidents/" + std::to_string(id) + "/" + a.verb, body.dump(), o.token);
    if (r.status != 200) return reportFailure(r);
    const json in = json::parse(r.body);
    std::cout << "incident " << id << ": " << in.value("state", "") << ", " << in.value("severity", "") << ", "
              << in.value("priority", "") << "\n";
    return 0;
  }
  if (*replay_cmd) return replay(o, replay_file, std::max<size_t>(1, batch));
  if (*reload_cmd) return reload(o);
  if (*dead_cmd) return deadLetters(o, dl_receiver, dl_ids, dl_retry, dl_json);
  if (*backup_cmd) return backup(o, backup_dir);
  if (*restore_cmd) return restore(restore_from, restore_data_dir, restore_force);
  return 0;
}
