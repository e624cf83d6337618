#include "connectors/syslog/rfc3164.h"

#include <cstring>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/connectors/syslog/test_util.h"

namespace vigil::connectors::syslog {
namespace {

using testing::iso;
using testing::utc;

const TimePoint kJune = utc(2024, 6, 15, 12);

TEST(Rfc3164Parser, ParsesTheClassicBsdLine) {
  auto m = parseRfc3164("<13>Nov 22 19:09:13 vm noc-test: msg here", kJune);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->format, SyslogFormat::kRfc3164);
  EXPECT_EQ(m->facility, 1);
  EXPECT_EQ(m->severity, 5);
  EXPECT_EQ(m->hostname, "vm");
  EXPECT_EQ(m->app_name, "noc-test");
  EXPECT_EQ(m->procid, "");
  EXPECT_EQ(m->msg, "msg here");
  // Received in June: last November's, not a date five months ahead.
  EXPECT_EQ(iso(*m->timestamp), "2023-11-22T19:09:13.000000Z");
}

TEST(Rfc3164Parser, InfersLastYearForDecemberLinesReceivedInJanuary) {
  auto m = parseRfc3164("<13>Dec 31 23:59:58 h p: x", utc(2025, 1, 1, 0, 0, 5));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(iso(*m->timestamp), "2024-12-31T23:59:58.000000Z");
}

TEST(Rfc3164Parser, InfersNextYearForJanuaryLinesReceivedOnNewYearsEve) {
  // The sender's clock is a few seconds ahead of ours.
  auto m = parseRfc3164("<13>Jan  1 00:00:02 h p: x", utc(2024, 12, 31, 23, 59, 59));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(iso(*m->timestamp), "2025-01-01T00:00:02.000000Z");
}

TEST(Rfc3164Parser, HandlesFebruary29ByPickingALeapYear) {
  auto m = parseRfc3164("<13>Feb 29 10:00:00 h p: x", utc(2025, 1, 10));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(iso(*m->timestamp), "2024-02-29T10:00:00.000000Z");
}

TEST(Rfc3164Parser, AcceptsMissingPriWithDefaultUserNotice) {
  auto m = parseRfc3164("Jan 10 10:20:30 web01 app[1]: no pri here", kJune);
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->has_pri);
  EXPECT_EQ(m->facility, 1);
  EXPECT_EQ(m->severity, 5);
  EXPECT_EQ(m->hostname, "web01");
  EXPECT_EQ(m->app_name, "app");
  EXPECT_EQ(m->procid, "1");
  EXPECT_EQ(m->msg, "no pri here");
}

TEST(Rfc3164Parser, AcceptsMissingHost) {
  auto m = parseRfc3164("<13>Jan 10 10:20:30 myapp[777]: started", kJune);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->hostname, "");
  EXPECT_EQ(m->app_name, "myapp");
  EXPECT_EQ(m->procid, "777");
  EXPECT_EQ(m->msg, "started");

  auto n = parseRfc3164("<13>Jan 10 10:20:30 su: pam_unix(su:session): session opened", kJune);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->hostname, "");
  EXPECT_EQ(n->app_name, "su");
}

TEST(Rfc3164Parser, ExposesCiscoSequenceClockPrefixAndMnemonic) {
  auto m = parseRfc3164(
      "<187>123: *Mar  1 00:04:28.123: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down",
      kJune);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->facility, 23);
  EXPECT_EQ(m->severity, 3);
  EXPECT_EQ(m->sequence, "123");
  EXPECT_EQ(m->hostname, "");
  EXPECT_EQ(m->app_name, "");
  EXPECT_EQ(m->mnemonic, "LINK-3-UPDOWN");
  EXPECT_EQ(iso(*m->timestamp), "2024-03-01T00:04:28.123000Z");
  EXPECT_EQ(m->msg, "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down");

  auto dot = parseRfc3164("<189>7: .Jun 14 10:00:00: %SYS-5-CONFIG_I: Configured", kJune);
  ASSERT_TRUE(dot.has_value());
  EXPECT_EQ(iso(*dot->timestamp), "2024-06-14T10:00:00.000000Z");
  EXPECT_EQ(dot->mnemonic, "SYS-5-CONFIG_I");
}

TEST(Rfc3164Parser, ReadsCiscoYearAndTimeZone) {
  auto m = parseRfc3164(
      "<187>2301: Mar  1 2023 10:00:00.000 CET: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to up",
      kJune);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(iso(*m->timestamp), "2023-03-01T10:00:00.000000Z");
  EXPECT_EQ(m->mnemonic, "LINK-3-UPDOWN");
}

TEST(Rfc3164Parser, ReadsCiscoOriginHostname) {
  auto m = parseRfc3164(
      "<189>45: core-rtr1: Jan 10 10:20:30.456 UTC: %SYS-5-CONFIG_I: Configured from console", kJune);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->hostname, "core-rtr1");
  EXPECT_EQ(m->sequence, "45");
  EXPECT_EQ(iso(*m->timestamp), "2024-01-10T10:20:30.456000Z");
  EXPECT_EQ(m->mnemonic, "SYS-5-CONFIG_I");
}

TEST(Rfc3164Parser, ReadsNxosYearFirstTimestamps) {
  auto m = parseRfc3164(
      "<187>: 2024 Jan 10 10:20:30 UTC: %ETHPORT-5-IF_DOWN_LINK_FAILURE: Interface Ethernet1/1 is down (Link failure)",
      kJune);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(iso(*m->timestamp), "2024-01-10T10:20:30.000000Z");
  EXPECT_EQ(m->mnemonic, "ETHPORT-5-IF_DOWN_LINK_FAILURE");
  EXPECT_EQ(m->hostname, "");
}

TEST(Rfc3164Parser, ExposesJuniperEventTag) {
  auto m = parseRfc3164(
      "<28>Jan 10 10:20:30 mx480-re0 mib2d[1234]: SNMP_TRAP_LINK_DOWN: ifIndex 545, ifName ge-0/0/1",
      kJune);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->hostname, "mx480-re0");
  EXPECT_EQ(m->app_name, "mib2d");
  EXPECT_EQ(m->procid, "1234");
  EXPECT_EQ(m->mnemonic, "SNMP_TRAP_LINK_DOWN");
  EXPECT_EQ(m->msg, "SNMP_TRAP_LINK_DOWN: ifIndex 545, ifName ge-0/0/1");
}

TEST(Rfc3164Parser, SkipsF5SeverityWordBeforeTag) {
  auto m = parseRfc3164(
      "<133>Jan 10 10:20:30 lb1 notice mcpd[5678]: 01070638:5: Pool /Common/p member down.", kJune);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->hostname, "lb1");
  EXPECT_EQ(m->app_name, "mcpd");
  EXPECT_EQ(m->procid, "5678");
  EXPECT_EQ(m->msg, "01070638:5: Pool /Common/p member down.");
}

TEST(Rfc3164Parser, ReadsAsaLinesWithoutTimestamp) {
  auto m = parseRfc3164("<166>%ASA-6-302013: Built outbound TCP connection 123", kJune);
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->timestamp.has_value());
  EXPECT_EQ(m->hostname, "");
  EXPECT_EQ(m->mnemonic, "ASA-6-302013");
  EXPECT_EQ(m->msg, "%ASA-6-302013: Built outbound TCP connection 123");
}

TEST(Rfc3164Parser, ReadsRfc3339TimestampsInBsdHeaders) {
  auto m = parseRfc3164("<13>2024-01-10T10:20:30.5+02:00 web01 app: hi", kJune);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(iso(*m->timestamp), "2024-01-10T08:20:30.500000Z");
  EXPECT_EQ(m->hostname, "web01");
  EXPECT_EQ(m->app_name, "app");
}

TEST(Rfc3164Parser, KeepsTextWithoutHeaderAsMessage) {
  auto m = parseRfc3164("<13>just some text", kJune);
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->timestamp.has_value());
  EXPECT_EQ(m->hostname, "");
  EXPECT_EQ(m->msg, "just some text");
}

TEST(Rfc3164Parser, RejectsMalformedPriAndEmptyInput) {
  EXPECT_EQ(parseRfc3164("<999>Jan 10 10:20:30 h p: x", kJune).error(), ParseError::kBadPri);
  EXPECT_EQ(parseRfc3164("<12", kJune).error(), ParseError::kBadPri);
  EXPECT_EQ(parseRfc3164("", kJune).error(), ParseError::kEmpty);
  EXPECT_EQ(parseRfc3164("<13>", kJune).error(), ParseError::kEmpty);
  EXPECT_EQ(parseRfc3164("\r\n", kJune).error(), ParseError::kEmpty);
}

TEST(Rfc3164Parser, DoesNotTakeAnInvalidDateForATimestamp) {
  auto m = parseRfc3164("<13>Feb 30 10:00:00 h p: x", kJune);
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->timestamp.has_value());
  EXPECT_EQ(m->msg, "Feb 30 10:00:00 h p: x");
}

TEST(Rfc3164Parser, NeverReadsPastTruncatedInput) {
  const std::string lines[] = {
      "<187>123: *Mar  1 2024 00:04:28.123 UTC: %LINK-3-UPDOWN: Interface Gi0/1",
      "<189>45: core-rtr1: Jan 10 10:20:30.456 UTC: %SYS-5-CONFIG_I: x",
      "<133>Jan 10 10:20:30 lb1 notice mcpd[5678]: 01070638:5: Pool",
      "<13>2024-01-10T10:20:30.5+02:00 web01 app[12]: hi",
  };
  for (const std::string& full : lines) {
    for (size_t n = 0; n <= full.size(); ++n) {
      std::unique_ptr<char[]> copy(new char[n == 0 ? 1 : n]);
      std::memcpy(copy.get(), full.data(), n);
      (void)parseRfc3164(std::string_view(copy.get(), n), kJune);
    }
  }
}

}  // namespace
}  // namespace vigil::connectors::syslog
