// HDF5 writing helpers (util/h5_writer.hpp).
#include "util/h5_writer.hpp"

#include <hdf5_hl.h>

#include <cerrno>
#include <limits>

#include "shortfall/error.hpp"

namespace shortfall::detail {

H5Handle h5_create_file(const std::string& path, const H5FileOptions& options) {
  H5Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (options.v18_format) H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  H5Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
  if (!options.root_times) H5Pset_obj_track_times(fcpl, false);
  H5Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, fapl), H5Fclose);
  const int err = errno;  // why it failed, kept past the closing of the property lists
  fcpl.reset();
  fapl.reset();
  errno = err;
  return file;
}

H5Writer::H5Writer(std::string path, std::string what, bool track_times)
    : path_(std::move(path)), what_(std::move(what)), track_times_(track_times) {}

void H5Writer::fail(std::string_view detail) const {
  throw IoError(path_ + ": cannot write " + what_ + ": " + std::string(detail));
}

H5Handle H5Writer::group(hid_t loc, const char* name) const {
  H5Handle gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
  H5Pset_obj_track_times(gcpl, track_times_);
  return H5Handle(check(H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT), name), H5Gclose);
}

void H5Writer::attr(hid_t obj, const char* name, hid_t file_type, hid_t mem_type,
                    const void* value) const {
  H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Handle a(check(H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT), name),
             H5Aclose);
  check(H5Awrite(a, mem_type, value), name);
}

void H5Writer::attr_string(hid_t obj, const char* name, const std::string& value) const {
  H5Handle type = h5_text_type();
  const char* p = value.c_str();
  attr(obj, name, type, type, &p);
}

H5Handle H5Writer::dcpl(const H5Layout& layout) const {
  H5Handle p(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(p, track_times_);
  if (!layout.chunk.empty()) {
    H5Pset_chunk(p, int(layout.chunk.size()), layout.chunk.data());
    if (layout.shuffle) H5Pset_shuffle(p);
    if (layout.deflate > 0) H5Pset_deflate(p, unsigned(layout.deflate));
  }
  if (layout.nan_fill) {
    double fill = std::numeric_limits<double>::quiet_NaN();
    H5Pset_fill_value(p, H5T_NATIVE_DOUBLE, &fill);
  }
  return p;
}

H5Handle H5Writer::dataset(hid_t loc, const char* name, hid_t file_type,
                           const std::vector<hsize_t>& dims, const H5Layout& layout, hid_t mem_type,
                           const void* data, const H5Meta& meta) const {
  H5Handle space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
  H5Handle p = dcpl(layout);
  H5Handle d(check(H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, p, H5P_DEFAULT), name),
             H5Dclose);
  hsize_t n = 1;
  for (hsize_t k : dims) n *= k;
  if (data && n > 0) check(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), name);
  attach(d, meta.scales);
  if (!meta.units.empty()) attr_string(d, "units", meta.units);
  if (!meta.long_name.empty()) attr_string(d, "long_name", meta.long_name);
  return d;
}

H5Handle H5Writer::strings(hid_t loc, const char* name, const std::vector<std::string>& values,
                           const H5Layout& layout, const H5Meta& meta) const {
  std::vector<const char*> ptrs(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) ptrs[i] = values[i].c_str();
  return strings(loc, name, ptrs, layout, meta);
}

H5Handle H5Writer::strings(hid_t loc, const char* name, const std::vector<const char*>& values,
                           const H5Layout& layout, const H5Meta& meta) const {
  H5Handle type = h5_text_type();
  return dataset(loc, name, type, {values.size()}, layout, type, values.data(), meta);
}

H5Handle H5Writer::make_scale(H5Handle d, const char* name) const {
  check(H5DSset_scale(d, name), name);
  return d;
}

void H5Writer::attach(hid_t dset, const std::vector<hid_t>& scales) const {
  unsigned idx = 0;
  for (hid_t s : scales) check(H5DSattach_scale(dset, s, idx++), "attaching a dimension");
}

void H5Writer::write_slab(hid_t dset, hid_t mem_type, int rank, const hsize_t* start,
                          const hsize_t* count, const void* data, std::string_view what) const {
  H5Handle fspace(H5Dget_space(dset), H5Sclose);
  check(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, nullptr, count, nullptr), what);
  H5Handle mspace(H5Screate_simple(rank, count, nullptr), H5Sclose);
  check(H5Dwrite(dset, mem_type, mspace, fspace, H5P_DEFAULT, data), what);
}

}  // namespace shortfall::detail
