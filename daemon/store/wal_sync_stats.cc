#include "daemon/store/wal_sync_stats.h"

#include <algorithm>
#include <chrono>
#include <string_view>

namespace vigil::store {

void WalSyncStats::recordSync(std::string_view path, uint64_t nanoseconds) {
  if (!path.ends_with(".log")) return;
  const double seconds = static_cast<double>(nanoseconds) * 1e-9;
  const auto bucket = std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin();
  buckets_[static_cast<size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  sum_nanoseconds_.fetch_add(nanoseconds, std::memory_order_relaxed);
}

void WalSyncStats::OnFileSyncFinish(const rocksdb::FileOperationInfo& info) {
  if (!info.status.ok()) return;
  recordSync(info.path, static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(info.duration).count()));
}

WalSyncHistogram WalSyncStats::snapshot() const {
  WalSyncHistogram h;
  h.bounds.assign(kBounds.begin(), kBounds.end());
  for (const auto& b : buckets_) {
    h.buckets.push_back(b.load(std::memory_order_relaxed));
    h.count += h.buckets.back();
  }
  h.sum_seconds = static_cast<double>(sum_nanoseconds_.load(std::memory_order_relaxed)) * 1e-9;
  return h;
}

}  // namespace vigil::store
