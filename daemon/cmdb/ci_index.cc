#include "daemon/cmdb/ci_index.h"

#include <algorithm>
#include <cstring>

namespace vigil::cmdb {

namespace {

constexpr size_t kMaxHostLength = 255;

// ASCII-lowercases 8 bytes at once: sets 0x20 in every byte within 'A'..'Z' (bytes >= 0x80
// are left alone).
uint64_t lowerWord(uint64_t w) {
  constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const uint64_t b = w & kLow7;
  const uint64_t at_least_a = b + 0x3f3f3f3f3f3f3f3full;   // high bit: byte >= 'A'
  const uint64_t above_z = b + 0x2525252525252525ull;      // high bit: byte > 'Z'
  const uint64_t upper = at_least_a & ~above_z & ~w & kHigh;
  return w | (upper >> 2);
}

// Lowercases `host` into `buf` and drops one trailing dot; empty when it cannot be a host name.
std::string_view normalizeHost(std::string_view host, char (&buf)[kMaxHostLength + 1]) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > kMaxHostLength) return {};
  size_t i = 0;
  for (; i + 8 <= host.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, host.data() + i, 8);
    w = lowerWord(w);
    std::memcpy(buf + i, &w, 8);
  }
  for (; i < host.size(); ++i) {
    const char c = host[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
  }
  return {buf, host.size()};
}

// Could `s` be an IP literal? Cheap pre-check so that names skip inet_pton.
bool looksLikeIp(std::string_view s) {
  if (s.find(':') != std::string_view::npos) return true;
  for (char c : s) {
    if ((c < '0' || c > '9') && c != '.') return false;
  }
  return !s.empty();
}

}  // namespace

std::string_view matchKindName(MatchKind kind) {
  switch (kind) {
    case MatchKind::kNone: return "none";
    case MatchKind::kExplicitCi: return "explicit_ci";
    case MatchKind::kHost: return "host";
    case MatchKind::kFqdn: return "fqdn";
    case MatchKind::kShortName: return "short_name";
    case MatchKind::kIp: return "ip";
    case MatchKind::kCidr: return "cidr";
    case MatchKind::kLabelRule: return "label_rule";
  }
  return "none";
}

std::shared_ptr<const CiSnapshot> CiSnapshot::empty() {
  static const std::shared_ptr<const CiSnapshot> kEmpty = [] {
    auto s = buildSnapshot({});
    return s ? *s : nullptr;
  }();
  return kEmpty;
}

Binding CiSnapshot::bind(const Event& event) const {
  if (!event.ci.empty()) {
    const uint32_t i = ids_.find(event.ci);
    if (i != kNoCi) return make(i, MatchKind::kExplicitCi);
  }
  if (!event.host.empty()) {
    if (Binding b = bindHost(event.host)) return b;
  }
  if (!label_rules_.empty() && !event.labels.empty()) return bindLabels(event.labels);
  return {};
}

const detail::StringTable* CiSnapshot::firstProbe(const Event& event, uint64_t& hash) const {
  if (!event.ci.empty()) {
    hash = detail::StringTable::hash(event.ci);
    return &ids_;
  }
  char buf[kMaxHostLength + 1];
  const std::string_view name = normalizeHost(event.host, buf);
  if (name.empty()) return nullptr;
  hash = detail::StringTable::hash(name);
  return &hosts_;
}

void CiSnapshot::bindAll(std::span<const Event> events, std::span<Binding> out) const {
  constexpr size_t kGroup = 16;  // enough misses in flight to hide memory latency
  const detail::StringTable* tables[kGroup];
  uint64_t hashes[kGroup];
  for (size_t base = 0; base < events.size(); base += kGroup) {
    const size_t n = std::min(kGroup, events.size() - base);
    for (size_t i = 0; i < n; ++i) {
      tables[i] = firstProbe(events[base + i], hashes[i]);
      if (tables[i] != nullptr) tables[i]->prefetchSlot(hashes[i]);
    }
    for (size_t i = 0; i < n; ++i) {
      if (tables[i] != nullptr) tables[i]->prefetchKey(hashes[i]);
    }
    for (size_t i = 0; i < n; ++i) out[base + i] = bind(events[base + i]);
  }
}

Binding CiSnapshot::bindHost(std::string_view host) const {
  char buf[kMaxHostLength + 1];
  const std::string_view name = normalizeHost(host, buf);
  if (name.empty()) return {};
  if (const uint32_t i = hosts_.find(name); i != kNoCi) return make(i, MatchKind::kHost);
  const bool ip_like = looksLikeIp(name);
  if (!ip_like) {
    const size_t dot = name.find('.');
    if (dot != std::string_view::npos) {
      // An FQDN whose first label is a short-name alias. Short-name aliases have no dot, so a
      // hit in hosts_ is one.
      if (const uint32_t i = hosts_.find(name.substr(0, dot)); i != kNoCi) {
        return make(i, MatchKind::kFqdn);
      }
    } else if (const uint32_t i = fqdn_short_.find(name); i != kNoCi) {
      return make(i, MatchKind::kShortName);  // kAmbiguous is out of range: binds nothing
    }
    return {};
  }
  IpAddress ip;
  if (!parseIp(name, ip)) return {};
  return bindIp(ip);
}

Binding CiSnapshot::bindIp(const IpAddress& ip) const {
  if (!ip.v6) {
    if (const uint32_t i = ip4_.find(ip.v4); i != kNoCi) return make(i, MatchKind::kIp);
    for (const Prefixes4& p : cidr4_) {
      if (const uint32_t i = p.table.find(maskV4(ip.v4, p.length)); i != kNoCi) {
        return make(i, MatchKind::kCidr);
      }
    }
    return {};
  }
  if (const uint32_t i = ip6_.find(ip.v6addr); i != kNoCi) return make(i, MatchKind::kIp);
  for (const Prefixes6& p : cidr6_) {
    if (const uint32_t i = p.table.find(maskV6(ip.v6addr, p.length)); i != kNoCi) {
      return make(i, MatchKind::kCidr);
    }
  }
  return {};
}

Binding CiSnapshot::bindLabels(const Labels& labels) const {
  for (size_t r = 0; r < label_rules_.size(); ++r) {
    bool all = true;
    for (const auto& [key, value] : label_rules_[r].match) {
      const std::string* v = labels.find(key);
      if (v == nullptr || *v != value) {
        all = false;
        break;
      }
    }
    if (all) return make(label_rule_ci_[r], MatchKind::kLabelRule);
  }
  return {};
}

const ConfigurationItem* CiSnapshot::find(std::string_view id) const {
  const uint32_t i = ids_.find(id);
  return i == kNoCi ? nullptr : &items_[i];
}

uint32_t CiSnapshot::indexOf(std::string_view id) const { return ids_.find(id); }

size_t CiSnapshot::indexMemoryBytes() const {
  size_t bytes = ids_.memoryBytes() + hosts_.memoryBytes() + fqdn_short_.memoryBytes() +
                 ip4_.memoryBytes() + ip6_.memoryBytes() + topology_.memoryBytes() +
                 services_.capacity() * 4;
  for (const auto& p : cidr4_) bytes += p.table.memoryBytes() + sizeof p;
  for (const auto& p : cidr6_) bytes += p.table.memoryBytes() + sizeof p;
  return bytes;
}

}  // namespace vigil::cmdb
