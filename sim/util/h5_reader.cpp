// The program's HDF5 reader (util/h5_reader.hpp).
#include "util/h5_reader.hpp"

#include <cstring>
#include <fstream>
#include <type_traits>

#include "shortfall/error.hpp"

namespace shortfall::detail {

H5Reader::H5Reader(std::string path, std::string what)
    : path_(std::move(path)), what_(std::move(what)) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (!std::ifstream(path_))
    throw IoError(path_ + ": cannot open " + what_ + " (" + std::strerror(errno) + ")");
  file_ = H5Handle(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (file_.get() < 0)
    bad("", "expected " + what_ + " (an HDF5 file), found a file HDF5 cannot open");
}

void H5Reader::bad(const std::string& key, const std::string& detail) const {
  throw InputError(SourceLocation{path_, 0, 0, key}, detail);
}

bool H5Reader::has(const std::string& name) const {
  return H5Lexists(file_, name.c_str(), H5P_DEFAULT) > 0;
}

bool H5Reader::has_attr(const char* name) const {
  return H5Aexists(file_, name) > 0;
}

std::string H5Reader::attr_text(const std::string& name, const char* attr) const {
  std::size_t n = 0;
  H5Handle d = open(name, kAny, n, /*any_rank=*/true);
  if (H5Aexists(d, attr) <= 0) return "";
  H5Handle a(H5Aopen(d, attr, H5P_DEFAULT), H5Aclose);
  H5Handle type(H5Aget_type(a), H5Tclose);
  if (H5Tget_class(type) != H5T_STRING) return "";
  H5Handle mem = h5_text_type();
  char* p = nullptr;
  if (H5Aread(a, mem, &p) < 0) bad(name + "@" + attr, "cannot read the text attribute");
  std::string s = p ? p : "";
  H5free_memory(p);
  return s;
}

H5T_class_t H5Reader::type_class(const std::string& name) const {
  std::size_t n = 0;
  H5Handle d = open(name, kAny, n, /*any_rank=*/true);
  H5Handle type(H5Dget_type(d), H5Tclose);
  return H5Tget_class(type);
}

std::string H5Reader::attr_text(const char* name) const {
  if (H5Aexists(file_, name) <= 0) return "";
  H5Handle a(H5Aopen(file_, name, H5P_DEFAULT), H5Aclose);
  H5Handle mem = h5_text_type();
  char* p = nullptr;
  if (H5Aread(a, mem, &p) < 0) bad(name, "expected a text attribute, found another type");
  std::string s = p ? p : "";
  H5free_memory(p);
  return s;
}

std::int64_t H5Reader::attr_int(const char* name, std::int64_t fallback) const {
  if (H5Aexists(file_, name) <= 0) return fallback;
  H5Handle a(H5Aopen(file_, name, H5P_DEFAULT), H5Aclose);
  std::int64_t v = fallback;
  if (H5Aread(a, H5T_NATIVE_INT64, &v) < 0) bad(name, "expected a whole-number attribute");
  return v;
}

H5Handle H5Reader::open(const std::string& name, std::size_t expect, std::size_t& n,
                        bool any_rank) const {
  // Each step of a path must exist: H5Lexists fails rather than answers on a missing group.
  for (std::size_t at = name.find('/'); at != std::string::npos; at = name.find('/', at + 1))
    if (!has(name.substr(0, at))) bad(name, "missing from " + what_);
  if (!has(name)) bad(name, "missing from " + what_);
  H5Handle d(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (d.get() < 0) bad(name, "expected a dataset");
  H5Handle space(H5Dget_space(d), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  const hssize_t points = H5Sget_simple_extent_npoints(space);
  if ((rank != 1 && !any_rank) || points < 0)
    bad(name, "expected a 1-d dataset, found rank " + std::to_string(rank));
  n = std::size_t(points);
  if (expect != kAny && n != expect)
    bad(name, "expected " + std::to_string(expect) + " values, found " + std::to_string(n));
  return d;
}

template <class T>
std::vector<T> H5Reader::read(const std::string& name, std::size_t expect, bool any_rank) const {
  std::size_t n = 0;
  H5Handle d = open(name, expect, n, any_rank);
  std::vector<T> v(n);
  if (n && H5Dread(d, h5_native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    bad(name, "cannot read the values (damaged file, or another type)");
  return v;
}

template <class T>
std::vector<T> H5Reader::array(const std::string& name, std::size_t expect) const {
  return read<T>(name, expect, /*any_rank=*/false);
}

template <class T>
std::vector<T> H5Reader::flat(const std::string& name, std::size_t expect) const {
  return read<T>(name, expect, /*any_rank=*/true);
}

template std::vector<double> H5Reader::array(const std::string&, std::size_t) const;
template std::vector<std::int32_t> H5Reader::array(const std::string&, std::size_t) const;
template std::vector<std::uint32_t> H5Reader::array(const std::string&, std::size_t) const;
template std::vector<std::uint64_t> H5Reader::array(const std::string&, std::size_t) const;
template std::vector<unsigned char> H5Reader::array(const std::string&, std::size_t) const;
template std::vector<double> H5Reader::flat(const std::string&, std::size_t) const;
template std::vector<std::int32_t> H5Reader::flat(const std::string&, std::size_t) const;

std::vector<std::string> H5Reader::texts(const std::string& name, std::size_t expect) const {
  std::size_t n = 0;
  H5Handle d = open(name, expect, n);
  H5Handle type(H5Dget_type(d), H5Tclose);
  if (H5Tget_class(type) != H5T_STRING) bad(name, "expected text");
  H5Handle mem = h5_text_type();
  std::vector<char*> p(n, nullptr);
  if (n && H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) < 0)
    bad(name, "cannot read the text");
  std::vector<std::string> out;
  out.reserve(n);
  for (char* s : p) out.emplace_back(s ? s : "");
  if (n) {
    H5Handle space(H5Dget_space(d), H5Sclose);
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, p.data());
  }
  return out;
}

}  // namespace shortfall::detail
