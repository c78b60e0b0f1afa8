// Reading the program's own HDF5 files back (the binary world of `shortfall convert`): whole
// datasets into vectors, text datasets and attributes. Every failure throws InputError naming
// the file and the dataset or attribute (the key path), what was expected and what was found.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "util/h5_handle.hpp"

namespace shortfall::detail {

class H5Reader {
 public:
  /// Opens `path` read-only; `what` names the file in messages ("a binary world").
  H5Reader(std::string path, std::string what);

  /// Throws InputError at `key` ("links/flow") with `detail`.
  [[noreturn]] void bad(const std::string& key, const std::string& detail) const;

  [[nodiscard]] bool has(const std::string& name) const;
  [[nodiscard]] bool has_attr(const char* name) const;
  /// A text attribute of the file's root (empty if absent).
  [[nodiscard]] std::string attr_text(const char* name) const;
  /// A text attribute of dataset `name` (empty if absent or not text).
  [[nodiscard]] std::string attr_text(const std::string& name, const char* attr) const;
  /// The HDF5 type class of dataset `name` (H5T_STRING, H5T_FLOAT, H5T_INTEGER, ...).
  [[nodiscard]] H5T_class_t type_class(const std::string& name) const;
  /// An integer attribute of the file's root, or `fallback` if absent.
  [[nodiscard]] std::int64_t attr_int(const char* name, std::int64_t fallback) const;

  /// A whole 1-d dataset of T (double, std::int32_t, std::uint32_t, std::uint64_t, unsigned
  /// char), with `expect` values unless `expect` is kAny.
  static constexpr std::size_t kAny = ~std::size_t(0);
  template <class T>
  [[nodiscard]] std::vector<T> array(const std::string& name, std::size_t expect = kAny) const;
  /// As `array`, for a dataset of any rank: its values in row-major order.
  template <class T>
  [[nodiscard]] std::vector<T> flat(const std::string& name, std::size_t expect = kAny) const;
  /// A whole 1-d dataset of variable-length text.
  [[nodiscard]] std::vector<std::string> texts(const std::string& name,
                                               std::size_t expect = kAny) const;

 private:
  H5Handle open(const std::string& name, std::size_t expect, std::size_t& n,
                bool any_rank = false) const;
  template <class T>
  std::vector<T> read(const std::string& name, std::size_t expect, bool any_rank) const;

  std::string path_, what_;
  H5Handle file_;
};

}  // namespace shortfall::detail
