#include "connectors/syslog/rfc5424.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/connectors/syslog/test_util.h"

namespace vigil::connectors::syslog {
namespace {

using testing::iso;

TEST(Rfc5424Parser, ParsesTheRfcExampleWithBomAndNilValues) {
  const std::string line =
      "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
      "\xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8";
  auto m = parseRfc5424(line);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->format, SyslogFormat::kRfc5424);
  EXPECT_TRUE(m->has_pri);
  EXPECT_EQ(m->facility, 4);
  EXPECT_EQ(m->severity, 2);
  EXPECT_EQ(iso(*m->timestamp), "2003-10-11T22:14:15.003000Z");
  EXPECT_EQ(m->hostname, "mymachine.example.com");
  EXPECT_EQ(m->app_name, "su");
  EXPECT_EQ(m->procid, "");
  EXPECT_EQ(m->msgid, "ID47");
  EXPECT_EQ(m->structured_data, "");
  EXPECT_EQ(m->msg, "'su root' failed for lonvick on /dev/pts/8");
}

TEST(Rfc5424Parser, AppliesNegativeOffsetsAndMicroseconds) {
  auto m = parseRfc5424(
      "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(iso(*m->timestamp), "2003-08-24T12:14:15.000003Z");
  EXPECT_EQ(m->procid, "8710");
  EXPECT_EQ(m->msg, "%% It's time to make the do-nuts.");
  EXPECT_EQ(m->mnemonic, "");
}

TEST(Rfc5424Parser, AppliesPositiveOffsets) {
  auto m = parseRfc5424("<13>1 2024-01-01T00:30:00+01:00 h a - - - x");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(iso(*m->timestamp), "2023-12-31T23:30:00.000000Z");
}

TEST(Rfc5424Parser, AcceptsNilTimestampAndAllNilHeader) {
  auto m = parseRfc5424("<0>1 - - - - - -");
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->timestamp.has_value());
  EXPECT_EQ(m->hostname, "");
  EXPECT_EQ(m->msg, "");
  EXPECT_EQ(m->facility, 0);
  EXPECT_EQ(m->severity, 0);
}

TEST(Rfc5424Parser, IteratesStructuredDataWithEscapes) {
  const std::string line =
      R"(<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 )"
      R"([exampleSDID@32473 iut="3" eventSource="App \"x\" \\ \] y" eventID="1011"])"
      R"([examplePriority@32473 class="high"][empty@1] msg)";
  auto m = parseRfc5424(line);
  ASSERT_TRUE(m.has_value()) << parseErrorName(m.error());
  EXPECT_EQ(m->msg, "msg");
  std::vector<std::string> seen;
  SdElementIterator elements(m->structured_data);
  SdElement element;
  while (elements.next(element)) {
    seen.push_back("[" + std::string(element.id) + "]");
    SdParamIterator params = element.params();
    SdParam param;
    while (params.next(param)) {
      std::string value;
      param.appendValue(value);
      seen.push_back(std::string(param.name) + "=" + value);
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"[exampleSDID@32473]", "iut=3",
                                            R"(eventSource=App "x" \ ] y)", "eventID=1011",
                                            "[examplePriority@32473]", "class=high", "[empty@1]"}));
}

TEST(Rfc5424Parser, KeepsBackslashesThatAreNotEscapes) {
  SdParam param{"path", R"(C:\temp\x)"};
  std::string value;
  param.appendValue(value);
  EXPECT_EQ(value, R"(C:\temp\x)");
}

TEST(Rfc5424Parser, AcceptsMessageWithoutMsgPart) {
  auto m = parseRfc5424(R"(<165>1 2003-10-11T22:14:15.003Z h e - ID47 [a@1 class="high"])");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->structured_data, R"([a@1 class="high"])");
  EXPECT_EQ(m->msg, "");
}

TEST(Rfc5424Parser, TrimsTrailingNewlineAndNul) {
  std::string line = "<13>1 - h a - - - hello\r\n";
  line.push_back('\0');
  auto m = parseRfc5424(line);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->msg, "hello");
}

TEST(Rfc5424Parser, TakesMnemonicFromJunosMsgid) {
  auto m = parseRfc5424(
      R"(<28>1 2024-01-10T10:20:30.123+01:00 mx1 mib2d 1234 SNMP_TRAP_LINK_DOWN [junos@2636.1.1.1.2.21 snmp-interface-index="545"] ifIndex 545)");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->mnemonic, "SNMP_TRAP_LINK_DOWN");
  EXPECT_EQ(m->msgid, "SNMP_TRAP_LINK_DOWN");
}

TEST(Rfc5424Parser, RejectsMissingVersion) {
  EXPECT_EQ(parseRfc5424("<13> 2003-10-11T22:14:15Z h a - - - x").error(), ParseError::kBadVersion);
  EXPECT_EQ(parseRfc5424("<13>2 2003-10-11T22:14:15Z h a - - - x").error(), ParseError::kBadVersion);
}

TEST(Rfc5424Parser, RejectsBadPri) {
  EXPECT_EQ(parseRfc5424("<192>1 - - - - - -").error(), ParseError::kBadPri);
  EXPECT_EQ(parseRfc5424("<>1 - - - - - -").error(), ParseError::kBadPri);
  EXPECT_EQ(parseRfc5424("<1234>1 - - - - - -").error(), ParseError::kBadPri);
  EXPECT_EQ(parseRfc5424("13>1 - - - - - -").error(), ParseError::kBadPri);
}

TEST(Rfc5424Parser, RejectsBadTimestamps) {
  for (const char* line : {
           "<13>1 2003-13-11T22:14:15Z h a - - - x",      // month 13
           "<13>1 2003-02-30T22:14:15Z h a - - - x",      // Feb 30
           "<13>1 2003-10-11T24:14:15Z h a - - - x",      // hour 24
           "<13>1 2003-10-11T22:14:15 h a - - - x",       // no offset
           "<13>1 2003-10-11 22:14:15Z h a - - - x",      // space instead of T
           "<13>1 2003-10-11T22:14:15.Z h a - - - x",     // empty fraction
           "<13>1 2003-10-11T22:14:15+1:00 h a - - - x",  // short offset
           "<13>1 2003-10-11T22:14:15Zh a - - - x",       // no SP after
           "<13>1 2300-10-11T22:14:15Z h a - - - x",      // past TimePoint's range (fuzzer)
           "<13>1 0001-01-01T00:00:00Z h a - - - x",      // before it
       }) {
    auto m = parseRfc5424(line);
    ASSERT_FALSE(m.has_value()) << line;
    EXPECT_EQ(m.error(), ParseError::kBadTimestamp) << line;
  }
}

TEST(Rfc5424Parser, RejectsOverlongHeaderFields) {
  const std::string app(49, 'a');
  EXPECT_EQ(parseRfc5424("<13>1 - h " + app + " - - - x").error(), ParseError::kBadHeader);
  const std::string msgid(33, 'm');
  EXPECT_EQ(parseRfc5424("<13>1 - h a - " + msgid + " - x").error(), ParseError::kBadHeader);
  EXPECT_EQ(parseRfc5424("<13>1 - h a -").error(), ParseError::kBadHeader);
}

TEST(Rfc5424Parser, RejectsMalformedStructuredData) {
  for (const char* line : {
           "<13>1 - h a - - [id k=\"v\" x",      // unterminated element
           "<13>1 - h a - - [id k=v] x",         // unquoted value
           "<13>1 - h a - - [id k=\"v] x",       // unterminated value
           "<13>1 - h a - - [] x",               // empty SD-ID
           "<13>1 - h a - - [id k=\"v\"]x",      // no SP before MSG
           "<13>1 - h a - - x",                  // neither '-' nor '['
           "<13>1 - h a - - [id =\"v\"] x",      // empty param name
       }) {
    auto m = parseRfc5424(line);
    ASSERT_FALSE(m.has_value()) << line;
    EXPECT_EQ(m.error(), ParseError::kBadStructuredData) << line;
  }
}

TEST(Rfc5424Parser, NeverReadsPastTruncatedInput) {
  const std::string full =
      R"(<165>1 2003-10-11T22:14:15.003Z host app 12 ID47 [a@1 k="v\"w"][b@2 x="y"] hello)";
  for (size_t n = 0; n <= full.size(); ++n) {
    // A heap copy of exactly n bytes, so ASan catches any overread.
    std::unique_ptr<char[]> copy(new char[n == 0 ? 1 : n]);
    std::memcpy(copy.get(), full.data(), n);
    auto m = parseRfc5424(std::string_view(copy.get(), n));
    if (m) {
      SdElementIterator it(m->structured_data);
      SdElement e;
      while (it.next(e)) {
        SdParamIterator p = e.params();
        SdParam param;
        while (p.next(param)) {
        }
      }
    }
  }
}

}  // namespace
}  // namespace vigil::connectors::syslog
