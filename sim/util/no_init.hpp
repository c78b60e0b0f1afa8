// Vectors whose new elements are left unwritten (for trivial types), so that the threads that
// first write a large buffer are the ones that take its page faults.
//
// std::vector<T>::resize value-initialises what it adds: for a buffer of doubles, a memset on
// the calling thread, which is where every page of the buffer is first touched. Where page
// faults are dear (a virtual machine's, docs/performance.md "Recording") and the buffer is
// large, the owner resizes a NoInitVector and then writes it in parallel.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace shortfall::util {

/// std::allocator, but constructing with no arguments default-initialises (a trivial type is
/// left unwritten) instead of value-initialising.
template <class T>
struct NoInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = NoInitAllocator<U>;
  };
  NoInitAllocator() = default;
  template <class U>
  NoInitAllocator(const NoInitAllocator<U>&) noexcept {}  // NOLINT: the rebind conversion

  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

template <class T>
using NoInitVector = std::vector<T, NoInitAllocator<T>>;

}  // namespace shortfall::util
