// Firm ids to FirmIds: an open-addressing hash table (linear probing, at most half full) whose
// keys stay in the world's firm_id vector: no per-firm allocation (a std::map of a million
// strings took a third of a second to build and 80 bytes a firm). A slot holds the FirmId and
// 32 bits of the id's hash, so that a probe reads a firm's id only where the hashes agree.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shortfall/world.hpp"

namespace shortfall::detail {

class FirmIndex {
 public:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t(0);

  /// The firm whose id is `id`, given the slots built over `ids`.
  [[nodiscard]] static std::optional<FirmId> find(const std::vector<std::uint64_t>& slots,
                                                  const std::vector<std::string>& ids,
                                                  std::string_view id) {
    if (slots.empty()) return std::nullopt;
    const std::size_t mask = slots.size() - 1;
    const std::uint64_t h = hash(id), tag = h >> 32;
    for (std::size_t s = h & mask;; s = (s + 1) & mask) {
      const std::uint64_t slot = slots[s];
      if (slot == kEmpty) return std::nullopt;
      if (slot >> 32 == tag && ids[FirmId(slot)] == id) return FirmId(slot);
    }
  }
  /// Adds ids[i] to slots with room for it (at most half full after); false if already there.
  static bool place(std::vector<std::uint64_t>& slots, const std::vector<std::string>& ids,
                    FirmId i) {
    const std::size_t mask = slots.size() - 1;
    const std::uint64_t h = hash(ids[i]), tag = h >> 32;
    for (std::size_t s = h & mask;; s = (s + 1) & mask) {
      const std::uint64_t slot = slots[s];
      if (slot == kEmpty) {
        slots[s] = tag << 32 | i;
        return true;
      }
      if (slot >> 32 == tag && ids[FirmId(slot)] == ids[i]) return false;
    }
  }
  /// Empty slots for n ids: a power of two at least 2n (and 64).
  [[nodiscard]] static std::vector<std::uint64_t> empty_slots(std::size_t n) {
    std::size_t size = 64;
    while (size < 2 * n) size *= 2;
    std::vector<std::uint64_t> slots;
    slots.reserve(size);
    advise_huge_pages(slots.data(), size * sizeof(std::uint64_t));
    slots.assign(size, kEmpty);
    return slots;
  }
  /// Lookups hit random slots and ids: on 2 MiB pages, a lookup misses the TLB less often.
  static void advise_huge_pages(const void* data, std::size_t bytes) {
    constexpr std::uintptr_t kHuge = std::uintptr_t(2) << 20;
    const auto begin = (reinterpret_cast<std::uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
    const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(kHuge - 1);
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  }

  /// A growing index over `ids` while they are read (ids[i] is pushed before insert(i)).
  explicit FirmIndex(const std::vector<std::string>& ids) : ids_(ids) {}
  bool insert(FirmId i) {
    if (2 * (size_ + 1) > slots_.size()) reserve(std::max<std::size_t>(32, slots_.size()));
    if (!place(slots_, ids_, i)) return false;
    ++size_;
    return true;
  }
  /// Room for n ids without growing.
  void reserve(std::size_t n) {
    if (2 * n <= slots_.size()) return;
    std::vector<std::uint64_t> old = std::move(slots_);
    slots_ = empty_slots(n);
    for (std::uint64_t slot : old)
      if (slot != kEmpty) place(slots_, ids_, FirmId(slot));
  }
  /// Ahead of place(slots, ids, i): its home slot into the cache (inserting ids in a loop).
  static void prefetch_place(const std::vector<std::uint64_t>& slots,
                             const std::vector<std::string>& ids, FirmId i) {
    __builtin_prefetch(&slots[hash(ids[i]) & (slots.size() - 1)]);
  }
  void prefetch_insert(FirmId i) const {
    if (!slots_.empty()) prefetch_place(slots_, ids_, i);
  }
  [[nodiscard]] std::optional<FirmId> find(std::string_view id) const {
    return find(slots_, ids_, id);
  }

  // Batched lookups (many ids, each a cache miss or two): hash, prefetch_slot, later
  // prefetch_id, later find_hashed; the memory accesses of several lookups then overlap.
  static std::uint64_t hash(std::string_view id) { return std::hash<std::string_view>{}(id); }
  void prefetch_slot(std::uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
  }
  void prefetch_id(std::uint64_t h) const {
    if (slots_.empty()) return;
    const std::uint64_t slot = slots_[h & (slots_.size() - 1)];
    if (slot != kEmpty) __builtin_prefetch(&ids_[FirmId(slot)]);
  }
  [[nodiscard]] std::optional<FirmId> find_hashed(std::string_view id, std::uint64_t h) const {
    if (slots_.empty()) return std::nullopt;
    const std::size_t mask = slots_.size() - 1;
    const std::uint64_t tag = h >> 32;
    for (std::size_t s = h & mask;; s = (s + 1) & mask) {
      const std::uint64_t slot = slots_[s];
      if (slot == kEmpty) return std::nullopt;
      if (slot >> 32 == tag && ids_[FirmId(slot)] == id) return FirmId(slot);
    }
  }

 private:
  const std::vector<std::string>& ids_;
  std::vector<std::uint64_t> slots_;
  std::size_t size_ = 0;
};

}  // namespace shortfall::detail
