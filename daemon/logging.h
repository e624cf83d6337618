// Logging: one line per record on stderr (journald stores stderr as is), in logfmt-style
// `ts=… level=… msg` text, level from config or flag.
#pragma once

#include <string>

#include "daemon/status.h"

namespace vigil {

Status setupLogging(const std::string& level, const std::string& format);

}  // namespace vigil
