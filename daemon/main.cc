// vigild: the event-management daemon. main() only parses flags and hands over to the wiring.
#include <iostream>

#include <CLI/CLI.hpp>

#include "daemon/build_info.h"
#include "daemon/config/print_config.h"
#include "daemon/daemon.h"
#include "daemon/logging.h"

#ifdef VIGIL_JEMALLOC
// jemalloc's options, read before main(); MALLOC_CONF in the environment overrides each one.
// No transparent huge pages: on a VM like the benchmark's, the first touch of a fresh 2 MiB page
// stalls the touching thread about 5 ms (the host backs it 4 KiB at a time), and a commit or a
// group of events that hits one sets the latency tail (p99 13 → 7 ms at half rate); 4 KiB faults
// cost as much in all and the rate is the same (benchmarks/compare 1.01×). `never`, not jemalloc's
// `default`, so that a kernel whose THP mode is `always` does not bring them back. Two arenas
// instead of 8 leave fewer pages partly used. docs/performance.md (session 15) has the runs.
extern "C" {
const char* malloc_conf = "thp:never,narenas:2";
}
#endif

int main(int argc, char** argv) {
  CLI::App app{"vigild — turns infrastructure events into incidents"};
  std::string config_path = "/etc/vigil/vigil.yaml";
  std::string replay_file;
  std::string log_level;
  std::string log_format;
  bool check_only = false;
  bool print_config = false;
  app.add_option("-c,--config", config_path, "config file")->capture_default_str();
  app.add_flag("--check-config", check_only, "validate the config, rules and CMDB, then exit");
  app.add_option("--replay", replay_file, "process a JSON-lines event file (- for stdin), then exit");
  app.add_flag("--print-config", print_config, "print the effective config (defaults filled in, secrets masked), then exit");
  app.add_option("--log-level", log_level, "override log.level: trace|debug|info|warn|error");
  app.add_option("--log-format", log_format, "override log.format: text|json")->check(CLI::IsMember({"text", "json"}));
  app.set_version_flag("--version", std::string("vigild ") + vigil::kVersion);
  CLI11_PARSE(app, argc, argv);

  auto checked = vigil::loadAndCheck(config_path, /*allow_stored_cmdb=*/!check_only && replay_file.empty());
  if (!checked) {
    std::cerr << checked.error().message() << "\n";
    return 1;
  }
  if (print_config) {
    std::cout << vigil::config::printConfig(checked->config);
    return 0;
  }
  if (check_only) {
    std::cout << config_path << ": OK (" << checked->rules->size() << " rules)\n";
    return 0;
  }
  if (vigil::Status s = vigil::setupLogging(log_level.empty() ? checked->config.log.level : log_level,
                                            log_format.empty() ? checked->config.log.format : log_format);
      !s.isOk()) {
    std::cerr << s.message() << "\n";
    return 1;
  }
  if (!replay_file.empty()) return vigil::runReplay(std::move(*checked), replay_file);
  return vigil::runDaemon(std::move(*checked));
}
