// KeyIndex: each active incident's dedup key → its slot in the engine's map of active incidents,
// for one partition. Every rule-matched event looks its key up here.
// Open addressing with linear probing over (hash, slot) pairs, at most half full: a key that is
// not there costs one cache line, and one that is costs the incident it is then applied to (its
// key is compared there). std::unordered_map cost a bucket, the node before and the node, each a
// miss, and then the map of active incidents by id.
// Thread-safety: none; the correlator thread's, like the engine.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "daemon/incidents/incident.h"

namespace vigil::incidents {

class KeyIndex {
 public:
  using Slot = std::shared_ptr<Incident>;  // a slot must stay where it is while indexed

  // The slot whose incident has `key`; null when none.
  Slot* find(std::string_view key) const;
  // Indexes `slot` under its incident's key, replacing the slot that had it.
  void insert(Slot* slot);
  // Removes `key` if it is the incident `id`'s; false when the key is absent or another's.
  bool erase(std::string_view key, IncidentId id);
  size_t size() const { return size_; }

 private:
  struct Entry {
    uint64_t hash = 0;
    Slot* slot = nullptr;  // null: empty
  };
  static uint64_t hashOf(std::string_view key);
  // The position of `key`'s entry, or of the empty entry where its probe ends.
  size_t probe(std::string_view key, uint64_t hash) const;
  void grow();

  std::vector<Entry> entries_;  // a power of two long, or empty
  size_t size_ = 0;
};

}  // namespace vigil::incidents
