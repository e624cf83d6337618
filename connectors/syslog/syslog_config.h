// Configuration of the syslog source: the `syslog:` section of vigild's YAML.
//
//   syslog:
//     listen: [udp://0.0.0.0:514, tcp://0.0.0.0:514, "tcp://[::1]:6514"]
//     max_message_size: 64KiB
//     tls: {certificate: /etc/vigil/syslog.crt, key: /etc/vigil/syslog.key}
//
// Every key, its default and its meaning (the reference docs are generated from this table):
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/status.h"
#include "daemon/yaml_util.h"

namespace vigil::connectors::syslog {

inline constexpr std::array<ConfigKey, 12> kSyslogConfigKeys = {{
    {"listen", "[]",
     "Endpoints to receive on: udp://HOST:PORT, tcp://HOST:PORT (RFC 6587 octet counting or LF "
     "framing, detected per message), tls://HOST:PORT (RFC 5425: the same framing over TLS 1.2+, see tls.*). HOST is an IP literal, "
     "IPv6 in brackets (tcp://[::1]:514), or empty for all IPv4 interfaces. Port 0 picks a free "
     "port; the bound one is reported by the source's endpoints()."},
    {"max_message_size", "64KiB",
     "Largest message accepted; longer TCP frames and UDP datagrams are dropped and counted as "
     "vigil_syslog_dropped_total{reason=\"oversize\"}. Range 480 B .. 16 MiB."},
    {"max_connections", "1024",
     "Concurrent TCP and TLS connections over all listeners; more are closed at once and counted as "
     "reason=\"too_many_connections\"."},
    {"idle_timeout", "5m", "A TCP connection that sends nothing for this long is closed."},
    {"udp_receive_buffer", "(system default)",
     "SO_RCVBUF for UDP sockets, e.g. 8MiB, to absorb bursts (capped by net.core.rmem_max)."},
    {"batch_max_events", "1024", "Most events handed to the pipeline in one batch."},
    {"tls.certificate", "(none)",
     "PEM certificate chain of the tls:// listeners (server certificate first). Required when a "
     "tls:// listener is configured."},
    {"tls.key", "(none)", "PEM private key of that certificate (unencrypted). Required with tls://."},
    {"tls.ca_file", "(none)",
     "PEM CA bundle to verify client certificates against. Without it clients are not asked for "
     "a certificate."},
    {"tls.require_client_certificate", "false",
     "Refuse clients that present no certificate signed by tls.ca_file (needs tls.ca_file). "
     "With false, a presented certificate is still verified."},
    {"tls.handshake_timeout", "10s",
     "A TLS handshake not done within this is aborted and counted as "
     "vigil_syslog_dropped_total{transport=\"tls\",reason=\"tls_handshake\"}."},
    {"tls.min_version", "1.2", "Oldest TLS version accepted: 1.2 or 1.3."},
}};

enum class Transport : uint8_t { kUdp, kTcp, kTls };
std::string_view transportName(Transport transport);  // "udp", "tcp", "tls"

struct ListenAddress {
  Transport transport = Transport::kUdp;
  std::string host;   // IP literal without brackets ("0.0.0.0", "::1")
  uint16_t port = 0;  // 0: the kernel picks one
  // "tcp://127.0.0.1:514", "tcp://[::1]:514".
  std::string toString() const;
};

// Parses "udp://HOST:PORT" and friends; the error message has no file position.
Result<ListenAddress> parseListenAddress(std::string_view text);

// The `tls:` mapping; used by tls:// listeners only. Files are read when the source starts.
struct TlsConfig {
  std::string certificate;
  std::string key;
  std::string ca_file;
  bool require_client_certificate = false;
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);
  bool tls13_only = false;  // min_version: 1.3
};

// Immutable after parsing. Thread-safety: plain value.
struct SyslogConfig {
  std::vector<ListenAddress> listen;
  size_t max_message_size = 64 * 1024;
  size_t max_connections = 1024;
  std::chrono::milliseconds idle_timeout = std::chrono::minutes(5);
  std::optional<size_t> udp_receive_buffer;
  size_t batch_max_events = 1024;
  TlsConfig tls;
};

// Parses the `syslog:` mapping. Errors read "file:line:col: message"; unknown keys are rejected.
// Never throws.
Result<SyslogConfig> parseSyslogConfig(const YAML::Node& node, std::string_view file);

}  // namespace vigil::connectors::syslog
