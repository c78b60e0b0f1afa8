// The programs' operator new (sim/cli/memory.cpp): large blocks that malloc maps afresh have the
// whole 2 MB pages inside them advised for huge pages (the kernel's VmFlags "hg" on their
// mapping), blocks carved from memory malloc already held are left alone, and
// SHORTFALL_HUGE_PAGES=0 turns the advice off. Registered twice in tests/CMakeLists.txt: as is,
// and with SHORTFALL_HUGE_PAGES=0.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t(2) << 20;

/// The mapping that holds address a, from /proc/self/smaps: its first line (range, permissions,
/// ..., name such as [heap]) and its VmFlags line ("" and "" if none).
std::pair<std::string, std::string> mapping(std::uintptr_t a) {
  std::ifstream in("/proc/self/smaps");
  std::string line, head_line;
  bool inside = false;
  while (std::getline(in, line)) {
    std::uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-' && line.find(':') > line.find(' ')) {
      inside = lo <= a && a < hi;
      head_line = line;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) return {head_line, line};
  }
  return {"", ""};
}

std::string vm_flags(std::uintptr_t a) {
  return mapping(a).second;
}

bool has_flag(const std::string& flags, const char* flag) {
  std::istringstream words(flags);
  std::string w;
  while (words >> w)
    if (w == flag) return true;
  return false;
}

bool advice_expected() {
  const char* v = std::getenv("SHORTFALL_HUGE_PAGES");
  return !(v && std::strcmp(v, "0") == 0);
}

/// Whether malloc is glibc's (not valgrind's or a preloaded allocator's, where memory.cpp gives
/// no advice).
bool malloc_is_glibc() {
  Dl_info info{};
  void* (*const malloc_fn)(std::size_t) = &std::malloc;
  return dladdr(reinterpret_cast<void*>(malloc_fn), &info) != 0 && info.dli_fname &&
         std::strstr(info.dli_fname, "libc.so") != nullptr;
}

bool kernel_has_huge_pages() {
  return std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled");
}

/// The first 2 MB boundary inside the block p of n bytes (0 if the block holds none whole).
std::uintptr_t first_whole_page(const void* p, std::size_t n) {
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t begin = (at + kHugePage - 1) & ~(kHugePage - 1);
  return begin + kHugePage <= at + n ? begin : 0;
}

}  // namespace

TEST(Memory, AFreshLargeBlockIsAdvisedForHugePages) {
  if (!kernel_has_huge_pages()) GTEST_SKIP() << "this kernel has no transparent huge pages";
  if (!malloc_is_glibc()) GTEST_SKIP() << "malloc is not glibc's: no advice is given";
  if (const char* pre = std::getenv("LD_PRELOAD"); pre && *pre)
    GTEST_SKIP() << "LD_PRELOAD (valgrind, a profiler) may own operator new: " << pre;
  constexpr std::size_t n = 16u << 20;  // above any mmap threshold glibc starts with
  std::unique_ptr<char[]> block(new char[n]);
  const std::uintptr_t page = first_whole_page(block.get(), n);
  ASSERT_NE(page, 0u);
  const std::string flags = vm_flags(page);
  ASSERT_FALSE(flags.empty());
  EXPECT_EQ(has_flag(flags, "hg"), advice_expected()) << flags;
  // The block is ordinary memory: written and read back whole.
  std::memset(block.get(), 0x5a, n);
  EXPECT_EQ(block[0], 0x5a);
  EXPECT_EQ(block[n - 1], 0x5a);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block.get()) % alignof(std::max_align_t), 0u);
}

TEST(Memory, ALargeBlockFromMemoryMallocHeldIsLeftAlone) {
  // Freeing a mapped 16 MB block raises glibc's mmap threshold above 8 MB, so the next 8 MB
  // block is carved from the heap, whose pages may already be resident: no advice there.
  if (!kernel_has_huge_pages()) GTEST_SKIP() << "this kernel has no transparent huge pages";
  delete[] new char[16u << 20];
  constexpr std::size_t n = 8u << 20;
  std::unique_ptr<char[]> block(new char[n]);
  const std::uintptr_t page = first_whole_page(block.get(), n);
  ASSERT_NE(page, 0u);
  const auto [head, flags] = mapping(page);
  if (head.find("[heap]") == std::string::npos)
    GTEST_SKIP() << "malloc mapped this block afresh: " << head;
  EXPECT_FALSE(has_flag(flags, "hg")) << head << "\n" << flags;
}

TEST(Memory, SmallBlocksAreLeftAlone) {
  // Under 2 MB: no advice, whatever malloc gives.
  std::unique_ptr<char[]> small(new char[1u << 20]);
  std::memset(small.get(), 1, 1u << 20);
  EXPECT_FALSE(has_flag(vm_flags(reinterpret_cast<std::uintptr_t>(small.get())), "hg"));
}

TEST(Memory, NewAndDeleteKeepTheirContract) {
  // Zero bytes gives a distinct pointer; arrays of objects are constructed and destroyed.
  void* a = ::operator new(0);
  void* b = ::operator new(0);
  EXPECT_NE(a, b);
  ::operator delete(a);
  ::operator delete(b);
  auto v = std::make_unique<std::string[]>(3);
  v[2] = std::string(100, 'x');
  EXPECT_EQ(v[2].size(), 100u);
}
