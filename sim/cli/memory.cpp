// Large blocks in huge pages, for the programs (shortfall, shortfall_bench; not the library,
// nor the Python module): the replaceable global operator new asks the kernel to back each
// block of 2 MB or more that the allocator has just mapped with transparent huge pages
// (madvise MADV_HUGEPAGE on the 2 MB pages wholly inside it), before the block is first written.
// A large world's loading and the run's first touch of its arrays then take one page fault per
// 2 MB instead of one per 4 KB (docs/performance.md, "Large blocks in huge pages").
//
// Only blocks that glibc's malloc has just mapped for them (its chunk's IS_MMAPPED bit) are
// advised: they are untouched, and only whole pages inside them are advised, so no page
// becomes resident that the block's own writes would not have made resident. A large block
// that malloc carved from memory it already held is left as it is (advising those kept up to
// 2.4 MB more resident on the 1M/5M world). Where malloc is not glibc's (valgrind, a preloaded
// allocator), nothing is advised. The values are the same: this changes how memory is mapped,
// not what is computed. SHORTFALL_HUGE_PAGES=0 in the environment turns it off. Left out of
// sanitizer builds, whose runtimes own operator new.
#include <cstdint>
#include <cstdlib>
#include <new>

#if defined(__linux__) && defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)
#define SHORTFALL_HUGE_BLOCKS 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#undef SHORTFALL_HUGE_BLOCKS
#endif
#endif

#ifdef SHORTFALL_HUGE_BLOCKS
#include <dlfcn.h>
#include <sys/mman.h>

#include <cstring>

namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t(2) << 20;
constexpr std::size_t kIsMmapped = 2;  // glibc malloc.c: the chunk's size field, bit 1

/// Whether to advise: not turned off by SHORTFALL_HUGE_PAGES=0, and malloc is glibc's (whose
/// chunk header huge_block reads).
bool advise_blocks() {
  static const bool on = [] {
    const char* v = std::getenv("SHORTFALL_HUGE_PAGES");
    if (v && std::strcmp(v, "0") == 0) return false;
    Dl_info info{};
    void* (*const malloc_fn)(std::size_t) = &std::malloc;
    if (dladdr(reinterpret_cast<void*>(malloc_fn), &info) == 0 || info.dli_fname == nullptr)
      return false;
    return std::strstr(info.dli_fname, "libc.so") != nullptr;
  }();
  return on;
}

/// Advises the whole huge pages inside the n-byte block p if glibc mapped it for this request.
void huge_block(void* p, std::size_t n) {
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  std::size_t size_field = 0;  // the word before the block: its chunk's size and flag bits
  std::memcpy(&size_field, reinterpret_cast<const void*>(at - sizeof size_field),
              sizeof size_field);
  if (!(size_field & kIsMmapped)) return;
  const std::uintptr_t begin = (at + kHugePage - 1) & ~(kHugePage - 1);
  const std::uintptr_t end = (at + n) & ~(kHugePage - 1);
  // Advice only: where the kernel has no huge page to give, it maps small ones.
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

void* allocate(std::size_t n) {
  if (n == 0) n = 1;
  for (;;) {
    if (void* p = std::malloc(n)) {
      if (n >= kHugePage && advise_blocks()) huge_block(p, n);
      return p;
    }
    const std::new_handler handler = std::get_new_handler();
    if (!handler) throw std::bad_alloc();
    handler();
  }
}

}  // namespace

void* operator new(std::size_t n) {
  return allocate(n);
}
void* operator new[](std::size_t n) {
  return allocate(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
#endif
