#include "daemon/cmdb/address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace vigil::cmdb {

namespace {

uint64_t loadBe64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void storeBe64(uint64_t v, unsigned char* p) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
}

}  // namespace

bool parseIp(std::string_view text, IpAddress& out) {
  // The longest textual IPv6 address is 45 characters.
  if (text.empty() || text.size() > 45) return false;
  char buf[48];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (text.find(':') == std::string_view::npos) {
    in_addr a{};
    if (inet_pton(AF_INET, buf, &a) != 1) return false;
    out.v6 = false;
    out.v4 = ntohl(a.s_addr);
    return true;
  }
  in6_addr a{};
  if (inet_pton(AF_INET6, buf, &a) != 1) return false;
  const uint64_t hi = loadBe64(a.s6_addr);
  const uint64_t lo = loadBe64(a.s6_addr + 8);
  if (hi == 0 && (lo >> 32) == 0xffff) {  // ::ffff:a.b.c.d
    out.v6 = false;
    out.v4 = static_cast<uint32_t>(lo);
    return true;
  }
  out.v6 = true;
  out.v6addr = {hi, lo};
  return true;
}

Ip6 maskV6(const Ip6& addr, uint8_t length) {
  if (length >= 128) return addr;
  if (length == 0) return {};
  if (length <= 64) {
    return {length == 64 ? addr.hi : addr.hi & (~uint64_t{0} << (64 - length)), 0};
  }
  return {addr.hi, addr.lo & (~uint64_t{0} << (128 - length))};
}

bool parseCidr(std::string_view text, IpAddress& out, uint8_t& length, bool& host_bits) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  if (!parseIp(text.substr(0, slash), out)) return false;
  const std::string_view len_text = text.substr(slash + 1);
  unsigned len = 0;
  auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (len_text.empty() || ec != std::errc() || ptr != len_text.data() + len_text.size()) {
    return false;
  }
  if (len > (out.v6 ? 128u : 32u)) return false;
  length = static_cast<uint8_t>(len);
  if (out.v6) {
    const Ip6 masked = maskV6(out.v6addr, length);
    host_bits = !(masked == out.v6addr);
    out.v6addr = masked;
  } else {
    const uint32_t masked = maskV4(out.v4, length);
    host_bits = masked != out.v4;
    out.v4 = masked;
  }
  return true;
}

void formatIp(const IpAddress& ip, char (&buf)[64]) {
  if (!ip.v6) {
    in_addr a{};
    a.s_addr = htonl(ip.v4);
    inet_ntop(AF_INET, &a, buf, sizeof buf);
    return;
  }
  in6_addr a{};
  storeBe64(ip.v6addr.hi, a.s6_addr);
  storeBe64(ip.v6addr.lo, a.s6_addr + 8);
  inet_ntop(AF_INET6, &a, buf, sizeof buf);
}

}  // namespace vigil::cmdb
