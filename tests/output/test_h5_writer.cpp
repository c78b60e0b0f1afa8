// The HDF5 writing helpers (util/h5_writer.hpp) that the run, sweep and analysis files share:
// their error messages, and the datasets' creation properties, dimension scales and attributes,
// read back with the HDF5 C API. (The files they make are compared whole by the golden test and
// tests/python/.)
#include "util/h5_writer.hpp"

#include <gtest/gtest.h>
#include <hdf5_hl.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "shortfall/error.hpp"

namespace fs = std::filesystem;
using shortfall::IoError;
using shortfall::detail::H5Handle;
using shortfall::detail::H5Layout;
using shortfall::detail::H5Writer;

namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  return "(no IoError)";
}

std::string text_attr(hid_t obj, const char* name) {
  H5Handle a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  char* p = nullptr;
  if (a.get() < 0 || H5Aread(a, type, &p) < 0) return "(unreadable)";
  std::string s = p;
  H5free_memory(p);
  return s;
}

class Hdf5Writer : public ::testing::Test {
 protected:
  void SetUp() override {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    dir_ = fs::temp_directory_path() / ("shortfall-h5w-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Hdf5Writer, FailureNamesThePathAndWhatIsWritten) {
  const H5Writer w("out/s.h5", "the sweep output");
  EXPECT_EQ(message_of([&] { w.fail("closing the file"); }),
            "out/s.h5: cannot write the sweep output: closing the file");
  EXPECT_EQ(message_of([&] { w.check(hid_t(-1), "day"); }),
            "out/s.h5: cannot write the sweep output: day");
  EXPECT_EQ(message_of([&] { w.check(herr_t(-1), "writing"); }),
            "out/s.h5: cannot write the sweep output: writing");
  EXPECT_EQ(w.check(hid_t(7), "x"), hid_t(7));
  EXPECT_NO_THROW(w.check(herr_t(0), "x"));
}

TEST_F(Hdf5Writer, DatasetsCarryTheirLayoutScalesAndAttributes) {
  const std::string path = (dir_ / "w.h5").string();
  {
    H5Handle file =
        shortfall::detail::h5_create_file(path, {.v18_format = true, .root_times = false});
    ASSERT_GE(file.get(), 0);
    const H5Writer w(path, "HDF5 output");
    H5Handle g = w.group(file, "g");
    H5Handle day = w.scale_ints(g, "day", {0, 1, 2}, {});
    H5Handle country = w.scale_strings(g, "country", {"AA", "BB"}, {});
    w.doubles(g, "x", {1, 2, 3, 4, 5, 6}, {3, 2},
              {.chunk = {2, 2}, .shuffle = true, .deflate = 1, .nan_fill = true},
              {.scales = {day, country}, .units = "t", .long_name = "the x"});
    // Written later, one row of three: the others keep the fill value.
    H5Handle y = w.dataset(g, "y", H5T_IEEE_F64LE, {3, 2}, {.nan_fill = true}, H5T_NATIVE_DOUBLE,
                           nullptr, {.scales = {day, country}});
    const hsize_t start[2] = {1, 0}, count[2] = {1, 2};
    const double row[2] = {7.0, 8.0};
    w.write_slab(y, H5T_NATIVE_DOUBLE, 2, start, count, row, "y");
    w.attr_scalar<std::int64_t>(file, "samples", H5T_STD_I64LE, 42);
    // A second object of the same name fails with the writer's message.
    EXPECT_EQ(message_of([&] { w.doubles(g, "x", {}, {0}, {}); }),
              path + ": cannot write HDF5 output: x");
  }
  H5Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  ASSERT_GE(file.get(), 0);
  H5Handle x(H5Dopen2(file, "g/x", H5P_DEFAULT), H5Dclose),
      y(H5Dopen2(file, "g/y", H5P_DEFAULT), H5Dclose);
  H5Handle day(H5Dopen2(file, "g/day", H5P_DEFAULT), H5Dclose);
  H5Handle country(H5Dopen2(file, "g/country", H5P_DEFAULT), H5Dclose);
  ASSERT_GE(x.get(), 0);
  ASSERT_GE(y.get(), 0);

  // x: chunked 2 x 2, shuffle then deflate level 1, NaN fill, no timestamps.
  H5Handle xp(H5Dget_create_plist(x), H5Pclose);
  EXPECT_EQ(H5Pget_layout(xp), H5D_CHUNKED);
  hsize_t chunk[2] = {0, 0};
  EXPECT_EQ(H5Pget_chunk(xp, 2, chunk), 2);
  EXPECT_EQ(chunk[0], 2u);
  EXPECT_EQ(chunk[1], 2u);
  ASSERT_EQ(H5Pget_nfilters(xp), 2);
  unsigned flags = 0, cd[4] = {0, 0, 0, 0};
  size_t ncd = 4;
  EXPECT_EQ(H5Pget_filter2(xp, 0, &flags, &ncd, cd, 0, nullptr, nullptr), H5Z_FILTER_SHUFFLE);
  ncd = 4;
  EXPECT_EQ(H5Pget_filter2(xp, 1, &flags, &ncd, cd, 0, nullptr, nullptr), H5Z_FILTER_DEFLATE);
  EXPECT_EQ(cd[0], 1u);
  double fill = 0.0;
  H5Pget_fill_value(xp, H5T_NATIVE_DOUBLE, &fill);
  EXPECT_TRUE(std::isnan(fill));
  hbool_t times = true;
  H5Pget_obj_track_times(xp, &times);
  EXPECT_FALSE(times);
  std::vector<double> xv(6, 0.0);
  ASSERT_GE(H5Dread(x, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, xv.data()), 0);
  EXPECT_EQ(xv, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(text_attr(x, "units"), "t");
  EXPECT_EQ(text_attr(x, "long_name"), "the x");

  // Dimension scales, attached in order.
  EXPECT_GT(H5DSis_scale(day), 0);
  EXPECT_GT(H5DSis_scale(country), 0);
  EXPECT_GT(H5DSis_attached(x, day, 0), 0);
  EXPECT_GT(H5DSis_attached(x, country, 1), 0);
  EXPECT_EQ(H5DSis_attached(x, country, 0), 0);

  // y: contiguous (no layout chunk), only row 1 written, the rest NaN.
  H5Handle yp(H5Dget_create_plist(y), H5Pclose);
  EXPECT_EQ(H5Pget_layout(yp), H5D_CONTIGUOUS);
  EXPECT_EQ(H5Pget_nfilters(yp), 0);
  std::vector<double> yv(6, 0.0);
  ASSERT_GE(H5Dread(y, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, yv.data()), 0);
  EXPECT_TRUE(std::isnan(yv[0]) && std::isnan(yv[1]) && std::isnan(yv[4]) && std::isnan(yv[5]));
  EXPECT_EQ(yv[2], 7.0);
  EXPECT_EQ(yv[3], 8.0);

  // The day scale: contiguous 32-bit integers without a set fill value.
  H5Handle dp(H5Dget_create_plist(day), H5Pclose);
  EXPECT_EQ(H5Pget_layout(dp), H5D_CONTIGUOUS);
  H5D_fill_value_t status{};
  H5Pfill_value_defined(dp, &status);
  EXPECT_EQ(status, H5D_FILL_VALUE_DEFAULT);
  H5Handle dtype(H5Dget_type(day), H5Tclose);
  EXPECT_GT(H5Tequal(dtype, H5T_STD_I32LE), 0);

  // The file attribute: stored as a little-endian 64-bit integer.
  H5Handle a(H5Aopen(file, "samples", H5P_DEFAULT), H5Aclose);
  H5Handle atype(H5Aget_type(a), H5Tclose);
  EXPECT_GT(H5Tequal(atype, H5T_STD_I64LE), 0);
  std::int64_t samples = 0;
  H5Aread(a, H5T_NATIVE_INT64, &samples);
  EXPECT_EQ(samples, 42);
}

TEST_F(Hdf5Writer, TimestampsAreTheWritersChoice) {
  const std::string path = (dir_ / "t.h5").string();
  {
    H5Handle file =
        shortfall::detail::h5_create_file(path, {.v18_format = true, .root_times = true});
    ASSERT_GE(file.get(), 0);
    const H5Writer with(path, "the analysis", /*track_times=*/true), without(path, "x");
    H5Handle g = with.group(file, "timed");
    with.doubles(g, "a", {1.0}, {1}, {});
    without.doubles(g, "b", {1.0}, {1}, {});
  }
  H5Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  auto tracked = [&](const char* name, bool group) {
    H5Handle obj = group ? H5Handle(H5Gopen2(file, name, H5P_DEFAULT), H5Gclose)
                         : H5Handle(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
    H5Handle p(group ? H5Gget_create_plist(obj) : H5Dget_create_plist(obj), H5Pclose);
    hbool_t times = false;
    H5Pget_obj_track_times(p, &times);
    return bool(times);
  };
  EXPECT_TRUE(tracked("timed", true));
  EXPECT_TRUE(tracked("timed/a", false));
  EXPECT_FALSE(tracked("timed/b", false));
}

}  // namespace
