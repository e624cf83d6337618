// RFC 3339 timestamps (UTC, millisecond precision) as used in every JSON vigil reads or writes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "daemon/event.h"

namespace vigil {

// "2026-11-22T20:01:29.123Z"
std::string formatRfc3339(TimePoint t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" (also a space instead of 'T').
std::optional<TimePoint> parseRfc3339(std::string_view text);
int64_t toUnixMillis(TimePoint t);
TimePoint fromUnixMillis(int64_t ms);

}  // namespace vigil
