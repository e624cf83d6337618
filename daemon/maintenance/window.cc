#include "daemon/maintenance/window.h"

#include <algorithm>
#include <deque>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "daemon/cmdb/topology.h"
#include "daemon/time_util.h"
#include "daemon/yaml_util.h"
#include "rules/compiler.h"
#include "rules/yaml_loader.h"

namespace vigil::maintenance {

namespace {

using nlohmann::json;

std::string formatDuration(std::chrono::seconds d) {
  const auto s = d.count();
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

bool validId(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

std::optional<Scope> parseScope(const YAML::Node& node, std::string_view file, ConfigErrors& errors) {
  if (!node.IsMap() || node.size() != 1) {
    errors.add(yamlError(file, node, "a scope is one of {ci: ID}, {topology: ID}, {service: ID} or {match: CONDITION}"));
    return std::nullopt;
  }
  const auto item = *node.begin();
  const std::string kind = item.first.Scalar();
  Scope scope;
  if (kind == "match") {
    std::vector<rules::RuleError> rule_errors;
    rules::RuleSpec spec;
    spec.file = std::string(file);
    spec.name = {"maintenance-scope", {}};
    rules::parseCondition(item.second, file, spec.match, rule_errors);
    std::vector<rules::CompiledRule> compiled;
    if (rule_errors.empty()) compiled = rules::compileRules({spec}, rule_errors);
    for (const auto& e : rule_errors) errors.add(Status::invalidArgument(e.toString()));
    if (!rule_errors.empty() || compiled.empty()) return std::nullopt;
    scope.kind = Scope::Kind::kMatcher;
    scope.matcher = std::make_shared<const rules::Condition>(std::move(compiled.front().match));
    scope.matcher_json = yamlToJson(item.second).dump();
    return scope;
  }
  if (kind == "ci") {
    scope.kind = Scope::Kind::kCi;
  } else if (kind == "topology") {
    scope.kind = Scope::Kind::kTopology;
  } else if (kind == "service") {
    scope.kind = Scope::Kind::kService;
  } else {
    errors.add(yamlError(file, item.first, "unknown scope '" + kind + "' (expected ci, topology, service or match)"));
    return std::nullopt;
  }
  if (!errors.take(readString(file, item.second), scope.target)) return std::nullopt;
  if (scope.target.empty()) {
    errors.add(yamlError(file, item.second, "expected a CI id"));
    return std::nullopt;
  }
  return scope;
}

}  // namespace

std::string_view scopeKindName(Scope::Kind kind) {
  switch (kind) {
    case Scope::Kind::kCi: return "ci";
    case Scope::Kind::kTopology: return "topology";
    case Scope::Kind::kService: return "service";
    case Scope::Kind::kMatcher: return "match";
  }
  return "ci";
}

std::unordered_set<std::string> MaintenanceWindow::coveredCis(const cmdb::CiSnapshot& cmdb) const {
  std::unordered_set<std::string> covered;
  for (const auto& scope : scopes) {
    switch (scope.kind) {
      case Scope::Kind::kCi:
        covered.insert(scope.target);
        break;
      case Scope::Kind::kTopology:
        covered.insert(scope.target);
        for (const auto* ci : cmdb::dependents(cmdb, scope.target)) covered.insert(ci->id);
        break;
      case Scope::Kind::kService: {
        covered.insert(scope.target);
        const uint32_t root = cmdb.indexOf(scope.target);
        if (root == cmdb::CiSnapshot::kNoCi) break;
        std::deque<uint32_t> todo{root};  // members of member services too (the graph is acyclic)
        while (!todo.empty()) {
          const uint32_t i = todo.front();
          todo.pop_front();
          for (uint32_t m : cmdb.topology().members(i)) {
            if (covered.insert(cmdb.at(m).id).second) todo.push_back(m);
          }
        }
        break;
      }
      case Scope::Kind::kMatcher:
        break;
    }
  }
  return covered;
}

bool MaintenanceWindow::hasMatcher() const {
  return std::any_of(scopes.begin(), scopes.end(), [](const Scope& s) { return s.kind == Scope::Kind::kMatcher; });
}

bool MaintenanceWindow::matcherCovers(const Event& event) const {
  for (const auto& scope : scopes) {
    if (scope.kind != Scope::Kind::kMatcher) continue;
    rules::MatchContext ctx;
    if (scope.matcher->matches(event, ctx)) return true;
  }
  return false;
}

std::optional<MaintenanceWindow> parseWindow(const YAML::Node& node, std::string_view file, std::string_view origin,
                                             bool require_id, ConfigErrors& errors) {
  if (!node.IsMap()) {
    errors.add(yamlError(file, node, "a maintenance window must be a mapping"));
    return std::nullopt;
  }
  ConfigErrors local;
  local.add(checkKeys(file, node, {"id", "title", "author", "reason", "ticket", "start", "end", "dtstart", "time_zone",
                                   "duration", "rrule", "scope"}));
  MaintenanceWindow w;
  w.origin = origin;
  if (node["id"] && local.take(readString(file, node["id"]), w.id) && !validId(w.id)) {
    local.add(yamlError(file, node["id"], "id: letters, digits, '-', '_' and '.' only, at most 128"));
  }
  if (require_id && !node["id"]) local.add(yamlError(file, node, "window has no id"));
  using Field = std::pair<const char*, std::string*>;
  for (auto [key, field] : std::initializer_list<Field>{{"title", &w.title}, {"author", &w.author}, {"reason", &w.reason},
                                                        {"ticket", &w.ticket}}) {
    if (node[key]) local.take(readString(file, node[key]), *field);
  }
  if (!node["author"]) local.add(yamlError(file, node, "window has no author"));
  if (!node["reason"]) local.add(yamlError(file, node, "window has no reason"));

  const bool one_shot = node["start"] || node["end"];
  const bool recurring = node["dtstart"] || node["rrule"] || node["time_zone"] || node["duration"];
  if (one_shot == recurring) {
    local.add(yamlError(file, node, "give either start and end, or dtstart, time_zone, duration and rrule"));
  } else if (one_shot) {
    std::optional<TimePoint> start, end;
    using Field = std::pair<const char*, std::optional<TimePoint>*>;
    for (auto [key, out] : std::initializer_list<Field>{{"start", &start}, {"end", &end}}) {
      std::string text;
      if (!node[key]) {
        local.add(yamlError(file, node, std::string("window has no ") + key));
      } else if (local.take(readString(file, node[key]), text)) {
        *out = parseRfc3339(text);
        if (!*out) local.add(yamlError(file, node[key], std::string(key) + ": expected an RFC 3339 time such as 2026-11-29T02:00:00Z"));
      }
    }
    if (start && end) {
      auto schedule = Schedule::oneShot(*start, *end);
      if (schedule) w.schedule = std::move(*schedule);
      else local.add(yamlError(file, node["end"], schedule.error().message()));
    }
  } else {
    std::string dtstart, zone, rrule;
    std::chrono::milliseconds duration{0};
    bool ok = true;
    for (auto key : {"dtstart", "time_zone", "duration", "rrule"}) {
      if (!node[key]) {
        local.add(yamlError(file, node, std::string("recurring window has no ") + key));
        ok = false;
      }
    }
    if (ok) {
      ok = local.take(readString(file, node["dtstart"]), dtstart) & local.take(readString(file, node["time_zone"]), zone) &
           local.take(readDuration(file, node["duration"]), duration) & local.take(readString(file, node["rrule"]), rrule);
    }
    if (ok) {
      auto schedule = Schedule::recurring(dtstart, zone, std::chrono::duration_cast<std::chrono::seconds>(duration), rrule);
      if (!schedule) {
        const std::string& m = schedule.error().message();
        const char* at = m.starts_with("time_zone") ? "time_zone" : m.starts_with("dtstart") ? "dtstart"
                         : m.starts_with("duration") ? "duration" : "rrule";
        local.add(yamlError(file, node[at], m));
      } else {
        w.schedule = std::move(*schedule);
      }
    }
  }
  if (!node["scope"]) {
    local.add(yamlError(file, node, "window has no scope"));
  } else if (!node["scope"].IsSequence() || node["scope"].size() == 0) {
    local.add(yamlError(file, node["scope"], "scope: expected a non-empty list"));
  } else {
    for (const auto& item : node["scope"]) {
      if (auto scope = parseScope(item, file, local)) w.scopes.push_back(std::move(*scope));
    }
  }
  if (!local.empty()) {
    errors.add(local.status());
    return std::nullopt;
  }
  return w;
}

Result<std::vector<std::shared_ptr<const MaintenanceWindow>>> loadWindowFiles(const std::vector<std::string>& globs,
                                                                                const std::string& base_dir) {
  std::vector<std::string> missing;
  const auto files = expandGlobs(globs, base_dir, missing);
  ConfigErrors errors;
  for (const auto& m : missing) errors.add(Status::invalidArgument(m + ":1:1: cannot open file"));
  std::vector<std::shared_ptr<const MaintenanceWindow>> windows;
  std::unordered_map<std::string, std::string> seen;  // id → where
  for (const auto& file : files) {
    auto doc = loadYamlFile(file);
    if (!doc) {
      errors.add(doc.error());
      continue;
    }
    if (doc->IsNull()) continue;
    if (Status s = checkKeys(file, *doc, {"windows"}); !s.isOk()) {
      errors.add(s);
      continue;
    }
    const YAML::Node list = (*doc)["windows"];
    if (!list || list.IsNull()) continue;
    if (!list.IsSequence()) {
      errors.add(yamlError(file, list, "windows: expected a list"));
      continue;
    }
    for (const auto& node : list) {
      auto w = parseWindow(node, file, file, true, errors);
      if (!w) continue;
      const auto mark = node["id"].Mark();
      const std::string where = file + ":" + std::to_string(mark.line + 1);
      if (auto [it, inserted] = seen.emplace(w->id, where); !inserted) {
        errors.add(yamlError(file, node["id"], "duplicate window id '" + w->id + "' (first at " + it->second + ")"));
        continue;
      }
      if (w->id.starts_with("mw-")) {
        errors.add(yamlError(file, node["id"], "ids starting with 'mw-' are for windows made through the API"));
        continue;
      }
      windows.push_back(std::make_shared<const MaintenanceWindow>(std::move(*w)));
    }
  }
  if (!errors.empty()) return fail(errors.status());
  return windows;
}

std::string definitionJson(const MaintenanceWindow& w) {
  json j = {{"id", w.id}, {"author", w.author}, {"reason", w.reason}};
  if (!w.title.empty()) j["title"] = w.title;
  if (!w.ticket.empty()) j["ticket"] = w.ticket;
  const Schedule& s = w.schedule;
  if (s.isRecurring()) {
    j["dtstart"] = s.dtstart();
    j["time_zone"] = s.timeZone();
    j["duration"] = formatDuration(s.duration());
    j["rrule"] = s.rrule();
  } else {
    j["start"] = formatRfc3339(s.start());
    j["end"] = formatRfc3339(s.end());
  }
  json scopes = json::array();
  for (const auto& scope : w.scopes) {
    if (scope.kind == Scope::Kind::kMatcher) {
      scopes.push_back({{"match", json::parse(scope.matcher_json)}});
    } else {
      scopes.push_back({{std::string(scopeKindName(scope.kind)), scope.target}});
    }
  }
  j["scope"] = std::move(scopes);
  return j.dump();
}

void toJson(const MaintenanceWindow& w, TimePoint now, json& out) {
  out = json::parse(definitionJson(w));
  for (const char* key : {"title", "ticket"}) {
    if (!out.contains(key)) out[key] = nullptr;
  }
  out["origin"] = w.origin;
  out["created_at"] = w.created_at == TimePoint{} ? json(nullptr) : json(formatRfc3339(w.created_at));
  out["updated_at"] = w.updated_at == TimePoint{} ? json(nullptr) : json(formatRfc3339(w.updated_at));
  out["ended_at"] = w.ended_at ? json(formatRfc3339(*w.ended_at)) : json(nullptr);
  out["ended_by"] = w.ended_by.empty() ? json(nullptr) : json(w.ended_by);
  const auto position = w.schedule.at(now);
  const bool active = !w.ended_at && position.covering.has_value();
  out["active"] = active;
  out["current"] = active ? json({{"start", formatRfc3339(position.covering->start)},
                                  {"end", formatRfc3339(position.covering->end)}})
                          : json(nullptr);
}

}  // namespace vigil::maintenance
