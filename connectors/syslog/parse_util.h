// Small helpers shared by the RFC 5424 and RFC 3164 parsers. Internal to connectors/syslog.
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "daemon/event.h"

namespace vigil::connectors::syslog::detail {

inline bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `pos`; advances `pos` on success.
inline bool readDigits(std::string_view s, size_t& pos, size_t n, int& value) {
  if (pos + n > s.size()) {
    return false;
  }
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (!isDigit(c)) {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  value = v;
  pos += n;
  return true;
}

enum class PriStatus : uint8_t { kAbsent, kOk, kBad };

// "<" 1*3DIGIT ">" with PRIVAL <= 191. kAbsent when `s` does not start with "<".
inline PriStatus parsePri(std::string_view s, size_t& pos, uint8_t& facility, uint8_t& severity) {
  if (s.empty() || s[0] != '<') {
    return PriStatus::kAbsent;
  }
  size_t i = 1;
  int value = 0;
  while (i < s.size() && i <= 3 && isDigit(s[i])) {
    value = value * 10 + (s[i] - '0');
    ++i;
  }
  if (i == 1 || i >= s.size() || s[i] != '>' || value > 191) {
    return PriStatus::kBad;
  }
  facility = static_cast<uint8_t>(value / 8);
  severity = static_cast<uint8_t>(value % 8);
  pos = i + 1;
  return PriStatus::kOk;
}

// A calendar time to a TimePoint. `offset_minutes` is the sender's UTC offset (east positive).
inline std::optional<TimePoint> makeTime(int year, int month, int day, int hour, int minute,
                                         int second, int64_t micros, int offset_minutes) {
  using namespace std::chrono;
  // TimePoint counts nanoseconds in 64 bits (1677..2262); a far year would overflow (UB), and
  // no device clock is that far off. Found by syslog_parse_fuzzer.
  if (year < 1900 || year > 2200) {
    return std::nullopt;
  }
  const year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                           std::chrono::day(static_cast<unsigned>(day))};
  // Second 60 is a leap second (RFC 3339 allows it); it lands on the next second.
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  const auto t = sys_days(ymd) + hours(hour) + minutes(minute) + seconds(second) +
                 microseconds(micros) - minutes(offset_minutes);
  return time_point_cast<Clock::duration>(t);
}

// Removes trailing LF, CR and NUL (rsyslog's octet count includes its template's LF).
inline std::string_view trimTrailing(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == '\0')) {
    s.remove_suffix(1);
  }
  return s;
}

inline std::string_view stripBom(std::string_view s) {
  if (s.size() >= 3 && s[0] == '\xEF' && s[1] == '\xBB' && s[2] == '\xBF') {
    s.remove_prefix(3);
  }
  return s;
}

inline bool isUpper(char c) { return c >= 'A' && c <= 'Z'; }

// A Juniper-style event tag: upper case letters, digits and '_', with at least one '_'.
inline bool isMnemonicToken(std::string_view s) {
  bool underscore = false;
  for (const char c : s) {
    if (!(isUpper(c) || isDigit(c) || c == '_')) {
      return false;
    }
    underscore = underscore || c == '_';
  }
  return s.size() >= 3 && underscore && isUpper(s[0]);
}

// Finds a device message tag at the start of `msg`:
//  - Cisco and friends: "%LINK-3-UPDOWN: ...", "%ASA-6-302013: ...",
//    "%PKT_INFRA-LINK-3-UPDOWN : ..." -> "LINK-3-UPDOWN" (at least two '-', one a severity digit)
//  - Juniper: "SNMP_TRAP_LINK_DOWN: ..." -> upper case, digits and '_' with at least one '_'.
// Returns an empty view when there is none.
inline std::string_view detectMnemonic(std::string_view msg) {
  if (msg.empty()) {
    return {};
  }
  if (msg[0] == '%') {
    size_t i = 1;
    int dashes = 0;
    bool digit_part = false;
    while (i < msg.size() && i < 96) {
      const char c = msg[i];
      if (c == '-') {
        ++dashes;
        digit_part = digit_part || (i + 2 < msg.size() && isDigit(msg[i + 1]) && msg[i + 2] == '-');
      } else if (!(isUpper(c) || isDigit(c) || c == '_' || (c >= 'a' && c <= 'z'))) {
        break;
      }
      ++i;
    }
    size_t end = i;
    if (i < msg.size() && msg[i] == ' ') {
      ++i;  // IOS XR: "%PKT_INFRA-LINK-3-UPDOWN : ..."
    }
    if (dashes >= 2 && digit_part && i < msg.size() && msg[i] == ':') {
      return msg.substr(1, end - 1);
    }
    return {};
  }
  size_t i = 0;
  bool underscore = false;
  while (i < msg.size() && i < 96 && (isUpper(msg[i]) || isDigit(msg[i]) || msg[i] == '_')) {
    underscore = underscore || msg[i] == '_';
    ++i;
  }
  if (i >= 3 && underscore && isUpper(msg[0]) && i < msg.size() && msg[i] == ':') {
    return msg.substr(0, i);
  }
  return {};
}

}  // namespace vigil::connectors::syslog::detail
