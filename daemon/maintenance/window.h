// MaintenanceWindow: a time (Schedule) and a scope during which matching events are recorded but
// open nothing. Windows come from config files (`maintenance: {files: [...]}`) and from the API;
// both are parsed by parseWindow() from YAML (a JSON body is YAML too), so they accept the same
// keys and give the same `file:line:col` errors. See docs/maintenance.md.
// Thread-safety: a window is immutable once parsed; shared between threads by shared_ptr.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <yaml-cpp/yaml.h>

#include "daemon/cmdb/ci_index.h"
#include "daemon/maintenance/schedule.h"
#include "daemon/status.h"
#include "daemon/yaml_util.h"
#include "rules/matcher.h"

namespace vigil::maintenance {

struct Scope {
  enum class Kind : uint8_t {
    kCi,        // the CI itself
    kTopology,  // the CI and everything that depends on it, transitively
    kService,   // a service: its members, transitively (and the service itself)
    kMatcher,   // events that satisfy a rules `match:` condition
  };
  Kind kind = Kind::kCi;
  std::string target;                         // kCi, kTopology, kService: the CI id
  std::shared_ptr<const rules::Condition> matcher;  // kMatcher
  std::string matcher_json;                   // kMatcher: the condition as given (for JSON)
};
std::string_view scopeKindName(Scope::Kind kind);

struct MaintenanceWindow {
  std::string id;
  std::string origin;  // "api", or the config file it came from
  std::string title;
  std::string author;
  std::string reason;
  std::string ticket;  // change ticket reference; may be empty
  Schedule schedule;
  std::vector<Scope> scopes;  // any of them covers an event
  TimePoint created_at{};
  TimePoint updated_at{};
  std::optional<TimePoint> ended_at;  // ended through the API: no longer active
  std::string ended_by;

  bool fromApi() const { return origin == "api"; }
  // The CI ids the CMDB-based scopes cover in `cmdb` (matcher scopes are per event).
  std::unordered_set<std::string> coveredCis(const cmdb::CiSnapshot& cmdb) const;
  bool hasMatcher() const;
  // True when a matcher scope accepts the event.
  bool matcherCovers(const Event& event) const;
};

// Parses one window from a YAML mapping. `origin` names the file ("api" for the API); errors are
// appended as "file:line:col: message". Keys: id, title, author, reason, ticket, start + end
// (RFC 3339) or dtstart + time_zone + duration + rrule, scope (a list of {ci|topology|service:
// ID} or {match: CONDITION}). `require_id`: config windows must name themselves.
std::optional<MaintenanceWindow> parseWindow(const YAML::Node& node, std::string_view file, std::string_view origin,
                                             bool require_id, ConfigErrors& errors);

// Loads every window of the files `globs` names (relative to base_dir): each file is a mapping
// with a `windows:` list. Duplicate ids are errors.
Result<std::vector<std::shared_ptr<const MaintenanceWindow>>> loadWindowFiles(const std::vector<std::string>& globs,
                                                                                const std::string& base_dir);

// The window as JSON; `now` sets "active" and the current occurrence.
void toJson(const MaintenanceWindow& window, TimePoint now, nlohmann::json& out);
// The definition alone (what the store keeps for API windows, and what parseWindow reads back).
std::string definitionJson(const MaintenanceWindow& window);

}  // namespace vigil::maintenance
