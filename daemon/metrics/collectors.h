// Metrics read at scrape time rather than counted: the process (like the Go and Python clients'
// process collector) and RocksDB's own figures. Each is a prometheus::Collectable that
// MetricsRegistry::render() asks for its families on every scrape, so nothing runs between scrapes.
// Thread-safety: Collect() runs on an HTTP thread; it only reads /proc and thread-safe RocksDB
// properties.
#pragma once

#include <memory>
#include <string_view>

#include <prometheus/collectable.h>

namespace vigil::store {
class Store;
}

namespace vigil::metrics {

// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds: from /proc/self and getrlimit.
std::shared_ptr<prometheus::Collectable> makeProcessCollector();

// vigil_store_*: live SST bytes, memtable bytes, estimated keys and pending compaction bytes per
// column family (cf is one of the store's fixed six), write stall state and delayed write rate,
// running compactions and flushes, compactions done and bytes they wrote.
// REQUIRES: `store` outlives every Collect() call (the registry is destroyed first).
std::shared_ptr<prometheus::Collectable> makeStoreCollector(const store::Store& store);

// The parsed fields of /proc/<pid>/stat that the process collector exports (tests read it).
struct ProcStat {
  double cpu_seconds = 0;        // utime + stime
  double start_time_seconds = 0; // since the Unix epoch
  double virtual_bytes = 0;
  double resident_bytes = 0;
};
// False when the text is not a /proc/<pid>/stat line. `boot_time` is /proc/stat's btime.
bool parseProcStat(std::string_view stat, double boot_time, long ticks_per_second, long page_size, ProcStat& out);

}  // namespace vigil::metrics
