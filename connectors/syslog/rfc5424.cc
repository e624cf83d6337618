#include "connectors/syslog/rfc5424.h"

#include "connectors/syslog/parse_util.h"

namespace vigil::connectors::syslog {
namespace {

using detail::isDigit;
using detail::readDigits;

bool isPrintUsAscii(char c) { return c >= 33 && c <= 126; }

// Reads a header field: NILVALUE or 1*max_len PRINTUSASCII, then requires SP (or end of input
// when `sp_optional`). Empty view for NILVALUE.
bool readField(std::string_view s, size_t& pos, size_t max_len, std::string_view& out) {
  const size_t start = pos;
  while (pos < s.size() && isPrintUsAscii(s[pos])) {
    ++pos;
  }
  const size_t len = pos - start;
  if (len == 0 || len > max_len || pos >= s.size() || s[pos] != ' ') {
    return false;
  }
  out = s.substr(start, len);
  if (out == "-") {
    out = {};
  }
  ++pos;  // SP
  return true;
}

bool isSdNameChar(char c) { return isPrintUsAscii(c) && c != '=' && c != ']' && c != '"'; }

// SD-NAME = 1*32 PRINTUSASCII except '=', SP, ']', '"'.
bool readSdName(std::string_view s, size_t& pos) {
  const size_t start = pos;
  while (pos < s.size() && isSdNameChar(s[pos])) {
    ++pos;
  }
  return pos > start && pos - start <= 32;
}

// STRUCTURED-DATA = NILVALUE / 1*SD-ELEMENT; returns the raw text (empty for NILVALUE).
bool readStructuredData(std::string_view s, size_t& pos, std::string_view& out) {
  if (pos < s.size() && s[pos] == '-') {
    ++pos;
    out = {};
    return true;
  }
  const size_t start = pos;
  if (pos >= s.size() || s[pos] != '[') {
    return false;
  }
  while (pos < s.size() && s[pos] == '[') {
    ++pos;
    if (!readSdName(s, pos)) {  // SD-ID
      return false;
    }
    while (pos < s.size() && s[pos] == ' ') {
      ++pos;
      if (!readSdName(s, pos) || pos + 1 >= s.size() || s[pos] != '=' || s[pos + 1] != '"') {
        return false;
      }
      pos += 2;
      // PARAM-VALUE: UTF-8 with '"', '\' and ']' escaped. An unescaped ']' is tolerated (some
      // senders forget it); an unescaped '"' ends the value.
      while (pos < s.size() && s[pos] != '"') {
        pos += s[pos] == '\\' ? 2 : 1;
      }
      if (pos >= s.size()) {
        return false;
      }
      ++pos;  // closing quote
    }
    if (pos >= s.size() || s[pos] != ']') {
      return false;
    }
    ++pos;
  }
  out = s.substr(start, pos - start);
  return true;
}

}  // namespace

std::optional<TimePoint> parseRfc3339(std::string_view s, size_t& pos) {
  size_t p = pos;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!readDigits(s, p, 4, year) || p >= s.size() || s[p++] != '-' ||
      !readDigits(s, p, 2, month) || p >= s.size() || s[p++] != '-' ||
      !readDigits(s, p, 2, day) || p >= s.size() || (s[p] != 'T' && s[p] != 't') ||
      !readDigits(s, ++p, 2, hour) || p >= s.size() || s[p++] != ':' ||
      !readDigits(s, p, 2, minute) || p >= s.size() || s[p++] != ':' ||
      !readDigits(s, p, 2, second)) {
    return std::nullopt;
  }
  int64_t micros = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    int n = 0;
    while (p < s.size() && isDigit(s[p])) {
      if (n < 6) {
        micros = micros * 10 + (s[p] - '0');
      }
      ++n;
      ++p;
    }
    if (n == 0 || n > 9) {  // RFC 5424 allows 6; tolerate nanoseconds from newer senders
      return std::nullopt;
    }
    for (int i = n; i < 6; ++i) {
      micros *= 10;
    }
  }
  int offset = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    const int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int oh = 0, om = 0;
    if (!readDigits(s, p, 2, oh) || p >= s.size() || s[p++] != ':' || !readDigits(s, p, 2, om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = sign * (oh * 60 + om);
  } else {
    return std::nullopt;  // RFC 5424 requires TIME-OFFSET
  }
  auto t = detail::makeTime(year, month, day, hour, minute, second, micros, offset);
  if (t) {
    pos = p;
  }
  return t;
}

ParseResult parseRfc5424(std::string_view input) {
  const std::string_view s = detail::trimTrailing(input);
  SyslogMessage m;
  m.raw = input;
  m.format = SyslogFormat::kRfc5424;
  if (s.empty()) {
    return tl::unexpected(ParseError::kEmpty);
  }
  size_t pos = 0;
  if (detail::parsePri(s, pos, m.facility, m.severity) != detail::PriStatus::kOk) {
    return tl::unexpected(ParseError::kBadPri);
  }
  m.has_pri = true;
  if (pos + 1 >= s.size() || s[pos] != '1' || s[pos + 1] != ' ') {
    return tl::unexpected(ParseError::kBadVersion);
  }
  pos += 2;
  if (pos < s.size() && s[pos] == '-') {
    ++pos;
  } else {
    m.timestamp = parseRfc3339(s, pos);
    if (!m.timestamp) {
      return tl::unexpected(ParseError::kBadTimestamp);
    }
  }
  if (pos >= s.size() || s[pos] != ' ') {
    return tl::unexpected(ParseError::kBadTimestamp);
  }
  ++pos;
  if (!readField(s, pos, 255, m.hostname) || !readField(s, pos, 48, m.app_name) ||
      !readField(s, pos, 128, m.procid)) {
    return tl::unexpected(ParseError::kBadHeader);
  }
  // MSGID is the last header field; SD follows after SP.
  if (!readField(s, pos, 32, m.msgid)) {
    return tl::unexpected(ParseError::kBadHeader);
  }
  if (!readStructuredData(s, pos, m.structured_data)) {
    return tl::unexpected(ParseError::kBadStructuredData);
  }
  if (pos < s.size()) {
    if (s[pos] != ' ') {
      return tl::unexpected(ParseError::kBadStructuredData);
    }
    m.msg = detail::stripBom(s.substr(pos + 1));
  }
  m.mnemonic = detail::detectMnemonic(m.msg);
  if (m.mnemonic.empty() && detail::isMnemonicToken(m.msgid)) {
    m.mnemonic = m.msgid;  // Junos structured syslog: MSGID is the event tag
  }
  return m;
}

}  // namespace vigil::connectors::syslog
