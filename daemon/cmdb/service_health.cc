#include "daemon/cmdb/service_health.h"

#include <unordered_map>

#include <nlohmann/json.hpp>

#include "daemon/cmdb/ci_index.h"

namespace vigil::cmdb {

namespace {

// Severity orders worst first, so the worse of two is the smaller.
std::optional<Severity> worse(std::optional<Severity> a, std::optional<Severity> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// Memos only the CIs it visits (the services and what they reach), not one slot per CI: it runs
// after every batch, and a CMDB of a million CIs would otherwise cost tens of MB per run.
class HealthComputer {
 public:
  HealthComputer(const CiSnapshot& snapshot, const ActiveSeverityFn& active) : snap_(snapshot), active_(active) {}

  // Worst severity on `i` or anything it depends on. Iterative post-order so that deep chains
  // cannot overflow the stack.
  std::optional<Severity> affected(uint32_t root) {
    if (auto it = affected_.find(root); it != affected_.end()) return it->second;
    const Topology& t = snap_.topology();
    std::vector<std::pair<uint32_t, size_t>> stack{{root, 0}};
    while (!stack.empty()) {
      auto& [i, next] = stack.back();
      const auto deps = t.dependsOn(i);
      if (next < deps.size()) {
        const uint32_t d = deps[next++];
        if (!affected_.contains(d)) stack.emplace_back(d, 0);
        continue;
      }
      std::optional<Severity> s = active_(snap_.at(i));
      for (uint32_t d : deps) s = worse(s, affected_.at(d));
      affected_.emplace(i, s);
      stack.pop_back();
    }
    return affected_.at(root);
  }

  // Membership is acyclic (checked at build), and nesting of services is shallow in practice,
  // so plain recursion is fine here.
  const ServiceHealth& service(uint32_t i) {
    if (auto it = health_.find(i); it != health_.end()) return it->second;
    const ConfigurationItem& ci = snap_.at(i);
    ServiceHealth h;
    h.service = &ci;
    const std::optional<Severity> own = affected(i);
    h.worst = own;
    bool down = own == Severity::kCritical;
    bool any = own.has_value();
    uint32_t members_failing = 0;  // affected at major or worse
    for (uint32_t m : snap_.topology().members(i)) {
      std::optional<Severity> s;
      if (snap_.at(m).isService()) {
        const Health nested = service(m).health;
        s = nested == Health::kDown       ? std::optional(Severity::kCritical)
            : nested == Health::kDegraded ? std::optional(Severity::kMinor)
                                          : std::nullopt;
        s = worse(s, affected(m));
      } else {
        s = affected(m);
      }
      ++h.members;
      if (s) ++h.members_affected;
      if (s == Severity::kCritical) ++h.members_critical;
      if (s && *s <= Severity::kMajor) ++members_failing;
      h.worst = worse(h.worst, s);
      any = any || s.has_value();
    }
    down = down || (h.members > 0 && members_failing == h.members);
    h.health = down ? Health::kDown : any ? Health::kDegraded : Health::kUp;
    return health_.emplace(i, h).first->second;  // a node's address is stable across inserts
  }

 private:
  const CiSnapshot& snap_;
  const ActiveSeverityFn& active_;
  std::unordered_map<uint32_t, std::optional<Severity>> affected_;
  std::unordered_map<uint32_t, ServiceHealth> health_;
};

}  // namespace

std::string_view healthName(Health health) {
  switch (health) {
    case Health::kUp: return "up";
    case Health::kDegraded: return "degraded";
    case Health::kDown: return "down";
  }
  return "up";
}

std::vector<ServiceHealth> computeServiceHealth(const CiSnapshot& snapshot,
                                                const ActiveSeverityFn& active) {
  HealthComputer computer(snapshot, active);
  std::vector<ServiceHealth> out;
  out.reserve(snapshot.services().size());
  for (uint32_t i : snapshot.services()) out.push_back(computer.service(i));
  return out;
}

std::vector<ServiceHealth> computeServiceHealth(
    const CiSnapshot& snapshot, const std::unordered_map<std::string, Severity>& active) {
  return computeServiceHealth(snapshot,
                              [&active](const ConfigurationItem& ci) -> std::optional<Severity> {
                                const auto it = active.find(ci.id);
                                if (it == active.end()) return std::nullopt;
                                return it->second;
                              });
}

void toJson(const ServiceHealth& health, nlohmann::json& out) {
  out = nlohmann::json::object();
  out["id"] = health.service->id;
  out["name"] = health.service->displayName();
  out["health"] = healthName(health.health);
  out["worst_severity"] =
      health.worst ? nlohmann::json(severityName(*health.worst)) : nlohmann::json(nullptr);
  out["members"] = health.members;
  out["members_affected"] = health.members_affected;
  out["members_critical"] = health.members_critical;
}

}  // namespace vigil::cmdb
