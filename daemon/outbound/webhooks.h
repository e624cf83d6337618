// Webhooks: delivers committed incident changes to HTTP receivers through an outbox in RocksDB.
//
// Design (why it neither loses a change nor blocks the pipeline): the store's change log is
// written in the same WriteBatch as the incidents it describes, so it is the durable source of
// every committed change. Each receiver has one thread that (1) routes: reads the change log
// after its recorded position, decides which records the receiver gets (matcher + the
// orphaned-ticket rule) and writes their outbox records together with the new position in ONE
// atomic store write (Column::kOutbox) — a crash leaves either both or neither, so a change is
// routed exactly once; and (2) delivers: POSTs the oldest outbox record, erasing it only after a
// 2xx answer, in order, with exponential backoff between failed attempts. The correlator only
// wakes the threads (onCommitted); a slow or dead receiver holds its own outbox, nothing else.
// Every call carries `Idempotency-Key: <receiver>-<incident id>-<change seq>`, stable across
// retries and restarts: after a crash between a 2xx and the erase the record is sent again with
// the same key, and the receiver drops it.
//
// Orphaned tickets: a receiver that was sent any change of an incident is remembered as told
// ("told/<id>"); the incident's resolve (or close) goes to it even when its matcher no longer
// matches (a severity that dropped, a state filter), so no ticket stays open forever.
//
// Outbox keys (partition 0): wh/<name>/pos → last routed change seq; wh/<name>/q/<seq> → a
// pending delivery; wh/<name>/told/<id>; wh/<name>/dead/<seq> → given up after max_retries or
// a permanent 4xx, with the last error, the attempts and when (listed and retried through the
// API: retrying moves it back to q/<seq>, so it keeps its idempotency key).
// A receiver seen for the first time starts at the newest change (no replay of history).
// Config reload (setReceivers) stops the receivers that were removed or changed and starts the
// new ones; their outbox records stay in the store under their names, so a receiver that stays
// or comes back continues where it was.
// Scale-out core (setPartitioned; docs/scale-out.md, "Notifications"): a change is routed only
// once the changelog has its partition's records (so no takeover can re-create it differently)
// and only while this instance owns its partition; its key is
// `<receiver>-<incident id>-<incident revision>-<change>` (one batch may change an incident more
// than once under one revision), the same on any instance. A delivered change is recorded in the
// partition's own state (partition p, "wn/<name>/<id>" → "<revision> <change>"), which travels
// with the changelog; taking a partition over (loadPartition) queues, per incident, the latest
// change the receiver would get and has not acknowledged. Entries of partitions that moved away
// are dropped from the local outbox unsent: their new owner sends them.
// Thread-safety: start()/stop() on the main thread; onCommitted() on the pipeline's committer
// thread; loadPartition() and forgetPartition() on the correlator thread; setReceivers(),
// deadLetters() and retryDeadLetters() from any thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "daemon/outbound/webhook_config.h"
#include "daemon/pipeline.h"
#include "daemon/store/store.h"

namespace vigil::outbound {

// A delivery given up on, as kept in the outbox.
struct DeadLetter {
  std::string id;        // its idempotency key, <receiver>-<incident id>-<change seq>
  std::string receiver;
  uint64_t incident = 0;
  uint64_t seq = 0;      // the change's sequence number in the change log
  std::string change;    // opened, updated, resolved, …
  std::string error;     // the last attempt's ("HTTP 400", a curl error)
  int attempts = 0;
  std::string dead_at;   // RFC 3339
  bool configured = false;  // its receiver is in the running config (only those can be retried)
};

struct DeadLetterFilter {
  std::optional<std::string> receiver;
  std::vector<std::string> ids;  // empty: all
};

struct RetryOutcome {
  size_t retried = 0;
  std::vector<std::string> not_found;               // ids asked for that are no dead letter
  std::vector<std::string> skipped_unconfigured;    // ids whose receiver is not configured
};

class Webhooks final : public ChangeListener, public CorrelatorComponent {
 public:
  Webhooks(std::vector<WebhookConfig> receivers, store::Store& store, prometheus::Registry& registry);
  ~Webhooks() override;

  Status start();
  // Stops delivering (an attempt in flight is abandoned; its record stays in the outbox).
  void stop();
  bool empty() const;

  // Config reload: keeps the receivers whose config is unchanged, stops those removed or
  // changed, starts the new and changed ones (each resumes from its stored position and outbox).
  // Before start() it only replaces the list.
  Status setReceivers(std::vector<WebhookConfig> receivers);

  // The dead letters of every receiver in the store (configured or not), oldest change first.
  Result<std::vector<DeadLetter>> deadLetters(const DeadLetterFilter& filter, size_t limit) const;
  // Moves the matching dead letters of configured receivers back into their outboxes, each
  // under its original change seq (so the same idempotency key), and wakes the receivers.
  // Counted in vigil_webhook_dead_letter_retries_total{receiver}.
  Result<RetryOutcome> retryDeadLetters(const DeadLetterFilter& filter);

  // Scale-out core. REQUIRES: before start(). `durable_seq`: every change up to this local seq is
  // in the changelog (ScaleoutCore::durableChangeSeq); any thread.
  void setPartitioned(std::function<uint64_t()> durable_seq);

  // ChangeListener
  void onCommitted(const incidents::ChangeSet& changes) override;
  // CorrelatorComponent (scale-out core only)
  Status loadPartition(const store::Store& store, uint16_t partition) override;
  void forgetPartition(uint16_t partition) override;

 private:
  class Receiver;
  struct Scope;
  const std::unique_ptr<Scope> scope_;
  store::Store& store_;
  prometheus::Registry& registry_;
  mutable std::mutex mu_;  // held briefly: onCommitted() takes it on the committer thread
  std::vector<std::unique_ptr<Receiver>> receivers_;  // GUARDED_BY(mu_)
  bool started_ = false;                              // GUARDED_BY(mu_)
  // One setReceivers() or retryDeadLetters() at a time: a retry's receivers stay alive, and
  // its requeued records are counted by the receiver that delivers them.
  std::mutex reload_mu_;
};

}  // namespace vigil::outbound
