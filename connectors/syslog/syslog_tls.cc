#include "connectors/syslog/syslog_tls.h"

#include <openssl/ssl.h>

namespace vigil::connectors::syslog {
namespace {

Status tlsError(std::string_view what, const std::string& path, const asio::error_code& error) {
  return Status::invalidArgument("syslog: tls." + std::string(what) + " '" + path +
                                 "': " + error.message());
}

}  // namespace

Result<TlsContextPtr> makeTlsServerContext(const TlsConfig& config) {
  try {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    SSL_CTX* native = context->native_handle();
    asio::error_code error;
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                             asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                             asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                         error);
    if (error ||
        SSL_CTX_set_min_proto_version(native, config.tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION) != 1) {
      return fail(Status::internal("syslog: cannot restrict TLS versions"));
    }
    if (context->use_certificate_chain_file(config.certificate, error); error) {
      return fail(tlsError("certificate", config.certificate, error));
    }
    if (context->use_private_key_file(config.key, asio::ssl::context::pem, error); error) {
      return fail(tlsError("key", config.key, error));
    }
    if (SSL_CTX_check_private_key(native) != 1) {
      return fail(Status::invalidArgument("syslog: tls.key '" + config.key +
                                          "' does not match tls.certificate '" +
                                          config.certificate + "'"));
    }
    // Needed once peers are verified, or OpenSSL refuses resumed sessions.
    static constexpr unsigned char kSessionContext[] = "vigil-syslog";
    SSL_CTX_set_session_id_context(native, kSessionContext, sizeof(kSessionContext) - 1);
    if (config.ca_file.empty()) {
      context->set_verify_mode(asio::ssl::verify_none, error);
      return context;
    }
    if (context->load_verify_file(config.ca_file, error); error) {
      return fail(tlsError("ca_file", config.ca_file, error));
    }
    // Tell clients which CAs we accept, so one with several certificates can pick.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(native, names);
    }
    asio::ssl::verify_mode mode = asio::ssl::verify_peer;
    if (config.require_client_certificate) {
      mode |= asio::ssl::verify_fail_if_no_peer_cert;
    }
    context->set_verify_mode(mode, error);
    if (error) {
      return fail(tlsError("ca_file", config.ca_file, error));
    }
    return context;
  } catch (const std::exception& e) {
    return fail(Status::internal(std::string("syslog: cannot create the TLS context: ") + e.what()));
  }
}

}  // namespace vigil::connectors::syslog
