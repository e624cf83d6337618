#include "connectors/syslog/syslog_parser.h"

#include <cstdint>
#include <cstring>

#include "connectors/syslog/parse_util.h"
#include "connectors/syslog/rfc3164.h"
#include "connectors/syslog/rfc5424.h"

namespace vigil::connectors::syslog {
namespace {

bool isRfc5424(std::string_view s) {
  // "<" 1*3DIGIT ">1 "
  size_t i = 1;
  if (s.empty() || s[0] != '<') {
    return false;
  }
  while (i < s.size() && i <= 3 && detail::isDigit(s[i])) {
    ++i;
  }
  return i > 1 && i + 2 < s.size() && s[i] == '>' && s[i + 1] == '1' && s[i + 2] == ' ';
}

// NUL anywhere, or more than 1/8 of the bytes are C0 controls other than TAB (ESC counts).
bool isBinary(std::string_view s) {
  // Fast path, 8 bytes at a time: almost every line has no byte below 0x20 at all.
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  size_t i = 0;
  bool any_control = false;
  for (; i + 8 <= s.size() && !any_control; i += 8) {
    uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    any_control = ((x - kOnes * 0x20) & ~x & (kOnes * 0x80)) != 0;  // some byte < 0x20
  }
  for (; i < s.size() && !any_control; ++i) {
    any_control = static_cast<unsigned char>(s[i]) < 0x20;
  }
  if (!any_control) {
    return false;
  }
  size_t controls = 0;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u == 0) {
      return true;
    }
    controls += u < 0x20 && u != '\t' ? 1 : 0;
  }
  return controls * 8 > s.size();
}

}  // namespace

ParseResult parseSyslog(std::string_view input, TimePoint now) {
  const std::string_view s = detail::trimTrailing(input);
  size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\n' || s[start] == '\r')) {
    ++start;
  }
  if (start == s.size()) {
    return tl::unexpected(ParseError::kEmpty);
  }
  if (isBinary(s)) {
    return tl::unexpected(ParseError::kBinary);
  }
  return isRfc5424(s) ? parseRfc5424(input) : parseRfc3164(input, now);
}

bool isUsableText(std::string_view input) {
  const std::string_view s = detail::trimTrailing(input);
  if (s.find_first_not_of(" \r\n") == std::string_view::npos || isBinary(s)) {
    return false;
  }
  // A PRI and nothing else ("<18>") is empty too (the fuzzer found the two disagreeing).
  size_t pos = 0;
  uint8_t facility = 0;
  uint8_t severity = 0;
  if (!isRfc5424(s) && detail::parsePri(s, pos, facility, severity) == detail::PriStatus::kOk) {
    return s.find_first_not_of(' ', pos) != std::string_view::npos;
  }
  return true;
}

}  // namespace vigil::connectors::syslog
