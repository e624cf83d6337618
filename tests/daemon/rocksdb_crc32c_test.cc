// vigild's rocksdb::crc32c::Extend (daemon/store/rocksdb_crc32c.cc), linked into this binary as
// into vigild, against the one in librocksdb: every WAL record and table block RocksDB writes
// or checks goes through it, so any difference would read as corruption.
#include <dlfcn.h>

#include <cstdint>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "daemon/store/rocksdb_crc32c.h"

namespace {

using ExtendFn = uint32_t (*)(uint32_t, const char*, size_t);
using vigil::store::kRocksDbCrc32cExtendSymbol;

// The library's definition: dlsym on its own handle finds it, not the executable's.
ExtendFn libraryExtend() {
  void* library = dlopen("librocksdb.so.7.8", RTLD_NOLOAD | RTLD_LAZY);
  if (library == nullptr) return nullptr;
  return reinterpret_cast<ExtendFn>(dlsym(library, kRocksDbCrc32cExtendSymbol));
}

TEST(RocksDbCrc32c, TheProcessResolvesRocksDbsCrcToVigilsDefinition) {
  const ExtendFn library = libraryExtend();
  ASSERT_NE(library, nullptr) << dlerror();
  EXPECT_EQ(reinterpret_cast<ExtendFn>(dlsym(RTLD_DEFAULT, kRocksDbCrc32cExtendSymbol)), &rocksdb::crc32c::Extend);
  EXPECT_NE(library, &rocksdb::crc32c::Extend);
}

TEST(RocksDbCrc32c, GivesTheStandardCheckValue) {
  const std::string check = "123456789";
  EXPECT_EQ(rocksdb::crc32c::Extend(0, check.data(), check.size()), 0xe3069283u);
  // Extending in two steps is one CRC of the whole.
  EXPECT_EQ(rocksdb::crc32c::Extend(rocksdb::crc32c::Extend(0, check.data(), 4), check.data() + 4, 5), 0xe3069283u);
}

TEST(RocksDbCrc32c, EqualsTheLibrarysOwnAtEverySizeAlignmentAndStartingCrc) {
  const ExtendFn library = libraryExtend();
  ASSERT_NE(library, nullptr) << dlerror();
  std::mt19937_64 random(42);
  std::string buffer(4096 + 16, '\0');
  for (char& c : buffer) c = static_cast<char>(random());
  for (size_t size = 0; size <= 300; ++size) {
    for (size_t offset = 0; offset < 8; ++offset) {
      const auto init = static_cast<uint32_t>(random());
      ASSERT_EQ(rocksdb::crc32c::Extend(init, buffer.data() + offset, size), library(init, buffer.data() + offset, size))
          << "size " << size << ", offset " << offset;
    }
  }
  EXPECT_EQ(rocksdb::crc32c::Extend(0, buffer.data() + 3, 4096), library(0, buffer.data() + 3, 4096));
}

}  // namespace
