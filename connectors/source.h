// The seam between connectors and the pipeline. A Source decodes one wire format into Events and
// hands them over in batches to an EventSink (the pipeline). The sink tells the source, through
// the batch's callback, when the batch is durable, so the source can acknowledge upstream
// (Kafka commits offsets, HTTP answers 202); UDP cannot acknowledge and only counts its drops.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/event.h"
#include "daemon/status.h"

namespace asio {
class io_context;
}  // namespace asio
namespace prometheus {
class Registry;
}  // namespace prometheus

namespace vigil::connectors {

// A source's read position (for example a Kafka offset), written in the same store batch as the
// changes its events caused, so a crash keeps both or neither. Keys are namespaced by the source
// ("kafka/<topic>/<partition>").
struct SourcePosition {
  uint16_t partition = 0;
  std::string key;
  std::string value;
};

// Called once per batch on the correlator thread, after the batch is committed (ok) or could not
// be (error). Must be cheap and must not block: post to your own thread if there is real work.
using CommitCallback = std::function<void(const Status&)>;

struct EventBatch {
  std::vector<Event> events;
  std::vector<SourcePosition> positions;
  CommitCallback on_commit;  // may be empty
};

// Implemented by the pipeline. Thread-safe.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Non-blocking hand-over. Returns false when the queue is full or closed; the batch is then left
  // as it was, so the caller can retry later (TCP: stop reading) or drop and count it (UDP).
  virtual bool offer(EventBatch& batch) = 0;
  // Blocking hand-over for sources that can wait (file replay). False once the sink is closed.
  virtual bool push(EventBatch batch) = 0;
};

// What a source may use from the daemon. Outlives every source.
struct SourceContext {
  asio::io_context& io;              // the shared io thread pool for socket sources
  prometheus::Registry& registry;    // for the source's own metrics
};

// A connector instance. Thread-safety: start() and stop() are called on the main thread.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::string_view name() const = 0;
  // Binds and starts delivering to `sink`, which outlives the source.
  [[nodiscard]] virtual Status start(EventSink& sink) = 0;
  // Stops accepting input; returns once the sink is no longer called.
  virtual void stop() = 0;
  // False while the source cannot take in what it should (a Kafka source that has no broker):
  // /readyz reports the daemon not ready then. Thread-safe.
  virtual bool ready() const { return true; }
  // Human-readable endpoints actually bound (after start), e.g. "tcp://127.0.0.1:6514".
  virtual std::vector<std::string> endpoints() const { return {}; }
};

using SourcePtr = std::unique_ptr<Source>;

}  // namespace vigil::connectors
