// SyslogMessage: one parsed syslog message, RFC 5424 or RFC 3164, as views into the caller's
// buffer. Parsing allocates nothing; the views are valid only as long as that buffer is.
// Structured data is kept raw and walked on demand with SdElementIterator / SdParamIterator,
// which also allocate nothing (SdParam::appendValue unescapes into a string the caller owns).
// Thread-safety: plain values; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "daemon/event.h"

namespace vigil::connectors::syslog {

enum class SyslogFormat : uint8_t {
  kRfc5424,  // "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG"
  kRfc3164,  // BSD syslog and what real devices make of it (Cisco, Juniper, Linux, ...)
};

// Why a message could not be parsed. Static names; no allocation on the error path either.
enum class ParseError : uint8_t {
  kEmpty,              // nothing but whitespace / NULs
  kBinary,             // NULs or mostly control bytes: not text
  kBadPri,             // "<" not followed by 1-3 digits and ">", or PRIVAL > 191
  kBadVersion,         // RFC 5424 VERSION is not "1"
  kBadTimestamp,       // RFC 5424 TIMESTAMP is neither "-" nor a valid RFC 3339 date-time
  kBadHeader,          // RFC 5424 header field missing, too long or not PRINTUSASCII
  kBadStructuredData,  // RFC 5424 STRUCTURED-DATA malformed (unbalanced, bad name, no quotes)
};
std::string_view parseErrorName(ParseError error);

struct SyslogMessage {
  std::string_view raw;                 // the whole input as given to the parser
  SyslogFormat format = SyslogFormat::kRfc3164;
  bool has_pri = false;                 // false: facility/severity are RFC 3164's default <13>
  uint8_t facility = 1;                 // 0..23 (1 = user)
  uint8_t severity = 5;                 // 0..7 (5 = notice)
  std::optional<TimePoint> timestamp;   // absent for NILVALUE or when the sender sent none
  std::string_view hostname;            // empty when absent (NILVALUE or RFC 3164 without host)
  std::string_view app_name;            // RFC 5424 APP-NAME, RFC 3164 TAG ("mib2d", "kernel")
  std::string_view procid;              // RFC 5424 PROCID, RFC 3164 "[pid]"
  std::string_view msgid;               // RFC 5424 MSGID
  std::string_view structured_data;     // raw "[id k=\"v\"]..." or empty for NILVALUE / 3164
  std::string_view msg;                 // MSG, UTF-8 BOM stripped, trailing CR/LF/NUL trimmed
  std::string_view mnemonic;            // "LINK-3-UPDOWN", "SNMP_TRAP_LINK_DOWN", or empty
  std::string_view sequence;            // Cisco sequence number ("000123"), or empty
};

using ParseResult = tl::expected<SyslogMessage, ParseError>;

// One SD-PARAM. `raw_value` is the text between the quotes with escapes still in place.
struct SdParam {
  std::string_view name;
  std::string_view raw_value;
  // Appends the value with RFC 5424 escapes (\" \\ \]) resolved; other backslashes are kept.
  void appendValue(std::string& out) const;
  bool hasEscapes() const { return raw_value.find('\\') != std::string_view::npos; }
};

// Walks the params of one SD-ELEMENT. REQUIRES: `body` comes from a validated element.
class SdParamIterator {
 public:
  explicit SdParamIterator(std::string_view body) : rest_(body) {}
  // Fills `param` and returns true, or returns false at the end.
  bool next(SdParam& param);

 private:
  std::string_view rest_;
};

struct SdElement {
  std::string_view id;    // "timeQuality", "exampleSDID@32473"
  std::string_view body;  // the params, e.g. ` tzKnown="1" isSynced="1"`
  SdParamIterator params() const { return SdParamIterator(body); }
};

// Walks the SD-ELEMENTs of SyslogMessage::structured_data (validated by the RFC 5424 parser).
// Stops early, without reading out of bounds, on anything malformed.
class SdElementIterator {
 public:
  explicit SdElementIterator(std::string_view structured_data) : rest_(structured_data) {}
  bool next(SdElement& element);

 private:
  std::string_view rest_;
};

// Names for labels: facilityName(23) == "local7", severityKeyword(3) == "err".
std::string_view facilityName(uint8_t facility);
std::string_view severityKeyword(uint8_t severity);

}  // namespace vigil::connectors::syslog
