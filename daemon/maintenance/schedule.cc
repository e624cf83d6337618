#include "daemon/maintenance/schedule.h"

#include <algorithm>
#include <charconv>

#include <date/tz.h>

#include "daemon/time_util.h"

namespace vigil::maintenance {

namespace {

using std::chrono::days;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

// An occurrence list that matches nothing must not spin forever: periods scanned per call.
constexpr int kMaxPeriods = 200000;

std::optional<int> parseInt(std::string_view s) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto pos = s.find(sep);
    parts.push_back(s.substr(0, pos));
    if (pos == std::string_view::npos) return parts;
    s.remove_prefix(pos + 1);
  }
}

std::optional<unsigned> parseWeekday(std::string_view s) {
  static constexpr std::string_view kNames[] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
  for (unsigned i = 0; i < 7; ++i) {
    if (kNames[i] == s) return i;
  }
  return std::nullopt;
}

// "20261231T235959Z", "20261231T235959" (taken as UTC) or "20261231".
std::optional<TimePoint> parseUntil(std::string_view s) {
  if (s.size() < 8) return std::nullopt;
  auto y = parseInt(s.substr(0, 4)), m = parseInt(s.substr(4, 2)), d = parseInt(s.substr(6, 2));
  if (!y || !m || !d) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(*y), std::chrono::month(static_cast<unsigned>(*m)),
                                        std::chrono::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  seconds tod{0};
  if (s.size() > 8) {
    if (s[8] != 'T' || s.size() < 15) return std::nullopt;
    auto hh = parseInt(s.substr(9, 2)), mm = parseInt(s.substr(11, 2)), ss = parseInt(s.substr(13, 2));
    if (!hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;
    if (s.size() > 15 && s.substr(15) != "Z") return std::nullopt;
    tod = std::chrono::hours(*hh) + std::chrono::minutes(*mm) + seconds(*ss);
  } else {
    tod = std::chrono::hours(24) - seconds(1);  // a date alone: through the end of that day
  }
  return TimePoint(sys_days(ymd) + tod);
}

// "YYYY-MM-DDTHH:MM[:SS]" as a wall time (held in a sys_seconds).
std::optional<sys_seconds> parseLocal(std::string_view s) {
  if (s.size() != 16 && s.size() != 19) return std::nullopt;
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':') return std::nullopt;
  auto y = parseInt(s.substr(0, 4)), m = parseInt(s.substr(5, 2)), d = parseInt(s.substr(8, 2));
  auto hh = parseInt(s.substr(11, 2)), mm = parseInt(s.substr(14, 2));
  std::optional<int> ss = 0;
  if (s.size() == 19) ss = s[16] == ':' ? parseInt(s.substr(17, 2)) : std::nullopt;
  if (!y || !m || !d || !hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 59) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(*y), std::chrono::month(static_cast<unsigned>(*m)),
                                        std::chrono::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  return sys_days(ymd) + std::chrono::hours(*hh) + std::chrono::minutes(*mm) + seconds(*ss);
}

// Local wall time → instant. A time in the spring-forward gap takes the offset before the gap;
// an ambiguous one its first instance (both: info.first).
TimePoint toInstant(const date::time_zone& zone, sys_seconds wall) {
  const date::local_seconds local{wall.time_since_epoch()};
  const date::local_info info = zone.get_info(local);
  return TimePoint(wall - info.first.offset);
}

unsigned weekdayIndex(sys_days day) { return std::chrono::weekday(day).c_encoding(); }

}  // namespace

Result<RecurrenceRule> parseRecurrenceRule(std::string_view text) {
  if (text.starts_with("RRULE:")) text.remove_prefix(6);
  RecurrenceRule rule;
  bool has_freq = false;
  auto bad = [&](std::string_view part, std::string_view why) {
    return fail(Status::invalidArgument("rrule: '" + std::string(part) + "': " + std::string(why)));
  };
  auto intList = [](std::string_view value, int min, int max, bool allow_negative, std::vector<int>& out) {
    for (auto item : split(value, ',')) {
      auto n = parseInt(item);
      if (!n || (*n == 0 && min > 0)) return false;
      if (!(*n >= min && *n <= max) && !(allow_negative && *n < 0 && -*n >= min && -*n <= max)) return false;
      out.push_back(*n);
    }
    return true;
  };
  for (auto part : split(text, ';')) {
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) return bad(part, "expected NAME=VALUE");
    const auto name = part.substr(0, eq), value = part.substr(eq + 1);
    if (name == "FREQ") {
      has_freq = true;
      if (value == "DAILY") rule.freq = RecurrenceRule::Freq::kDaily;
      else if (value == "WEEKLY") rule.freq = RecurrenceRule::Freq::kWeekly;
      else if (value == "MONTHLY") rule.freq = RecurrenceRule::Freq::kMonthly;
      else return bad(part, "supported: DAILY, WEEKLY, MONTHLY");
    } else if (name == "INTERVAL") {
      auto n = parseInt(value);
      if (!n || *n < 1 || *n > 1000) return bad(part, "expected 1..1000");
      rule.interval = *n;
    } else if (name == "BYDAY") {
      for (auto item : split(value, ',')) {
        if (item.size() < 2) return bad(part, "expected weekdays such as MO,TU or 1SU, -1FR");
        auto weekday = parseWeekday(item.substr(item.size() - 2));
        int ordinal = 0;
        if (item.size() > 2) {
          auto n = parseInt(item.substr(0, item.size() - 2)[0] == '+' ? item.substr(1, item.size() - 3)
                                                                       : item.substr(0, item.size() - 2));
          if (!n || *n == 0 || *n > 5 || *n < -5) return bad(part, "ordinal must be 1..5 or -5..-1");
          ordinal = *n;
        }
        if (!weekday) return bad(part, "expected weekdays SU, MO, TU, WE, TH, FR, SA");
        rule.by_day.emplace_back(ordinal, *weekday);
      }
    } else if (name == "BYMONTHDAY") {
      if (!intList(value, 1, 31, true, rule.by_month_day)) return bad(part, "expected 1..31 or -31..-1");
    } else if (name == "BYHOUR") {
      if (!intList(value, 0, 23, false, rule.by_hour)) return bad(part, "expected 0..23");
    } else if (name == "BYMINUTE") {
      if (!intList(value, 0, 59, false, rule.by_minute)) return bad(part, "expected 0..59");
    } else if (name == "COUNT") {
      auto n = parseInt(value);
      if (!n || *n < 1 || *n > 100000) return bad(part, "expected 1..100000");
      rule.count = static_cast<uint32_t>(*n);
    } else if (name == "UNTIL") {
      rule.until = parseUntil(value);
      if (!rule.until) return bad(part, "expected YYYYMMDD or YYYYMMDDTHHMMSSZ");
    } else if (name == "WKST") {
      if (value != "MO") return bad(part, "only WKST=MO is supported");
    } else {
      return bad(part, "unsupported part (supported: FREQ, INTERVAL, BYDAY, BYMONTHDAY, BYHOUR, BYMINUTE, COUNT, UNTIL)");
    }
  }
  if (!has_freq) return fail(Status::invalidArgument("rrule: FREQ is required"));
  if (rule.count && rule.until) return fail(Status::invalidArgument("rrule: COUNT and UNTIL exclude each other"));
  for (const auto& [ordinal, weekday] : rule.by_day) {
    if (ordinal != 0 && rule.freq != RecurrenceRule::Freq::kMonthly) {
      return fail(Status::invalidArgument("rrule: BYDAY ordinals (1SU) need FREQ=MONTHLY"));
    }
  }
  if (!rule.by_month_day.empty() && rule.freq == RecurrenceRule::Freq::kWeekly) {
    return fail(Status::invalidArgument("rrule: BYMONTHDAY does not go with FREQ=WEEKLY"));
  }
  return rule;
}

Result<Schedule> Schedule::oneShot(TimePoint start, TimePoint end) {
  if (end <= start) return fail(Status::invalidArgument("end must be after start"));
  Schedule s;
  s.start_ = start;
  s.end_ = end;
  return s;
}

Result<Schedule> Schedule::recurring(std::string_view dtstart, std::string_view time_zone, seconds duration,
                                     std::string_view rrule) {
  Schedule s;
  try {
    s.zone_ = date::locate_zone(time_zone);
  } catch (const std::exception&) {
    return fail(Status::invalidArgument("time_zone: unknown zone '" + std::string(time_zone) +
                                        "' (expected an IANA name such as Europe/Paris)"));
  }
  auto local = parseLocal(dtstart);
  if (!local) return fail(Status::invalidArgument("dtstart: expected local time YYYY-MM-DDTHH:MM[:SS], got '" + std::string(dtstart) + "'"));
  if (duration <= seconds(0)) return fail(Status::invalidArgument("duration: must be positive"));
  auto rule = parseRecurrenceRule(rrule);
  if (!rule) return fail(rule.error());
  s.zone_name_ = time_zone;
  s.dtstart_text_ = dtstart;
  s.rrule_text_ = rrule;
  s.dtstart_local_ = *local;
  s.duration_ = duration;
  s.rule_ = std::move(*rule);
  return s;
}

void Schedule::forEach(TimePoint from, const std::function<bool(const Interval&)>& visit) const {
  if (zone_ == nullptr) {
    if (end_ > from) visit({start_, end_});
    return;
  }
  using Freq = RecurrenceRule::Freq;
  const sys_days first_day = std::chrono::floor<days>(dtstart_local_);
  const seconds first_tod = dtstart_local_ - first_day;
  // Times of day: BYHOUR × BYMINUTE (each defaulting to DTSTART's), seconds from DTSTART.
  std::vector<seconds> times;
  {
    const auto h0 = std::chrono::floor<std::chrono::hours>(first_tod);
    const auto m0 = std::chrono::floor<std::chrono::minutes>(first_tod - h0);
    const seconds s0 = first_tod - h0 - m0;
    std::vector<int> hours = rule_.by_hour, minutes = rule_.by_minute;
    if (hours.empty()) hours.push_back(static_cast<int>(h0.count()));
    if (minutes.empty()) minutes.push_back(static_cast<int>(m0.count()));
    for (int h : hours) {
      for (int m : minutes) times.push_back(std::chrono::hours(h) + std::chrono::minutes(m) + s0);
    }
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
  }
  const std::chrono::year_month_day first_ymd{first_day};
  const sys_days first_monday = first_day - days((weekdayIndex(first_day) + 6) % 7);
  auto weekdayAllowed = [&](sys_days day) {
    if (rule_.by_day.empty()) return true;
    const unsigned wd = weekdayIndex(day);
    return std::any_of(rule_.by_day.begin(), rule_.by_day.end(), [&](const auto& p) { return p.second == wd; });
  };
  auto monthDayAllowed = [&](sys_days day) {
    if (rule_.by_month_day.empty()) return true;
    const std::chrono::year_month_day ymd{day};
    const int dom = static_cast<int>(static_cast<unsigned>(ymd.day()));
    const int last = static_cast<int>(static_cast<unsigned>((ymd.year() / ymd.month() / std::chrono::last).day()));
    return std::any_of(rule_.by_month_day.begin(), rule_.by_month_day.end(),
                       [&](int d) { return d > 0 ? d == dom : last + 1 + d == dom; });
  };
  // The days of period k, sorted.
  std::vector<sys_days> period_days;
  auto daysOf = [&](int64_t k) {
    period_days.clear();
    switch (rule_.freq) {
      case Freq::kDaily: {
        const sys_days day = first_day + days(k * rule_.interval);
        if (weekdayAllowed(day) && monthDayAllowed(day)) period_days.push_back(day);
        break;
      }
      case Freq::kWeekly: {
        const sys_days monday = first_monday + days(7 * k * rule_.interval);
        if (rule_.by_day.empty()) {
          period_days.push_back(monday + days((weekdayIndex(first_day) + 6) % 7));
        } else {
          for (const auto& [ordinal, wd] : rule_.by_day) period_days.push_back(monday + days((wd + 6) % 7));
        }
        break;
      }
      case Freq::kMonthly: {
        const auto ym = first_ymd.year() / first_ymd.month() + std::chrono::months(k * rule_.interval);
        const sys_days month_first = sys_days(ym / 1);
        const sys_days month_last = sys_days(ym / std::chrono::last);
        if (rule_.by_day.empty() && rule_.by_month_day.empty()) {
          const auto ymd = ym / first_ymd.day();
          if (ymd.ok()) period_days.push_back(sys_days(ymd));  // the 31st skips short months
          break;
        }
        for (sys_days day = month_first; day <= month_last; day += days(1)) {
          if (!monthDayAllowed(day)) continue;
          if (rule_.by_day.empty()) {
            period_days.push_back(day);
            continue;
          }
          const unsigned wd = weekdayIndex(day);
          const int nth = static_cast<int>((day - month_first).count() / 7) + 1;
          const int nth_last = -(static_cast<int>((month_last - day).count() / 7) + 1);
          for (const auto& [ordinal, want] : rule_.by_day) {
            if (want == wd && (ordinal == 0 || ordinal == nth || ordinal == nth_last)) {
              period_days.push_back(day);
              break;
            }
          }
        }
        break;
      }
    }
    std::sort(period_days.begin(), period_days.end());
    period_days.erase(std::unique(period_days.begin(), period_days.end()), period_days.end());
  };
  // Without COUNT, start a little before `from` instead of at DTSTART.
  int64_t k = 0;
  if (!rule_.count) {
    const sys_days target = std::chrono::floor<days>(from - duration_) - days(2);
    if (target > first_day) {
      switch (rule_.freq) {
        case Freq::kDaily: k = (target - first_day).count() / rule_.interval; break;
        case Freq::kWeekly: k = (target - first_monday).count() / (7 * rule_.interval); break;
        case Freq::kMonthly: {
          const std::chrono::year_month_day t{target};
          const auto months = (t.year() - first_ymd.year()).count() * 12 +
                              (static_cast<int>(static_cast<unsigned>(t.month())) -
                               static_cast<int>(static_cast<unsigned>(first_ymd.month())));
          k = months / rule_.interval;
          break;
        }
      }
      k = std::max<int64_t>(0, k - 1);
    }
  }
  uint32_t emitted = 0;
  for (int scanned = 0; scanned < kMaxPeriods; ++scanned, ++k) {
    daysOf(k);
    for (const sys_days day : period_days) {
      for (const seconds tod : times) {
        const sys_seconds wall = day + tod;
        if (wall < dtstart_local_) continue;
        const TimePoint start = toInstant(*zone_, wall);
        if (rule_.until && start > *rule_.until) return;
        if (rule_.count && ++emitted > *rule_.count) return;
        const Interval occurrence{start, start + duration_};
        if (occurrence.end <= from) continue;
        if (!visit(occurrence)) return;
      }
    }
  }
}

Schedule::Position Schedule::at(TimePoint t) const {
  Position position;
  forEach(t, [&](const Interval& occurrence) {
    if (occurrence.start <= t) {
      if (!position.covering) position.covering = occurrence;
      return true;
    }
    position.next_start = occurrence.start;
    return false;
  });
  return position;
}

std::vector<Interval> Schedule::upcoming(TimePoint t, size_t n) const {
  std::vector<Interval> out;
  if (n == 0) return out;
  forEach(t, [&](const Interval& occurrence) {
    out.push_back(occurrence);
    return out.size() < n;
  });
  return out;
}

}  // namespace vigil::maintenance
