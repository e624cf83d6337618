// The store's integer encodings: big-endian for keys (so they sort by number), and for the binary
// records (incidents, verdicts and their index) LEB128 varints (7 bits a byte, low first) with
// zig-zag for signed values, so small negative numbers stay short too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

inline void appendBigEndian(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// The first `bytes` bytes of `in` (fewer when it is shorter).
inline uint64_t readBigEndian(std::string_view in, int bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < static_cast<size_t>(bytes) && i < in.size(); ++i) value = (value << 8) | static_cast<uint8_t>(in[i]);
  return value;
}

inline size_t varintSize(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

// Writes `v` at `p` (varintSize(v) bytes); returns the end.
inline char* writeVarint(char* p, uint64_t v) {
  for (; v >= 0x80; v >>= 7) *p++ = static_cast<char>((v & 0x7f) | 0x80);
  *p++ = static_cast<char>(v);
  return p;
}

inline void appendVarint(std::string& out, uint64_t v) {
  if (v < 0x80) {
    out.push_back(static_cast<char>(v));
    return;
  }
  // One append rather than a push_back (a size check and a terminator) per byte.
  char bytes[10];
  out.append(bytes, static_cast<size_t>(writeVarint(bytes, v) - bytes));
}

// Takes one varint off the front of `in`; false when `in` ends inside it or it runs past 64 bits.
inline bool readVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

inline uint64_t zigzagEncode(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t zigzagDecode(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

}  // namespace vigil
