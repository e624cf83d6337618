#include "connectors/syslog/syslog_config.h"

#include <charconv>

#include <asio/ip/address.hpp>

#include "daemon/yaml_util.h"

namespace vigil::connectors::syslog {

std::string_view transportName(Transport transport) {
  switch (transport) {
    case Transport::kUdp: return "udp";
    case Transport::kTcp: return "tcp";
    case Transport::kTls: return "tls";
  }
  return "unknown";
}

std::string ListenAddress::toString() const {
  std::string out(transportName(transport));
  out += "://";
  if (host.find(':') != std::string::npos) {
    out += '[' + host + ']';
  } else {
    out += host;
  }
  out += ':' + std::to_string(port);
  return out;
}

Result<ListenAddress> parseListenAddress(std::string_view text) {
  ListenAddress out;
  const size_t scheme_end = text.find("://");
  const std::string_view scheme = text.substr(0, scheme_end);
  if (scheme_end == std::string_view::npos) {
    return fail(Status::invalidArgument("expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT, got '" +
                                        std::string(text) + "'"));
  }
  if (scheme == "udp") {
    out.transport = Transport::kUdp;
  } else if (scheme == "tcp") {
    out.transport = Transport::kTcp;
  } else if (scheme == "tls") {
    out.transport = Transport::kTls;
  } else {
    return fail(Status::invalidArgument("unknown scheme '" + std::string(scheme) +
                                        "' (expected udp, tcp or tls)"));
  }
  std::string_view rest = text.substr(scheme_end + 3);
  std::string_view host;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return fail(Status::invalidArgument("bad IPv6 address in '" + std::string(text) +
                                          "' (expected [ADDR]:PORT)"));
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return fail(Status::invalidArgument("missing port in '" + std::string(text) + "'"));
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return fail(Status::invalidArgument("IPv6 addresses need brackets: '" + std::string(text) + "'"));
    }
  }
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value > 65535) {
    return fail(Status::invalidArgument("bad port '" + std::string(port) + "' in '" +
                                        std::string(text) + "'"));
  }
  out.port = static_cast<uint16_t>(value);
  out.host = host.empty() ? "0.0.0.0" : std::string(host);
  if (out.host == "localhost") {
    out.host = "127.0.0.1";
  }
  asio::error_code error;
  const auto address = asio::ip::make_address(out.host, error);
  if (error) {
    return fail(Status::invalidArgument("'" + out.host + "' is not an IP address"));
  }
  out.host = address.to_string();
  return out;
}

namespace {

Status parseTlsConfig(const YAML::Node& node, std::string_view file, TlsConfig& tls) {
  if (!node.IsMap()) {
    return yamlError(file, node, "tls: expected a mapping with certificate and key");
  }
  if (Status s = checkKeys(file, node, {"certificate", "key", "ca_file", "require_client_certificate",
                                        "handshake_timeout", "min_version"});
      !s) {
    return s;
  }
  for (auto [key, out] : {std::pair{"certificate", &tls.certificate}, std::pair{"key", &tls.key},
                          std::pair{"ca_file", &tls.ca_file}}) {
    if (const YAML::Node n = node[key]) {
      auto text = readString(file, n);
      if (!text) {
        return text.error();
      }
      if (text->empty()) {
        return yamlError(file, n, std::string("tls.") + key + " must not be empty");
      }
      *out = std::move(*text);
    }
  }
  if (const YAML::Node n = node["require_client_certificate"]) {
    auto value = readBool(file, n);
    if (!value) {
      return value.error();
    }
    if (*value && tls.ca_file.empty()) {
      return yamlError(file, n, "tls.require_client_certificate needs tls.ca_file");
    }
    tls.require_client_certificate = *value;
  }
  if (const YAML::Node n = node["handshake_timeout"]) {
    auto value = readDuration(file, n);
    if (!value) {
      return value.error();
    }
    if (value->count() <= 0) {
      return yamlError(file, n, "tls.handshake_timeout must be positive");
    }
    tls.handshake_timeout = *value;
  }
  if (const YAML::Node n = node["min_version"]) {
    auto text = readString(file, n);
    if (!text) {
      return text.error();
    }
    if (*text != "1.2" && *text != "1.3") {
      return yamlError(file, n, "tls.min_version must be 1.2 or 1.3");
    }
    tls.tls13_only = *text == "1.3";
  }
  return Status::ok();
}

}  // namespace

Result<SyslogConfig> parseSyslogConfig(const YAML::Node& node, std::string_view file) {
  SyslogConfig config;
  try {
    if (!node || node.IsNull()) {
      return config;
    }
    if (Status s = checkKeys(file, node, {"listen", "max_message_size", "max_connections",
                                          "idle_timeout", "udp_receive_buffer", "batch_max_events",
                                          "tls"});
        !s) {
      return fail(std::move(s));
    }
    if (const YAML::Node listen = node["listen"]) {
      if (!listen.IsSequence()) {
        return fail(yamlError(file, listen, "listen: expected a list of udp://, tcp:// or tls:// URLs"));
      }
      for (const YAML::Node& item : listen) {
        auto text = readString(file, item);
        if (!text) {
          return fail(text.error());
        }
        auto address = parseListenAddress(*text);
        if (!address) {
          return fail(yamlError(file, item, address.error().message()));
        }
        config.listen.push_back(std::move(*address));
      }
    }
    if (const YAML::Node n = node["max_message_size"]) {
      auto size = readSize(file, n);
      if (!size) {
        return fail(size.error());
      }
      if (*size < 480 || *size > 16 * 1024 * 1024) {
        return fail(yamlError(file, n, "max_message_size must be between 480 B and 16MiB"));
      }
      config.max_message_size = *size;
    }
    if (const YAML::Node n = node["max_connections"]) {
      auto value = readInt(file, n, 1, 1'000'000);
      if (!value) {
        return fail(value.error());
      }
      config.max_connections = static_cast<size_t>(*value);
    }
    if (const YAML::Node n = node["idle_timeout"]) {
      auto value = readDuration(file, n);
      if (!value) {
        return fail(value.error());
      }
      if (value->count() <= 0) {
        return fail(yamlError(file, n, "idle_timeout must be positive"));
      }
      config.idle_timeout = *value;
    }
    if (const YAML::Node n = node["udp_receive_buffer"]) {
      auto size = readSize(file, n);
      if (!size) {
        return fail(size.error());
      }
      if (*size == 0 || *size > 1024ull * 1024 * 1024) {
        return fail(yamlError(file, n, "udp_receive_buffer must be between 1 B and 1GiB"));
      }
      config.udp_receive_buffer = *size;
    }
    if (const YAML::Node n = node["batch_max_events"]) {
      auto value = readInt(file, n, 1, 1'000'000);
      if (!value) {
        return fail(value.error());
      }
      config.batch_max_events = static_cast<size_t>(*value);
    }
    const YAML::Node tls = node["tls"];
    if (tls) {
      if (Status s = parseTlsConfig(tls, file, config.tls); !s) {
        return fail(std::move(s));
      }
    }
    for (size_t i = 0; i < config.listen.size(); ++i) {
      if (config.listen[i].transport == Transport::kTls &&
          (config.tls.certificate.empty() || config.tls.key.empty())) {
        return fail(yamlError(file, node["listen"][i],
                              "tls:// listeners need syslog.tls.certificate and syslog.tls.key"));
      }
    }
  } catch (const YAML::Exception& e) {
    return fail(yamlError(file, e.mark, e.msg));
  }
  return config;
}

}  // namespace vigil::connectors::syslog
