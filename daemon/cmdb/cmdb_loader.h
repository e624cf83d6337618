// The CMDB's YAML files (`cmdb.files` in vigil.yaml) → a CiSnapshot. Format (docs/cmdb.md):
//
//   cis:
//     - id: sw-core-par1
//       name: Core switch PAR1
//       class: switch                 # router, switch, server, database, application, service …
//       aliases: [sw-core-par1.par1.example.net, 10.1.0.1, 10.1.0.0/24]
//       labels: {site: par1}
//       assignment_group: network
//       criticality: 1                # 1 (highest) … 5
//       location: PAR1 / hall A
//       depends_on: [rtr-par1]
//       members: []                   # class service only
//   label_rules:
//     - match: {site: par1, rack: R12}
//       ci: rack-r12-pdu
//
// Every error comes back at once, one `file:line:col: message` per line: YAML syntax, unknown
// keys, bad values, then what buildSnapshot() checks across files (duplicate ids, edges to
// missing CIs, dependency cycles with their path, aliases claimed by two CIs).
// Thread-safety: pure functions; safe from any thread (they only read files).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cmdb/ci.h"
#include "daemon/cmdb/ci_index.h"
#include "daemon/status.h"

namespace vigil::cmdb {

// What the YAML files hold, before cross-file validation.
struct CmdbDocument {
  std::vector<ConfigurationItem> cis;
  std::vector<LabelRule> label_rules;
};

// Parses one file's text into `out` (appending); errors are appended to `errors`, one per line.
void parseCmdbText(std::string_view yaml, std::string_view file_name, CmdbDocument& out,
                   std::string& errors);

// Expands `globs` (relative ones against `base_dir`; each glob's matches sorted, duplicates
// dropped; a pattern without wildcards must exist), parses every file and builds the snapshot.
Result<std::shared_ptr<const CiSnapshot>> loadCmdbFiles(const std::vector<std::string>& globs,
                                                        const std::string& base_dir);

// One YAML text, for tests and `vigilctl`.
Result<std::shared_ptr<const CiSnapshot>> loadCmdbString(std::string_view yaml,
                                                         std::string_view file_name);

}  // namespace vigil::cmdb
