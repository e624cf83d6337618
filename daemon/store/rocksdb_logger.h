// RocksDB's info log, routed into vigild's own log instead of a LOG file in the data dir.
// Why: with the LOG file on the data disk, a full disk makes the first failed LOG append poison
// RocksDB's log writer, and Debian's librocksdb (7.8, assertions on) aborts on the next line it
// logs — so vigild died on a full disk instead of holding input until space returned.
#pragma once

#include <memory>

#include <rocksdb/env.h>

namespace vigil::store {

// Warnings and errors of RocksDB as spdlog lines prefixed "rocksdb: "; less is dropped.
std::shared_ptr<rocksdb::Logger> makeRocksDbLogger();

}  // namespace vigil::store
