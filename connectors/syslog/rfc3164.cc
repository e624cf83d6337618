#include "connectors/syslog/rfc3164.h"

#include "connectors/syslog/parse_util.h"
#include "connectors/syslog/rfc5424.h"

namespace vigil::connectors::syslog {
namespace {

using detail::isDigit;
using detail::readDigits;

// Returns 1..12 for "Jan".."Dec" (case-insensitive), 0 otherwise.
int parseMonth(std::string_view s, size_t pos) {
  if (pos + 3 > s.size()) {
    return 0;
  }
  static constexpr std::string_view kMonths = "janfebmaraprmayjunjulaugsepoctnovdec";
  char m[3];
  for (int i = 0; i < 3; ++i) {
    const char c = s[pos + static_cast<size_t>(i)];
    m[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  for (int i = 0; i < 12; ++i) {
    const std::string_view name = kMonths.substr(static_cast<size_t>(i) * 3, 3);
    if (name[0] == m[0] && name[1] == m[1] && name[2] == m[2]) {
      return i + 1;
    }
  }
  return 0;
}

bool readYear(std::string_view s, size_t& pos, int& year) {
  size_t p = pos;
  if (readDigits(s, p, 4, year) && p < s.size() && s[p] == ' ') {
    pos = p + 1;
    return true;
  }
  return false;
}

// The year is missing: take the latest year that puts the time at most a week after `now`.
// Syslog lines come from the past, so "Dec 31" received on Jan 1 is last year's and "Nov 22"
// received in June is last November; a week of slack allows for senders' clocks running ahead
// ("Jan 1 00:00:02" received at 23:59:59 on Dec 31 is next year's).
std::optional<TimePoint> inferYear(TimePoint now, int month, int day, int h, int m, int sec,
                                   int64_t us) {
  using namespace std::chrono;
  const int year = static_cast<int>(year_month_day(floor<days>(now)).year());
  const TimePoint latest = now + days(7);
  for (int y = year + 1; y >= year - 4; --y) {  // down to year-4 so that Feb 29 finds a leap year
    const auto t = detail::makeTime(y, month, day, h, m, sec, us, 0);
    if (t && *t <= latest) {
      return t;
    }
  }
  return std::nullopt;
}

// BSD and Cisco-style timestamps; on success advances `pos` past it, a trailing ':' and spaces.
std::optional<TimePoint> parseBsdTimestamp(std::string_view s, size_t& pos, TimePoint now) {
  size_t p = pos;
  if (p < s.size() && (s[p] == '*' || s[p] == '.')) {
    ++p;  // Cisco: '*' clock not set, '.' clock was synced but lost NTP
  }
  if (p < s.size() && isDigit(s[p])) {
    size_t q = p;
    if (auto t = parseRfc3339(s, q)) {
      if (q < s.size() && s[q] == ':') {
        ++q;
      }
      while (q < s.size() && s[q] == ' ') {
        ++q;
      }
      pos = q;
      return t;
    }
  }
  int year = 0;
  bool has_year = readYear(s, p, year);  // NX-OS: "2024 Jan 10 10:20:30"
  const int month = parseMonth(s, p);
  if (month == 0 || p + 3 >= s.size() || s[p + 3] != ' ') {
    return std::nullopt;
  }
  p += 4;
  while (p < s.size() && s[p] == ' ') {
    ++p;  // "Mar  1": day padded with a space
  }
  int day = 0;
  if (p < s.size() && isDigit(s[p])) {
    day = s[p++] - '0';
    if (p < s.size() && isDigit(s[p])) {
      day = day * 10 + (s[p++] - '0');
    }
  }
  if (day == 0 || p >= s.size() || s[p] != ' ') {
    return std::nullopt;
  }
  ++p;
  if (!has_year) {
    has_year = readYear(s, p, year);  // IOS/ASA: "Mar  1 2024 00:04:28"
  }
  int h = 0, m = 0, sec = 0;
  if (!readDigits(s, p, 2, h) || p >= s.size() || s[p++] != ':' || !readDigits(s, p, 2, m) ||
      p >= s.size() || s[p++] != ':' || !readDigits(s, p, 2, sec)) {
    return std::nullopt;
  }
  int64_t us = 0;
  if (p + 1 < s.size() && s[p] == '.' && isDigit(s[p + 1])) {
    ++p;
    int n = 0;
    for (; p < s.size() && isDigit(s[p]); ++p, ++n) {
      if (n < 6) {
        us = us * 10 + (s[p] - '0');
      }
    }
    for (; n < 6; ++n) {
      us *= 10;
    }
  }
  // A zone name: "UTC:" (Cisco) or a known UTC alias followed by a space. Others are read as UTC.
  if (p + 1 < s.size() && s[p] == ' ' && detail::isUpper(s[p + 1])) {
    size_t q = p + 1;
    while (q < s.size() && q - p <= 6 && detail::isUpper(s[q])) {
      ++q;
    }
    const std::string_view zone = s.substr(p + 1, q - p - 1);
    if (q < s.size() && (s[q] == ':' || (s[q] == ' ' && (zone == "UTC" || zone == "GMT")))) {
      p = q;
    }
  }
  if (p < s.size() && s[p] == ':') {
    ++p;  // Cisco ends the time with ':'
  }
  if (p < s.size() && s[p] != ' ') {
    return std::nullopt;  // "Jan 10 10:20:30x" is not a timestamp
  }
  while (p < s.size() && s[p] == ' ') {
    ++p;
  }
  auto t = has_year ? detail::makeTime(year, month, day, h, m, sec, us, 0)
                    : inferYear(now, month, day, h, m, sec, us);
  if (t) {
    pos = p;
  }
  return t;
}

bool isHostChar(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' ||
         c == '_' || c == ':';
}

// A HOST token: hostname characters followed by a space, not ending in ':' (that is a TAG).
size_t hostLength(std::string_view s, size_t pos) {
  size_t p = pos;
  while (p < s.size() && p - pos <= 255 && isHostChar(s[p])) {
    ++p;
  }
  if (p == pos || p >= s.size() || s[p] != ' ' || s[p - 1] == ':') {
    return 0;
  }
  return p - pos;
}

// TAG[PID]: — on success sets app/procid and returns the position after ": ".
size_t readTag(std::string_view s, size_t pos, std::string_view& app, std::string_view& procid) {
  size_t p = pos;
  while (p < s.size() && p - pos < 128 && s[p] != ' ' && s[p] != ':' && s[p] != '[') {
    ++p;
  }
  if (p == pos || p >= s.size() || s[pos] == '%') {
    return 0;
  }
  const size_t tag_end = p;
  size_t pid_start = 0, pid_end = 0;
  if (s[p] == '[') {
    pid_start = ++p;
    while (p < s.size() && p - pid_start < 128 && s[p] != ']' && s[p] != ' ') {
      ++p;
    }
    if (p >= s.size() || s[p] != ']') {
      return 0;
    }
    pid_end = p++;
  }
  if (p >= s.size() || s[p] != ':' || (p + 1 < s.size() && s[p + 1] != ' ')) {
    return 0;
  }
  app = s.substr(pos, tag_end - pos);
  procid = s.substr(pid_start, pid_end - pid_start);
  ++p;
  return p < s.size() ? p + 1 : p;
}

bool isSeverityWord(std::string_view w) {
  for (uint8_t i = 0; i < 8; ++i) {
    if (w == severityKeyword(i)) {
      return true;
    }
  }
  return w == "warn" || w == "error";
}

// Cisco "NNN: " sequence number or NX-OS's empty ": ". Returns the position after it.
size_t readSequence(std::string_view s, size_t pos, std::string_view& sequence) {
  size_t p = pos;
  while (p < s.size() && p - pos < 20 && isDigit(s[p])) {
    ++p;
  }
  if (p + 1 < s.size() && s[p] == ':' && s[p + 1] == ' ') {
    sequence = s.substr(pos, p - pos);
    return p + 2;
  }
  return pos;
}

}  // namespace

ParseResult parseRfc3164(std::string_view input, TimePoint now) {
  const std::string_view s = detail::trimTrailing(input);
  SyslogMessage m;
  m.raw = input;
  m.format = SyslogFormat::kRfc3164;
  size_t pos = 0;
  switch (detail::parsePri(s, pos, m.facility, m.severity)) {
    case detail::PriStatus::kBad: return tl::unexpected(ParseError::kBadPri);
    case detail::PriStatus::kOk: m.has_pri = true; break;
    case detail::PriStatus::kAbsent: break;
  }
  while (pos < s.size() && s[pos] == ' ') {
    ++pos;
  }
  if (pos >= s.size()) {
    return tl::unexpected(ParseError::kEmpty);
  }
  pos = readSequence(s, pos, m.sequence);
  m.timestamp = parseBsdTimestamp(s, pos, now);
  if (!m.timestamp && !m.sequence.empty()) {
    // An origin before the time: IOS "logging origin-id" ("123: router1: *Mar  1 00:04:28: ...")
    // or an IOS XR node ("1234: RP/0/RSP0/CPU0:Jan 10 10:20:30.123 UTC: ..."). Only a hostname
    // becomes the host.
    const size_t n = s.find(':', pos);
    if (n != std::string_view::npos && n > pos && n - pos <= 255) {
      size_t p = n + 1;
      while (p < s.size() && s[p] == ' ') {
        ++p;
      }
      if (auto t = parseBsdTimestamp(s, p, now)) {
        m.timestamp = t;
        const std::string_view origin = s.substr(pos, n - pos);
        bool is_host = true;
        for (const char c : origin) {
          is_host = is_host && isHostChar(c);
        }
        m.hostname = is_host ? origin : std::string_view();
        pos = p;
      }
    }
  }
  if (m.timestamp && m.hostname.empty()) {
    if (const size_t n = hostLength(s, pos); n > 0) {
      m.hostname = s.substr(pos, n);
      pos += n + 1;
      if (pos + 1 < s.size() && s[pos] == ':' && s[pos + 1] == ' ') {
        pos += 2;  // ASA: "fw01 : %ASA-6-302013: ..."
      }
      // A relay in front of a Cisco device: "10.0.0.1 123: *Mar  1 00:04:28.123: %LINK-..."
      if (const size_t q = readSequence(s, pos, m.sequence); q != pos) {
        pos = q;
        size_t p = pos;
        if (parseBsdTimestamp(s, p, now)) {
          pos = p;
        }
      }
    }
  }
  // F5 puts the severity word before the tag: "lb1 notice mcpd[5678]: ...".
  if (const size_t sp = s.find(' ', pos); sp != std::string_view::npos && sp - pos <= 7 &&
                                         isSeverityWord(s.substr(pos, sp - pos))) {
    std::string_view app, procid;
    if (size_t p = readTag(s, sp + 1, app, procid); p != 0) {
      m.app_name = app;
      m.procid = procid;
      pos = p;
    }
  }
  if (m.app_name.empty()) {
    if (const size_t p = readTag(s, pos, m.app_name, m.procid); p != 0) {
      pos = p;
    }
  }
  m.msg = detail::stripBom(s.substr(pos));
  m.mnemonic = detail::detectMnemonic(m.msg);
  return m;
}

}  // namespace vigil::connectors::syslog
