#include "daemon/incidents/incident_codec.h"

#include <gtest/gtest.h>

namespace vigil::incidents {
namespace {

Incident sample() {
  Incident in;
  in.id = makeIncidentId(3, 42);
  in.key = "sw1/link/Gi0/1";
  in.title = "Link down";
  in.severity = Severity::kMajor;
  in.priority = 2;
  in.services = {"payments"};
  in.first_seen = in.last_seen = TimePoint(std::chrono::milliseconds(1700000000123));
  in.acknowledged_at = in.last_seen;
  in.parent = 7;
  in.labels.set("interface", "Gi0/1");
  in.timeline.push_back({in.first_seen, "opened", "rule:link-down", ""});
  in.recent_events.push_back({in.first_seen, "syslog", Severity::kMajor, EventState::kProblem, "down"});
  return in;
}

TEST(IncidentCodec, RoundTrips) {
  std::string bytes;
  encodeIncident(sample(), /*with_details=*/true, bytes);
  auto decoded = decodeIncident(bytes);
  ASSERT_TRUE(decoded) << decoded.error().toString();
  EXPECT_EQ(*decoded, sample());
}

TEST(IncidentCodec, SkipsExtensionFieldsItDoesNotKnow) {
  std::string bytes;
  encodeIncident(sample(), /*with_details=*/true, bytes);
  bytes += '\x3f';            // tag 63: unknown to this reader
  bytes += "\x03" "abc";      // its payload
  auto decoded = decodeIncident(bytes);
  ASSERT_TRUE(decoded) << decoded.error().toString();
  EXPECT_EQ(*decoded, sample());
}

TEST(IncidentCodec, RoundTripsProvenanceAndCorrelationFlags) {
  Incident in = sample();
  in.rule = "crc-burst";
  in.provenance.rule_set_version = "0123456789abcdef";
  in.provenance.primitive = "threshold 3 in 5m";
  for (int i = 0; i < 3; ++i) {
    in.provenance.events.push_back({in.first_seen + std::chrono::seconds(i), "http", Severity::kMinor,
                                    EventState::kProblem, "CRC error " + std::to_string(i)});
  }
  in.flapping = true;
  in.stale = true;
  std::string bytes;
  encodeIncident(in, /*with_details=*/false, bytes);
  auto decoded = decodeIncident(bytes);
  ASSERT_TRUE(decoded) << decoded.error().toString();
  EXPECT_EQ(decoded->provenance, in.provenance);
  EXPECT_TRUE(decoded->flapping);
  EXPECT_TRUE(decoded->stale);
}

TEST(IncidentCodec, BothEncodingsAtOnceEqualEachEncodedAlone) {
  Incident plain;
  plain.id = 1;
  Incident full = sample();
  full.rule = "crc-burst";
  full.description = "CRC errors on Gi0/1";
  full.provenance = {"0123456789abcdef", "threshold 3 in 5m", {full.recent_events.front()}};
  full.flapping = true;
  full.sla.resolve_due = full.first_seen + std::chrono::hours(4);
  full.escalations = {"page-oncall"};
  for (int i = 0; i < 200; ++i) {  // a timeline past one-byte varint counts and lengths
    full.timeline.push_back({full.first_seen + std::chrono::seconds(i), "updated", "rule:x", std::string(i, 'd')});
  }
  for (const Incident& in : {plain, sample(), full}) {
    std::string with, without;
    encodeIncident(in, /*with_details=*/true, with);
    encodeIncident(in, /*with_details=*/false, without);
    std::string both_full = "earlier", both_summary = "bytes";  // appended to, as encodeIncident does
    encodeIncidentAndSummary(in, both_full, both_summary);
    EXPECT_EQ(both_full, "earlier" + with);
    EXPECT_EQ(both_summary, "bytes" + without);
    auto summary = decodeIncident(std::string_view(both_summary).substr(5));
    ASSERT_TRUE(summary) << summary.error().toString();
    EXPECT_TRUE(summary->timeline.empty());
    EXPECT_EQ(summary->escalations, in.escalations);
  }
}

TEST(IncidentCodec, RejectsATruncatedExtension) {
  std::string bytes;
  encodeIncident(sample(), /*with_details=*/true, bytes);
  bytes += '\x3f';
  bytes += "\x05" "ab";  // says 5 bytes, has 2
  EXPECT_FALSE(decodeIncident(bytes));
}

}  // namespace
}  // namespace vigil::incidents
