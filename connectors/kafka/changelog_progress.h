#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace vigil::connectors::kafka {

// How far a reader of the whole changelog has come, against each partition's end as of its
// start. Records below a partition's low watermark were deleted (time retention, DeleteRecords)
// and can never be read, so they count as read: otherwise a partition emptied by retention
// would keep the reader from ever catching up, and with it everything that waits for it.
class ChangelogProgress {
 public:
  explicit ChangelogProgress(size_t partitions) : next_(partitions, 0), start_ends_(partitions, 0) {}

  void setStart(size_t partition, int64_t low, int64_t high) {
    start_ends_[partition] = high;
    skipDeleted(partition, low);
  }
  void read(size_t partition, int64_t offset) { next_[partition] = std::max(next_[partition], offset + 1); }
  // `low` as reported by the broker; -1 (not known yet) changes nothing.
  void skipDeleted(size_t partition, int64_t low) { next_[partition] = std::max(next_[partition], low); }

  int64_t next(size_t partition) const { return next_[partition]; }
  int64_t lag(size_t partition, int64_t high) const { return std::max<int64_t>(0, high - next_[partition]); }
  bool caughtUp() const {
    for (size_t p = 0; p < next_.size(); ++p) {
      if (next_[p] < start_ends_[p]) return false;
    }
    return true;
  }

 private:
  std::vector<int64_t> next_;        // the next offset to read
  std::vector<int64_t> start_ends_;  // the high watermarks as of the start
};

}  // namespace vigil::connectors::kafka
