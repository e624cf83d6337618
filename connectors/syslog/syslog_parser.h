// Entry point for parsing one syslog message of either format.
// Detection: "<PRI>1 " starts an RFC 5424 message (strictly parsed; its errors are returned, not
// papered over by a 3164 guess); anything else goes to the lenient RFC 3164 parser.
// Input that is not text (a NUL byte, or more than 1/8 C0 control bytes other than TAB) is
// kBinary.
// Allocates nothing; views point into `input`.
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "connectors/syslog/syslog_message.h"

namespace vigil::connectors::syslog {

// `now` anchors the year of RFC 3164 timestamps that have none.
ParseResult parseSyslog(std::string_view input, TimePoint now);

// True when `input` is worth keeping as a raw event after a parse error: non-empty text.
// False for ParseError::kEmpty / kBinary inputs.
bool isUsableText(std::string_view input);

}  // namespace vigil::connectors::syslog
