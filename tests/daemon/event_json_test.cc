#include "daemon/event_json.h"

#include <gtest/gtest.h>

#include "daemon/time_util.h"

namespace vigil {
namespace {

TEST(EventDecoder, DecodesEveryContractField) {
  EventDecoder decoder;
  std::vector<Event> out;
  const TimePoint now = Clock::now();
  ASSERT_TRUE(decoder.decode(R"({"time":"2026-11-22T10:00:00Z","host":"sw1","source":"nms","type":"link",
      "severity":"major","state":"problem","message":"Gi0/1 down","labels":{"site":"par1"}})",
                             "http", now, out).isOk());
  ASSERT_EQ(out.size(), 1u);
  const Event& e = out[0];
  EXPECT_EQ(e.host, "sw1");
  EXPECT_EQ(e.source, "nms");
  EXPECT_EQ(e.type, "link");
  EXPECT_EQ(e.severity, Severity::kMajor);
  EXPECT_EQ(e.state, EventState::kProblem);
  EXPECT_EQ(e.message, "Gi0/1 down");
  ASSERT_NE(e.labels.find("site"), nullptr);
  EXPECT_EQ(*e.labels.find("site"), "par1");
  EXPECT_EQ(formatRfc3339(*e.occurred_at), "2026-11-22T10:00:00.000Z");
  EXPECT_EQ(e.received_at, now);
}

TEST(EventDecoder, KeepsUnknownFieldsAsLabels) {
  EventDecoder decoder;
  std::vector<Event> out;
  ASSERT_TRUE(decoder.decode(R"({"host":"a","rack":"R12","port":7,"up":true,"extra":{"x":1}})", "http",
                             Clock::now(), out).isOk());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(*out[0].labels.find("rack"), "R12");
  EXPECT_EQ(*out[0].labels.find("port"), "7");
  EXPECT_EQ(*out[0].labels.find("up"), "true");
  EXPECT_EQ(*out[0].labels.find("extra"), R"({"x":1})");
  EXPECT_EQ(out[0].source, "http");
}

TEST(EventDecoder, DecodesArraysAndEpochSeconds) {
  EventDecoder decoder;
  std::vector<Event> out;
  ASSERT_TRUE(decoder.decode(R"([{"host":"a","time":1700000000.5},{"ci":"db-1"}])", "http", Clock::now(), out).isOk());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(toUnixMillis(*out[0].occurred_at), 1700000000500);
  EXPECT_EQ(out[1].ci, "db-1");
}

TEST(EventDecoder, RejectsBadInputWithoutAppendingAnything) {
  EventDecoder decoder;
  std::vector<Event> out;
  struct Case {
    const char* json;
    const char* expected;
  } cases[] = {
      {R"({"host":"a","severity":"bogus"})", "severity: unknown value 'bogus'"},
      {R"({"host":"a","state":"maybe"})", "state: expected problem or ok"},
      {R"({"message":"no host"})", "neither host nor ci"},
      {R"([{"host":"a"},{"host":"b","time":"yesterday"}])", "element 1: time: not an RFC 3339 time"},
      {R"("just a string")", "expected a JSON object or an array"},
      {R"({"host":"a",)", ""},
      {R"([{"host":"a"}, 3])", "element 1: expected an object"},
  };
  for (const auto& c : cases) {
    Status s = decoder.decode(c.json, "http", Clock::now(), out);
    EXPECT_FALSE(s.isOk()) << c.json;
    EXPECT_NE(s.message().find(c.expected), std::string::npos) << c.json << " → " << s.message();
    EXPECT_TRUE(out.empty()) << c.json;
  }
}

TEST(EventDecoder, EnforcesTheLabelLimit) {
  EventDecoder decoder(EventDecodeLimits{.max_labels = 3});
  std::vector<Event> out;
  Status s = decoder.decode(R"({"host":"a","labels":{"a":"1","b":"2","c":"3","d":"4"}})", "http", Clock::now(), out);
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("too many labels"), std::string::npos);
}

TEST(EventJson, EncodesWhatTheDecoderReadsBack) {
  Event e;
  e.host = "r1";
  e.source = "replay";
  e.type = "bgp";
  e.severity = Severity::kCritical;
  e.state = EventState::kOk;
  e.message = "neighbour \"10.0.0.1\" up";
  e.occurred_at = parseRfc3339("2026-01-02T03:04:05.678Z");
  e.labels.set("peer", "10.0.0.1");
  EventDecoder decoder;
  std::vector<Event> out;
  ASSERT_TRUE(decoder.decode(encodeEventJson(e), "x", e.received_at, out).isOk());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].host, e.host);
  EXPECT_EQ(out[0].type, e.type);
  EXPECT_EQ(out[0].severity, e.severity);
  EXPECT_EQ(out[0].state, e.state);
  EXPECT_EQ(out[0].message, e.message);
  EXPECT_EQ(out[0].occurred_at, e.occurred_at);
  EXPECT_EQ(out[0].labels, e.labels);
}

}  // namespace
}  // namespace vigil
