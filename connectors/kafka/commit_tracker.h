// CommitTracker: which batches of which partition are still on their way through the pipeline.
// The poll thread counts a batch in when the pipeline accepts it; the batch's on_commit callback
// (correlator thread) reports it out. The poll thread then commits the offset to the consumer
// group (for lag tools) and, on revocation, waits here until a partition has nothing in flight.
// The pipeline may call back after the source is gone, so the tracker is shared-owned.
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "daemon/status.h"

namespace vigil::connectors::kafka {

using TopicPartition = std::pair<std::string, int32_t>;

struct Completion {
  TopicPartition tp;
  int64_t next_offset = 0;
  bool ok = false;
};

class CommitTracker {
 public:
  void sent(const TopicPartition& tp) {
    std::lock_guard lock(mu_);
    ++inflight_[tp];
  }
  // The pipeline refused the batch after all: it is not in flight.
  void unsent(const TopicPartition& tp) {
    {
      std::lock_guard lock(mu_);
      auto it = inflight_.find(tp);
      if (it != inflight_.end() && --it->second == 0) inflight_.erase(it);
    }
    cv_.notify_all();
  }
  // Called on: the correlator thread. Cheap and non-blocking.
  void committed(const TopicPartition& tp, int64_t next_offset, const Status& status) {
    {
      std::lock_guard lock(mu_);
      auto it = inflight_.find(tp);
      if (it != inflight_.end() && --it->second == 0) inflight_.erase(it);
      done_.push_back({tp, next_offset, status.isOk()});
    }
    cv_.notify_all();
  }
  std::vector<Completion> take() {
    std::lock_guard lock(mu_);
    std::vector<Completion> out;
    out.swap(done_);
    return out;
  }
  // Waits until none of `tps` has a batch in flight, or `timeout` passes (false then).
  bool waitIdle(const std::vector<TopicPartition>& tps, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      for (const auto& tp : tps) {
        if (inflight_.count(tp) != 0) return false;
      }
      return true;
    });
  }
  size_t inflight() const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& [tp, count] : inflight_) n += count;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<TopicPartition, size_t> inflight_;  // GUARDED_BY(mu_)
  std::vector<Completion> done_;               // GUARDED_BY(mu_)
};

}  // namespace vigil::connectors::kafka
