// Topology: the CMDB's graph. Edges are `depends_on` (A needs B: a server needs its access
// switch) and, for services, `members` (the CIs that deliver the service). The graph is checked
// acyclic when a snapshot is built, so every walk here terminates.
//
// The free functions answer the questions the pipeline asks by CI id; they return pointers into
// the snapshot, valid as long as the caller holds the snapshot's shared_ptr. Walks are
// breadth-first, so results come nearest first; an unknown id gives an empty answer.
// Thread-safety: immutable once built; every function is const and safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/cmdb/ci.h"

namespace vigil::cmdb {

class CiSnapshot;

// Compressed adjacency lists over CI indexes: the targets of node i are
// targets[offsets[i] .. offsets[i+1]), in the order the edges were given.
struct Csr {
  std::vector<uint32_t> offsets;
  std::vector<uint32_t> targets;

  std::span<const uint32_t> of(uint32_t i) const {
    return {targets.data() + offsets[i], targets.data() + offsets[i + 1]};
  }
  size_t memoryBytes() const { return (offsets.capacity() + targets.capacity()) * 4; }
  static Csr build(size_t nodes, const std::vector<std::pair<uint32_t, uint32_t>>& edges);
  Csr reversed(size_t nodes) const;
};

using Edges = std::vector<std::pair<uint32_t, uint32_t>>;  // (from, to) CI indexes

class Topology {
 public:
  // REQUIRES: every index < items.size(); the graph depends_on ∪ members is acyclic.
  static Topology build(const std::vector<ConfigurationItem>& items, const Edges& depends_on,
                        const Edges& members);

  std::span<const uint32_t> dependsOn(uint32_t i) const { return depends_on_.of(i); }
  std::span<const uint32_t> dependents(uint32_t i) const { return dependents_.of(i); }
  std::span<const uint32_t> members(uint32_t i) const { return members_.of(i); }
  std::span<const uint32_t> memberOf(uint32_t i) const { return member_of_.of(i); }
  // See topologyRoot().
  uint32_t root(uint32_t i) const { return root_[i]; }
  size_t memoryBytes() const;

 private:
  Csr depends_on_, dependents_, members_, member_of_;
  std::vector<uint32_t> root_;
};

// Cycles in depends_on ∪ members, each as the path of indexes with its first node repeated at
// the end (a → b → a). At most `limit` cycles; an acyclic graph gives none.
std::vector<std::vector<uint32_t>> findCycles(size_t nodes, const Csr& edges, size_t limit);

// What `id` needs, transitively (depends_on, nearest first; `id` itself excluded).
std::vector<const ConfigurationItem*> dependsOnClosure(const CiSnapshot& snapshot,
                                                       std::string_view id);

// Who needs `id`, transitively (reverse depends_on, nearest first; `id` itself excluded).
std::vector<const ConfigurationItem*> dependents(const CiSnapshot& snapshot, std::string_view id);

// The business services an incident on `id` affects: every service reached by walking up from
// `id` through reverse depends_on and reverse membership (a switch → the servers that depend on
// it → the services they are members of → services those services belong to). Includes `id`
// itself when it is a service. Nearest first.
std::vector<const ConfigurationItem*> impactedServices(const CiSnapshot& snapshot,
                                                       std::string_view id);
// The same for a CI of `snapshot` (as its binding gave it), without looking its id up.
std::vector<const ConfigurationItem*> impactedServices(const CiSnapshot& snapshot, const ConfigurationItem& ci);

// A stable representative of `id`'s dependency tree, for partitioning state so that a CI and
// everything it can be suppressed under land on the same shard: among the CIs without
// depends_on in `id`'s weakly connected depends_on component, the one with the smallest id
// (bytewise). Service membership does not join components. nullptr for an unknown id.
const ConfigurationItem* topologyRoot(const CiSnapshot& snapshot, std::string_view id);

// Topology suppression: the nearest CI that `id` (transitively) depends on for which
// `has_active_incident` is true, or nullopt. Ties at the same distance go to the edge listed
// first. `id` itself is not considered.
std::optional<CiId> failedAncestor(
    const CiSnapshot& snapshot, std::string_view id,
    const std::function<bool(const ConfigurationItem&)>& has_active_incident);
std::optional<CiId> failedAncestor(
    const CiSnapshot& snapshot, const ConfigurationItem& ci,
    const std::function<bool(const ConfigurationItem&)>& has_active_incident);

}  // namespace vigil::cmdb
