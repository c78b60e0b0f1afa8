// A small SHA-256 (FIPS 180-4) for hashing worlds; no external dependency. Where the CPU has
// the SHA extensions (x86-64 SHA-NI), the blocks are compressed with them; the digest is the same.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace shortfall::detail {

class Sha256 {
 public:
  /// `portable`: compress in plain C++ even where the CPU has the SHA extensions (the tests
  /// compare both).
  explicit Sha256(bool portable = false);
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  /// The bytes of v (a world's hash takes millions of these: the common case, into the
  /// buffer without completing a block, stays inline).
  template <class T>
  void update_pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) < 64);
    if (buf_len_ + sizeof(T) >= 64) return update(&v, sizeof(T));
    std::memcpy(buf_.data() + buf_len_, &v, sizeof(T));
    buf_len_ += sizeof(T);
    total_ += sizeof(T);
  }
  /// Hex digest; the object must not be updated afterwards.
  std::string hex();
  /// Whether this CPU compresses with the SHA extensions.
  static bool hardware();

 private:
  using Compress = void (*)(std::uint32_t* h, const std::uint8_t* p, std::size_t blocks);
  Compress compress_;
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace shortfall::detail
