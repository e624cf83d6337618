// IP addresses and CIDR prefixes for binding, parsed without allocating (inet_pton over a
// stack copy). IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) are treated as the IPv4 address.
// Thread-safety: pure functions on values.
#pragma once

#include <cstdint>
#include <string_view>

#include "daemon/cmdb/flat_index.h"

namespace vigil::cmdb {

struct Ip6 {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const Ip6&) const = default;
};
// For detail::KeyTable<Ip6>, found by ADL.
inline uint64_t hashKey(const Ip6& key) { return detail::mix64(key.hi ^ detail::mix64(key.lo)); }

struct IpAddress {
  bool v6 = false;
  uint32_t v4 = 0;  // host byte order
  Ip6 v6addr;       // big-endian halves: hi = first 8 bytes
};

// True when `text` is a literal IPv4 or IPv6 address (no brackets, no zone, no prefix).
bool parseIp(std::string_view text, IpAddress& out);

// "10.1.0.0/24", "2001:db8::/32". False when malformed; `host_bits` is set when the address has
// bits beyond the prefix (10.1.0.5/24): the caller reports that, `out` holds the masked prefix.
bool parseCidr(std::string_view text, IpAddress& out, uint8_t& length, bool& host_bits);

inline uint32_t maskV4(uint32_t addr, uint8_t length) {
  return length == 0 ? 0 : addr & (~uint32_t{0} << (32 - length));
}
Ip6 maskV6(const Ip6& addr, uint8_t length);

// "10.1.0.0" / "2001:db8::" for messages.
void formatIp(const IpAddress& ip, char (&buf)[64]);

}  // namespace vigil::cmdb
