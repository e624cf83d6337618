// Open-addressing hash tables behind the CMDB's binding index: filled once while a snapshot is
// built, then only read. Linear probing over a power-of-two array of small slots, so a lookup
// is one hash, usually one slot and one key comparison, and never allocates.
// Thread-safety: insert() while building only; find() is const and safe from any thread.
#pragma once

#include <sys/mman.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::cmdb::detail {

// Allocates blocks of 2 MiB and more on 2 MiB boundaries and asks for transparent huge pages
// (THP is usually in `madvise` mode). Smaller blocks are aligned to a cache line. A random probe into a table of tens of MB otherwise costs
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
    if (bytes < kHuge) return static_cast<T*>(::operator new(bytes, std::align_val_t{64}));
    const size_t rounded = (bytes + kHuge - 1) & ~(kHuge - 1);
    void* p = std::aligned_alloc(kHuge, rounded);
    if (p == nullptr) throw std::bad_alloc();
    ::madvise(p, rounded, MADV_HUGEPAGE);  // advisory: failure only costs speed
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHuge) {
      ::operator delete(p, std::align_val_t{64});
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

// The 128-bit product folded to 64 bits (wyhash's mixing step): one multiply mixes 16 bytes.
__extension__ using Uint128 = unsigned __int128;  // GCC/Clang; __extension__ for -Wpedantic
inline uint64_t mum(uint64_t a, uint64_t b) {
  const Uint128 r = static_cast<Uint128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// ASCII-lowercases 8 bytes at once: sets 0x20 in every byte within 'A'..'Z' (bytes >= 0x80
// are left alone).
inline uint64_t lowerWord(uint64_t w) {
  constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const uint64_t b = w & kLow7;
  const uint64_t at_least_a = b + 0x3f3f3f3f3f3f3f3full;  // high bit: byte >= 'A'
  const uint64_t above_z = b + 0x2525252525252525ull;     // high bit: byte > 'Z'
  const uint64_t upper = at_least_a & ~above_z & ~w & kHigh;
  return w | (upper >> 2);
}

inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Keys are hashed and compared in chunks that never read a byte outside the key and need no
// memcpy/memcmp of variable length. For a key of n bytes the chunks are:
//   n >= 16: 16 bytes at 0, 16, 32, ... while more than 16 bytes follow, then the last 16;
//   8..15:   8 bytes at 0 and at n - 8;  4..7: 4 bytes at 0 and at n - 4;
//   1..3:    the bytes at 0, n / 2 and n - 1.
// They overlap but, with n, determine the key. kFoldCase reads each chunk ASCII-lowercased, so
// a host name is hashed and compared as its lowercase form without being copied first.
struct Chunk16 {
  uint64_t lo, hi;
};
template <bool kFoldCase>
inline Chunk16 loadChunk16(const char* p) {
  if constexpr (!kFoldCase) {
    return {load64(p), load64(p + 8)};
  } else {
#if defined(__SSE2__)
    // 'A'..'Z' + 0x3f is 0x80..0x99, the only bytes below -0x66 as signed: those get 0x20.
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i upper =
        _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x3f)), _mm_set1_epi8(-0x66));
    const __m128i lowered = _mm_or_si128(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
    return {static_cast<uint64_t>(_mm_cvtsi128_si64(lowered)),
            static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(lowered, lowered)))};
#else
    return {lowerWord(load64(p)), lowerWord(load64(p + 8))};
#endif
  }
}
// A key shorter than 16 bytes as two words (see above).
template <bool kFoldCase>
inline Chunk16 loadShort(const char* p, size_t n) {
  Chunk16 c;
  if (n >= 8) {
    c = {load64(p), load64(p + n - 8)};
  } else if (n >= 4) {
    c = {load32(p), load32(p + n - 4)};
  } else if (n > 0) {
    c = {uint64_t{static_cast<uint8_t>(p[0])} | uint64_t{static_cast<uint8_t>(p[n / 2])} << 8 |
             uint64_t{static_cast<uint8_t>(p[n - 1])} << 16,
         0};
  } else {
    c = {0, 0};
  }
  if constexpr (kFoldCase) c = {lowerWord(c.lo), lowerWord(c.hi)};
  return c;
}

// Hash of the n bytes at p (with kFoldCase: of their ASCII-lowercase form), so
// hashString<true>(k) == hashString<false>(lower(k)).
template <bool kFoldCase = false>
[[gnu::always_inline]] inline uint64_t hashString(const char* p, size_t n) {
  constexpr uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                     k2 = 0x8ebc6af09c88c6e3ull;
  uint64_t h = k0 ^ n;
  if (n >= 16) {
    for (size_t i = 0; i + 16 < n; i += 16) {
      const Chunk16 c = loadChunk16<kFoldCase>(p + i);
      h = mum(c.lo ^ k1, c.hi ^ h);
    }
    const Chunk16 c = loadChunk16<kFoldCase>(p + n - 16);
    h = mum(c.lo ^ k1, c.hi ^ h);
  } else {
    const Chunk16 c = loadShort<kFoldCase>(p, n);
    h = mum(c.lo ^ k1, c.hi ^ h);
  }
  return mum(h ^ k2, n ^ k1);
}

// stored[0, n) == query[0, n) (with kFoldCase: == the query's ASCII-lowercase form).
template <bool kFoldCase = false>
[[gnu::always_inline]] inline bool equalKeys(const char* stored, const char* query, size_t n) {
  if (n >= 16) {
    uint64_t diff = 0;
    for (size_t i = 0; i + 16 < n; i += 16) {
      const Chunk16 q = loadChunk16<kFoldCase>(query + i);
      diff |= (load64(stored + i) ^ q.lo) | (load64(stored + i + 8) ^ q.hi);
    }
    const Chunk16 q = loadChunk16<kFoldCase>(query + n - 16);
    diff |= (load64(stored + n - 16) ^ q.lo) | (load64(stored + n - 8) ^ q.hi);
    return diff == 0;
  }
  const Chunk16 a = loadShort<false>(stored, n), q = loadShort<kFoldCase>(query, n);
  return ((a.lo ^ q.lo) | (a.hi ^ q.hi)) == 0;
}

inline size_t tableCapacity(size_t entries) {
  size_t cap = 16;
  while (cap * 5 < entries * 8) cap <<= 1;  // load factor <= 0.625
  return cap;
}

// A key hashed once, for a prefetch before the lookup. fold_case: `text` may have upper-case
// letters and stands for its lowercase form (tables of host names hold them lowercased).
struct HashedKey {
  std::string_view text;
  uint64_t hash = 0;
  bool fold_case = false;
};
inline HashedKey hashed(std::string_view key) { return {key, hashString(key.data(), key.size())}; }
inline HashedKey hashedLowercase(std::string_view key) {
  return {key, hashString<true>(key.data(), key.size()), true};
}

// string → uint32, keys copied into one arena. Keys are compared byte for byte: callers
// normalise (lowercase) before inserting and before looking up.
// A lookup touches the home slot's cache line (16-byte slots, four to a line) and, only when
// the slot's 32-bit hash tag matches, the key's line in the arena: keys of up to 64 bytes are
// placed so they never straddle two lines.
class StringTable {
 public:
  void reserve(size_t entries) {
    if (tableCapacity(entries) > slots_.size()) rehash(tableCapacity(entries));
  }
  // Inserts key → value, or returns a pointer to the value already stored under key.
  uint32_t* insert(std::string_view key, uint32_t value) {
    if ((size_ + 1) * 8 > slots_.size() * 5) rehash(tableCapacity(size_ + 1));
    const uint64_t h = hashString(key.data(), key.size());
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.value == kNoValue) {
        s = {tagOf(h), value, appendKey(key), static_cast<uint32_t>(key.size())};
        ++size_;
        return nullptr;
      }
      if (s.tag == tagOf(h) && keyOf(s) == key) return &s.value;
    }
  }
  uint32_t find(std::string_view key) const { return find(hashed(key)); }
  [[gnu::always_inline]] uint32_t find(const HashedKey& key) const {
    if (size_ == 0) return kNoValue;
    const uint32_t tag = tagOf(key.hash);
    for (size_t i = key.hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kNoValue) return kNoValue;
      if (s.tag == tag && s.length == key.text.size() && equal(s, key)) return s.value;
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
    const uint32_t tag = tagOf(h);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kNoValue) return;
      if (s.tag == tag) {
        __builtin_prefetch(arena_.data() + s.offset);
        return;
      }
    }
  }

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
  static constexpr size_t kLine = 64;
  static uint32_t tagOf(uint64_t h) { return static_cast<uint32_t>(h >> 32); }
  std::string_view keyOf(const Slot& s) const { return {arena_.data() + s.offset, s.length}; }
  bool equal(const Slot& s, const HashedKey& key) const {
    const char* stored = arena_.data() + s.offset;
    return key.fold_case ? equalKeys<true>(stored, key.text.data(), s.length)
                         : equalKeys<false>(stored, key.text.data(), s.length);
  }
  // Appends key to the arena, first padding to the next line if it would straddle one.
  uint32_t appendKey(std::string_view key) {
    const size_t used = arena_.size() % kLine;
    if (key.size() <= kLine && used + key.size() > kLine) arena_.resize(arena_.size() + kLine - used);
    const auto offset = static_cast<uint32_t>(arena_.size());
    arena_.insert(arena_.end(), key.begin(), key.end());
    return offset;
  }
  void rehash(size_t capacity) {
    BigVector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (s.value == kNoValue) continue;
      const uint64_t h = hashString(arena_.data() + s.offset, s.length);
      size_t i = h & mask_;
      while (slots_[i].value != kNoValue) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  BigVector<Slot> slots_;
  BigVector<char> arena_;  // line-aligned (HugePageAllocator), so offsets % 64 are line offsets
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
