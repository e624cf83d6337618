#include "daemon/api/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace vigil::api {

std::optional<int> RateLimiter::acquire(const std::string& client, TimePoint now) {
  if (!enabled()) return std::nullopt;
  std::lock_guard lock(mu_);
  if (buckets_.size() >= config_.max_clients && !buckets_.contains(client)) forgetFullBuckets(now);
  auto [it, inserted] = buckets_.try_emplace(client, Bucket{config_.burst, now});
  Bucket& b = it->second;
  if (!inserted) {
    const double elapsed = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(config_.burst, b.tokens + std::max(0.0, elapsed) * config_.requests_per_second);
    b.updated = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / config_.requests_per_second)));
}

// A bucket that has refilled completely is the same as no bucket: dropping it loses nothing.
void RateLimiter::forgetFullBuckets(TimePoint now) {
  const double refill_seconds = config_.burst / config_.requests_per_second;
  std::erase_if(buckets_, [&](const auto& entry) {
    return std::chrono::duration<double>(now - entry.second.updated).count() >= refill_seconds;
  });
  if (buckets_.size() >= config_.max_clients) buckets_.clear();  // under attack from many IPs: start over
}

}  // namespace vigil::api
