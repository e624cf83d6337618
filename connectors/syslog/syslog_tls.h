// TLS for tls:// listeners (RFC 5425): the server-side OpenSSL context built from TlsConfig.
// Internal to connectors/syslog.
// Thread-safety: the context is immutable once built and shared by every TLS connection.
#pragma once

#include <memory>

#include <asio/ssl/context.hpp>

#include "connectors/syslog/syslog_config.h"

namespace vigil::connectors::syslog {

using TlsContextPtr = std::shared_ptr<asio::ssl::context>;

// Loads tls.certificate (PEM chain), tls.key and, if set, tls.ca_file; TLS 1.2 or newer only.
// With ca_file a client certificate is requested and verified against it (a missing one is
// refused only with require_client_certificate). Errors name the file and OpenSSL's reason.
// Never throws.
Result<TlsContextPtr> makeTlsServerContext(const TlsConfig& config);

}  // namespace vigil::connectors::syslog
