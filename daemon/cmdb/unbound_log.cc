#include "daemon/cmdb/unbound_log.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "daemon/time_util.h"

namespace vigil::cmdb {

namespace {
constexpr size_t kMaxSample = 200;
}  // namespace

void UnboundLog::record(const Event& event) {
  // The group key is built in a buffer kept per thread (the correlator's): noise that binds to
  // nothing comes by the hundred thousand, and a fresh string per event showed in the profile.
  thread_local std::string key;
  key.clear();
  key.append(event.source).append(1, '\0').append(event.host).append(1, '\0').append(event.ci);
  const TimePoint at = event.time();
  std::lock_guard lock(mu_);
  ++totals_[event.source];
  auto it = index_.find(key);
  if (it == index_.end()) {
    if (entries_.size() >= capacity_) {
      ++overflow_;
      return;
    }
    it = index_.emplace(key, entries_.size()).first;
    entries_.push_back({event.source, event.host, event.ci, 0, at, at, {}});
  }
  UnboundEntry& e = entries_[it->second];
  ++e.count;
  e.first_seen = std::min(e.first_seen, at);
  e.last_seen = std::max(e.last_seen, at);
  e.last_message.assign(event.message, 0, std::min(event.message.size(), kMaxSample));
}

std::vector<UnboundEntry> UnboundLog::entries() const {
  std::vector<UnboundEntry> out;
  {
    std::lock_guard lock(mu_);
    out = entries_;
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const UnboundEntry& a, const UnboundEntry& b) { return a.count > b.count; });
  return out;
}

std::unordered_map<std::string, uint64_t> UnboundLog::totalsBySource() const {
  std::lock_guard lock(mu_);
  return totals_;
}

uint64_t UnboundLog::overflow() const {
  std::lock_guard lock(mu_);
  return overflow_;
}

void UnboundLog::clear() {
  std::lock_guard lock(mu_);
  index_.clear();
  entries_.clear();
  totals_.clear();
  overflow_ = 0;
}

void UnboundLog::toJson(nlohmann::json& out) const {
  out = nlohmann::json::object();
  nlohmann::json list = nlohmann::json::array();
  for (const UnboundEntry& e : entries()) {
    list.push_back({{"source", e.source},
                    {"host", e.host},
                    {"ci", e.ci},
                    {"count", e.count},
                    {"first_seen", formatRfc3339(e.first_seen)},
                    {"last_seen", formatRfc3339(e.last_seen)},
                    {"last_message", e.last_message}});
  }
  out["entries"] = std::move(list);
  nlohmann::json totals = nlohmann::json::object();
  for (const auto& [source, n] : totalsBySource()) totals[source] = n;
  out["totals"] = std::move(totals);
  out["overflow"] = overflow();
}

}  // namespace vigil::cmdb
