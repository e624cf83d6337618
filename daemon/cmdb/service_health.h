// Service health: up / degraded / down for every business service, computed from the worst
// severity of the active incidents on each CI. A pure function of the snapshot and those
// severities, so the API, the metrics and the tests all get the same answer.
//
// The rule (docs/cmdb.md):
//   A CI is *affected* with severity S when S is the worst active severity on the CI itself or
//   on anything it (transitively) depends on. A member that is itself a service counts as
//   affected-critical when that service is down, affected-major when it is degraded.
//   down      the service itself, or something the service depends on, is affected-critical;
//             or the service has members and every one of them is affected-critical
//             (nothing left to deliver it).
//   degraded  otherwise, when the service or any member is affected at all.
//   up        otherwise.
// So a redundant pair of app servers with one of them down is degraded; the switch both depend
// on going critical takes the service down.
//
// Cost: linear in the CIs reachable from services (memoised), once per call.
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "daemon/cmdb/ci.h"
#include "daemon/event.h"

namespace vigil::cmdb {

class CiSnapshot;

enum class Health : uint8_t { kUp, kDegraded, kDown };
std::string_view healthName(Health health);  // "up", "degraded", "down"

struct ServiceHealth {
  const ConfigurationItem* service = nullptr;  // into the snapshot
  Health health = Health::kUp;
  std::optional<Severity> worst;  // worst severity affecting the service or a member
  uint32_t members = 0;
  uint32_t members_affected = 0;
  uint32_t members_critical = 0;
};

// The worst severity among the active incidents bound to a CI, or nullopt when it has none.
using ActiveSeverityFn = std::function<std::optional<Severity>(const ConfigurationItem&)>;

// One entry per service of the snapshot, in load order.
std::vector<ServiceHealth> computeServiceHealth(const CiSnapshot& snapshot,
                                                const ActiveSeverityFn& active);

// Convenience for tests and small callers: CI id → worst active severity.
std::vector<ServiceHealth> computeServiceHealth(
    const CiSnapshot& snapshot, const std::unordered_map<std::string, Severity>& active);

// {"id","name","health","worst_severity"(or null),"members","members_affected","members_critical"}
void toJson(const ServiceHealth& health, nlohmann::json& out);

}  // namespace vigil::cmdb
