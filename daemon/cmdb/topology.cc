#include "daemon/cmdb/topology.h"

#include <algorithm>
#include <numeric>
#include <unordered_set>

#include "daemon/cmdb/ci_index.h"

namespace vigil::cmdb {

namespace {

constexpr uint32_t kNone = UINT32_MAX;

uint32_t findRoot(std::vector<uint32_t>& parent, uint32_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

// The nodes a walk has reached. Walks are usually a handful of nodes in a CMDB of millions, so
// this costs what the walk visits, not what the CMDB holds: a scan while small, then a hash set.
class Seen {
 public:
  // True when `n` was not seen before (and marks it).
  bool add(uint32_t n) {
    if (set_.empty()) {
      if (std::find(small_.begin(), small_.end(), n) != small_.end()) return false;
      small_.push_back(n);
      if (small_.size() > 32) set_.insert(small_.begin(), small_.end());
      return true;
    }
    return set_.insert(n).second;
  }

 private:
  std::vector<uint32_t> small_;
  std::unordered_set<uint32_t> set_;
};

// Breadth-first from `start` over `next(i)`; visits each reached node once (start excluded)
// until `visit` returns false.
template <typename Next, typename Visit>
void walk(uint32_t start, Next&& next, Visit&& visit) {
  if (next(start).empty()) return;  // most CIs: nothing to allocate for
  Seen seen;
  std::vector<uint32_t> queue{start};
  seen.add(start);
  for (size_t head = 0; head < queue.size(); ++head) {
    for (uint32_t n : next(queue[head])) {
      if (!seen.add(n)) continue;
      if (!visit(n)) return;
      queue.push_back(n);
    }
  }
}

}  // namespace

Csr Csr::build(size_t nodes, const std::vector<std::pair<uint32_t, uint32_t>>& edges) {
  Csr csr;
  csr.offsets.assign(nodes + 1, 0);
  for (const auto& e : edges) ++csr.offsets[e.first + 1];
  std::partial_sum(csr.offsets.begin(), csr.offsets.end(), csr.offsets.begin());
  csr.targets.resize(edges.size());
  std::vector<uint32_t> fill(csr.offsets.begin(), csr.offsets.end() - 1);
  for (const auto& e : edges) csr.targets[fill[e.first]++] = e.second;
  return csr;
}

Csr Csr::reversed(size_t nodes) const {
  std::vector<std::pair<uint32_t, uint32_t>> edges;
  edges.reserve(targets.size());
  for (uint32_t i = 0; i < nodes; ++i) {
    for (uint32_t t : of(i)) edges.emplace_back(t, i);
  }
  return build(nodes, edges);
}

Topology Topology::build(const std::vector<ConfigurationItem>& items, const Edges& depends_on,
                         const Edges& members) {
  const size_t n = items.size();
  Topology t;
  t.depends_on_ = Csr::build(n, depends_on);
  t.dependents_ = t.depends_on_.reversed(n);
  t.members_ = Csr::build(n, members);
  t.member_of_ = t.members_.reversed(n);

  // Weakly connected components of depends_on; each one's root is its smallest-id CI without
  // depends_on (there is one: the graph is acyclic).
  std::vector<uint32_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  for (const auto& [from, to] : depends_on) {
    const uint32_t a = findRoot(parent, from);
    const uint32_t b = findRoot(parent, to);
    if (a != b) parent[a] = b;
  }
  std::vector<uint32_t> best(n, kNone);
  for (uint32_t i = 0; i < n; ++i) {
    if (!t.depends_on_.of(i).empty()) continue;
    uint32_t& b = best[findRoot(parent, i)];
    if (b == kNone || items[i].id < items[b].id) b = i;
  }
  t.root_.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t b = best[findRoot(parent, i)];
    t.root_[i] = b == kNone ? i : b;
  }
  return t;
}

size_t Topology::memoryBytes() const {
  return depends_on_.memoryBytes() + dependents_.memoryBytes() + members_.memoryBytes() +
         member_of_.memoryBytes() + root_.capacity() * 4;
}

std::vector<std::vector<uint32_t>> findCycles(size_t nodes, const Csr& edges, size_t limit) {
  // Iterative DFS with colours; a grey target is a back edge, i.e. a cycle along the stack.
  enum : uint8_t { kWhite, kGrey, kBlack };
  std::vector<uint8_t> colour(nodes, kWhite);
  std::vector<std::pair<uint32_t, uint32_t>> stack;  // node, next edge offset
  std::vector<std::vector<uint32_t>> cycles;
  for (uint32_t start = 0; start < nodes && cycles.size() < limit; ++start) {
    if (colour[start] != kWhite) continue;
    stack.emplace_back(start, 0);
    colour[start] = kGrey;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      const auto out = edges.of(node);
      if (next == out.size()) {
        colour[node] = kBlack;
        stack.pop_back();
        continue;
      }
      const uint32_t to = out[next++];
      if (colour[to] == kWhite) {
        colour[to] = kGrey;
        stack.emplace_back(to, 0);
      } else if (colour[to] == kGrey && cycles.size() < limit) {
        std::vector<uint32_t> cycle;
        auto it = std::find_if(stack.begin(), stack.end(), [to](const auto& f) { return f.first == to; });
        for (; it != stack.end(); ++it) cycle.push_back(it->first);
        cycle.push_back(to);
        cycles.push_back(std::move(cycle));
      }
    }
  }
  return cycles;
}

std::vector<const ConfigurationItem*> dependsOnClosure(const CiSnapshot& snapshot,
                                                       std::string_view id) {
  std::vector<const ConfigurationItem*> out;
  const uint32_t start = snapshot.indexOf(id);
  if (start == CiSnapshot::kNoCi) return out;
  const Topology& t = snapshot.topology();
  walk(start, [&](uint32_t i) { return t.dependsOn(i); },
       [&](uint32_t i) {
         out.push_back(&snapshot.at(i));
         return true;
       });
  return out;
}

std::vector<const ConfigurationItem*> dependents(const CiSnapshot& snapshot, std::string_view id) {
  std::vector<const ConfigurationItem*> out;
  const uint32_t start = snapshot.indexOf(id);
  if (start == CiSnapshot::kNoCi) return out;
  const Topology& t = snapshot.topology();
  walk(start, [&](uint32_t i) { return t.dependents(i); },
       [&](uint32_t i) {
         out.push_back(&snapshot.at(i));
         return true;
       });
  return out;
}

std::vector<const ConfigurationItem*> impactedServices(const CiSnapshot& snapshot,
                                                       std::string_view id) {
  const uint32_t start = snapshot.indexOf(id);
  if (start == CiSnapshot::kNoCi) return {};
  return impactedServices(snapshot, snapshot.at(start));
}

std::vector<const ConfigurationItem*> impactedServices(const CiSnapshot& snapshot, const ConfigurationItem& ci) {
  std::vector<const ConfigurationItem*> out;
  const uint32_t start = snapshot.indexOf(ci);
  if (start == CiSnapshot::kNoCi) return out;
  if (ci.isService()) out.push_back(&ci);
  const Topology& t = snapshot.topology();
  std::vector<uint32_t> up;  // reused: dependents then memberships of one node
  walk(start,
       [&](uint32_t i) {
         up.assign(t.dependents(i).begin(), t.dependents(i).end());
         up.insert(up.end(), t.memberOf(i).begin(), t.memberOf(i).end());
         return std::span<const uint32_t>(up);
       },
       [&](uint32_t i) {
         if (snapshot.at(i).isService()) out.push_back(&snapshot.at(i));
         return true;
       });
  return out;
}

const ConfigurationItem* topologyRoot(const CiSnapshot& snapshot, std::string_view id) {
  const uint32_t i = snapshot.indexOf(id);
  return i == CiSnapshot::kNoCi ? nullptr : &snapshot.at(snapshot.topology().root(i));
}

std::optional<CiId> failedAncestor(
    const CiSnapshot& snapshot, std::string_view id,
    const std::function<bool(const ConfigurationItem&)>& has_active_incident) {
  const uint32_t start = snapshot.indexOf(id);
  if (start == CiSnapshot::kNoCi) return std::nullopt;
  return failedAncestor(snapshot, snapshot.at(start), has_active_incident);
}

std::optional<CiId> failedAncestor(
    const CiSnapshot& snapshot, const ConfigurationItem& ci,
    const std::function<bool(const ConfigurationItem&)>& has_active_incident) {
  const uint32_t start = snapshot.indexOf(ci);
  if (start == CiSnapshot::kNoCi) return std::nullopt;
  const Topology& t = snapshot.topology();
  std::optional<CiId> found;
  walk(start, [&](uint32_t i) { return t.dependsOn(i); },
       [&](uint32_t i) {
         if (!has_active_incident(snapshot.at(i))) return true;
         found = snapshot.at(i).id;
         return false;
       });
  return found;
}

}  // namespace vigil::cmdb
