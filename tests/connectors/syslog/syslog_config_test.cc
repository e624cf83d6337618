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
  EXPECT_EQ(kSyslogConfigKeys.size(), 6u);
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

TEST(SyslogConfig, SaysTlsIsNotYetSupported) {
  auto config = parse("syslog:\n  listen: [tls://0.0.0.0:6514]\n");
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message().find("not yet supported"), std::string::npos);
  EXPECT_EQ(parseListenAddress("tls://127.0.0.1:6514")->transport, Transport::kTls);
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
