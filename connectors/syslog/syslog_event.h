// Maps a parsed syslog message onto vigil's Event.
//   source        "syslog/" + transport ("syslog/tcp", "syslog/udp")
//   host          the header HOSTNAME, or the peer address when the header has none
//   occurred_at   the message timestamp (absent for NILVALUE / no timestamp)
//   severity      emerg/alert/crit -> critical, err -> major, warning -> warning,
//                 notice/info/debug -> info
//   message       MSG (BOM stripped)
//   labels        facility ("local7"), syslog_severity ("err"), app, procid, msgid, mnemonic
//                 ("LINK-3-UPDOWN", "SNMP_TRAP_LINK_DOWN"), peer (source address) and every SD
//                 param as "sd.<sd-id>.<param>" (escapes resolved). Empty fields are left out.
//   type, state   left empty: the rules engine derives them.
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "connectors/syslog/syslog_message.h"
#include "daemon/event.h"

namespace vigil::connectors::syslog {

Severity mapSeverity(uint8_t syslog_severity);

// Overwrites every field of `out` (its strings' capacity is reused).
void toEvent(const SyslogMessage& message, std::string_view transport,
             std::string_view peer_address, TimePoint received_at, Event& out);

// For text that failed to parse strictly: message = the whole line (trailing CR/LF/NUL trimmed),
// host = peer, severity info, and a label syslog_parse_error=<ParseError name>.
void rawToEvent(std::string_view line, ParseError error, std::string_view transport,
                std::string_view peer_address, TimePoint received_at, Event& out);

}  // namespace vigil::connectors::syslog
