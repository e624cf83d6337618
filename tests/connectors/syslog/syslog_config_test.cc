#include "connectors/syslog/syslog_config.h"

#include <gtest/gtest.h>

#include "daemon/yaml_util.h"

namespace vigil::connectors::syslog {
namespace {

Result<SyslogConfig> parse(std::string_view yaml) {
  auto node = loadYamlString(yaml, "vigil.yaml");
  if (!node) return fail(node.error());
  return parseSyslogConfig((*node)["syslog"], "vigil.yaml");
}

TEST(SyslogConfig, HasDocumentedDefaults) {
  auto config = parse("syslog:\n  listen: [udp://127.0.0.1:0]\n");
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  EXPECT_EQ(config->max_message_size, 64u * 1024);
  EXPECT_EQ(config->max_connections, 1024u);
  EXPECT_EQ(config->idle_timeout, std::chrono::minutes(5));
  EXPECT_FALSE(config->udp_receive_buffer.has_value());
  EXPECT_EQ(config->batch_max_events, 1024u);
  EXPECT_EQ(kSyslogConfigKeys.size(), 12u);
  EXPECT_EQ(config->tls.handshake_timeout, std::chrono::seconds(10));
  EXPECT_FALSE(config->tls.require_client_certificate);
  EXPECT_FALSE(config->tls.tls13_only);
}

TEST(SyslogConfig, ParsesEveryKey) {
  auto config = parse(R"(
syslog:
  listen: [udp://0.0.0.0:514, "tcp://[::1]:6514", tcp://:0]
  max_message_size: 8KiB
  max_connections: 10
  idle_timeout: 30s
  udp_receive_buffer: 4MiB
  batch_max_events: 256
)");
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  ASSERT_EQ(config->listen.size(), 3u);
  EXPECT_EQ(config->listen[0].toString(), "udp://0.0.0.0:514");
  EXPECT_EQ(config->listen[1].transport, Transport::kTcp);
  EXPECT_EQ(config->listen[1].host, "::1");
  EXPECT_EQ(config->listen[1].toString(), "tcp://[::1]:6514");
  EXPECT_EQ(config->listen[2].toString(), "tcp://0.0.0.0:0");
  EXPECT_EQ(config->max_message_size, 8192u);
  EXPECT_EQ(config->max_connections, 10u);
  EXPECT_EQ(config->idle_timeout, std::chrono::seconds(30));
  EXPECT_EQ(config->udp_receive_buffer, 4u * 1024 * 1024);
  EXPECT_EQ(config->batch_max_events, 256u);
}

TEST(SyslogConfig, RejectsUnknownKeysWithPosition) {
  auto config = parse("syslog:\n  listen: []\n  max_mesage_size: 1\n");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().message().rfind("vigil.yaml:3:3: unknown key 'max_mesage_size'", 0), 0u)
      << config.error().message();
}

TEST(SyslogConfig, RejectsBadListenAddressesWithPosition) {
  for (const char* bad : {"ftp://1.2.3.4:1", "udp://1.2.3.4", "udp://1.2.3.4:70000",
                          "tcp://::1:514", "tcp://[::1:514", "udp://not-an-ip:514", "udp:1.2.3.4:5"}) {
    auto config = parse(std::string("syslog:\n  listen:\n    - \"") + bad + "\"\n");
    ASSERT_FALSE(config.has_value()) << bad;
    EXPECT_EQ(config.error().message().rfind("vigil.yaml:3:7: ", 0), 0u) << config.error().message();
  }
}

TEST(SyslogConfig, ParsesTheTlsSection) {
  auto config = parse(R"(
syslog:
  listen: [tls://0.0.0.0:6514]
  tls:
    certificate: /etc/vigil/syslog.crt
    key: /etc/vigil/syslog.key
    ca_file: /etc/vigil/clients-ca.pem
    require_client_certificate: true
    handshake_timeout: 3s
    min_version: "1.3"
)");
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  EXPECT_EQ(config->listen[0].transport, Transport::kTls);
  EXPECT_EQ(config->tls.certificate, "/etc/vigil/syslog.crt");
  EXPECT_EQ(config->tls.key, "/etc/vigil/syslog.key");
  EXPECT_EQ(config->tls.ca_file, "/etc/vigil/clients-ca.pem");
  EXPECT_TRUE(config->tls.require_client_certificate);
  EXPECT_EQ(config->tls.handshake_timeout, std::chrono::seconds(3));
  EXPECT_TRUE(config->tls.tls13_only);
}

TEST(SyslogConfig, TlsListenersNeedACertificateAndKey) {
  auto config = parse("syslog:\n  listen: [tcp://0.0.0.0:514, tls://0.0.0.0:6514]\n");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().message(),
            "vigil.yaml:2:31: tls:// listeners need syslog.tls.certificate and syslog.tls.key");
  config = parse("syslog:\n  listen: [tls://0.0.0.0:6514]\n  tls: {certificate: c.pem}\n");
  EXPECT_FALSE(config.has_value());
}

TEST(SyslogConfig, RejectsBadTlsSettings) {
  const std::string head = "syslog:\n  tls: {certificate: c.pem, key: k.pem, ";
  EXPECT_FALSE(parse(head + "require_client_certificate: true}\n").has_value());  // no ca_file
  EXPECT_FALSE(parse(head + "min_version: \"1.1\"}\n").has_value());
  EXPECT_FALSE(parse(head + "handshake_timeout: 0s}\n").has_value());
  EXPECT_FALSE(parse(head + "ca_file: \"\"}\n").has_value());
  EXPECT_FALSE(parse(head + "pasword: x}\n").has_value());
  EXPECT_FALSE(parse("syslog:\n  tls: [c.pem]\n").has_value());
  EXPECT_TRUE(parse(head + "require_client_certificate: true, ca_file: ca.pem}\n").has_value());
}

TEST(SyslogConfig, RejectsOutOfRangeValues) {
  EXPECT_FALSE(parse("syslog:\n  max_message_size: 10\n").has_value());
  EXPECT_FALSE(parse("syslog:\n  max_connections: 0\n").has_value());
  EXPECT_FALSE(parse("syslog:\n  idle_timeout: 0s\n").has_value());
  EXPECT_FALSE(parse("syslog:\n  batch_max_events: many\n").has_value());
  EXPECT_FALSE(parse("syslog:\n  listen: udp://0.0.0.0:514\n").has_value());
  EXPECT_FALSE(parse("syslog: [1, 2]\n").has_value());
}

TEST(SyslogConfig, AcceptsAnEmptySection) {
  auto config = parse("syslog:\n");
  ASSERT_TRUE(config.has_value());
  EXPECT_TRUE(config->listen.empty());
}

}  // namespace
}  // namespace vigil::connectors::syslog
