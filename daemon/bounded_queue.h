// BoundedQueue: the hand-over from io threads to the correlator. Capacity is counted in a weight
// (events, not batches) and, optionally, in bytes (what the items hold in memory, as the pusher
// estimates it), so memory stays bounded whatever the batch and event sizes are.
// Thread-safety: all members are thread-safe. One lock per batch, never per event.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace vigil {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity, size_t byte_capacity = SIZE_MAX)
      : capacity_(capacity), byte_capacity_(byte_capacity) {}

  // Non-blocking. False when full (in weight or in bytes) or closed; `item` is then left
  // untouched. An item heavier than the whole capacity is still taken when the queue is empty,
  // so it cannot block forever.
  bool tryPush(T& item, size_t weight, size_t bytes = 0) {
    std::lock_guard lock(mu_);
    if (closed_ || !fits(weight, bytes)) return false;
    items_.push_back({std::move(item), weight, bytes});
    weight_ += weight;
    bytes_ += bytes;
    not_empty_.notify_one();
    return true;
  }

  // Blocks while full. False once closed.
  bool push(T item, size_t weight, size_t bytes = 0) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || fits(weight, bytes); });
    if (closed_) return false;
    items_.push_back({std::move(item), weight, bytes});
    weight_ += weight;
    bytes_ += bytes;
    not_empty_.notify_one();
    return true;
  }

  // Waits up to `timeout` for items (or an interrupt()), then moves out items up to `max_weight`
  // in total (at least one). Returns false only when the queue is closed and drained.
  bool popBatch(std::vector<T>& out, size_t max_weight, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    not_empty_.wait_for(lock, timeout, [&] { return closed_ || interrupted_ || !items_.empty(); });
    interrupted_ = false;
    if (items_.empty()) return !closed_;
    size_t taken = 0;
    while (!items_.empty() && (taken == 0 || taken + items_.front().weight <= max_weight)) {
      taken += items_.front().weight;
      weight_ -= items_.front().weight;
      bytes_ -= items_.front().bytes;
      out.push_back(std::move(items_.front().value));
      items_.pop_front();
    }
    not_full_.notify_all();
    return true;
  }

  // Ends the wait of the current or next popBatch() early, even with nothing queued: the
  // consumer has work of its own that became due (the pipeline: its committer became free).
  void interrupt() {
    std::lock_guard lock(mu_);
    interrupted_ = true;
    not_empty_.notify_all();
  }

  // Wakes everyone; pushes fail from now on, pops drain what is left.
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  size_t weight() const {
    std::lock_guard lock(mu_);
    return weight_;
  }
  size_t bytes() const {
    std::lock_guard lock(mu_);
    return bytes_;
  }
  size_t capacity() const { return capacity_; }
  size_t byteCapacity() const { return byte_capacity_; }

 private:
  struct Entry {
    T value;
    size_t weight;
    size_t bytes;
  };
  bool fits(size_t weight, size_t bytes) const {
    return items_.empty() || (weight_ + weight <= capacity_ && bytes_ + bytes <= byte_capacity_);
  }

  const size_t capacity_;
  const size_t byte_capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<Entry> items_;
  size_t weight_ = 0;
  size_t bytes_ = 0;
  bool closed_ = false;
  bool interrupted_ = false;
};

}  // namespace vigil
