#include "daemon/cli/rules_test.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "daemon/cli/rules_harness.h"
#include "daemon/cmdb/cmdb_loader.h"
#include "daemon/config/daemon_config.h"
#include "daemon/time_util.h"
#include "daemon/yaml_util.h"

namespace vigil::cli {

namespace {

using nlohmann::json;

// The correlator logs through spdlog: keep stdout for the report, and only warnings and errors.
void logToStderr() {
  static const bool done = [] {
    auto logger = spdlog::stderr_color_mt("vigilctl");
    logger->set_level(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    return true;
  }();
  (void)done;
}

// Rules, CMDB and pipeline options for a run.
struct Setup {
  std::shared_ptr<const rules::RuleSet> rules;
  std::shared_ptr<const cmdb::CiSnapshot> cmdb;
  PipelineOptions options;
};

Result<Setup> loadSetup(std::vector<std::string> rule_globs, std::vector<std::string> cmdb_globs,
                        const std::string& config_path, const std::string& base_dir) {
  Setup setup;
  std::string dir = base_dir;
  if (!config_path.empty()) {
    auto config = config::loadDaemonConfig(config_path);
    if (!config) return fail(config.error());
    setup.options = config->pipeline;
    if (rule_globs.empty()) {
      rule_globs = config->rule_files;
      dir = config->base_dir;
    }
    if (cmdb_globs.empty() && !config->cmdb_files.empty()) {
      auto cmdb = cmdb::loadCmdbFiles(config->cmdb_files, config->base_dir);
      if (!cmdb) return fail(cmdb.error());
      setup.cmdb = *cmdb;
    }
  }
  if (rule_globs.empty()) return fail(Status::invalidArgument("no rule files: give --rules or --config"));
  auto rules = rules::RuleSet::loadFiles(rule_globs, dir);
  if (!rules) return fail(rules.error());
  setup.rules = *rules;
  if (!cmdb_globs.empty()) {
    auto cmdb = cmdb::loadCmdbFiles(cmdb_globs, dir);
    if (!cmdb) return fail(cmdb.error());
    setup.cmdb = *cmdb;
  }
  return setup;
}

json decisionJson(const EventTrace& t) {
  const rules::Decision& d = t.decision;
  json annotations = json::object();
  for (size_t i = 0; i < d.annotation_count; ++i) annotations[d.annotations[i].first] = d.annotations[i].second;
  return {{"action", rules::actionName(d.action)},
          {"rule", d.rule},
          {"key", d.key},
          {"title", d.title},
          {"description", d.description},
          {"priority", d.priority == 0 ? json(nullptr) : json(incidents::priorityName(d.priority))},
          {"assignment_group", d.assignment_group},
          {"annotations", std::move(annotations)}};
}

json traceJson(const EventTrace& t, size_t line) {
  const Event& e = t.event;
  json labels = json::object();
  for (const auto& [k, v] : e.labels) labels[k] = v;
  return {{"line", line},
          {"time", formatRfc3339(e.time())},
          {"source", e.source},
          {"host", e.host},
          {"ci", e.ci},
          {"type", e.type},
          {"severity", severityName(e.severity)},
          {"state", eventStateName(e.state)},
          {"message", e.message},
          {"labels", std::move(labels)},
          {"matched", t.matched},
          {"decision", decisionJson(t)},
          {"outcome", outcomeName(t.outcome)}};
}

std::string joined(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ",") + i;
  return s.empty() ? "-" : s;
}

std::string clip(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n - 1) + "~"; }

void printTraceRow(const EventTrace& t, size_t line) {
  std::printf("%-5zu %-24s %-12s %-28s %-8s %-32s %s\n", line, formatRfc3339(t.event.time()).c_str(),
              clip(t.event.host, 12).c_str(), clip(joined(t.matched), 28).c_str(),
              std::string(rules::actionName(t.decision.action)).c_str(),
              clip(t.decision.key.empty() ? "-" : t.decision.key, 32).c_str(),
              std::string(outcomeName(t.outcome)).c_str());
}

void printIncidents(const std::vector<incidents::Incident>& list) {
  std::printf("\n%-4s %-32s %-9s %-9s %-3s %-6s %-14s %s\n", "ID", "KEY", "STATE", "SEVERITY", "PRI", "EVENTS",
              "GROUP", "TITLE");
  for (const auto& in : list) {
    std::printf("%-4llu %-32s %-9s %-9s %-3s %-6llu %-14s %s\n", static_cast<unsigned long long>(in.id),
                clip(in.key, 32).c_str(), std::string(incidents::incidentStateName(in.state)).c_str(),
                std::string(severityName(in.severity)).c_str(), incidents::priorityName(in.priority).c_str(),
                static_cast<unsigned long long>(in.event_count),
                clip(in.assignment_group.empty() ? "-" : in.assignment_group, 14).c_str(), in.title.c_str());
  }
}

json incidentsJson(const std::vector<incidents::Incident>& list) {
  json out = json::array();
  for (const auto& in : list) {
    json j;
    incidents::toJson(in, j, false);
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

int runRulesTest(const RulesTestOptions& o) {
  logToStderr();
  auto setup = loadSetup(o.rule_files, o.cmdb_files, o.config_path, std::filesystem::current_path().string());
  if (!setup) {
    std::cerr << setup.error().message() << "\n";
    return 1;
  }
  if (o.format != "auto" && o.format != "json" && o.format != "syslog") {
    std::cerr << "vigilctl: --format: expected auto, json or syslog\n";
    return 1;
  }
  std::ifstream file;
  if (o.input != "-") {
    file.open(o.input);
    if (!file) {
      std::cerr << "vigilctl: cannot open " << o.input << "\n";
      return 1;
    }
  }
  std::istream& in = o.input == "-" ? std::cin : file;
  TimePoint start = Clock::now();
  if (!o.start.empty()) {
    auto t = parseRfc3339(o.start);
    if (!t) {
      std::cerr << "vigilctl: --start: expected an RFC 3339 time\n";
      return 1;
    }
    start = *t;
  }
  auto harness = RulesHarness::start(setup->rules, setup->cmdb, setup->options, start);
  if (!harness) {
    std::cerr << "vigilctl: " << harness.error().toString() << "\n";
    return 1;
  }
  EventDecoder decoder;
  json traces = json::array();
  if (!o.as_json) {
    std::printf("%-5s %-24s %-12s %-28s %-8s %-32s %s\n", "LINE", "TIME", "HOST", "MATCHED", "ACTION", "KEY",
                "OUTCOME");
  }
  std::string line;
  size_t line_no = 0;
  int rc = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    auto events = parseInputLine(line, o.format, (*harness)->now(), decoder);
    if (!events) {
      std::cerr << o.input << ":" << line_no << ": " << events.error().message() << "\n";
      rc = 1;
      continue;
    }
    for (auto& event : *events) {
      auto trace = (*harness)->feed(std::move(event));
      if (!trace) {
        std::cerr << "vigilctl: " << trace.error().toString() << "\n";
        return 1;
      }
      if (o.as_json) {
        traces.push_back(traceJson(*trace, line_no));
      } else {
        printTraceRow(*trace, line_no);
      }
    }
  }
  auto incidents = (*harness)->finish();
  if (!incidents) {
    std::cerr << "vigilctl: " << incidents.error().toString() << "\n";
    return 1;
  }
  if (o.as_json) {
    std::cout << json{{"rules_version", setup->rules->version()}, {"events", std::move(traces)},
                      {"incidents", incidentsJson(*incidents)}}
                     .dump(2)
              << "\n";
  } else {
    printIncidents(*incidents);
  }
  return rc;
}

// ---- Test files -------------------------------------------------------------------------------

namespace {

// Runs one test file; every failed expectation goes to `failures` as "file:line:col: ...".
class TestFileRunner {
 public:
  TestFileRunner(std::string path, bool verbose) : path_(std::move(path)), verbose_(verbose) {}

  // Returns (tests run, tests failed); a malformed file counts as one failed test.
  std::pair<int, int> run() {
    auto doc = loadYamlFile(path_);
    if (!doc) return malformed(doc.error().message());
    const YAML::Node& root = *doc;
    if (!root.IsMap()) return malformed(yamlError(path_, root, "expected a mapping with rule_files and tests").message());
    ConfigErrors errors;
    errors.add(checkKeys(path_, root, {"rule_files", "cmdb_files", "start", "tests"}));
    std::vector<std::string> rule_globs, cmdb_globs;
    readList(root["rule_files"], rule_globs, errors);
    readList(root["cmdb_files"], cmdb_globs, errors);
    if (rule_globs.empty() && errors.empty()) errors.add(yamlError(path_, root, "rule_files: at least one glob is needed"));
    start_ = parseRfc3339("2026-01-05T00:00:00Z").value();
    if (root["start"]) {
      std::string s;
      if (errors.take(readString(path_, root["start"]), s)) {
        if (auto t = parseRfc3339(s)) {
          start_ = *t;
        } else {
          errors.add(yamlError(path_, root["start"], "expected an RFC 3339 time"));
        }
      }
    }
    if (!root["tests"] || !root["tests"].IsSequence()) errors.add(yamlError(path_, root, "tests: expected a list"));
    if (!errors.empty()) return malformed(errors.status().message());
    const std::string dir = std::filesystem::path(path_).parent_path().string();
    auto setup = loadSetup(rule_globs, cmdb_globs, "", dir);
    if (!setup) return malformed(setup.error().message());
    setup_ = std::move(*setup);
    int run = 0, failed = 0;
    for (const auto& test : root["tests"]) {
      ++run;
      const size_t before = failures_;
      runTest(test);
      if (failures_ != before) ++failed;
    }
    return {run, failed};
  }

 private:
  std::pair<int, int> malformed(const std::string& message) {
    std::cout << message << "\n";
    return {1, 1};
  }

  void readList(const YAML::Node& node, std::vector<std::string>& out, ConfigErrors& errors) {
    if (!node) return;
    if (node.IsScalar()) {
      out.push_back(node.Scalar());
      return;
    }
    if (!node.IsSequence()) {
      errors.add(yamlError(path_, node, "expected a list of globs"));
      return;
    }
    for (const auto& item : node) {
      std::string s;
      if (errors.take(readString(path_, item), s)) out.push_back(s);
    }
  }

  void failure(const YAML::Node& at, const std::string& message) {
    ++failures_;
    std::cout << yamlError(path_, at, "test '" + test_name_ + "': " + message).message() << "\n";
  }

  // Compares one expected value; `what` names it in the message.
  void expectEqual(const YAML::Node& at, const std::string& what, const std::string& expected,
                   const std::string& actual) {
    if (expected != actual) failure(at, what + ": expected '" + expected + "', got '" + actual + "'");
  }

  void runTest(const YAML::Node& test) {
    test_name_ = test.IsMap() && test["name"] && test["name"].IsScalar() ? test["name"].Scalar() : "?";
    ConfigErrors errors;
    if (Status s = checkKeys(path_, test, {"name", "events", "incidents"}); !s.isOk()) {
      failure(test, s.message());
      return;
    }
    if (!test["events"] || !test["events"].IsSequence()) errors.add(yamlError(path_, test, "events: expected a list"));
    if (!errors.empty()) {
      failure(test, errors.status().message());
      return;
    }
    auto harness = RulesHarness::start(setup_.rules, setup_.cmdb, setup_.options, start_);
    if (!harness) {
      failure(test, harness.error().toString());
      return;
    }
    EventDecoder decoder;
    size_t index = 0;
    for (const auto& step : test["events"]) {
      ++index;
      runStep(**harness, decoder, step, index);
    }
    auto incidents = (*harness)->finish();
    if (!incidents) {
      failure(test, incidents.error().toString());
      return;
    }
    if (test["incidents"]) checkIncidents(test["incidents"], *incidents);
  }

  void runStep(RulesHarness& harness, EventDecoder& decoder, const YAML::Node& step, size_t index) {
    const std::string where = "event " + std::to_string(index);
    if (Status s = checkKeys(path_, step, {"syslog", "json", "advance", "expect"}); !s.isOk()) {
      failure(step, s.message());
      return;
    }
    if (step["advance"]) {
      auto d = readDuration(path_, step["advance"]);
      if (!d) {
        failure(step["advance"], d.error().message());
        return;
      }
      if (Status s = harness.advanceTo(harness.now() + *d); !s.isOk()) failure(step, s.toString());
      return;
    }
    Result<std::vector<Event>> events = fail(Status::invalidArgument("each event needs syslog: or json:"));
    if (step["syslog"] && step["syslog"].IsScalar()) {
      events = parseInputLine(step["syslog"].Scalar(), "syslog", harness.now(), decoder);
    } else if (step["json"]) {
      const YAML::Node& j = step["json"];
      events = parseInputLine(j.IsScalar() ? j.Scalar() : yamlToJson(j).dump(), "json", harness.now(), decoder);
    }
    if (!events || events->size() != 1) {
      failure(step, where + ": " + (events ? std::string("expected exactly one event") : events.error().message()));
      return;
    }
    auto trace = harness.feed(std::move(events->front()));
    if (!trace) {
      failure(step, where + ": " + trace.error().toString());
      return;
    }
    if (verbose_) std::cout << path_ << ": test '" << test_name_ << "' " << where << ": " << traceJson(*trace, index).dump() << "\n";
    if (step["expect"]) checkEvent(step["expect"], *trace, where);
  }

  void checkEvent(const YAML::Node& expect, const EventTrace& t, const std::string& where) {
    if (Status s = checkKeys(path_, expect,
                             {"rule", "matched", "action", "outcome", "key", "title", "description", "priority",
                              "assignment_group", "severity", "type", "state", "annotations"});
        !s.isOk()) {
      failure(expect, s.message());
      return;
    }
    const rules::Decision& d = t.decision;
    auto scalar = [&](const char* name, const std::string& actual) {
      if (expect[name]) expectEqual(expect[name], where + ": " + name, expect[name].Scalar(), actual);
    };
    scalar("rule", d.rule);
    scalar("action", std::string(rules::actionName(d.action)));
    scalar("outcome", std::string(outcomeName(t.outcome)));
    scalar("key", d.key);
    scalar("title", d.title);
    scalar("description", d.description);
    scalar("priority", d.priority == 0 ? "" : incidents::priorityName(d.priority));
    scalar("assignment_group", d.assignment_group);
    scalar("severity", std::string(severityName(t.event.severity)));
    scalar("type", t.event.type);
    scalar("state", std::string(eventStateName(t.event.state)));
    if (expect["matched"]) {
      std::vector<std::string> want;
      for (const auto& m : expect["matched"]) want.push_back(m.Scalar());
      expectEqual(expect["matched"], where + ": matched", joined(want), joined(t.matched));
    }
    if (expect["annotations"]) {
      for (const auto& a : expect["annotations"]) {
        std::string actual = "(none)";
        for (size_t i = 0; i < d.annotation_count; ++i) {
          if (d.annotations[i].first == a.first.Scalar()) actual = d.annotations[i].second;
        }
        expectEqual(a.second, where + ": annotations." + a.first.Scalar(), a.second.Scalar(), actual);
      }
    }
  }

  void checkIncidents(const YAML::Node& expected, const std::vector<incidents::Incident>& actual) {
    if (!expected.IsSequence()) {
      failure(expected, "incidents: expected a list");
      return;
    }
    std::vector<bool> used(actual.size(), false);
    for (const auto& want : expected) {
      if (Status s = checkKeys(path_, want,
                               {"key", "state", "severity", "priority", "event_count", "title", "description",
                                "assignment_group", "ci", "rule", "labels"});
          !s.isOk()) {
        failure(want, s.message());
        continue;
      }
      if (!want["key"]) {
        failure(want, "incidents: each needs a key");
        continue;
      }
      const std::string key = want["key"].Scalar();
      const incidents::Incident* in = nullptr;
      for (size_t i = 0; i < actual.size() && in == nullptr; ++i) {
        if (!used[i] && actual[i].key == key) {
          used[i] = true;
          in = &actual[i];
        }
      }
      if (in == nullptr) {
        failure(want, "incident '" + key + "': expected, but the rules opened none");
        continue;
      }
      const std::string what = "incident '" + key + "': ";
      auto scalar = [&](const char* name, const std::string& value) {
        if (want[name]) expectEqual(want[name], what + name, want[name].Scalar(), value);
      };
      scalar("state", std::string(incidents::incidentStateName(in->state)));
      scalar("severity", std::string(severityName(in->severity)));
      scalar("priority", incidents::priorityName(in->priority));
      scalar("event_count", std::to_string(in->event_count));
      scalar("title", in->title);
      scalar("description", in->description);
      scalar("assignment_group", in->assignment_group);
      scalar("ci", in->ci);
      scalar("rule", in->rule);
      if (want["labels"]) {
        for (const auto& l : want["labels"]) {
          const std::string* v = in->labels.find(l.first.Scalar());
          expectEqual(l.second, what + "labels." + l.first.Scalar(), l.second.Scalar(), v ? *v : "(none)");
        }
      }
    }
    for (size_t i = 0; i < actual.size(); ++i) {
      if (!used[i]) {
        failure(expected, "incident '" + actual[i].key + "' (" + std::string(incidents::incidentStateName(actual[i].state)) +
                              "): opened by the rules but not expected");
      }
    }
  }

  std::string path_;
  bool verbose_;
  Setup setup_;
  TimePoint start_;
  std::string test_name_;
  size_t failures_ = 0;
};

}  // namespace

int runRulesTestFiles(const std::vector<std::string>& test_files, bool verbose) {
  logToStderr();
  int run = 0, failed = 0;
  for (const auto& path : test_files) {
    auto [r, f] = TestFileRunner(path, verbose).run();
    run += r;
    failed += f;
  }
  std::cout << (failed == 0 ? "PASS" : "FAIL") << ": " << run << " tests, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace vigil::cli
