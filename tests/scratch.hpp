// Temporary directories of the C++ tests: each one made by `scratch_dir` or `fresh_temp_dir` is
// removed when the test program ends with every test passed, and kept (and named) when one failed,
// so that a failure can be looked into and a passing suite leaves nothing behind.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <vector>

namespace shortfall::testing_support {

namespace detail {

class ScratchDirs : public ::testing::Environment {
 public:
  void add(const std::filesystem::path& dir) {
    const std::lock_guard<std::mutex> lock(mutex_);
    dirs_.push_back(dir);
  }

  void TearDown() override {
    const std::lock_guard<std::mutex> lock(mutex_);
    const bool passed = ::testing::UnitTest::GetInstance()->Passed();
    for (const auto& d : dirs_) {
      std::error_code ec;
      if (!passed) {
        if (std::filesystem::exists(d, ec))
          std::fprintf(stderr, "kept for a look: %s\n", d.c_str());
        continue;
      }
      std::filesystem::remove_all(d, ec);
    }
    dirs_.clear();
  }

 private:
  std::mutex mutex_;
  std::vector<std::filesystem::path> dirs_;
};

}  // namespace detail

/// Removes `dir` at the end of the test program if every test passed.
inline void remove_at_exit(const std::filesystem::path& dir) {
  // gtest owns the environment and runs its TearDown after the last test.
  static detail::ScratchDirs* const dirs = static_cast<detail::ScratchDirs*>(
      ::testing::AddGlobalTestEnvironment(new detail::ScratchDirs));
  dirs->add(dir);
}

}  // namespace shortfall::testing_support
