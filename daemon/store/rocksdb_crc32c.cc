// RocksDB's CRC32C, computed with the CPU's crc32 instruction.
//
// Debian builds librocksdb portable (no SSE 4.2 at compile time), and RocksDB 7 picks its
// CRC32C implementation at compile time only, so every WAL record is checksummed with the
// byte-table loop: about 30 % of the committer thread's time in the 1 M-event replay (perf,
// docs/performance.md, session 12). librocksdb calls `rocksdb::crc32c::Extend` through its PLT,
// so this definition in the executable takes its place for the whole process. It computes the
// same standard CRC32C (tests/daemon/rocksdb_crc32c_test.cc compares it with the library's own
// on random data); on a CPU without SSE 4.2 it calls the library's.
#include "daemon/store/rocksdb_crc32c.h"

#include <dlfcn.h>

#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace {

using ExtendFn = uint32_t (*)(uint32_t, const char*, size_t);

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t extendSse42(uint32_t init_crc, const char* data, size_t n) {
  uint64_t crc = init_crc ^ 0xffffffffu;
  for (; n > 0 && (reinterpret_cast<uintptr_t>(data) & 7) != 0; --n) {
    crc = _mm_crc32_u8(static_cast<uint32_t>(crc), static_cast<uint8_t>(*data++));
  }
  for (; n >= 8; n -= 8, data += 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    crc = _mm_crc32_u64(crc, word);
  }
  for (; n > 0; --n) crc = _mm_crc32_u8(static_cast<uint32_t>(crc), static_cast<uint8_t>(*data++));
  return static_cast<uint32_t>(crc) ^ 0xffffffffu;
}
#endif

// The library's own, the next definition after this one.
uint32_t extendOfLibrary(uint32_t init_crc, const char* data, size_t n) {
  static const auto library = reinterpret_cast<ExtendFn>(dlsym(RTLD_NEXT, vigil::store::kRocksDbCrc32cExtendSymbol));
  return library(init_crc, data, n);
}

ExtendFn chooseExtend() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("sse4.2")) return &extendSse42;
#endif
  return &extendOfLibrary;
}

}  // namespace

namespace rocksdb::crc32c {

__attribute__((visibility("default"))) uint32_t Extend(uint32_t init_crc, const char* data, size_t n) {
  static const ExtendFn extend = chooseExtend();
  return extend(init_crc, data, n);
}

}  // namespace rocksdb::crc32c
