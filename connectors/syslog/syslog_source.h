// SyslogSource: receives RFC 5424 / RFC 3164 syslog over UDP, TCP (RFC 6587 framing) and TLS
// (RFC 5425: the TCP framing inside TLS 1.2+; certificate, key and client check in `tls:`) and
// hands one Event per message to the pipeline, in batches.
//
// Wiring (connectors/builtin.cc):  registry.add("syslog", &makeSyslogSource);
// Config: see kSyslogConfigKeys in syslog_config.h.
//
// Behaviour under load and bad input:
//  - TCP and TLS alike: a refused batch is retried (2 ms doubling to 50 ms) while the connection stops reading,
//    so TCP slows the sender and nothing read is lost. More than max_connections: the new
//    connection is closed (reason="too_many_connections"); idle_timeout closes silent ones.
//  - TLS: a handshake that fails or takes longer than tls.handshake_timeout closes the
//    connection and is counted (transport="tls", reason="tls_handshake").
//  - UDP: a refused batch is dropped and counted (reason="queue_full").
//  - Oversize frames/datagrams are dropped (reason="oversize"); an absurd octet count closes
//    the TCP connection. Text that is not valid syslog becomes a raw event (message = the line,
//    host = peer, label syslog_parse_error) and is counted in vigil_syslog_unparsed_total; only
//    empty or binary input is dropped (reason="parse_error"). Warnings are rate-limited.
// Metrics (transport = udp|tcp|tls): vigil_syslog_messages_total{transport}, vigil_syslog_bytes_total{transport},
//   vigil_syslog_dropped_total{transport,reason}, vigil_syslog_unparsed_total{transport},
//   vigil_syslog_backpressure_pauses_total{transport} (TCP/TLS), vigil_syslog_connections.
// Thread-safety: start()/stop() on the main thread. Handlers run on the shared io_context (one
// or more threads), each listener and connection on its own strand.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "connectors/source.h"
#include "connectors/syslog/syslog_config.h"

namespace vigil::connectors::syslog {

class SourceCore;
class TcpListener;
class UdpListener;

class SyslogSource final : public Source {
 public:
  SyslogSource(SyslogConfig config, SourceContext& context);
  ~SyslogSource() override;

  // Source
  std::string_view name() const override { return "syslog"; }
  // Loads the TLS files (if a tls:// listener is configured) and binds every listen address,
  // failing as a whole if one cannot be bound or loaded; then starts reading.
  Status start(EventSink& sink) override;
  // Detaches the sink at once (no sink call after return), then closes sockets on their strands
  // and waits up to 5 s for that if the io_context is running. Idempotent.
  void stop() override;
  std::vector<std::string> endpoints() const override { return endpoints_; }

 private:
  SourceContext& context_;
  std::shared_ptr<SourceCore> core_;
  std::vector<std::shared_ptr<TcpListener>> tcp_;
  std::vector<std::shared_ptr<UdpListener>> udp_;
  std::vector<std::string> endpoints_;
  bool started_ = false;
};

// Factory for the source registry: parses `section` (the `syslog:` mapping of `file`).
Result<SourcePtr> makeSyslogSource(const YAML::Node& section, std::string_view file,
                                   SourceContext& context);

}  // namespace vigil::connectors::syslog
