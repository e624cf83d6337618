// buildSnapshot(): validates a CI list as a whole and builds the binding index and topology.
#include <algorithm>
#include <atomic>

#include "daemon/cmdb/ci_index.h"

namespace vigil::cmdb {

namespace {

std::atomic<uint64_t> g_generation{0};

std::string where(const ConfigurationItem& ci, const Mark* mark) {
  if (!ci.origin) return "cmdb";
  const Mark m = (mark != nullptr && mark->line > 0) ? *mark : ci.origin->item;
  return ci.origin->file() + ":" + std::to_string(std::max(m.line, 1)) + ":" +
         std::to_string(std::max(m.column, 1));
}

const Mark* aliasMark(const ConfigurationItem& ci, size_t k) { return ci.origin ? ci.origin->alias(k) : nullptr; }
const Mark* dependsOnMark(const ConfigurationItem& ci, size_t k) {
  return ci.origin ? ci.origin->dependsOn(k) : nullptr;
}
const Mark* memberMark(const ConfigurationItem& ci, size_t k) { return ci.origin ? ci.origin->member(k) : nullptr; }

bool validHostName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return s.front() != '.' && s.find("..") == std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

}  // namespace

class SnapshotBuilder {
 public:
  SnapshotBuilder(std::vector<ConfigurationItem> cis, std::vector<LabelRule> rules)
      : snap_(std::make_shared<CiSnapshot>()) {
    snap_->items_ = std::move(cis);
    snap_->label_rules_ = std::move(rules);
  }

  Result<std::shared_ptr<const CiSnapshot>> build() {
    indexIds();
    resolveEdges();
    indexAliases();
    resolveLabelRules();
    checkCycles();  // over the edges that resolved
    if (!errors_.empty()) return fail(Status::invalidArgument(std::move(errors_)));
    CiSnapshot& s = *snap_;
    s.topology_ = Topology::build(s.items_, depends_, members_);
    s.cidr4_.erase(std::remove_if(s.cidr4_.begin(), s.cidr4_.end(),
                                  [](const auto& p) { return p.table.size() == 0; }),
                   s.cidr4_.end());
    s.cidr6_.erase(std::remove_if(s.cidr6_.begin(), s.cidr6_.end(),
                                  [](const auto& p) { return p.table.size() == 0; }),
                   s.cidr6_.end());
    s.ids_.shrinkArena();
    s.hosts_.shrinkArena();
    s.fqdn_short_.shrinkArena();
    s.generation_ = ++g_generation;
    return std::shared_ptr<const CiSnapshot>(std::move(snap_));
  }

 private:
  void error(const std::string& at, const std::string& message) {
    if (!errors_.empty()) errors_ += '\n';
    errors_ += at + ": " + message;
  }

  void indexIds() {
    CiSnapshot& s = *snap_;
    s.ids_.reserve(s.items_.size());
    for (uint32_t i = 0; i < s.items_.size(); ++i) {
      ConfigurationItem& ci = s.items_[i];
      const Mark* id_mark = ci.origin ? &ci.origin->id : nullptr;
      if (ci.id.empty()) {
        error(where(ci, id_mark), "CI without an id");
        continue;
      }
      if (ci.name == ci.id) ci.name = {};  // displayName() gives the id without a copy of it
      if (ci.criticality < kMostCritical || ci.criticality > kLeastCritical) {
        error(where(ci, nullptr), "CI '" + ci.id + "': criticality must be 1..5");
      }
      if (const uint32_t* first = s.ids_.insert(ci.id, i)) {
        const ConfigurationItem& other = s.items_[*first];
        error(where(ci, id_mark), "duplicate CI id '" + ci.id + "' (first defined at " +
                                      where(other, other.origin ? &other.origin->id : nullptr) +
                                      ")");
        continue;
      }
      if (ci.isService()) s.services_.push_back(i);
    }
  }

  void resolveEdges() {
    CiSnapshot& s = *snap_;
    for (uint32_t i = 0; i < s.items_.size(); ++i) {
      const ConfigurationItem& ci = s.items_[i];
      for (size_t k = 0; k < ci.depends_on.size(); ++k) {
        const uint32_t to = s.ids_.find(ci.depends_on[k]);
        const Mark* m = dependsOnMark(ci, k);
        if (to == CiSnapshot::kNoCi) {
          error(where(ci, m), "CI '" + ci.id + "' depends_on unknown CI '" + ci.depends_on[k] + "'");
        } else if (to == i) {
          error(where(ci, m), "CI '" + ci.id + "' depends on itself");
        } else {
          depends_.emplace_back(i, to);
        }
      }
      if (!ci.members.empty() && !ci.isService()) {
        error(where(ci, memberMark(ci, 0)),
              "CI '" + ci.id + "': members are only allowed on CIs of class service");
        continue;
      }
      for (size_t k = 0; k < ci.members.size(); ++k) {
        const uint32_t to = s.ids_.find(ci.members[k]);
        const Mark* m = memberMark(ci, k);
        if (to == CiSnapshot::kNoCi) {
          error(where(ci, m), "service '" + ci.id + "' has unknown member '" + ci.members[k] + "'");
        } else if (to == i) {
          error(where(ci, m), "service '" + ci.id + "' lists itself as a member");
        } else {
          members_.emplace_back(i, to);
        }
      }
    }
  }

  // Reports `alias` of CI i when `first` says another CI already claimed it.
  void ambiguous(uint32_t i, size_t k, const std::string& alias, const uint32_t* first) {
    if (first == nullptr || *first == i) return;
    const CiSnapshot& s = *snap_;
    const ConfigurationItem& ci = s.items_[i];
    const ConfigurationItem& other = s.items_[*first];
    error(where(ci, aliasMark(ci, k)),
          "alias '" + alias + "' of CI '" + ci.id + "' is already claimed by CI '" + other.id +
              "' (" + where(other, nullptr) + "); an alias must name exactly one CI");
  }

  void indexAliases() {
    CiSnapshot& s = *snap_;
    s.cidr4_.resize(33);
    s.cidr6_.resize(129);
    for (uint8_t l = 0; l <= 32; ++l) s.cidr4_[l].length = static_cast<uint8_t>(32 - l);
    for (uint8_t l = 0; l <= 128; ++l) s.cidr6_[l].length = static_cast<uint8_t>(128 - l);
    for (uint32_t i = 0; i < s.items_.size(); ++i) {
      const ConfigurationItem& ci = s.items_[i];
      for (size_t k = 0; k < ci.aliases.size(); ++k) indexAlias(i, k, ci.aliases[k]);
    }
  }

  void indexAlias(uint32_t i, size_t k, const std::string& alias) {
    CiSnapshot& s = *snap_;
    const ConfigurationItem& ci = s.items_[i];
    const std::string at = where(ci, aliasMark(ci, k));
    IpAddress ip;
    if (alias.find('/') != std::string::npos) {
      uint8_t len = 0;
      bool host_bits = false;
      if (!parseCidr(alias, ip, len, host_bits)) {
        error(at, "invalid CIDR '" + alias + "' in CI '" + ci.id + "'");
        return;
      }
      if (host_bits) {
        char buf[64];
        formatIp(ip, buf);
        error(at, "CIDR '" + alias + "' of CI '" + ci.id + "' has host bits set (did you mean " +
                      buf + "/" + std::to_string(len) + "?)");
        return;
      }
      ambiguous(i, k, alias,
                ip.v6 ? s.cidr6_[128 - len].table.insert(ip.v6addr, i)
                      : s.cidr4_[32 - len].table.insert(ip.v4, i));
      return;
    }
    if (parseIp(alias, ip)) {
      ambiguous(i, k, alias, ip.v6 ? s.ip6_.insert(ip.v6addr, i) : s.ip4_.insert(ip.v4, i));
      return;
    }
    if (!validHostName(alias)) {
      error(at, "invalid alias '" + alias + "' in CI '" + ci.id +
                    "' (expected a host name, FQDN, IP address or CIDR)");
      return;
    }
    const std::string key = lower(alias);
    ambiguous(i, k, alias, s.hosts_.insert(key, i));
    const size_t dot = key.find('.');
    if (dot != std::string::npos) {
      // A short name shared by FQDNs of different CIs is ambiguous: it binds nothing.
      if (uint32_t* first = s.fqdn_short_.insert(std::string_view(key).substr(0, dot), i)) {
        if (*first != i) *first = CiSnapshot::kAmbiguous;
      }
    }
  }

  void resolveLabelRules() {
    CiSnapshot& s = *snap_;
    for (const LabelRule& rule : s.label_rules_) {
      const uint32_t to = s.ids_.find(rule.ci);
      s.label_rule_ci_.push_back(to);
      if (to != CiSnapshot::kNoCi) continue;
      std::string at = "cmdb";
      if (rule.origin) {
        at = rule.origin->first + ":" + std::to_string(rule.origin->second.line) + ":" +
             std::to_string(rule.origin->second.column);
      }
      error(at, "label rule names unknown CI '" + rule.ci + "'");
    }
  }

  void checkCycles() {
    const CiSnapshot& s = *snap_;
    Edges all = depends_;
    all.insert(all.end(), members_.begin(), members_.end());
    const Csr graph = Csr::build(s.items_.size(), all);
    for (const auto& cycle : findCycles(s.items_.size(), graph, 10)) {
      std::string path;
      for (uint32_t n : cycle) path += (path.empty() ? "" : " -> ") + s.items_[n].id;
      error(edgeWhere(cycle[0], cycle[1]), "dependency cycle: " + path);
    }
  }

  // The position of the depends_on or members entry from → to.
  std::string edgeWhere(uint32_t from, uint32_t to) const {
    const ConfigurationItem& ci = snap_->items_[from];
    const std::string& to_id = snap_->items_[to].id;
    for (size_t k = 0; k < ci.depends_on.size(); ++k) {
      if (ci.depends_on[k] == to_id) return where(ci, dependsOnMark(ci, k));
    }
    for (size_t k = 0; k < ci.members.size(); ++k) {
      if (ci.members[k] == to_id) return where(ci, memberMark(ci, k));
    }
    return where(ci, nullptr);
  }

  std::shared_ptr<CiSnapshot> snap_;
  Edges depends_;
  Edges members_;
  std::string errors_;
};

Result<std::shared_ptr<const CiSnapshot>> buildSnapshot(std::vector<ConfigurationItem> cis,
                                                        std::vector<LabelRule> label_rules) {
  return SnapshotBuilder(std::move(cis), std::move(label_rules)).build();
}

}  // namespace vigil::cmdb
