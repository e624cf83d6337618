#include "daemon/api/rejected_requests.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

namespace vigil::api {

namespace {

struct Reason {
  unsigned status;  // 0: any other 4xx/5xx
  std::string_view name;
};
constexpr std::array<Reason, 10> kReasons{{{400, "bad_request"},
                                           {401, "unauthorized"},
                                           {403, "forbidden"},
                                           {404, "not_found"},
                                           {409, "conflict"},
                                           {413, "body_too_large"},
                                           {429, "rate_limited"},
                                           {500, "internal_error"},
                                           {503, "unavailable"},
                                           {0, "other"}}};

std::array<std::atomic<uint64_t>, kReasons.size()> g_rejected{};

size_t reasonIndex(unsigned status_code) {
  for (size_t i = 0; i + 1 < kReasons.size(); ++i) {
    if (kReasons[i].status == status_code) return i;
  }
  return kReasons.size() - 1;
}

class RejectedRequestsCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family;
    family.name = "vigil_http_requests_rejected_total";
    family.help = "HTTP requests refused, by reason (the status answered)";
    family.type = prometheus::MetricType::Counter;
    for (size_t i = 0; i < kReasons.size(); ++i) {
      prometheus::ClientMetric metric;
      metric.label.push_back({"reason", std::string(kReasons[i].name)});
      metric.counter.value = static_cast<double>(g_rejected[i].load(std::memory_order_relaxed));
      family.metric.push_back(std::move(metric));
    }
    return {std::move(family)};
  }
};

}  // namespace

std::string_view rejectReason(unsigned status_code) {
  return status_code < 400 ? std::string_view() : kReasons[reasonIndex(status_code)].name;
}

void countRejectedRequest(unsigned status_code) {
  if (status_code >= 400) g_rejected[reasonIndex(status_code)].fetch_add(1, std::memory_order_relaxed);
}

std::shared_ptr<prometheus::Collectable> makeRejectedRequestsCollector() {
  return std::make_shared<RejectedRequestsCollector>();
}

}  // namespace vigil::api
