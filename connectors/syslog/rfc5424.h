// Strict RFC 5424 parser: "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [SP MSG]".
// Handles NILVALUEs, fractional seconds (up to 6 digits), "Z" and "+hh:mm" offsets, SD escapes
// (\" \\ \]) and the UTF-8 BOM before MSG. Field lengths are checked against the RFC's limits.
// Allocates nothing: the result's views point into `input`.
// Thread-safety: pure function.
#pragma once

#include <string_view>

#include "connectors/syslog/syslog_message.h"

namespace vigil::connectors::syslog {

// Parses one message. `input` should hold exactly one message (a trailing CR/LF/NUL is trimmed).
// Never throws, never reads outside `input`; malformed input returns the ParseError.
ParseResult parseRfc5424(std::string_view input);

// Parses an RFC 3339 timestamp as RFC 5424 restricts it ("2003-10-11T22:14:15.003Z").
// Advances `pos` past it. Shared with the RFC 3164 parser for ISO-dated BSD headers.
std::optional<TimePoint> parseRfc3339(std::string_view s, size_t& pos);

}  // namespace vigil::connectors::syslog
