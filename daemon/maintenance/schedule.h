// Schedule: when a maintenance window is open. Either one-shot (an absolute start and end) or
// recurring: a local start (DTSTART) in an IANA time zone, a duration, and an RFC 5545 RRULE of
// this subset: FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL, BYDAY (MO..SU, with an ordinal such as 1SU or
// -1FR for MONTHLY), BYMONTHDAY (1..31, -31..-1), BYHOUR, BYMINUTE, COUNT, UNTIL. Occurrences are
// expanded in local civil time and converted with the zone's rules (the system tz database,
// /usr/share/zoneinfo), so "every Sunday 02:00 Europe/Paris" stays at 02:00 local across DST. A
// local time that does not exist (the spring-forward gap) is taken with the offset before the gap
// (02:30 → 03:30), an ambiguous one (autumn) as its first instance, as RFC 5545 says. The
// duration is exact time.
// Thread-safety: immutable after construction; const methods are safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/event.h"
#include "daemon/status.h"

namespace date {
class time_zone;
}  // namespace date

namespace vigil::maintenance {

struct Interval {
  TimePoint start{};
  TimePoint end{};
  bool operator==(const Interval&) const = default;
};

struct RecurrenceRule {
  enum class Freq : uint8_t { kDaily, kWeekly, kMonthly };
  Freq freq = Freq::kWeekly;
  int interval = 1;
  std::vector<std::pair<int, unsigned>> by_day;  // (ordinal, 0 = every; weekday 0 = Sunday … 6)
  std::vector<int> by_month_day;
  std::vector<int> by_hour;
  std::vector<int> by_minute;
  std::optional<uint32_t> count;
  std::optional<TimePoint> until;
};

// Parses "FREQ=WEEKLY;BYDAY=SU;..." (an optional "RRULE:" prefix is allowed).
Result<RecurrenceRule> parseRecurrenceRule(std::string_view text);

class Schedule {
 public:
  // REQUIRES nothing; errors when end <= start.
  static Result<Schedule> oneShot(TimePoint start, TimePoint end);
  // `dtstart` is local wall time "YYYY-MM-DDTHH:MM[:SS]" in `time_zone`.
  static Result<Schedule> recurring(std::string_view dtstart, std::string_view time_zone,
                                    std::chrono::seconds duration, std::string_view rrule);

  // Where `t` stands: the occurrence covering it (if any), and the start of the next occurrence
  // that begins after `t` (if any).
  struct Position {
    std::optional<Interval> covering;
    std::optional<TimePoint> next_start;
  };
  Position at(TimePoint t) const;
  // Occurrences that end after `t`, in start order, at most `n`.
  std::vector<Interval> upcoming(TimePoint t, size_t n) const;

  bool isRecurring() const { return zone_ != nullptr; }
  // The definition as written (for JSON): one-shot start/end, or dtstart/time_zone/duration/rrule.
  TimePoint start() const { return start_; }
  TimePoint end() const { return end_; }
  const std::string& dtstart() const { return dtstart_text_; }
  const std::string& timeZone() const { return zone_name_; }
  std::chrono::seconds duration() const { return duration_; }
  const std::string& rrule() const { return rrule_text_; }

 private:
  // Calls `visit` with each occurrence ending after `from`, in start order, until it returns
  // false or the rule is exhausted.
  void forEach(TimePoint from, const std::function<bool(const Interval&)>& visit) const;

  TimePoint start_{}, end_{};  // one-shot
  const date::time_zone* zone_ = nullptr;
  std::string zone_name_, dtstart_text_, rrule_text_;
  std::chrono::sys_seconds dtstart_local_{};  // local wall time, held in a sys_seconds
  std::chrono::seconds duration_{0};
  RecurrenceRule rule_;
};

}  // namespace vigil::maintenance
