// RocksDB's CRC32C entry point, which vigild defines in place of librocksdb's (rocksdb_crc32c.cc;
// RocksDB does not install its util/crc32c.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace rocksdb::crc32c {

uint32_t Extend(uint32_t init_crc, const char* data, size_t n);

}  // namespace rocksdb::crc32c

namespace vigil::store {

// Extend's mangled name: what librocksdb's PLT and dlsym look up. daemon/CMakeLists.txt exports
// it from the executable by the same name.
inline constexpr const char* kRocksDbCrc32cExtendSymbol = "_ZN7rocksdb6crc32c6ExtendEjPKcm";

}  // namespace vigil::store
