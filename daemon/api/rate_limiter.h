// RateLimiter: a token bucket per client IP for the API and intake (`http.rate_limit`). Each
// client may make `burst` requests at once and `requests_per_second` on average; a request over
// the limit is answered 429 with Retry-After (the seconds until a token is back).
// Thread-safety: thread-safe (one mutex; a map lookup per request).
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace vigil::api {

struct RateLimitConfig {
  double requests_per_second = 1000;  // 0: no limit
  double burst = 2000;
  size_t max_clients = 100000;  // buckets kept; full ones idle longest are forgotten first
};

class RateLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  explicit RateLimiter(RateLimitConfig config) : config_(config) {}

  // nullopt: allowed (a token taken). Otherwise the whole seconds to wait before retrying.
  std::optional<int> acquire(const std::string& client, TimePoint now = std::chrono::steady_clock::now());
  bool enabled() const { return config_.requests_per_second > 0; }

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint updated{};
  };
  void forgetFullBuckets(TimePoint now);

  const RateLimitConfig config_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
};

}  // namespace vigil::api
