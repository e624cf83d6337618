// `vigild --print-config`: the effective config as YAML — every core key with its default
// filled in, paths as vigild resolves them — with secrets masked. The output is itself a valid
// config. The syslog and kafka sections are printed as written (their connectors own their
// defaults), with secret-looking values masked (see secrets.h: isSecretKey).
#pragma once

#include <string>

#include "daemon/config/daemon_config.h"

namespace vigil::config {

inline constexpr std::string_view kMaskedSecret = "********";

std::string printConfig(const DaemonConfig& config);

}  // namespace vigil::config
