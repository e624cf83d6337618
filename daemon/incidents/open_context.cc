#include "daemon/incidents/open_context.h"

#include "daemon/cmdb/topology.h"

namespace vigil::incidents {

bool buildOpenContext(const Event& event, const cmdb::ConfigurationItem* ci, const rules::Decision& decision,
                      const cmdb::CiSnapshot& cmdb, const IncidentEngine& engine,
                      std::chrono::milliseconds symptom_window, OpenContext& context) {
  if (ci == nullptr || decision.action != rules::Action::kOpen ||
      engine.findActive(event.partition, decision.key) != nullptr) {
    return false;  // only a new incident takes the CMDB's context
  }
  context.services.clear();
  for (const auto* service : cmdb::impactedServices(cmdb, *ci)) context.services.push_back(service->id);
  context.assignment_group = ci->assignment_group;
  context.parent.reset();
  const TimePoint earliest = event.time() - symptom_window;
  const auto ancestor = cmdb::failedAncestor(cmdb, *ci, [&](const cmdb::ConfigurationItem& ci) {
    // Only an outage explains failures behind it: a warning on a router does not.
    auto root = engine.rootIncidentOn(ci.id);
    if (!root) return false;
    const Incident* parent = engine.findById(*root);
    return parent->first_seen >= earliest && parent->severity <= Severity::kMajor;
  });
  if (ancestor) context.parent = engine.rootIncidentOn(*ancestor);
  return true;
}

}  // namespace vigil::incidents
