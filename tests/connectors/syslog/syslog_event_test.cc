#include "connectors/syslog/syslog_event.h"

#include <gtest/gtest.h>

#include "connectors/syslog/syslog_parser.h"
#include "tests/connectors/syslog/test_util.h"

namespace vigil::connectors::syslog {
namespace {

using testing::iso;
using testing::utc;

std::string label(const Event& e, std::string_view key) {
  const std::string* v = e.labels.find(key);
  return v ? *v : "<none>";
}

TEST(SyslogEvent, MapsRfc5424HeaderAndStructuredData) {
  const TimePoint now = utc(2024, 6, 15, 12);
  auto m = parseSyslog(
      R"(<28>1 2024-01-10T10:20:30.123+01:00 mx1 mib2d 1234 SNMP_TRAP_LINK_DOWN [junos@2636 if-name="ge-0/0/1" note="a \"b\""] ifIndex 545 down)",
      now);
  ASSERT_TRUE(m.has_value());
  Event e;
  e.type = "stale";
  e.labels.set("stale", "x");
  toEvent(*m, "tcp", "192.0.2.7", now, e);
  EXPECT_EQ(e.source, "syslog/tcp");
  EXPECT_EQ(e.host, "mx1");
  EXPECT_EQ(e.received_at, now);
  EXPECT_EQ(iso(*e.occurred_at), "2024-01-10T09:20:30.123000Z");
  EXPECT_EQ(e.severity, Severity::kWarning);
  EXPECT_EQ(e.message, "ifIndex 545 down");
  EXPECT_TRUE(e.type.empty());
  EXPECT_EQ(e.state, EventState::kNone);
  EXPECT_EQ(label(e, "stale"), "<none>");
  EXPECT_EQ(label(e, "facility"), "daemon");
  EXPECT_EQ(label(e, "syslog_severity"), "warning");
  EXPECT_EQ(label(e, "app"), "mib2d");
  EXPECT_EQ(label(e, "procid"), "1234");
  EXPECT_EQ(label(e, "msgid"), "SNMP_TRAP_LINK_DOWN");
  EXPECT_EQ(label(e, "mnemonic"), "SNMP_TRAP_LINK_DOWN");
  EXPECT_EQ(label(e, "peer"), "192.0.2.7");
  EXPECT_EQ(label(e, "sd.junos@2636.if-name"), "ge-0/0/1");
  EXPECT_EQ(label(e, "sd.junos@2636.note"), "a \"b\"");
}

TEST(SyslogEvent, UsesPeerAsHostWhenHeaderHasNone) {
  const TimePoint now = utc(2024, 6, 15, 12);
  auto m = parseSyslog("<187>123: *Mar  1 00:04:28.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down", now);
  ASSERT_TRUE(m.has_value());
  Event e;
  toEvent(*m, "udp", "10.0.0.1", now, e);
  EXPECT_EQ(e.source, "syslog/udp");
  EXPECT_EQ(e.host, "10.0.0.1");
  EXPECT_EQ(e.severity, Severity::kMajor);
  EXPECT_EQ(label(e, "facility"), "local7");
  EXPECT_EQ(label(e, "syslog_severity"), "err");
  EXPECT_EQ(label(e, "mnemonic"), "LINK-3-UPDOWN");
  EXPECT_EQ(label(e, "app"), "<none>");
  EXPECT_EQ(label(e, "msgid"), "<none>");
}

TEST(SyslogEvent, MapsEverySyslogSeverity) {
  const Severity expected[] = {Severity::kCritical, Severity::kCritical, Severity::kCritical,
                               Severity::kMajor,    Severity::kWarning,  Severity::kInfo,
                               Severity::kInfo,     Severity::kInfo};
  for (uint8_t s = 0; s < 8; ++s) {
    EXPECT_EQ(mapSeverity(s), expected[s]) << int(s);
  }
}

TEST(SyslogEvent, MapsRawLinesToEventsWithTheParseError) {
  Event e;
  rawToEvent("<13>1 garbage here\n", ParseError::kBadTimestamp, "tcp", "10.1.1.1", utc(2024, 1, 1), e);
  EXPECT_EQ(e.message, "<13>1 garbage here");
  EXPECT_EQ(e.host, "10.1.1.1");
  EXPECT_FALSE(e.occurred_at.has_value());
  EXPECT_EQ(label(e, "syslog_parse_error"), "bad_timestamp");
}

TEST(SyslogEvent, NamesAllFacilities) {
  EXPECT_EQ(facilityName(0), "kern");
  EXPECT_EQ(facilityName(10), "authpriv");
  EXPECT_EQ(facilityName(16), "local0");
  EXPECT_EQ(facilityName(23), "local7");
  EXPECT_EQ(facilityName(24), "unknown");
}

}  // namespace
}  // namespace vigil::connectors::syslog
