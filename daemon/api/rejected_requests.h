// vigil_http_requests_rejected_total{reason}: every HTTP request vigild refused, by the status
// it answered. Counted where the refusals are answered (http_api.cc); the counters are
// process-wide atomics, so the answer helpers there, free functions also called from
// correlator callbacks, need no handle, and the collector reads them at scrape time.
// Not counted: requests RESTinio drops itself without an answer (unparsable HTTP, a body over
// twice http.max_body_size, the read timeout), and /readyz answering 503 (a probe's answer,
// not a refusal).
// Thread-safety: countRejectedRequest is called from any thread; Collect() from HTTP threads.
#pragma once

#include <memory>
#include <string_view>

#include <prometheus/collectable.h>

namespace vigil::api {

// The reason label of a refusal answered with `status_code`: bad_request (400), unauthorized
// (401), forbidden (403), not_found (404), conflict (409), body_too_large (413), rate_limited
// (429), internal_error (500), unavailable (503: queue full, store failing), other (any other
// 4xx/5xx). Empty below 400: not a refusal.
std::string_view rejectReason(unsigned status_code);

// Counts one refused request; statuses below 400 are ignored.
void countRejectedRequest(unsigned status_code);

// The collector of vigil_http_requests_rejected_total; every reason is rendered, 0 included.
std::shared_ptr<prometheus::Collectable> makeRejectedRequestsCollector();

}  // namespace vigil::api
