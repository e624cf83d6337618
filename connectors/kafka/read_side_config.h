// Configuration of the scale-out read side (docs/scale-out.md, "Read side"): keys of the
// `scaleout:` section that a core uses to answer for every partition and route commands.
//
//   scaleout:
//     advertised_url: http://core-1.example.net:8080  # how peers reach this instance's API
//     read_model_max_incidents: 1000000
//     forward_timeout: 5s
//     read_model_stream_backlog: 10000
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "daemon/status.h"
#include "daemon/yaml_util.h"

namespace vigil::connectors::kafka {

inline constexpr std::array<ConfigKey, 4> kReadSideConfigKeys = {{
    {"advertised_url", "http://<http listen host>:<port>",
     "Core: the base URL (http:// or https://, host and port, no path) at which the other cores reach "
     "this instance's API; it travels on the changelog so peers can route incident commands here. "
     "When http listens on 0.0.0.0 or ::, the host name replaces it."},
    {"read_model_max_incidents", "1000000",
     "Core: most incidents of other cores' partitions kept in the read model (about 300 bytes each); "
     "past it, new ones are not listed (vigil_scaleout_read_model_dropped_total)."},
    {"forward_timeout", "5s",
     "Core: longest an incident command forwarded to its owning core may take (100ms..1m); past it, 503."},
    {"read_model_stream_backlog", "10000",
     "Core: incident changes of all partitions kept for GET /api/v1/stream, so a client that "
     "reconnects with Last-Event-ID gets what it missed (100..1000000)."},
}};

struct ReadSideConfig {
  std::string advertised_url;  // empty: derived from the http listen address (advertisedUrlFor)
  uint64_t read_model_max_incidents = 1000000;
  std::chrono::milliseconds forward_timeout{5000};
  size_t read_model_stream_backlog = 10000;
};

// The names above, for the `scaleout:` section's checkKeys.
// Reads the read-side keys of the `scaleout:` mapping `node` into `config`; errors as
// file:line:col. Never throws.
Status parseReadSideConfig(const YAML::Node& node, std::string_view file, ReadSideConfig& config);

// True for "http://HOST:PORT" or "https://HOST:PORT" (HOST may be a [v6] literal), no path.
bool isBaseUrl(std::string_view url);

// The default advertised URL for an API listening on host:port with or without TLS: the host
// name stands in for a wildcard address.
std::string advertisedUrlFor(const std::string& host, uint16_t port, bool tls);

}  // namespace vigil::connectors::kafka
