// `vigilctl rules test`: runs events through the rules with the real correlator (RulesHarness)
// and a virtual clock.
//   - Events mode: a file or stdin of JSON lines or syslog lines; prints per event which rules
//     matched and what they decided, then the resulting incidents (a table, or --json).
//   - Test-file mode (like `promtool test rules`): YAML files listing input events with expected
//     decisions and the expected incidents at the end; mismatches are printed as
//     `file:line:col: test 'name': ...: expected X, got Y` and the exit code is 1.
// The test-file format is described in docs/rules.md ("Testing rules").
#pragma once

#include <string>
#include <vector>

namespace vigil::cli {

struct RulesTestOptions {
  std::vector<std::string> rule_files;  // globs; empty: take them from `config_path`
  std::vector<std::string> cmdb_files;  // globs; empty: from `config_path`, else none
  std::string config_path;              // a vigild config (rules, CMDB, pipeline options)
  std::string input = "-";              // events file, "-" = stdin
  std::string format = "auto";          // auto | json | syslog
  std::string start;                    // RFC 3339 start of the virtual clock ("" = first event)
  bool as_json = false;
};

// Returns the exit code: 0, or 1 when the rules or the input cannot be read.
int runRulesTest(const RulesTestOptions& options);

// Returns 0 when every expectation of every file holds, 1 otherwise (or on a malformed file).
int runRulesTestFiles(const std::vector<std::string>& test_files, bool verbose);

}  // namespace vigil::cli
