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

TEST(IncidentCodec, RejectsATruncatedExtension) {
  std::string bytes;
  encodeIncident(sample(), /*with_details=*/true, bytes);
  bytes += '\x3f';
  bytes += "\x05" "ab";  // says 5 bytes, has 2
  EXPECT_FALSE(decodeIncident(bytes));
}

}  // namespace
}  // namespace vigil::incidents
