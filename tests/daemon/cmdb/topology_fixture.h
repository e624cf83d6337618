// A small site shared by the topology and health tests:
//
//   portal (service) ── members ──► shop (service) ── members ──► app1, app2
//   billing (service) ── members ──► db1
//   app1, app2 ── depends_on ──► sw-acc1 ── depends_on ──► sw-core
//   db1 ── depends_on ──► sw-acc2 ── depends_on ──► sw-core
//   lonely (no edges)
#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "daemon/cmdb/cmdb_loader.h"

namespace vigil::cmdb::testing {

inline constexpr const char* kSiteCmdb = R"(cis:
  - {id: sw-core, class: switch}
  - {id: sw-acc1, class: switch, depends_on: [sw-core]}
  - {id: sw-acc2, class: switch, depends_on: [sw-core]}
  - {id: app1, class: server, depends_on: [sw-acc1]}
  - {id: app2, class: server, depends_on: [sw-acc1]}
  - {id: db1, class: database, depends_on: [sw-acc2]}
  - {id: shop, class: service, members: [app1, app2]}
  - {id: billing, class: service, members: [db1]}
  - {id: portal, class: service, members: [shop]}
  - {id: lonely, class: server}
)";

inline std::shared_ptr<const CiSnapshot> siteSnapshot() {
  auto loaded = loadCmdbString(kSiteCmdb, "site.yaml");
  EXPECT_TRUE(loaded) << loaded.error().message();
  return loaded ? *loaded : CiSnapshot::empty();
}

}  // namespace vigil::cmdb::testing
