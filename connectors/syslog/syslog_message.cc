#include "connectors/syslog/syslog_message.h"

#include <array>

namespace vigil::connectors::syslog {

std::string_view parseErrorName(ParseError error) {
  switch (error) {
    case ParseError::kEmpty: return "empty";
    case ParseError::kBinary: return "binary";
    case ParseError::kBadPri: return "bad_pri";
    case ParseError::kBadVersion: return "bad_version";
    case ParseError::kBadTimestamp: return "bad_timestamp";
    case ParseError::kBadHeader: return "bad_header";
    case ParseError::kBadStructuredData: return "bad_structured_data";
  }
  return "unknown";
}

std::string_view facilityName(uint8_t facility) {
  static constexpr std::array<std::string_view, 24> kNames = {
      "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
      "uucp",   "cron",   "authpriv", "ftp",  "ntp",    "audit",  "alert",  "clock",
      "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
  return facility < kNames.size() ? kNames[facility] : std::string_view("unknown");
}

std::string_view severityKeyword(uint8_t severity) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
  return severity < kNames.size() ? kNames[severity] : std::string_view("unknown");
}

void SdParam::appendValue(std::string& out) const {
  const std::string_view v = raw_value;
  size_t i = 0;
  while (i < v.size()) {
    const size_t slash = v.find('\\', i);
    if (slash == std::string_view::npos) {
      out.append(v.substr(i));
      return;
    }
    out.append(v.substr(i, slash - i));
    // RFC 5424 6.3.3: only \" \\ \] are escapes; any other backslash is kept as is.
    if (slash + 1 < v.size() && (v[slash + 1] == '"' || v[slash + 1] == '\\' || v[slash + 1] == ']')) {
      out.push_back(v[slash + 1]);
      i = slash + 2;
    } else {
      out.push_back('\\');
      i = slash + 1;
    }
  }
}

bool SdParamIterator::next(SdParam& param) {
  // body: *(SP PARAM-NAME "=" %d34 PARAM-VALUE %d34)
  size_t i = 0;
  while (i < rest_.size() && rest_[i] == ' ') {
    ++i;
  }
  const size_t eq = rest_.find('=', i);
  if (i == rest_.size() || eq == std::string_view::npos || eq + 1 >= rest_.size() ||
      rest_[eq + 1] != '"') {
    rest_ = {};
    return false;
  }
  size_t j = eq + 2;
  while (j < rest_.size() && rest_[j] != '"') {
    j += rest_[j] == '\\' ? 2 : 1;
  }
  if (j >= rest_.size()) {
    rest_ = {};
    return false;
  }
  param.name = rest_.substr(i, eq - i);
  param.raw_value = rest_.substr(eq + 2, j - (eq + 2));
  rest_.remove_prefix(j + 1);
  return true;
}

bool SdElementIterator::next(SdElement& element) {
  if (rest_.size() < 2 || rest_[0] != '[') {
    rest_ = {};
    return false;
  }
  size_t i = 1;
  while (i < rest_.size() && rest_[i] != ' ' && rest_[i] != ']') {
    ++i;
  }
  const size_t id_end = i;
  // Find the closing ']' outside quoted values, honouring escapes.
  bool quoted = false;
  while (i < rest_.size()) {
    const char c = rest_[i];
    if (quoted && c == '\\') {
      i += 2;
      continue;
    }
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ']' && !quoted) {
      break;
    }
    ++i;
  }
  if (i >= rest_.size()) {
    rest_ = {};
    return false;
  }
  element.id = rest_.substr(1, id_end - 1);
  element.body = rest_.substr(id_end, i - id_end);
  rest_.remove_prefix(i + 1);
  return true;
}

}  // namespace vigil::connectors::syslog
