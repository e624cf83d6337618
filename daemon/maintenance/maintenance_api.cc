#include "daemon/maintenance/maintenance_api.h"

#include "daemon/api/parse_number.h"
#include "daemon/time_util.h"
#include "daemon/verdicts/verdict_log.h"
#include "daemon/yaml_util.h"

namespace vigil::maintenance {

namespace {

using nlohmann::json;

constexpr size_t kPreviewOccurrences = 5;

}  // namespace

ApiAnswer errorAnswer(int status, std::string_view message) {
  return {status, {{"error", {{"code", status}, {"message", message}}}}};
}

int httpStatusFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return 400;
    case Status::Code::kNotFound: return 404;
    case Status::Code::kFailedPrecondition:
    case Status::Code::kAlreadyExists: return 409;
    case Status::Code::kResourceExhausted:
    case Status::Code::kUnavailable: return 503;
    default: return 500;
  }
}

ApiAnswer listWindows(const MaintenanceManager& manager) {
  const TimePoint now = manager.now();
  json items = json::array();
  for (const auto& w : manager.windows()) {
    json j;
    toJson(*w, now, j);
    items.push_back(std::move(j));
  }
  return {200, {{"windows", std::move(items)}}};
}

ApiAnswer getWindow(const MaintenanceManager& manager, const store::Store& store, std::string_view id) {
  const auto w = manager.find(id);
  if (!w) return errorAnswer(404, "no maintenance window '" + std::string(id) + "'");
  json j;
  toJson(*w, manager.now(), j);
  auto audit = MaintenanceManager::audit(store, id);
  if (!audit) return errorAnswer(500, audit.error().toString());
  j["audit"] = *audit;
  return {200, std::move(j)};
}

ApiAnswer previewWindow(const MaintenanceManager& manager, const cmdb::CiSnapshot& cmdb, std::string_view id) {
  const auto w = manager.find(id);
  if (!w) return errorAnswer(404, "no maintenance window '" + std::string(id) + "'");
  const TimePoint now = manager.now();
  json occurrences = json::array();
  if (!w->ended_at) {
    for (const auto& o : w->schedule.upcoming(now, kPreviewOccurrences)) {
      occurrences.push_back({{"start", formatRfc3339(o.start)}, {"end", formatRfc3339(o.end)}});
    }
  }
  const auto cis = MaintenanceManager::preview(*w, cmdb);
  return {200, {{"id", w->id}, {"cis", cis}, {"ci_count", cis.size()}, {"next_occurrences", std::move(occurrences)}}};
}

std::variant<std::shared_ptr<MaintenanceCommand>, ApiAnswer> parseCommand(MaintenanceCommand::Verb verb,
                                                                          std::string_view id, std::string_view body,
                                                                          const std::string& actor) {
  auto command = std::make_shared<MaintenanceCommand>();
  command->verb = verb;
  command->id = id;
  command->actor = actor;
  if (verb != MaintenanceCommand::Verb::kEnd) {
    const json parsed = json::parse(body, nullptr, false);
    if (!parsed.is_object()) return errorAnswer(400, "body: expected a JSON object");
    if (parsed.contains("id") && verb == MaintenanceCommand::Verb::kCreate) {
      return errorAnswer(400, "id: the server names API windows");
    }
    // The JSON is YAML too: one parser for config files and the API, with line:col errors.
    auto node = loadYamlString(body, "body");
    if (!node) return errorAnswer(400, node.error().message());
    if (node->IsMap() && (*node)["id"]) node->remove("id");
    ConfigErrors errors;
    auto w = parseWindow(*node, "body", "api", false, errors);
    if (!w) return errorAnswer(400, errors.status().message());
    command->window = std::move(*w);
  }
  if (command->actor == "anonymous" && command->window && !command->window->author.empty()) {
    command->actor = command->window->author;  // without authentication the caller says who they are
  }
  return command;
}

ApiAnswer commandAnswer(const MaintenanceCommand& command, const MaintenanceManager& manager) {
  if (!command.result) return errorAnswer(503, "the correlator did not apply the command");
  if (!*command.result) return errorAnswer(httpStatusFor(command.result->error()), command.result->error().message());
  json j;
  toJson(**command.result, manager.now(), j);
  return {command.verb == MaintenanceCommand::Verb::kCreate ? 201 : 200, std::move(j)};
}

ApiAnswer getVerdict(const store::Store& store, std::string_view event_id) {
  auto id = api::parseNumber<uint64_t>(event_id);
  if (!id || *id == 0) return errorAnswer(400, "id: expected an event id (a number)");
  auto record = verdicts::VerdictLog::byEvent(store, *id);
  if (!record) return errorAnswer(500, record.error().toString());
  if (!*record) {
    return errorAnswer(404, "no verdict for event " + std::string(event_id) +
                                " (it opened an incident, is unknown, or its verdict is past retention)");
  }
  json j;
  verdicts::toJson(**record, j);
  return {200, std::move(j)};
}

ApiAnswer listVerdicts(const store::Store& store, std::string_view ci, std::string_view limit_text) {
  if (ci.empty()) return errorAnswer(400, "ci: required");
  size_t limit = 100;
  if (!limit_text.empty()) {
    auto n = api::parseNumber<size_t>(limit_text);
    if (!n || *n == 0 || *n > 1000) return errorAnswer(400, "limit: expected 1..1000");
    limit = *n;
  }
  auto records = verdicts::VerdictLog::byCi(store, ci, limit);
  if (!records) return errorAnswer(500, records.error().toString());
  json items = json::array();
  for (const auto& r : *records) {
    json j;
    verdicts::toJson(r, j);
    items.push_back(std::move(j));
  }
  return {200, {{"verdicts", std::move(items)}}};
}

}  // namespace vigil::maintenance
