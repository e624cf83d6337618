// The CMDB context a new incident opens with. Shared by the correlator's event step and by
// whatever opens an incident later on an event's behalf (a maintenance window's end), so both
// give the incident the same services, assignment group and parent.
#pragma once

#include <chrono>

#include "daemon/cmdb/ci_index.h"
#include "daemon/event.h"
#include "daemon/incidents/incident_engine.h"
#include "rules/decision.h"

namespace vigil::incidents {

// Fills `context` when `decision` opens a new incident on `ci` (no active incident under its
// key): the business services the CI affects, its assignment group, and as parent the incident
// of a CI it depends on that failed no longer than `symptom_window` before the event (topology
// suppression). False, with `context` untouched, when there is nothing to add.
bool buildOpenContext(const Event& event, const cmdb::ConfigurationItem* ci, const rules::Decision& decision,
                      const cmdb::CiSnapshot& cmdb, const IncidentEngine& engine,
                      std::chrono::milliseconds symptom_window, OpenContext& context);

}  // namespace vigil::incidents
