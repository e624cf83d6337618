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
// a permanent 4xx (kept for inspection).
// A receiver seen for the first time starts at the newest change (no replay of history).
// Thread-safety: start()/stop() on the main thread; onCommitted() on the correlator thread.
#pragma once

#include <memory>
#include <vector>

#include <prometheus/registry.h>

#include "daemon/outbound/webhook_config.h"
#include "daemon/pipeline.h"
#include "daemon/store/store.h"

namespace vigil::outbound {

class Webhooks final : public ChangeListener {
 public:
  Webhooks(std::vector<WebhookConfig> receivers, store::Store& store, prometheus::Registry& registry);
  ~Webhooks() override;

  Status start();
  // Stops delivering (an attempt in flight is abandoned; its record stays in the outbox).
  void stop();
  bool empty() const { return receivers_.empty(); }

  // ChangeListener
  void onCommitted(const incidents::ChangeSet& changes) override;

 private:
  class Receiver;
  std::vector<std::unique_ptr<Receiver>> receivers_;
};

}  // namespace vigil::outbound
