// Helpers shared by the syslog connector tests.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "daemon/event.h"

namespace vigil::connectors::syslog::testing {

// UTC calendar time -> TimePoint.
inline TimePoint utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0,
                     int64_t us = 0) {
  using namespace std::chrono;
  return time_point_cast<Clock::duration>(sys_days(year_month_day(year(y), month(mo), day(d))) +
                                          hours(h) + minutes(mi) + seconds(s) + microseconds(us));
}

// "2024-01-10T10:20:30.123000Z" (always six fractional digits).
inline std::string iso(TimePoint t) {
  using namespace std::chrono;
  const auto day_start = floor<days>(t);
  const year_month_day ymd(day_start);
  const hh_mm_ss<microseconds> hms(duration_cast<microseconds>(t - day_start));
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%06ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()),
                static_cast<long>(hms.subseconds().count()));
  return buf;
}

}  // namespace vigil::connectors::syslog::testing
