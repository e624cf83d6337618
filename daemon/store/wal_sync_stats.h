// WalSyncStats: how long the store's write-ahead log syncs take, from RocksDB's file I/O events.
// With store.sync every commit ends in an fdatasync of the WAL; on a disk shared with other
// writers that sync can wait 50–250 ms for their pages (ext4 commits its journal for everyone),
// while the commit's own CPU stays at a few ms. Next to vigil_store_commit_duration_seconds this
// tells an operator whether a slow commit waited for the disk or for a CPU.
// Thread-safety: RocksDB calls the listener from its writing threads; snapshot() from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include <rocksdb/listener.h>

namespace vigil::store {

struct WalSyncHistogram {
  std::vector<double> bounds;     // upper bounds in seconds, ascending (+Inf not listed)
  std::vector<uint64_t> buckets;  // per bucket, not cumulative; bounds.size() + 1 (+Inf last)
  double sum_seconds = 0;
  uint64_t count = 0;
};

class WalSyncStats final : public rocksdb::EventListener {
 public:
  // The buckets' upper bounds in seconds: the disk's quiet floor (2–10 ms) to a shared disk's stalls.
  static constexpr std::array<double, 12> kBounds{0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01,
                                                  0.015,  0.025, 0.05,   0.1,   0.25,   1};

  // Counts one sync of a WAL file (RocksDB names them NNNNNN.log); other files' syncs (tables,
  // manifest) are not on a commit's path.
  void recordSync(std::string_view path, uint64_t nanoseconds);
  WalSyncHistogram snapshot() const;

  // rocksdb::EventListener
  bool ShouldBeNotifiedOnFileIO() override { return true; }
  void OnFileSyncFinish(const rocksdb::FileOperationInfo& info) override;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> sum_nanoseconds_{0};
};

}  // namespace vigil::store
