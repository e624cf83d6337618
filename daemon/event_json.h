// Events as JSON (DESIGN.md's contract): `time`, `host` or `ci`, `source`, `type`, `severity`,
// `state` (problem|ok), `message`, `labels` (string map). Unknown fields are kept as labels.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "daemon/event.h"
#include "daemon/status.h"

namespace vigil {

struct EventDecodeLimits {
  size_t max_labels = 256;        // more is rejected: a label map is not a payload
  size_t max_field_bytes = 65536;  // per string field
};

// Decodes JSON events with simdjson. Reuses its buffers between calls.
// Thread-safety: not thread-safe; use one decoder per thread.
class EventDecoder {
 public:
  explicit EventDecoder(EventDecodeLimits limits = {}) : limits_(limits) {}

  // Decodes one event object or an array of them and appends them to `out`. `default_source`
  // fills `source` when the event has none. On error nothing is appended and the message says
  // which element and field was wrong.
  Status decode(std::string_view json, std::string_view default_source, TimePoint received_at,
                std::vector<Event>& out);

 private:
  Status decodeObject(simdjson::ondemand::object object, std::string_view default_source,
                      TimePoint received_at, Event& event);

  EventDecodeLimits limits_;
  simdjson::ondemand::parser parser_;
  simdjson::padded_string buffer_;
};

// The EventDecoder's limits for events decoded elsewhere (Alertmanager, PagerDuty): at most
// `max_labels` labels, no string field or label value longer than `max_field_bytes`.
Status checkEventLimits(std::span<const Event> events, size_t max_labels, size_t max_field_bytes);

// True when no array or object in `json` nests deeper than `max_depth` (strings skipped). For
// decoders built on nlohmann::json, whose dump() recurses: a body nested 100 000 deep would
// overflow the stack. Linear, no allocation.
bool jsonNestingWithin(std::string_view json, size_t max_depth);
inline constexpr size_t kMaxJsonNesting = 128;

// One event as a JSON object (used by vigilctl, the load generator and tests).
std::string encodeEventJson(const Event& event);

}  // namespace vigil
