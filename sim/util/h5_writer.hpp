// The one set of HDF5 writing helpers of the program's files (the run file, output/
// hdf5_output.cpp; the sweep file, sweeps/file_writer.cpp; the analysis,
// analysis/analysis_file.cpp; the binary world, input/world_binary.cpp): groups, attributes,
// datasets with their creation properties, and named dimensions as HDF5 dimension scales, so that
// h5py and xarray.open_dataset(path, engine="h5netcdf") read them. Every failure throws IoError
// "PATH: cannot write WHAT: DETAIL".
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "util/h5_handle.hpp"

namespace shortfall::detail {

/// A dataset's creation properties (beyond the writer's timestamp choice).
struct H5Layout {
  std::vector<hsize_t> chunk = {};  ///< chunk shape; empty: contiguous (no filters)
  bool shuffle = false;             ///< the shuffle filter, on chunked data
  int deflate = 0;                  ///< deflate level on chunked data; 0: none
  bool nan_fill = false;            ///< fill value NaN (a double dataset); else HDF5's default
};

/// A dataset's dimension scales (attached to its dimensions in order) and its `units` and
/// `long_name` attributes (written where not empty).
struct H5Meta {
  std::vector<hid_t> scales = {};
  std::string units = {};
  std::string long_name = {};
};

/// An HDF5 file's options at creation.
struct H5FileOptions {
  bool v18_format = true;  ///< library format bounds v1.8 to latest; else HDF5's default
  bool root_times = true;  ///< the root group records timestamps
};

/// Create (truncate) `path`; the handle is invalid (get() < 0) on failure, errno telling why.
[[nodiscard]] H5Handle h5_create_file(const std::string& path, const H5FileOptions& options);

/// Writes the objects of one file. Knows the file's path and what the file is ("the sweep
/// output"), for its error messages, and whether objects record timestamps.
class H5Writer {
 public:
  H5Writer(std::string path, std::string what, bool track_times = false);

  [[nodiscard]] const std::string& path() const { return path_; }
  /// Throws IoError "PATH: cannot write WHAT: `detail`".
  [[noreturn]] void fail(std::string_view detail) const;
  hid_t check(hid_t id, std::string_view detail) const {
    if (id < 0) fail(detail);
    return id;
  }
  void check(herr_t rc, std::string_view detail) const {
    if (rc < 0) fail(detail);
  }

  /// A group `name` in `loc`.
  [[nodiscard]] H5Handle group(hid_t loc, const char* name) const;

  /// A scalar attribute: variable-length UTF-8 text.
  void attr_string(hid_t obj, const char* name, const std::string& value) const;
  /// A scalar attribute of `file_type`, written from a T.
  template <class T>
  void attr_scalar(hid_t obj, const char* name, hid_t file_type, T value) const {
    attr(obj, name, file_type, h5_native_type<T>(), &value);
  }

  /// The dataset creation property list of `layout`.
  [[nodiscard]] H5Handle dcpl(const H5Layout& layout) const;

  /// A dataset of `file_type` and shape `dims` laid out as `layout`, written from `data` (of
  /// `mem_type`; not written where null or where the shape is empty), with `meta`.
  H5Handle dataset(hid_t loc, const char* name, hid_t file_type, const std::vector<hsize_t>& dims,
                   const H5Layout& layout, hid_t mem_type, const void* data,
                   const H5Meta& meta = {}) const;
  /// A 1-d dataset of variable-length UTF-8 text.
  H5Handle strings(hid_t loc, const char* name, const std::vector<std::string>& values,
                   const H5Layout& layout, const H5Meta& meta = {}) const;
  /// The same from pointers to NUL-terminated text (a column that repeats a few strings, such
  /// as each firm's country code, without a copy of the text per row).
  H5Handle strings(hid_t loc, const char* name, const std::vector<const char*>& values,
                   const H5Layout& layout, const H5Meta& meta = {}) const;
  /// An n-d double dataset.
  H5Handle doubles(hid_t loc, const char* name, const std::vector<double>& values,
                   const std::vector<hsize_t>& dims, const H5Layout& layout,
                   const H5Meta& meta = {}) const {
    return dataset(loc, name, H5T_IEEE_F64LE, dims, layout, H5T_NATIVE_DOUBLE, values.data(), meta);
  }
  /// An n-d dataset of 32-bit integers.
  H5Handle ints(hid_t loc, const char* name, const std::vector<std::int32_t>& values,
                const std::vector<hsize_t>& dims, const H5Layout& layout,
                const H5Meta& meta = {}) const {
    return dataset(loc, name, H5T_STD_I32LE, dims, layout, H5T_NATIVE_INT32, values.data(), meta);
  }

  /// Make dataset `d` the dimension scale `name`.
  H5Handle make_scale(H5Handle d, const char* name) const;
  /// A dimension scale of text.
  H5Handle scale_strings(hid_t loc, const char* name, const std::vector<std::string>& values,
                         const H5Layout& layout) const {
    return make_scale(strings(loc, name, values, layout), name);
  }
  /// A dimension scale of 32-bit integers.
  H5Handle scale_ints(hid_t loc, const char* name, const std::vector<std::int32_t>& values,
                      const H5Layout& layout) const {
    return make_scale(ints(loc, name, values, {values.size()}, layout), name);
  }
  /// Attach `scales` to the dimensions of `dset`, in order.
  void attach(hid_t dset, const std::vector<hid_t>& scales) const;

  /// Write the hyperslab `start`, `count` (rank numbers each) of `dset` from `data`.
  void write_slab(hid_t dset, hid_t mem_type, int rank, const hsize_t* start, const hsize_t* count,
                  const void* data, std::string_view what) const;

 private:
  void attr(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, const void* value) const;

  std::string path_, what_;
  bool track_times_;
};

}  // namespace shortfall::detail
