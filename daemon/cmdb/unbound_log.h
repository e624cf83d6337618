// UnboundLog: the events that bound to no CI, grouped by (source, host, ci), so the CMDB can be
// fixed (`GET /api/v1/unbound`). Bounded: at most `capacity` distinct groups are kept; events of
// further groups are only counted (overflow()). Totals per source are kept for every event.
// Thread-safety: record() from the correlator, entries()/toJson() from the API; a mutex guards
// the state (record() takes it once per unbound event, which is the uncommon case).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "daemon/event.h"

namespace vigil::cmdb {

struct UnboundEntry {
  std::string source;
  std::string host;
  std::string ci;  // the explicit ci the event named, when it named an unknown one
  uint64_t count = 0;
  TimePoint first_seen{};
  TimePoint last_seen{};
  std::string last_message;  // a sample, truncated to 200 bytes
};

class UnboundLog {
 public:
  explicit UnboundLog(size_t capacity = 1000) : capacity_(capacity) {}

  void record(const Event& event);

  // Most events first.
  std::vector<UnboundEntry> entries() const;
  // Unbound events per source since start.
  std::unordered_map<std::string, uint64_t> totalsBySource() const;
  // Events of groups not kept because the log was full.
  uint64_t overflow() const;
  void clear();

  // {"entries":[{"source","host","ci","count","first_seen","last_seen","last_message"}…],
  //  "totals":{source:n}, "overflow":n}
  void toJson(nlohmann::json& out) const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, size_t> index_;  // GUARDED_BY(mu_); key → entries_ slot
  std::vector<UnboundEntry> entries_;              // GUARDED_BY(mu_)
  std::unordered_map<std::string, uint64_t> totals_;  // GUARDED_BY(mu_)
  uint64_t overflow_ = 0;                          // GUARDED_BY(mu_)
};

}  // namespace vigil::cmdb
