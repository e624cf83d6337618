// ConfigurationItem: one thing the NOC operates (a switch, a server, a database, an application,
// a business service) as the CMDB describes it. Events are bound to CIs (ci_index.h); CIs are
// linked by `depends_on` edges and, for services, `members` (topology.h).
// Thread-safety: a plain value. Inside a CiSnapshot it is immutable and shared by all readers.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "daemon/cmdb/compact_string.h"
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
struct CiOriginTable;
// A CI's positions. The origins of one file live in its CiOriginTable (a million CIs pay no
// allocation each, only this record and their entries' marks in the table's shared list).
struct CiOrigin {
  const CiOriginTable* table = nullptr;  // the file's; outlives every CI that points here
  Mark item;                             // the CI's mapping
  Mark id;                               // its `id:` value
  // Where each list entry was written: the aliases, then depends_on, then members, parallel to
  // those lists of ConfigurationItem, as indexes into the table's `entries`.
  uint32_t entries_begin = 0;
  uint32_t depends_on_begin = 0;  // index of the first depends_on entry
  uint32_t members_begin = 0;     // index of the first members entry
  uint32_t entries_end = 0;

  const std::string& file() const;
  // The k-th entry's position; nullptr when unknown.
  const Mark* alias(size_t k) const { return at(entries_begin, depends_on_begin, k); }
  const Mark* dependsOn(size_t k) const { return at(depends_on_begin, members_begin, k); }
  const Mark* member(size_t k) const { return at(members_begin, entries_end, k); }

 private:
  const Mark* at(size_t begin, size_t end, size_t k) const;
};

// The origins of the CIs of one file. Deques, so that what a CI points to never moves while the
// file is read; a CI holds its origin by a shared_ptr that shares the table's ownership.
struct CiOriginTable {
  explicit CiOriginTable(std::string file_name) : file(std::move(file_name)) {}
  std::string file;
  std::deque<Mark> entries;
  std::deque<CiOrigin> origins;
};

struct ConfigurationItem {
  CiId id;                        // unique, case-sensitive; what `Event::ci` names
  // Display name; empty: the id (see displayName()). The rarely set strings are CompactStrings:
  // 8 bytes each while empty (a million CIs, docs/performance.md "Scaling").
  CompactString name;
  CiClass ci_class = CiClass::kOther;
  uint8_t criticality = 3;        // kMostCritical … kLeastCritical (next to ci_class: no padding)
  // Host names, FQDNs, IPv4/IPv6 addresses and CIDRs ("10.1.0.0/24") this CI answers to.
  // Host names match case-insensitively; each alias may belong to one CI only.
  std::vector<std::string> aliases;
  Labels labels;
  CompactString assignment_group;
  CompactString location;
  std::vector<CiId> depends_on;   // this CI needs those (a server needs its access switch)
  std::vector<CiId> members;      // class service only: the CIs that deliver the service
  // Where it was defined (YAML), for error messages; shared so that copies stay cheap and a
  // CI from another feed pays one pointer.
  std::shared_ptr<const CiOrigin> origin;

  bool isService() const { return ci_class == CiClass::kService; }
  std::string_view displayName() const { return name.empty() ? std::string_view(id) : name.view(); }
};

// JSON for the API (`GET /api/v1/cis/{id}`): id, name, class, aliases, labels,
// assignment_group, criticality, location, depends_on, members. The origin is left out.
void toJson(const ConfigurationItem& ci, nlohmann::json& out);

}  // namespace vigil::cmdb
