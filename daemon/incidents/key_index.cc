#include "daemon/incidents/key_index.h"

#include <functional>
#include <utility>

namespace vigil::incidents {

uint64_t KeyIndex::hashOf(std::string_view key) { return std::hash<std::string_view>{}(key); }

size_t KeyIndex::probe(std::string_view key, uint64_t hash) const {
  const size_t mask = entries_.size() - 1;
  size_t i = hash & mask;
  while (entries_[i].slot != nullptr && (entries_[i].hash != hash || (*entries_[i].slot)->key != key)) {
    i = (i + 1) & mask;
  }
  return i;
}

KeyIndex::Slot* KeyIndex::find(std::string_view key) const {
  if (size_ == 0) return nullptr;
  return entries_[probe(key, hashOf(key))].slot;
}

void KeyIndex::insert(Slot* slot) {
  if ((size_ + 1) * 2 > entries_.size()) grow();
  const uint64_t hash = hashOf((*slot)->key);
  Entry& e = entries_[probe((*slot)->key, hash)];
  if (e.slot == nullptr) ++size_;
  e = {hash, slot};
}

bool KeyIndex::erase(std::string_view key, IncidentId id) {
  if (size_ == 0) return false;
  size_t hole = probe(key, hashOf(key));
  if (entries_[hole].slot == nullptr || (*entries_[hole].slot)->id != id) return false;
  // Backward-shift deletion: each later entry of the run moves into the hole unless that would
  // put it before its home position, so every probe still reaches its key without tombstones.
  const size_t mask = entries_.size() - 1;
  for (size_t j = (hole + 1) & mask; entries_[j].slot != nullptr; j = (j + 1) & mask) {
    const size_t home = entries_[j].hash & mask;
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      entries_[hole] = entries_[j];
      hole = j;
    }
  }
  entries_[hole] = {};
  --size_;
  return true;
}

void KeyIndex::grow() {
  std::vector<Entry> old = std::exchange(entries_, std::vector<Entry>(std::max<size_t>(16, entries_.size() * 2)));
  const size_t mask = entries_.size() - 1;
  for (const Entry& e : old) {
    if (e.slot == nullptr) continue;
    size_t i = e.hash & mask;
    while (entries_[i].slot != nullptr) i = (i + 1) & mask;
    entries_[i] = e;
  }
}

}  // namespace vigil::incidents
