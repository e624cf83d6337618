#include "connectors/syslog/syslog_core.h"

#include <spdlog/spdlog.h>

#include "connectors/syslog/syslog_event.h"
#include "connectors/syslog/syslog_parser.h"

namespace vigil::connectors::syslog {
namespace {

// Printable sample of untrusted input for a log line: at most 160 bytes, controls as \xNN.
std::string sampleOf(std::string_view input) {
  std::string out;
  const size_t n = std::min<size_t>(input.size(), 160);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(input[i]);
    if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (input.size() > n) {
    out += "...";
  }
  return out;
}

}  // namespace

SyslogMetrics::SyslogMetrics(prometheus::Registry& registry) {
  auto& messages = prometheus::BuildCounter()
                       .Name("vigil_syslog_messages_total")
                       .Help("Syslog messages received (frames and datagrams), before drops.")
                       .Register(registry);
  auto& bytes = prometheus::BuildCounter()
                    .Name("vigil_syslog_bytes_total")
                    .Help("Syslog payload bytes received.")
                    .Register(registry);
  auto& unparsed = prometheus::BuildCounter()
                       .Name("vigil_syslog_unparsed_total")
                       .Help("Syslog messages that failed strict parsing and were kept as raw text.")
                       .Register(registry);
  auto& dropped = prometheus::BuildCounter()
                      .Name("vigil_syslog_dropped_total")
                      .Help("Syslog messages or connections dropped, by reason.")
                      .Register(registry);
  auto& events_dropped = prometheus::BuildCounter()
                             .Name("vigil_events_dropped_total")
                             .Help("Events lost before the pipeline took them, by source and reason.")
                             .Register(registry);
  auto& paused = prometheus::BuildCounter()
                     .Name("vigil_syslog_backpressure_pauses_total")
                     .Help("Times a TCP or TLS connection stopped reading because the pipeline was full.")
                     .Register(registry);
  auto& connections = prometheus::BuildGauge()
                          .Name("vigil_syslog_connections")
                          .Help("Open syslog TCP and TLS connections.")
                          .Register(registry);
  for (const Transport t : {Transport::kTcp, Transport::kUdp, Transport::kTls}) {
    const std::string name(transportName(t));
    PerTransport& m = of(t);
    m.messages = &messages.Add({{"transport", name}});
    m.bytes = &bytes.Add({{"transport", name}});
    m.unparsed = &unparsed.Add({{"transport", name}});
    auto drop = [&](const char* reason) {
      return DropCounter{&dropped.Add({{"transport", name}, {"reason", reason}}),
                         &events_dropped.Add({{"source", "syslog/" + name}, {"reason", reason}})};
    };
    m.dropped_oversize = drop("oversize");
    m.dropped_parse_error = drop("parse_error");
    if (t == Transport::kUdp) {
      m.dropped_queue_full = drop("queue_full");
    } else {
      m.dropped_too_many_connections =
          &dropped.Add({{"transport", name}, {"reason", "too_many_connections"}});
      m.paused = &paused.Add({{"transport", name}});
    }
    if (t == Transport::kTls) {
      m.dropped_tls_handshake = &dropped.Add({{"transport", name}, {"reason", "tls_handshake"}});
    }
  }
  this->connections = &connections.Add({});
}

bool WarnLimiter::allow(uint64_t& suppressed) {
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t next = next_ns_.load(std::memory_order_relaxed);
  if (now >= next && next_ns_.compare_exchange_strong(
                         next, now + std::chrono::nanoseconds(interval_).count())) {
    suppressed = suppressed_.exchange(0);
    return true;
  }
  suppressed_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

SourceCore::SourceCore(SyslogConfig config, prometheus::Registry& registry)
    : config(std::move(config)), metrics(registry) {}

void SourceCore::attachSink(EventSink& sink) {
  std::lock_guard lock(sink_mu_);
  sink_ = &sink;
  stopped_.store(false, std::memory_order_release);
}

void SourceCore::detachSink() {
  stopped_.store(true, std::memory_order_release);
  std::lock_guard lock(sink_mu_);
  sink_ = nullptr;
}

SourceCore::Offer SourceCore::offer(EventBatch& batch) {
  // One uncontended lock per batch (not per event) buys a simple stop() guarantee.
  std::lock_guard lock(sink_mu_);
  if (sink_ == nullptr) {
    return Offer::kStopped;
  }
  return sink_->offer(batch) ? Offer::kAccepted : Offer::kFull;
}

void SourceCore::warnInput(std::string_view what, std::string_view peer, std::string_view sample) {
  uint64_t suppressed = 0;
  if (warn_limiter_.allow(suppressed)) {
    if (sample.empty()) {
      spdlog::warn("syslog: {} from {} ({} similar warnings suppressed)", what, peer, suppressed);
    } else {
      spdlog::warn("syslog: {} from {} ({} similar warnings suppressed): \"{}\"", what, peer,
                   suppressed, sampleOf(sample));
    }
  }
}

void SourceCore::decode(std::string_view frame, Transport transport, const std::string& peer,
                        TimePoint now, std::vector<Event>& out) {
  const std::string_view name = transportName(transport);
  ParseResult parsed = parseSyslog(frame, now);
  if (parsed) {
    toEvent(*parsed, name, peer, now, out.emplace_back());
    return;
  }
  // Our choice: text that is not strict syslog is still an event (the whole line as message,
  // the peer as host), because a NOC would rather see an odd line than lose it. Only empty or
  // binary input, which no rule can use, is dropped as parse_error.
  if (parsed.error() == ParseError::kEmpty || parsed.error() == ParseError::kBinary) {
    metrics.of(transport).dropped_parse_error.Increment();
    warnInput(parsed.error() == ParseError::kEmpty ? "empty message dropped"
                                                   : "binary message dropped",
              peer, frame);
    return;
  }
  metrics.of(transport).unparsed->Increment();
  warnInput(std::string("malformed syslog (") + std::string(parseErrorName(parsed.error())) +
                ") kept as raw text",
            peer, frame);
  rawToEvent(frame, parsed.error(), name, peer, now, out.emplace_back());
}

}  // namespace vigil::connectors::syslog
