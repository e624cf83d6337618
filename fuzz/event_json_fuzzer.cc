// libFuzzer target: EventDecoder (POST /api/v1/events, Kafka messages) on arbitrary bytes.
// Checks, besides the sanitizers: a failed decode appends nothing; every decoded event keeps the
// decoder's limits; an event encoded back to JSON decodes again to the same fields.
// Build and run with scripts/fuzz.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/event_json.h"

namespace {

// Labels in name order: the encoder writes them as a sorted JSON object.
std::vector<std::pair<std::string, std::string>> sortedLabels(const vigil::Labels& labels) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : labels) out.emplace_back(name, value);
  std::sort(out.begin(), out.end());
  return out;
}

bool sameFields(const vigil::Event& a, const vigil::Event& b) {
  return a.host == b.host && a.ci == b.ci && a.source == b.source && a.type == b.type &&
         a.severity == b.severity && a.state == b.state && a.message == b.message &&
         sortedLabels(a.labels) == sortedLabels(b.labels);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static constexpr vigil::EventDecodeLimits kLimits{.max_labels = 16, .max_field_bytes = 256};
  static vigil::EventDecoder decoder(kLimits);  // reused, as each HTTP thread does
  static vigil::EventDecoder again(kLimits);
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const vigil::TimePoint now = vigil::TimePoint(std::chrono::seconds(1718452800));
  std::vector<vigil::Event> events(1);  // one event already there: decode appends
  const vigil::Status status = decoder.decode(input, "http", now, events);
  if (!status.isOk()) {
    if (events.size() != 1) std::abort();  // a failed decode must leave nothing behind
    return 0;
  }
  for (size_t i = 1; i < events.size(); ++i) {
    const vigil::Event& event = events[i];
    if (event.host.empty() && event.ci.empty()) std::abort();
    if (event.labels.size() > kLimits.max_labels || event.message.size() > kLimits.max_field_bytes) std::abort();
    std::vector<vigil::Event> decoded;
    const vigil::Status round_trip = again.decode(vigil::encodeEventJson(event), "other", now, decoded);
    if (!round_trip.isOk() || decoded.size() != 1 || !sameFields(event, decoded[0])) std::abort();
  }
  return 0;
}
