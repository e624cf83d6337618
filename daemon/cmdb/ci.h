// ConfigurationItem: one thing the NOC operates (a switch, a server, a database, an application,
// a business service) as the CMDB describes it. Events are bound to CIs (ci_index.h); CIs are
// linked by `depends_on` edges and, for services, `members` (topology.h).
// Thread-safety: a plain value. Inside a CiSnapshot it is immutable and shared by all readers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "daemon/event.h"

namespace vigil::cmdb {

using CiId = std::string;

enum class CiClass : uint8_t {
  kOther,
  kRouter,
  kSwitch,
  kFirewall,
  kLoadBalancer,
  kServer,
  kVirtualMachine,
  kContainer,
  kStorage,
  kDatabase,
  kApplication,
  kLink,
  kSite,
  kService,  // a business service: its `members` are the CIs that deliver it
};

// "router", "switch", "firewall", "load_balancer", "server", "vm", "container", "storage",
// "database", "application", "link", "site", "service", "other".
std::string_view ciClassName(CiClass ci_class);
std::optional<CiClass> parseCiClass(std::string_view name);
// The accepted names, comma-separated, for error messages.
std::string_view ciClassNames();

// 1 = most critical … 5 = least.
inline constexpr uint8_t kMostCritical = 1;
inline constexpr uint8_t kLeastCritical = 5;

// Where a CI and its list entries were written (YAML loader); empty for CIs from other feeds.
// Used only for `file:line:col` in load errors. Lines and columns are 1-based, 0 = unknown.
struct Mark {
  int line = 0;
  int column = 0;
};
struct CiOrigin {
  std::shared_ptr<const std::string> file;  // shared by the CIs of one file
  Mark item;                                // the CI's mapping
  Mark id;                                  // its `id:` value
  // Where each list entry was written: the aliases, then depends_on, then members, parallel to
  // those lists of ConfigurationItem (one vector: a million CIs pay one allocation each).
  std::vector<Mark> entries;
  uint32_t depends_on_begin = 0;  // index in `entries` of the first depends_on entry
  uint32_t members_begin = 0;     // index in `entries` of the first members entry

  // The k-th entry's position; nullptr when unknown.
  const Mark* alias(size_t k) const { return at(0, depends_on_begin, k); }
  const Mark* dependsOn(size_t k) const { return at(depends_on_begin, members_begin, k); }
  const Mark* member(size_t k) const { return at(members_begin, entries.size(), k); }

 private:
  const Mark* at(size_t begin, size_t end, size_t k) const {
    return begin + k < end ? &entries[begin + k] : nullptr;
  }
};

struct ConfigurationItem {
  CiId id;                        // unique, case-sensitive; what `Event::ci` names
  std::string name;               // display name; defaults to the id
  CiClass ci_class = CiClass::kOther;
  // Host names, FQDNs, IPv4/IPv6 addresses and CIDRs ("10.1.0.0/24") this CI answers to.
  // Host names match case-insensitively; each alias may belong to one CI only.
  std::vector<std::string> aliases;
  Labels labels;
  std::string assignment_group;
  uint8_t criticality = 3;        // kMostCritical … kLeastCritical
  std::string location;
  std::vector<CiId> depends_on;   // this CI needs those (a server needs its access switch)
  std::vector<CiId> members;      // class service only: the CIs that deliver the service
  // Where it was defined (YAML), for error messages; shared so that copies stay cheap and a
  // CI from another feed pays one pointer.
  std::shared_ptr<const CiOrigin> origin;

  bool isService() const { return ci_class == CiClass::kService; }
};

// JSON for the API (`GET /api/v1/cis/{id}`): id, name, class, aliases, labels,
// assignment_group, criticality, location, depends_on, members. The origin is left out.
void toJson(const ConfigurationItem& ci, nlohmann::json& out);

}  // namespace vigil::cmdb
