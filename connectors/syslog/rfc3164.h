// RFC 3164 ("BSD syslog") parser for what real devices send, not just what the RFC describes:
//  - "<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG" with the year missing: it is inferred from `now`
//    (the candidate year nearest to `now`, so a "Dec 31" line received on Jan 1 is last year's);
//  - no PRI at all (facility/severity default to user.notice, as RFC 3164 4.3.3 says);
//  - no HOST ("<13>Jan 10 10:20:30 prog[1]: msg");
//  - Cisco IOS/NX-OS/ASA: sequence numbers ("<189>123: "), "*"/"." clock-state prefixes,
//    milliseconds, a year before or after the day, a time zone ("UTC:"), the trailing ':' after
//    the time, and "%FAC-SEV-MNEMONIC:" exposed as `mnemonic`;
//  - Juniper "mib2d[1234]: SNMP_TRAP_LINK_DOWN: ..." (mnemonic "SNMP_TRAP_LINK_DOWN");
//  - F5's severity word before the tag ("lb1 notice mcpd[5678]: ...");
//  - an RFC 3339 timestamp in place of the BSD one (rsyslog's high-precision forward format).
// Timestamps without a zone are taken as UTC. Allocates nothing; views point into `input`.
// Thread-safety: pure function.
#pragma once

#include <string_view>

#include "connectors/syslog/syslog_message.h"

namespace vigil::connectors::syslog {

// Parses one message. Fails only on empty input or a malformed PRI ("<999>", "<12"); anything
// else yields at least a message whose `msg` is the text after whatever header was recognised.
ParseResult parseRfc3164(std::string_view input, TimePoint now);

}  // namespace vigil::connectors::syslog
