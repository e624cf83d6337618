// The correlation state records written straight into a string (daemon/correlation/state_record)
// must be the bytes the nlohmann::json DOM encoding wrote before, so stores written by older
// versions and by this one restore alike. The reference below is that former encoding.
#include "daemon/correlation/state_record.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace vigil::correlation {
namespace {

using nlohmann::json;

int64_t ms(TimePoint t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count(); }

// The former encoding of collectStateOps, DOM then dump.
std::string referenceEntry(const EntryRecord& e) {
  json j = {{"rule", std::string(e.rule)}, {"hash", std::string(e.hash)}, {"key", std::string(e.key)}};
  json t = json::array();
  for (TimePoint x : e.times) t.push_back(ms(x));
  j["times"] = std::move(t);
  json h = json::array();
  for (const auto& x : e.held) {
    h.push_back({ms(x.at), x.source, static_cast<int>(x.severity), static_cast<int>(x.state), x.message});
  }
  j["held"] = std::move(h);
  j["deadline"] = e.deadline ? json(ms(*e.deadline)) : json(nullptr);
  j["last_state"] = static_cast<int>(e.last_state);
  j["flapping"] = e.flapping;
  j["opened"] = e.opened;
  j["target"] = std::string(e.target);
  j["title"] = std::string(e.title);
  j["host"] = std::string(e.host);
  j["ci"] = std::string(e.ci);
  j["type"] = std::string(e.type);
  j["severity"] = static_cast<int>(e.severity);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string referenceResolved(const ResolvedRecord& r) {
  json j = {{"rule", std::string(r.rule)},
            {"key", std::string(r.key)},
            {"id", r.id},
            {"resolved_at", ms(r.resolved_at)},
            {"deadline", r.deadline ? json(ms(*r.deadline)) : json(nullptr)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string stringOf(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Strings a message, host or key may carry: every escape, every control character, DEL,
// valid multi-byte UTF-8 and invalid UTF-8 (lone continuation bytes, truncated sequences,
// overlong forms, surrogates, bytes past U+10FFFF), at the start, middle and end.
std::vector<std::string> oddStrings() {
  std::vector<std::string> out = {
      "",
      "plain text",
      "quote \" and backslash \\ and slash /",
      "\"\\",
      "tab\tnewline\nreturn\rbackspace\bformfeed\f",
      "del \x7f",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",  // é € 😀
      "lone continuation \x80 here",
      "\xff",
      "truncated \xe2\x82",
      "truncated at end \xf0\x9f\x98",
      "overlong \xc0\xaf slash",
      "surrogate \xed\xa0\x80 half",
      "past max \xf4\x90\x80\x80",
      "mixed \xc3\xa9\xff\"\\\x01\xe2\x82\xac\x80",
      std::string("nul \0 inside", 12),
  };
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  out.push_back(controls);
  std::string high;
  for (int c = 0x80; c < 0x100; ++c) high.push_back(static_cast<char>(c));
  out.push_back(high);
  return out;
}

TEST(CorrelationStateRecord, StringsAreEscapedAsTheDomEncodingDid) {
  for (const std::string& s : oddStrings()) {
    std::string got;
    appendJsonString(got, s);
    EXPECT_EQ(got, stringOf(json(s))) << testing::PrintToString(s);
    // And it reads back as the DOM encoding's output does.
    EXPECT_EQ(json::parse(got).get<std::string>(), json::parse(stringOf(json(s))).get<std::string>());
  }
}

TEST(CorrelationStateRecord, EntryRecordsAreTheBytesTheDomEncodingWrote) {
  const TimePoint t0 = TimePoint(std::chrono::milliseconds(1'780'000'000'123));
  const auto odd = oddStrings();
  for (size_t i = 0; i < odd.size(); ++i) {
    const std::string& s = odd[i];
    const std::string& other = odd[(i + 1) % odd.size()];
    std::vector<TimePoint> times = {t0, t0 + std::chrono::seconds(1), TimePoint(std::chrono::milliseconds(-5))};
    std::vector<rules::TriggerEvent> held = {
        {t0, s, Severity::kMinor, EventState::kProblem, other},
        {t0 + std::chrono::milliseconds(7), other, Severity::kCritical, EventState::kOk, s},
    };
    EntryRecord e{.rule = s, .hash = "18446744073709551615", .key = other, .times = times, .held = held,
                  .deadline = i % 2 ? std::optional<TimePoint>(t0 + std::chrono::minutes(5)) : std::nullopt,
                  .last_state = EventState::kOk, .flapping = i % 3 == 0, .opened = i % 2 == 0, .target = s,
                  .title = other, .host = s, .ci = other, .type = s, .severity = Severity::kWarning};
    EXPECT_EQ(encodeEntryRecord(e), referenceEntry(e)) << "case " << i;
  }
  // Empty lists and strings.
  EntryRecord empty{.rule = "r", .hash = "0", .key = ""};
  EXPECT_EQ(encodeEntryRecord(empty), referenceEntry(empty));
}

TEST(CorrelationStateRecord, ResolvedRecordsAreTheBytesTheDomEncodingWrote) {
  const TimePoint t0 = TimePoint(std::chrono::milliseconds(1'780'000'000'123));
  for (const std::string& s : oddStrings()) {
    for (uint64_t id : {uint64_t{0}, uint64_t{42}, ~uint64_t{0}}) {
      ResolvedRecord r{.rule = s, .key = s, .id = id, .resolved_at = t0,
                       .deadline = id == 42 ? std::optional<TimePoint>(t0 + std::chrono::hours(1)) : std::nullopt};
      EXPECT_EQ(encodeResolvedRecord(r), referenceResolved(r)) << testing::PrintToString(s);
    }
  }
}

}  // namespace
}  // namespace vigil::correlation
