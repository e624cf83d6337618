// State shared by the syslog source and its listeners and connections. Internal to
// connectors/syslog. Handlers hold it by shared_ptr, so it outlives the SyslogSource object if a
// handler is still queued on the io_context when the source is destroyed.
// Thread-safety: all members are safe to use from any io thread (see each).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "connectors/source.h"
#include "connectors/syslog/syslog_config.h"

namespace vigil::connectors::syslog {

// A dropped message counts twice: per transport in vigil_syslog_dropped_total (the connector's
// view) and in vigil_events_dropped_total{source,reason}, which every source shares.
struct DropCounter {
  prometheus::Counter* by_transport = nullptr;
  prometheus::Counter* by_source = nullptr;
  void Increment(double n = 1) const {
    by_transport->Increment(n);
    by_source->Increment(n);
  }
};

// Metric references resolved once, so the hot path only increments.
struct SyslogMetrics {
  struct PerTransport {
    prometheus::Counter* messages = nullptr;  // frames/datagrams received, before any drop
    prometheus::Counter* bytes = nullptr;
    prometheus::Counter* unparsed = nullptr;  // kept as raw events after a strict parse error
    DropCounter dropped_queue_full;  // UDP only: TCP waits instead
    DropCounter dropped_oversize;
    DropCounter dropped_parse_error;  // empty or binary: nothing to keep
    prometheus::Counter* dropped_too_many_connections = nullptr;  // TCP and TLS
    prometheus::Counter* dropped_tls_handshake = nullptr;  // TLS only: failed or timed out
    prometheus::Counter* paused = nullptr;  // TCP/TLS: reading paused because the sink was full
  };
  explicit SyslogMetrics(prometheus::Registry& registry);
  PerTransport& of(Transport t) {
    return t == Transport::kUdp ? udp : t == Transport::kTcp ? tcp : tls;
  }

  PerTransport tcp;
  PerTransport udp;
  PerTransport tls;
  prometheus::Gauge* connections = nullptr;
};

// Logs at most one warning per interval and says how many were suppressed. Thread-safe.
class WarnLimiter {
 public:
  explicit WarnLimiter(std::chrono::seconds interval) : interval_(interval) {}
  // Returns true when the caller may log now; `suppressed` is the count skipped since the last.
  bool allow(uint64_t& suppressed);

 private:
  const std::chrono::seconds interval_;
  std::atomic<int64_t> next_ns_{0};
  std::atomic<uint64_t> suppressed_{0};
};

class SourceCore {
 public:
  enum class Offer { kAccepted, kFull, kStopped };

  SourceCore(SyslogConfig config, prometheus::Registry& registry);

  // Hands a batch to the sink. kStopped once detachSink() ran. Thread-safe.
  Offer offer(EventBatch& batch);
  void attachSink(EventSink& sink);
  // After this returns no thread is inside the sink and none will enter it again.
  void detachSink();
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }

  // Parses one frame/datagram and appends its event to `out`, or counts the drop. Thread-safe.
  void decode(std::string_view frame, Transport transport, const std::string& peer, TimePoint now,
              std::vector<Event>& out);
  // Counts and (rate-limited) logs a dropped or malformed input, with a sample of it.
  void warnInput(std::string_view what, std::string_view peer, std::string_view sample);

  const SyslogConfig config;
  SyslogMetrics metrics;
  std::atomic<size_t> tcp_connections{0};  // TCP and TLS

 private:
  std::mutex sink_mu_;
  EventSink* sink_ = nullptr;  // guarded by sink_mu_; null before start and after stop
  std::atomic<bool> stopped_{false};
  WarnLimiter warn_limiter_{std::chrono::seconds(10)};
};

}  // namespace vigil::connectors::syslog
