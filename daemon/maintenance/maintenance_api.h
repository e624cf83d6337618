// The JSON side of /api/v1/maintenance and the verdict queries, apart from the HTTP server so
// http_api.cc only routes: each function answers an HTTP status and a JSON body.
// Thread-safety: called on the io threads; reads committed state and the managers' snapshots.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "daemon/maintenance/maintenance.h"
#include "daemon/store/store.h"

namespace vigil::maintenance {

struct ApiAnswer {
  int status = 200;
  nlohmann::json body;
};
ApiAnswer errorAnswer(int status, std::string_view message);
// The HTTP status for a Status error (400, 404, 409, 503, 500).
int httpStatusFor(const Status& s);

ApiAnswer listWindows(const MaintenanceManager& manager);
// The window with its audit trail.
ApiAnswer getWindow(const MaintenanceManager& manager, const store::Store& store, std::string_view id);
// The CIs the window covers in `cmdb` now, and its next occurrences.
ApiAnswer previewWindow(const MaintenanceManager& manager, const cmdb::CiSnapshot& cmdb, std::string_view id);
// A POST/PUT body → a command for the correlator; an ApiAnswer (400) when the body is wrong.
// Without authentication, a body's "author" stands for the actor too.
std::variant<std::shared_ptr<MaintenanceCommand>, ApiAnswer> parseCommand(MaintenanceCommand::Verb verb,
                                                                          std::string_view id, std::string_view body,
                                                                          const std::string& actor);
// What to answer once the command's batch committed.
ApiAnswer commandAnswer(const MaintenanceCommand& command, const MaintenanceManager& manager);

ApiAnswer getVerdict(const store::Store& store, std::string_view event_id);
// `query`: the parsed query string (ci=..., limit=...).
ApiAnswer listVerdicts(const store::Store& store, std::string_view ci, std::string_view limit);

}  // namespace vigil::maintenance
