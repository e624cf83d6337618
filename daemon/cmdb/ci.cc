#include "daemon/cmdb/ci.h"

#include <array>

#include <nlohmann/json.hpp>

namespace vigil::cmdb {

namespace {

constexpr std::array<std::pair<CiClass, std::string_view>, 14> kClassNames = {{
    {CiClass::kRouter, "router"},
    {CiClass::kSwitch, "switch"},
    {CiClass::kFirewall, "firewall"},
    {CiClass::kLoadBalancer, "load_balancer"},
    {CiClass::kServer, "server"},
    {CiClass::kVirtualMachine, "vm"},
    {CiClass::kContainer, "container"},
    {CiClass::kStorage, "storage"},
    {CiClass::kDatabase, "database"},
    {CiClass::kApplication, "application"},
    {CiClass::kLink, "link"},
    {CiClass::kSite, "site"},
    {CiClass::kService, "service"},
    {CiClass::kOther, "other"},
}};

}  // namespace

std::string_view ciClassName(CiClass ci_class) {
  for (const auto& [c, name] : kClassNames) {
    if (c == ci_class) return name;
  }
  return "other";
}

std::optional<CiClass> parseCiClass(std::string_view name) {
  for (const auto& [c, n] : kClassNames) {
    if (n == name) return c;
  }
  return std::nullopt;
}

std::string_view ciClassNames() {
  return "router, switch, firewall, load_balancer, server, vm, container, storage, database, "
         "application, link, site, service, other";
}

const std::string& CiOrigin::file() const { return table->file; }

const Mark* CiOrigin::at(size_t begin, size_t end, size_t k) const {
  return table != nullptr && begin + k < end ? &table->entries[begin + k] : nullptr;
}

void toJson(const ConfigurationItem& ci, nlohmann::json& out) {
  out = nlohmann::json::object();
  out["id"] = ci.id;
  out["name"] = ci.displayName();
  out["class"] = ciClassName(ci.ci_class);
  out["aliases"] = ci.aliases;
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [k, v] : ci.labels) labels[k] = v;
  out["labels"] = std::move(labels);
  out["assignment_group"] = ci.assignment_group.view();
  out["criticality"] = ci.criticality;
  out["location"] = ci.location.view();
  out["depends_on"] = ci.depends_on;
  out["members"] = ci.members;
}

}  // namespace vigil::cmdb
