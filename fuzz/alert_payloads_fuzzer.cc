// libFuzzer target: the Alertmanager and PagerDuty webhook decoders (POST /api/v1/alertmanager,
// /api/v1/pagerduty) on arbitrary bytes. The first byte picks the decoder.
// Checks, besides the sanitizers: a failed Alertmanager decode appends nothing; every event a
// decoder returns names its source and has a host or CI; a PagerDuty event carries its dedup key.
// Build and run with scripts/fuzz.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "connectors/http/alert_payloads.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const vigil::TimePoint now = vigil::TimePoint(std::chrono::seconds(1718452800));
  if (data[0] % 2 == 0) {
    std::vector<vigil::Event> events(1);
    const vigil::Status status = vigil::connectors::http::decodeAlertmanager(body, now, events);
    if (!status.isOk() && events.size() != 1) std::abort();
    for (size_t i = 1; i < events.size(); ++i) {
      if (events[i].source.empty() || (events[i].host.empty() && events[i].ci.empty())) std::abort();
    }
  } else {
    auto request = vigil::connectors::http::decodePagerDuty(body, now);
    if (request) {
      if (request->dedup_key.empty() || request->event.source.empty() || request->event.host.empty()) std::abort();
      const std::string* key = request->event.labels.find("dedup_key");
      if (key == nullptr || *key != request->dedup_key) std::abort();
    }
  }
  return 0;
}
