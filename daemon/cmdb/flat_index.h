// Open-addressing hash tables behind the CMDB's binding index: filled once while a snapshot is
// built, then only read. Linear probing over a power-of-two array of small slots, so a lookup
// is one hash, usually one slot and one key comparison, and never allocates.
// Thread-safety: insert() while building only; find() is const and safe from any thread.
#pragma once

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::cmdb::detail {

// Allocates blocks of 2 MiB and more on 2 MiB boundaries and asks for transparent huge pages
// (THP is usually in `madvise` mode). A random probe into a table of tens of MB otherwise costs
// a TLB miss on top of the cache miss, which on a VM (nested page walk) doubles lookup time.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHuge = size_t{2} << 20;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: allocators convert implicitly

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHuge) return static_cast<T*>(::operator new(bytes));
    const size_t rounded = (bytes + kHuge - 1) & ~(kHuge - 1);
    void* p = std::aligned_alloc(kHuge, rounded);
    if (p == nullptr) throw std::bad_alloc();
    ::madvise(p, rounded, MADV_HUGEPAGE);  // advisory: failure only costs speed
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHuge) {
      ::operator delete(p);
    } else {
      std::free(p);
    }
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using BigVector = std::vector<T, HugePageAllocator<T>>;

inline constexpr uint32_t kNoValue = UINT32_MAX;  // find(): not present; also marks empty slots

inline uint64_t mix64(uint64_t h) {  // murmur3's finalizer
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

inline uint64_t hashBytes(const char* p, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xbf58476d1ce4e5b9ull);
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * 0x94d049bb133111ebull;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  return mix64(h ^ tail);
}

inline size_t tableCapacity(size_t entries) {
  size_t cap = 16;
  while (cap * 5 < entries * 8) cap <<= 1;  // load factor <= 0.625
  return cap;
}

// string → uint32, keys copied into one arena. Keys are compared byte for byte: callers
// normalise (lowercase) before inserting and before looking up.
class StringTable {
 public:
  void reserve(size_t entries) {
    if (tableCapacity(entries) > slots_.size()) rehash(tableCapacity(entries));
  }
  // Inserts key → value, or returns a pointer to the value already stored under key.
  uint32_t* insert(std::string_view key, uint32_t value) {
    if ((size_ + 1) * 8 > slots_.size() * 5) rehash(tableCapacity(size_ + 1));
    const uint64_t h = hashBytes(key.data(), key.size());
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.value == kNoValue) {
        s = {static_cast<uint32_t>(h >> 32), value, static_cast<uint32_t>(arena_.size()),
             static_cast<uint32_t>(key.size())};
        arena_.insert(arena_.end(), key.begin(), key.end());
        ++size_;
        return nullptr;
      }
      if (s.tag == static_cast<uint32_t>(h >> 32) && keyOf(s) == key) return &s.value;
    }
  }
  uint32_t find(std::string_view key) const {
    if (size_ == 0) return kNoValue;
    const uint64_t h = hashBytes(key.data(), key.size());
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kNoValue) return kNoValue;
      if (s.tag == tag && s.length == key.size() &&
          std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0) {
        return s.value;
      }
    }
  }
  // Batch lookups (CiSnapshot::bindAll): prefetchSlot(h) pulls the home slot of a key with hash
  // h into cache, prefetchKey(h) then (with the slot cached) the arena bytes of the first entry
  // with a matching tag. Hints only: find() is still what answers.
  void prefetchSlot(uint64_t h) const {
    if (size_ != 0) __builtin_prefetch(&slots_[h & mask_]);
  }
  void prefetchKey(uint64_t h) const {
    if (size_ == 0) return;
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kNoValue) return;
      if (s.tag == tag) {
        __builtin_prefetch(arena_.data() + s.offset);
        return;
      }
    }
  }
  static uint64_t hash(std::string_view key) { return hashBytes(key.data(), key.size()); }

  // Visits every entry (build time only).
  template <typename F>
  void forEach(F&& f) {
    for (Slot& s : slots_) {
      if (s.value != kNoValue) f(keyOf(s), s.value);
    }
  }
  size_t size() const { return size_; }
  size_t memoryBytes() const { return slots_.capacity() * sizeof(Slot) + arena_.capacity(); }
  void shrinkArena() { arena_.shrink_to_fit(); }

 private:
  struct Slot {
    uint32_t tag = 0;  // high half of the hash, checked before the key
    uint32_t value = kNoValue;
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  std::string_view keyOf(const Slot& s) const { return {arena_.data() + s.offset, s.length}; }
  void rehash(size_t capacity) {
    BigVector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (s.value == kNoValue) continue;
      const uint64_t h = hashBytes(arena_.data() + s.offset, s.length);
      size_t i = h & mask_;
      while (slots_[i].value != kNoValue) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  BigVector<Slot> slots_;
  BigVector<char> arena_;
  size_t size_ = 0;
  size_t mask_ = 0;
};

inline uint64_t hashKey(uint32_t key) { return mix64(key); }

// Fixed-size key (uint32_t for IPv4, Ip6 for IPv6) → uint32. Key needs `==` and a hashKey(key) found here or by ADL.
template <typename Key>
class KeyTable {
 public:
  uint32_t* insert(const Key& key, uint32_t value) {
    if ((size_ + 1) * 8 > slots_.size() * 5) rehash(tableCapacity(size_ + 1));
    for (size_t i = hashKey(key) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.value == kNoValue) {
        s = {key, value};
        ++size_;
        return nullptr;
      }
      if (s.key == key) return &s.value;
    }
  }
  uint32_t find(const Key& key) const {
    if (size_ == 0) return kNoValue;
    for (size_t i = hashKey(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kNoValue) return kNoValue;
      if (s.key == key) return s.value;
    }
  }
  size_t size() const { return size_; }
  size_t memoryBytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    Key key{};
    uint32_t value = kNoValue;
  };
  void rehash(size_t capacity) {
    BigVector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (s.value == kNoValue) continue;
      size_t i = hashKey(s.key) & mask_;
      while (slots_[i].value != kNoValue) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  BigVector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
};

}  // namespace vigil::cmdb::detail
