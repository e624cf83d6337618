#include "daemon/time_util.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  auto utc = parseRfc3339("2026-11-22T20:01:29.123Z");
  auto paris = parseRfc3339("2026-11-22T21:01:29.123+01:00");
  auto micro = parseRfc3339("2026-11-22T20:01:29.123456Z");
  ASSERT_TRUE(utc && paris && micro);
  EXPECT_EQ(*utc, *paris);
  EXPECT_EQ(toUnixMillis(*micro), toUnixMillis(*utc));
  EXPECT_EQ(formatRfc3339(*utc), "2026-11-22T20:01:29.123Z");
}

TEST(Rfc3339, HandlesLeapYearsAndTheEpoch) {
  EXPECT_EQ(toUnixMillis(*parseRfc3339("1970-01-01T00:00:00Z")), 0);
  EXPECT_EQ(formatRfc3339(*parseRfc3339("2024-02-29T23:59:59Z")), "2024-02-29T23:59:59.000Z");
  EXPECT_EQ(toUnixMillis(*parseRfc3339("2000-03-01T00:00:00Z")), 951868800000);
}

TEST(Rfc3339, RejectsMalformedTimes) {
  for (const char* bad : {"", "2026-11-22", "2026-13-01T00:00:00Z", "2026-11-22T20:01:29",
                          "2026-11-22T20:01:29.Z", "2026-11-22T20:01:29Zjunk", "2026-11-22T25:00:00Z"}) {
    EXPECT_FALSE(parseRfc3339(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace vigil
