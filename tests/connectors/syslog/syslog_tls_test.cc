// tls:// listeners (RFC 5425) over real sockets, with certificates the test makes with the
// openssl CLI: a test CA, a server certificate for 127.0.0.1 and a client certificate. Clients
// are an asio::ssl client and `openssl s_client`. Waits are on conditions, never on sleeps.
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>

#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/ssl.hpp>
#include <asio/write.hpp>
#include <gtest/gtest.h>

#include "tests/connectors/syslog/source_fixture.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace vigil::connectors::syslog {
namespace {

using testing::CollectingSink;
using testing::eventually;
using testing::label;
using testing::SyslogSourceTest;

// Certificates shared by every test of the suite (made once: key generation is the slow part).
struct Certificates {
  vigil::testing::TempDir dir;
  std::string ca, server_cert, server_key, client_cert, client_key, other_cert, other_key;
  bool ok = false;

  Certificates() {
    auto f = [&](const char* name) { return dir.file(name); };
    const std::string log = " 2>>" + f("openssl.log") + " >/dev/null";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    std::ofstream(f("server.ext")) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    std::ofstream(f("client.ext")) << "extendedKeyUsage=clientAuth\n";
    ca = f("ca.pem");
    server_cert = f("server.pem");
    server_key = f("server.key");
    client_cert = f("client.pem");
    client_key = f("client.key");
    other_cert = f("other.pem");  // self-signed, unknown to the server's CA file
    other_key = f("other.key");
    const std::vector<std::string> commands = {
        "openssl req -x509" + ec + "-keyout " + f("ca.key") + " -out " + ca +
            " -days 2 -subj /CN=vigil-test-ca",
        "openssl req" + ec + "-keyout " + server_key + " -out " + f("server.csr") + " -subj /CN=localhost",
        "openssl x509 -req -in " + f("server.csr") + " -CA " + ca + " -CAkey " + f("ca.key") +
            " -CAcreateserial -days 2 -extfile " + f("server.ext") + " -out " + server_cert,
        "openssl req" + ec + "-keyout " + client_key + " -out " + f("client.csr") + " -subj /CN=router1",
        "openssl x509 -req -in " + f("client.csr") + " -CA " + ca + " -CAkey " + f("ca.key") +
            " -CAcreateserial -days 2 -extfile " + f("client.ext") + " -out " + client_cert,
        "openssl req -x509" + ec + "-keyout " + other_key + " -out " + other_cert +
            " -days 2 -subj /CN=intruder",
    };
    ok = true;
    for (const std::string& command : commands) {
      ok = ok && std::system((command + log).c_str()) == 0;
    }
  }
};

// A blocking TLS client that trusts the test CA and checks the server's name (127.0.0.1).
class TlsClient {
 public:
  TlsClient(asio::io_context& io, const Certificates& certs, const std::string& cert = "",
            const std::string& key = "")
      : context_(makeContext(certs, cert, key)), stream_(io, context_) {
    stream_.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
  }
  asio::error_code connect(uint16_t port) {
    asio::error_code error;
    stream_.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), port}, error);
    timeval tv{30, 0};
    ::setsockopt(stream_.lowest_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (!error) stream_.handshake(asio::ssl::stream_base::client, error);
    return error;
  }
  asio::error_code write(const std::string& data) {
    asio::error_code error;
    asio::write(stream_, asio::buffer(data), error);
    return error;
  }
  // True once the server ended the session (close, reset or a TLS alert).
  bool closedByPeer() {
    char byte;
    asio::error_code error;
    stream_.read_some(asio::buffer(&byte, 1), error);
    return error && error != asio::error::would_block && error != asio::error::try_again;
  }

 private:
  // The SSL object copies the certificate when it is created, so load it before the stream.
  static asio::ssl::context makeContext(const Certificates& certs, const std::string& cert,
                                        const std::string& key) {
    asio::ssl::context context(asio::ssl::context::tls_client);
    context.load_verify_file(certs.ca);
    context.set_verify_mode(asio::ssl::verify_peer);
    if (!cert.empty()) {
      context.use_certificate_chain_file(cert);
      context.use_private_key_file(key, asio::ssl::context::pem);
    }
    return context;
  }

  asio::ssl::context context_;
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
};

class SyslogTlsTest : public SyslogSourceTest {
 protected:
  static void SetUpTestSuite() { certs_ = new Certificates(); }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(certs_->ok) << "openssl failed to make test certificates";
    SyslogSourceTest::SetUp();
  }
  std::string tlsYaml(const std::string& extra_tls = "", const std::string& extra = "") const {
    return "listen: [tls://127.0.0.1:0]\n" + extra + "tls: {certificate: " + certs_->server_cert +
           ", key: " + certs_->server_key + extra_tls + "}\n";
  }
  double handshakeFailures() {
    return metric("vigil_syslog_dropped_total", {{"transport", "tls"}, {"reason", "tls_handshake"}});
  }
  // start() for a config that must fail to start: returns the error.
  Status startError(const std::string& yaml) {
    auto node = loadYamlString(yaml, "test.yaml");
    auto source = makeSyslogSource(*node, "test.yaml", context_);
    EXPECT_TRUE(source.has_value());
    return (*source)->start(sink_);
  }

  static Certificates* certs_;
};
Certificates* SyslogTlsTest::certs_ = nullptr;

TEST_F(SyslogTlsTest, ReceivesOctetCountedAndLfFramesOverTls) {
  const auto endpoints = start(tlsYaml());
  ASSERT_EQ(endpoints[0].rfind("tls://127.0.0.1:", 0), 0u);
  TlsClient client(client_io_, *certs_);
  ASSERT_FALSE(client.connect(portOf(endpoints[0])));
  const std::string octet = "<13>1 2024-01-10T10:20:30Z h2 b - - - oct\n";
  ASSERT_FALSE(client.write("<13>Jan 10 10:20:30 h1 a: lf one\n" + std::to_string(octet.size()) +
                            " " + octet));
  const auto events = sink_.waitFor(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].source, "syslog/tls");
  EXPECT_EQ(events[0].host, "h1");
  EXPECT_EQ(events[0].message, "lf one");
  EXPECT_EQ(events[1].host, "h2");
  EXPECT_EQ(events[1].message, "oct");
  EXPECT_EQ(label(events[1], "peer"), "127.0.0.1");
  EXPECT_EQ(metric("vigil_syslog_messages_total", {{"transport", "tls"}}), 2);
  EXPECT_EQ(metric("vigil_syslog_messages_total", {{"transport", "tcp"}}), 0);
  EXPECT_EQ(metric("vigil_syslog_connections", {}), 1);
  EXPECT_EQ(handshakeFailures(), 0);
}

TEST_F(SyslogTlsTest, BackpressureOverTlsLosesNothing) {
  const uint16_t port = portOf(start(tlsYaml("", "batch_max_events: 64\n"))[0]);
  sink_.refuseNext(20);
  constexpr int kCount = 5000;
  std::string stream;
  for (int i = 0; i < kCount; ++i) {
    stream += "<13>Jan 10 10:20:30 host app[1]: message " + std::to_string(i) + "\n";
  }
  TlsClient client(client_io_, *certs_);
  ASSERT_FALSE(client.connect(port));
  ASSERT_FALSE(client.write(stream));
  const auto events = sink_.waitFor(kCount);
  ASSERT_EQ(events.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(events[static_cast<size_t>(i)].message, "message " + std::to_string(i));
  }
  EXPECT_EQ(sink_.refused(), 20);
}

TEST_F(SyslogTlsTest, PlainTcpOnTheTlsPortFailsTheHandshakeAndIsCounted) {
  const uint16_t port = portOf(start(tlsYaml())[0]);
  auto socket = connect(port);
  asio::write(socket, asio::buffer(std::string("<13>Jan 10 10:20:30 h a: plain text\n")));
  EXPECT_TRUE(closedByPeer(socket));
  EXPECT_TRUE(eventually([&] { return handshakeFailures() == 1; }));
  EXPECT_TRUE(eventually([&] { return metric("vigil_syslog_connections", {}) == 0; }));
  EXPECT_EQ(sink_.size(), 0u);
}

TEST_F(SyslogTlsTest, SilentClientIsClosedAfterTheHandshakeTimeout) {
  const uint16_t port = portOf(start(tlsYaml(", handshake_timeout: 200ms", "idle_timeout: 1h\n"))[0]);
  auto socket = connect(port);
  EXPECT_TRUE(closedByPeer(socket));
  EXPECT_TRUE(eventually([&] { return handshakeFailures() == 1; }));
  EXPECT_TRUE(eventually([&] { return metric("vigil_syslog_connections", {}) == 0; }));
}

TEST_F(SyslogTlsTest, RequiredClientCertificateRefusesOthersAndAcceptsTheCasOwn) {
  const uint16_t port = portOf(
      start(tlsYaml(", ca_file: " + certs_->ca + ", require_client_certificate: true"))[0]);
  {
    // Under TLS 1.3 the client may finish its side first and only then read the server's alert.
    TlsClient anonymous(client_io_, *certs_);
    if (!anonymous.connect(port)) {
      anonymous.write("<13>Jan 10 10:20:30 h a: anonymous\n").clear();
      EXPECT_TRUE(anonymous.closedByPeer());
    }
    EXPECT_TRUE(eventually([&] { return handshakeFailures() == 1; }));
    TlsClient intruder(client_io_, *certs_, certs_->other_cert, certs_->other_key);
    if (!intruder.connect(port)) {
      intruder.write("<13>Jan 10 10:20:30 h a: intruder\n").clear();
      EXPECT_TRUE(intruder.closedByPeer());
    }
    EXPECT_TRUE(eventually([&] { return handshakeFailures() == 2; }));
  }
  TlsClient router(client_io_, *certs_, certs_->client_cert, certs_->client_key);
  ASSERT_FALSE(router.connect(port));
  ASSERT_FALSE(router.write("<13>Jan 10 10:20:30 router1 a: trusted\n"));
  const auto events = sink_.waitFor(1);
  ASSERT_EQ(events.size(), 1u) << "handshake failures: " << handshakeFailures();  // none of theirs
  EXPECT_EQ(events[0].message, "trusted");
  EXPECT_EQ(handshakeFailures(), 2);
}

TEST_F(SyslogTlsTest, ReceivesFromOpensslSClient) {
  const uint16_t port = portOf(start(tlsYaml())[0]);
  vigil::testing::TempDir dir;
  std::ofstream(dir.file("in.txt")) << "<13>Jan 10 10:20:30 h1 s_client: one\n"
                                       "<13>Jan 10 10:20:30 h1 s_client: two\n";
  const std::string cmd = "openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " -CAfile " +
                          certs_->ca + " -verify_return_error -verify_ip 127.0.0.1 -quiet -no_ign_eof < " +
                          dir.file("in.txt") + " >" + dir.file("out.txt") + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << std::ifstream(dir.file("out.txt")).rdbuf();
  const auto events = sink_.waitFor(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].message, "one");
  EXPECT_EQ(events[1].message, "two");
  EXPECT_EQ(label(events[1], "app"), "s_client");
}

TEST_F(SyslogTlsTest, ReceivesFromRsyslogOverTls) {
  if (std::system("rsyslogd -v >/dev/null 2>&1") != 0 ||
      std::system("test -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so") != 0) {
    GTEST_SKIP() << "rsyslog with rsyslog-openssl not installed";
  }
  const uint16_t port = portOf(start(tlsYaml())[0]);
  vigil::testing::TempDir dir;
  const std::string input = dir.file("in.log");
  vigil::testing::writeFile(input, "%LINK-3-UPDOWN: Interface GigabitEthernet0/3, changed state to down\n");
  const std::string conf = dir.file("rsyslog.conf");
  // Octet-counted RFC 5424 over TLS, checking our certificate's name as a NOC would.
  vigil::testing::writeFile(
      conf, "global(workDirectory=\"" + dir.path().string() + "\" localHostname=\"tls-rtr-1\"\n"
            "       DefaultNetstreamDriverCAFile=\"" + certs_->ca + "\")\n"
            "module(load=\"imfile\" mode=\"polling\" PollingInterval=\"1\")\n"
            "input(type=\"imfile\" File=\"" + input + "\" Tag=\"ios\" Facility=\"local7\""
            " Severity=\"error\" ruleset=\"tls\")\n"
            "ruleset(name=\"tls\") {\n"
            "  action(type=\"omfwd\" target=\"127.0.0.1\" port=\"" + std::to_string(port) +
            "\" protocol=\"tcp\" StreamDriver=\"ossl\" StreamDriverMode=\"1\""
            " StreamDriverAuthMode=\"x509/name\" StreamDriverPermittedPeers=\"localhost\""
            " TCP_Framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\")\n"
            "}\n");
  vigil::testing::Process rsyslog({"rsyslogd", "-n", "-f", conf, "-i", dir.file("rsyslogd.pid")},
                                  dir.file("rsyslogd.log"));
  const auto events = sink_.waitFor(1);
  ASSERT_EQ(events.size(), 1u) << vigil::testing::readFile(dir.file("rsyslogd.log"));
  EXPECT_EQ(events[0].source, "syslog/tls");
  EXPECT_EQ(events[0].host, "tls-rtr-1");
  EXPECT_EQ(label(events[0], "mnemonic"), "LINK-3-UPDOWN");
  EXPECT_EQ(handshakeFailures(), 0);
  EXPECT_EQ(rsyslog.stop(SIGTERM), 0);
}

TEST_F(SyslogTlsTest, StartFailsOnMissingOrMismatchedFiles) {
  Status s = startError("listen: [tls://127.0.0.1:0]\ntls: {certificate: /nonexistent/c.pem, key: " +
                        certs_->server_key + "}\n");
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("tls.certificate '/nonexistent/c.pem'"), std::string::npos) << s.message();
  s = startError("listen: [tls://127.0.0.1:0]\ntls: {certificate: " + certs_->server_cert +
                 ", key: " + certs_->client_key + "}\n");
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("tls.key '" + certs_->client_key + "'"), std::string::npos) << s.message();
  s = startError(tlsYaml(", ca_file: /nonexistent/ca.pem"));
  EXPECT_NE(s.message().find("tls.ca_file"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace vigil::connectors::syslog
