#include "daemon/cmdb/ci_index.h"

#include <algorithm>
#include <cstring>

namespace vigil::cmdb {

namespace {

constexpr size_t kMaxHostLength = 255;

// Drops one trailing dot; empty when `host` cannot be a host name.
std::string_view trimHost(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.size() > kMaxHostLength) return {};
  return host;
}

// ASCII-lowercases a trimmed host name into `buf`.
std::string_view lowerInto(std::string_view host, char (&buf)[kMaxHostLength + 1]) {
  size_t i = 0;
  for (; i + 8 <= host.size(); i += 8) {
    const uint64_t w = detail::lowerWord(detail::load64(host.data() + i));
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
  return bindWithoutId(event);
}

Binding CiSnapshot::bindWithoutId(const Event& event) const {
  if (!event.host.empty()) {
    if (Binding b = bindHost(event.host)) return b;
  }
  if (!label_rules_.empty() && !event.labels.empty()) return bindLabels(event.labels);
  return {};
}

const detail::StringTable* CiSnapshot::firstProbe(const Event& event,
                                                  detail::HashedKey& key) const {
  if (!event.ci.empty()) {
    key = detail::hashed(event.ci);
    return &ids_;
  }
  const std::string_view host = trimHost(event.host);
  if (host.empty()) return nullptr;
  key = detail::hashedLowercase(host);
  return &hosts_;
}

void CiSnapshot::bindAll(std::span<const Event> events, std::span<Binding> out) const {
  // A software pipeline over groups: hash every key and prefetch its slot, then (slots cached)
  // prefetch the arena key each slot points at, then compare. The misses of a group overlap
  // instead of queueing behind each other.
  constexpr size_t kGroup = 16;
  const detail::StringTable* tables[kGroup];
  detail::HashedKey keys[kGroup];
  for (size_t base = 0; base < events.size(); base += kGroup) {
    const size_t n = std::min(kGroup, events.size() - base);
    for (size_t i = 0; i < n; ++i) {
      tables[i] = firstProbe(events[base + i], keys[i]);
      if (tables[i] != nullptr) tables[i]->prefetchSlot(keys[i].hash);
    }
    for (size_t i = 0; i < n; ++i) {
      if (tables[i] != nullptr) tables[i]->prefetchKey(keys[i].hash);
    }
    for (size_t i = 0; i < n; ++i) {
      const Event& event = events[base + i];
      const uint32_t found = tables[i] != nullptr ? tables[i]->find(keys[i]) : kNoCi;
      if (found != kNoCi) {
        out[base + i] = make(found, tables[i] == &ids_ ? MatchKind::kExplicitCi : MatchKind::kHost);
      } else {
        out[base + i] = tables[i] == &ids_ ? bindWithoutId(event) : bind(event);
      }
    }
  }
}

Binding CiSnapshot::bindHost(std::string_view host) const {
  const std::string_view trimmed = trimHost(host);
  if (trimmed.empty()) return {};
  // The common case first: an exact host name, hashed and compared case-folded without a copy.
  if (const uint32_t i = hosts_.find(detail::hashedLowercase(trimmed)); i != kNoCi) {
    return make(i, MatchKind::kHost);
  }
  return bindHostAfterExact(trimmed);
}

Binding CiSnapshot::bindHostAfterExact(std::string_view trimmed) const {
  char buf[kMaxHostLength + 1];
  const std::string_view name = lowerInto(trimmed, buf);
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
