// CiSnapshot: the whole CMDB as one immutable value: the CIs, the binding index that finds an
// event's CI, and the topology. A reload builds a new snapshot to the side and swaps the
// shared_ptr (CmdbRegistry, cmdb_registry.h); readers keep the one they hold.
//
// Binding precedence (first that matches wins; see docs/cmdb.md):
//   1. explicit_ci  Event::ci names a CI id (exact, case-sensitive). An unknown id falls through.
//   2. host         Event::host equals a host-name alias (case-insensitive, trailing dot ignored)
//   3. fqdn         Event::host is an FQDN whose first label is a short-name alias
//                   ("sw1.par1.example.net" → CI with alias "sw1")
//      short_name   Event::host is a short name that is the first label of exactly one CI's FQDN
//                   alias ("sw1" → CI with alias "sw1.par1.example.net"); a short name shared by
//                   FQDNs of different CIs binds nothing
//   4. ip           Event::host is an IP address listed as an alias
//   5. cidr         Event::host is an IP address inside an aliased prefix (longest prefix wins)
//   6. label_rule   the first label rule whose labels all equal the event's
//
// bind() never allocates: a host name is hashed and compared case-folded in place, lowercased
// into a stack buffer only for the steps after the exact host name; the tables are flat hash
// tables (flat_index.h); CIDRs use one table per prefix length present, longest first.
// Thread-safety: immutable; every method is const and safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/cmdb/address.h"
#include "daemon/cmdb/ci.h"
#include "daemon/cmdb/flat_index.h"
#include "daemon/cmdb/topology.h"
#include "daemon/event.h"
#include "daemon/status.h"

namespace vigil::cmdb {

enum class MatchKind : uint8_t {
  kNone,
  kExplicitCi,
  kHost,
  kFqdn,
  kShortName,
  kIp,
  kCidr,
  kLabelRule,
};
inline constexpr size_t kMatchKindCount = static_cast<size_t>(MatchKind::kLabelRule) + 1;
// "none", "explicit_ci", "host", "fqdn", "short_name", "ip", "cidr", "label_rule".
std::string_view matchKindName(MatchKind kind);

struct Binding {
  const ConfigurationItem* ci = nullptr;  // into the snapshot; nullptr when unbound
  MatchKind kind = MatchKind::kNone;
  explicit operator bool() const { return ci != nullptr; }
};

// `labels.site == par1 and labels.rack == R12 → ci X`: every pair must equal the event's label.
struct LabelRule {
  std::vector<std::pair<std::string, std::string>> match;
  CiId ci;
  std::optional<std::pair<std::string, Mark>> origin;  // file and position, for errors
};

class CiSnapshot {
 public:
  static constexpr uint32_t kNoCi = detail::kNoValue;

  // A snapshot without CIs: everything binds to nothing. Shared, never null.
  static std::shared_ptr<const CiSnapshot> empty();

  Binding bind(const Event& event) const;
  // bind() for a batch, out[i] = bind(events[i]): the same answers, but the index memory of a
  // group of events is prefetched before any of them is looked up, so cache misses overlap
  // instead of queueing. Use this on the correlator's batches. REQUIRES: out.size() >= events.size().
  void bindAll(std::span<const Event> events, std::span<Binding> out) const;
  // Steps 2–5 only, for a bare host name or address.
  Binding bindHost(std::string_view host) const;

  const ConfigurationItem* find(std::string_view id) const;
  uint32_t indexOf(std::string_view id) const;  // kNoCi when unknown
  // The index of a CI of this snapshot (from its binding) without looking its id up; kNoCi for
  // one that is not this snapshot's.
  uint32_t indexOf(const ConfigurationItem& ci) const {
    const ConfigurationItem* first = items_.data();
    if (std::less<>{}(&ci, first) || !std::less<>{}(&ci, first + items_.size())) return kNoCi;
    return static_cast<uint32_t>(&ci - first);
  }
  const ConfigurationItem& at(uint32_t index) const { return items_[index]; }
  std::span<const ConfigurationItem> items() const { return items_; }
  // Indexes of the CIs of class service, in load order.
  std::span<const uint32_t> services() const { return services_; }
  std::span<const LabelRule> labelRules() const { return label_rules_; }
  const Topology& topology() const { return topology_; }
  size_t size() const { return items_.size(); }

  // Bytes held by the binding index and topology (excluding the CIs themselves).
  size_t indexMemoryBytes() const;
  // Increases with every snapshot built in this process; tells a reloaded CMDB apart.
  uint64_t generation() const { return generation_; }

 private:
  friend class SnapshotBuilder;
  struct Prefixes4 {
    uint8_t length;
    detail::KeyTable<uint32_t> table;
  };
  struct Prefixes6 {
    uint8_t length;
    detail::KeyTable<Ip6> table;
  };
  static constexpr uint32_t kAmbiguous = detail::kNoValue - 1;

  Binding bindIp(const IpAddress& ip) const;
  // The table and key bind() will probe first for `event` (nullptr: nothing to prefetch).
  const detail::StringTable* firstProbe(const Event& event, detail::HashedKey& key) const;
  Binding bindWithoutId(const Event& event) const;  // bind() from step 2 on
  // bindHost() after the exact host name missed; out of line so that the common case needs no
  // stack buffer.
  [[gnu::noinline]] Binding bindHostAfterExact(std::string_view trimmed) const;
  Binding bindLabels(const Labels& labels) const;
  Binding make(uint32_t index, MatchKind kind) const {
    return index < items_.size() ? Binding{&items_[index], kind} : Binding{};
  }

  std::vector<ConfigurationItem> items_;
  std::vector<uint32_t> services_;
  std::vector<LabelRule> label_rules_;
  std::vector<uint32_t> label_rule_ci_;  // parallel to label_rules_
  detail::StringTable ids_;              // id → index
  detail::StringTable hosts_;            // lowercased host-name alias → index
  detail::StringTable fqdn_short_;       // first label of FQDN aliases → index or kAmbiguous
  detail::KeyTable<uint32_t> ip4_;
  detail::KeyTable<Ip6> ip6_;
  std::vector<Prefixes4> cidr4_;  // longest prefix first
  std::vector<Prefixes6> cidr6_;
  Topology topology_;
  uint64_t generation_ = 0;
};

// Validates `cis` as a whole and indexes them: duplicate or empty ids, edges to unknown CIs,
// `members` on a non-service, malformed aliases, an alias (host name, IP or CIDR) claimed by two
// CIs, label rules naming unknown CIs, and dependency cycles (reported with their path) are
// errors. Every error is collected; one InvalidArgument status lists them one per line, as
// `file:line:col: message` when the CI has an origin (YAML), else `cmdb: message`.
// Usable by any feed (YAML files, a Kafka CMDB topic).
Result<std::shared_ptr<const CiSnapshot>> buildSnapshot(std::vector<ConfigurationItem> cis,
                                                        std::vector<LabelRule> label_rules = {});

}  // namespace vigil::cmdb
