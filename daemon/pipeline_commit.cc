// The pipeline's commit stage: the store commit (WAL fsync included) of one batch runs on the
// committer thread while the correlator processes the next batch, so the two overlap on two cores.
// Depth one: the correlator hands a batch over only once the one before is committed and
// acknowledged, so batches are durable, acknowledged and told to the listeners in order, and a
// failed commit that is being retried holds the correlator (and through the queue the sources)
// after at most max_batch_events more events.
// Group commit: while a commit is in flight the correlator does not wait for it but goes on
// processing what arrives; those batches join one commit, handed over as soon as the committer
// is free. An event then waits for the rest of the commit in flight and its own, not also for
// a commit of batches that arrived after it was processed.
#include "daemon/pipeline.h"

#include <pthread.h>

#include <spdlog/spdlog.h>

namespace vigil {

void Pipeline::startCommitter() {
  {
    std::lock_guard lock(commit_mu_);
    commit_stop_ = false;
  }
  committer_ = std::thread([this] { commitLoop(); });
}

void Pipeline::stopCommitter() {
  {
    std::unique_lock lock(commit_mu_);
    commit_cv_.wait(lock, [&] { return !commit_busy_; });
    commit_stop_ = true;
  }
  commit_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
}

void Pipeline::markStage(std::vector<WorkItem>& work, TimePoint metrics::StageMarks::*mark) {
  const TimePoint now = Clock::now();
  for (auto& item : work) item.marks.*mark = now;
}

void Pipeline::handOffPending() {
  {
    std::unique_lock lock(commit_mu_);
    commit_cv_.wait(lock, [&] { return !commit_busy_; });
    markStage(pending_.work, &metrics::StageMarks::handed);
    last_handed_events_ = pending_.events;
    std::swap(pending_, in_flight_);
    commit_busy_ = true;
    commit_deferred_ = false;
  }
  commit_cv_.notify_all();
}

bool Pipeline::deferCommit() {
  // A full batch waits for the committer as before: that is the backpressure.
  if (pending_.events >= options_.max_batch_events) return false;
  std::lock_guard lock(commit_mu_);
  commit_deferred_ = commit_busy_;
  return commit_deferred_;
}

void Pipeline::flushDeferred(bool wait) {
  {
    std::lock_guard lock(commit_mu_);
    if (!commit_deferred_ || (commit_busy_ && !wait)) return;
    commit_deferred_ = false;
  }
  commitProcessed();
}

void Pipeline::awaitCommitted() {
  std::unique_lock lock(commit_mu_);
  commit_cv_.wait(lock, [&] { return !commit_busy_; });
}

void Pipeline::commitLoop() {
  pthread_setname_np(pthread_self(), "vigil-commit");  // for top -H and perf
  for (;;) {
    {
      std::unique_lock lock(commit_mu_);
      commit_cv_.wait(lock, [&] { return commit_busy_ || commit_stop_; });
      if (!commit_busy_) return;  // stopped with nothing in flight
    }
    finishCommit(in_flight_);
    bool deferred = false;
    {
      std::lock_guard lock(commit_mu_);
      commit_busy_ = false;
      deferred = commit_deferred_;
    }
    commit_cv_.notify_all();
    if (deferred) queue_.interrupt();  // the correlator hands the deferred batch over now
  }
}

void Pipeline::finishCommit(PendingCommit& batch) {
  commitWithRetry(batch.changes, batch.positions);

  const auto committed_at = Clock::now();
  metrics_.batch_events.Observe(static_cast<double>(batch.events));
  if (batch.events > 0) {
    for (const auto& item : batch.work) {
      for (const auto& event : item.batch.events) {
        metrics_.tallyEventToCommit(std::chrono::duration<double>(committed_at - event.received_at).count());
      }
      metrics_.stages.tally(item.marks, committed_at, item.batch.events);
    }
    metrics_.flushEventsToCommit();
    metrics_.stages.flush();
  }
  metrics_.active_incidents.Set(static_cast<double>(batch.active_incidents));
  const Status committed = ready_ ? Status::ok() : Status::unavailable("store commit failed; shutting down");
  // Metrics first, so whoever hears "committed" also sees them (health was published by the
  // correlator before the hand-over).
  if (committed.isOk()) metrics_.assurance.committed(batch.changes);
  for (auto& item : batch.work) {
    if (item.batch.on_commit) item.batch.on_commit(committed);
    if (item.command_done) {
      item.command_done(committed.isOk() || !item.command_result->has_value() ? std::move(*item.command_result)
                                                                              : fail(committed));
    }
  }
  if (committed.isOk()) {
    for (auto* listener : listeners_) listener->onCommitted(batch.changes);
  }
  // The batch's events and callbacks go now; the vectors keep their capacity for a later batch.
  // Its incidents too: the engine need not copy one it changes again, and the ones no longer
  // active are freed here rather than on the correlator.
  batch.changes.incidents.clear();
  batch.work.clear();
  batch.positions.clear();
  batch.events = 0;
}

}  // namespace vigil
