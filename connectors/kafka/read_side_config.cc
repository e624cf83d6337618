#include "connectors/kafka/read_side_config.h"

#include <unistd.h>

#include <climits>

namespace vigil::connectors::kafka {

bool isBaseUrl(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return false;
  }
  size_t host_end = 0;
  if (rest.starts_with("[")) {
    host_end = rest.find(']');
    if (host_end == std::string_view::npos || host_end < 2) return false;
    ++host_end;
  } else {
    host_end = rest.find(':');
    if (host_end == std::string_view::npos || host_end == 0) return false;
    for (char c : rest.substr(0, host_end)) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') return false;
    }
  }
  if (host_end >= rest.size() || rest[host_end] != ':') return false;
  const std::string_view port = rest.substr(host_end + 1);
  if (port.empty() || port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

std::string advertisedUrlFor(const std::string& host, uint16_t port, bool tls) {
  std::string name = host;
  if (host == "0.0.0.0" || host == "::" || host.empty()) {
    char buffer[HOST_NAME_MAX + 1] = {};
    name = gethostname(buffer, sizeof(buffer) - 1) == 0 && buffer[0] != '\0' ? buffer : "localhost";
  } else if (host.find(':') != std::string::npos) {
    name = "[" + host + "]";
  }
  return (tls ? "https://" : "http://") + name + ":" + std::to_string(port);
}

Status parseReadSideConfig(const YAML::Node& node, std::string_view file, ReadSideConfig& config) {
  ConfigErrors errors;
  try {
    if (const YAML::Node n = node["advertised_url"]) {
      std::string url;
      if (errors.take(readString(file, n), url)) {
        if (url.ends_with('/')) url.pop_back();
        if (!isBaseUrl(url)) {
          errors.add(yamlError(file, n, "advertised_url must be http://HOST:PORT or https://HOST:PORT (no path)"));
        } else {
          config.advertised_url = url;
        }
      }
    }
    if (const YAML::Node n = node["read_model_max_incidents"]) {
      int64_t value = 0;
      if (errors.take(readInt(file, n, 1000, INT64_C(100000000)), value)) {
        config.read_model_max_incidents = static_cast<uint64_t>(value);
      }
    }
    if (const YAML::Node n = node["forward_timeout"]) {
      std::chrono::milliseconds value{};
      if (errors.take(readDuration(file, n), value)) {
        if (value < std::chrono::milliseconds(100) || value > std::chrono::minutes(1)) {
          errors.add(yamlError(file, n, "forward_timeout must be between 100ms and 1m"));
        } else {
          config.forward_timeout = value;
        }
      }
    }
    if (const YAML::Node n = node["read_model_stream_backlog"]) {
      int64_t value = 0;
      if (errors.take(readInt(file, n, 100, 1000000), value)) config.read_model_stream_backlog = static_cast<size_t>(value);
    }
  } catch (const YAML::Exception& e) {
    errors.add(yamlError(file, e.mark, e.msg));
  }
  return errors.empty() ? Status::ok() : errors.status();
}

}  // namespace vigil::connectors::kafka
