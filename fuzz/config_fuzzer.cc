// libFuzzer target: vigild's config loader on arbitrary YAML text — loadDaemonConfig, then the
// syslog and Kafka sections through their connectors' parsers, as vigild --check-config does.
// Checks, besides the sanitizers: no exception escapes; an error names the file
// ("file:line:col: message" or at least "file:").
// Build and run with scripts/fuzz.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "connectors/kafka/kafka_config.h"
#include "connectors/syslog/syslog_config.h"
#include "daemon/config/daemon_config.h"

namespace {

// The message starts with the position of its first error. (Not every line: messages quote
// values from the file verbatim, and a quoted value may itself hold a line break.)
void checkErrors(const vigil::Status& status, const std::string& file) {
  if (status.message().rfind(file + ":", 0) != 0) std::abort();  // an error that does not say where
}


}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The loader reads a file; each fuzzing process writes its own.
  static const std::string path = "/tmp/vigil-config-fuzz-" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto config = vigil::config::loadDaemonConfig(path);
  if (!config) {
    checkErrors(config.error(), path);
    return 0;
  }
  if (config->syslog) {
    auto syslog = vigil::connectors::syslog::parseSyslogConfig(*config->syslog, path);
    if (!syslog) checkErrors(syslog.error(), path);
  }
  if (config->kafka) {
    auto kafka = vigil::connectors::kafka::parseKafkaConfig(*config->kafka, path);
    if (!kafka) checkErrors(kafka.error(), path);
  }
  return 0;
}
