#include "connectors/syslog/syslog_parser.h"

#include <gtest/gtest.h>

#include "tests/connectors/syslog/test_util.h"

namespace vigil::connectors::syslog {
namespace {

const TimePoint kNow = testing::utc(2024, 6, 15, 12);

TEST(SyslogParser, DetectsRfc5424ByVersion) {
  EXPECT_EQ(parseSyslog("<13>1 - h a - - - x", kNow)->format, SyslogFormat::kRfc5424);
  EXPECT_EQ(parseSyslog("<13>Jan 10 10:20:30 h a: x", kNow)->format, SyslogFormat::kRfc3164);
  EXPECT_EQ(parseSyslog("<13>10 things", kNow)->format, SyslogFormat::kRfc3164);
  EXPECT_EQ(parseSyslog("no pri at all", kNow)->format, SyslogFormat::kRfc3164);
}

TEST(SyslogParser, ReturnsStrictRfc5424ErrorsInsteadOfGuessing) {
  auto m = parseSyslog("<13>1 yesterday h a - - - x", kNow);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error(), ParseError::kBadTimestamp);
  EXPECT_TRUE(isUsableText("<13>1 yesterday h a - - - x"));
}

TEST(SyslogParser, RejectsEmptyAndBinaryInput) {
  EXPECT_EQ(parseSyslog("", kNow).error(), ParseError::kEmpty);
  EXPECT_EQ(parseSyslog(" \r\n\0", kNow).error(), ParseError::kEmpty);
  EXPECT_EQ(parseSyslog(std::string_view("<13>a\0b", 7), kNow).error(), ParseError::kBinary);
  EXPECT_EQ(parseSyslog("\x01\x02\x03\x04\x05x", kNow).error(), ParseError::kBinary);
  EXPECT_FALSE(isUsableText(""));
  EXPECT_FALSE(isUsableText("<18>  "));  // a PRI alone is empty, as parseSyslog says
  EXPECT_EQ(parseSyslog("<18>  ", kNow).error(), ParseError::kEmpty);
  EXPECT_TRUE(isUsableText("<18>x"));
  EXPECT_FALSE(isUsableText(std::string_view("\x00\x01\x02", 3)));
  EXPECT_TRUE(isUsableText("caf\xC3\xA9 \t tab"));
}

TEST(SyslogParser, NeverCrashesOnPseudoRandomInput) {
  uint32_t state = 12345;
  std::string buf;
  const std::string seeds[] = {"<13>1 ", "<187>12: *Mar  1 ", "[a@1 k=\"", "\\", "]", "Jan 10 ", ":", " "};
  for (int i = 0; i < 20000; ++i) {
    buf.clear();
    const int parts = 1 + static_cast<int>(state % 8);
    for (int p = 0; p < parts; ++p) {
      state = state * 1103515245 + 12345;
      if (state % 3 == 0) {
        buf += seeds[(state >> 8) % 8];
      } else {
        buf.push_back(static_cast<char>((state >> 16) & 0x7f));
      }
    }
    auto m = parseSyslog(buf, kNow);
    if (m) {
      SdElementIterator it(m->structured_data);
      SdElement e;
      while (it.next(e)) {
        SdParamIterator params = e.params();
        SdParam p;
        while (params.next(p)) {
        }
      }
    }
  }
}

}  // namespace
}  // namespace vigil::connectors::syslog
