// The binary world (`shortfall convert`, issue 21): written and read back, every table of the
// world is the same to the bit (worlds with groups, material options, lead-time pairs, final
// demand by destination, and the shipped worlds); it is accepted wherever a world file is (a
// run on it gives the same series as on the text world); a damaged, edited or foreign file is
// refused with the file and the dataset named.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/world.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace shortfall;

namespace {

fs::path scratch(const std::string& name) {
  return testing_support::scratch_dir("binary", name);
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

bool same_opt(const std::optional<double>& a, const std::optional<double>& b) {
  return a.has_value() == b.has_value() && (!a || std::memcmp(&*a, &*b, sizeof(double)) == 0);
}

void expect_same_world(const World& a, const World& b) {
  ASSERT_EQ(a.countries().size(), b.countries().size());
  for (std::size_t c = 0; c < a.countries().size(); ++c) {
    EXPECT_EQ(a.countries()[c].code, b.countries()[c].code);
    EXPECT_EQ(a.countries()[c].name, b.countries()[c].name);
    EXPECT_EQ(a.countries()[c].groups, b.countries()[c].groups);
  }
  ASSERT_EQ(a.materials().size(), b.materials().size());
  for (std::size_t m = 0; m < a.materials().size(); ++m) {
    const Material &p = a.materials()[m], &q = b.materials()[m];
    EXPECT_EQ(p.id, q.id);
    EXPECT_EQ(p.name, q.name);
    EXPECT_EQ(p.unit, q.unit);
    EXPECT_EQ(p.tier, q.tier);
    EXPECT_TRUE(same_opt(p.inventory_days, q.inventory_days)) << p.id;
    EXPECT_TRUE(same_opt(p.requalification_days, q.requalification_days)) << p.id;
    EXPECT_TRUE(same_opt(p.utilisation, q.utilisation)) << p.id;
    EXPECT_TRUE(same_opt(p.unit_value, q.unit_value)) << p.id;
    EXPECT_EQ(p.distinct_parts, q.distinct_parts) << p.id;
  }
  EXPECT_EQ(a.firm_id(), b.firm_id());
  EXPECT_TRUE(same_bits(a.firm_country(), b.firm_country()));
  EXPECT_TRUE(same_bits(a.firm_material(), b.firm_material()));
  EXPECT_TRUE(same_bits(a.final_demand(), b.final_demand()));
  EXPECT_TRUE(same_bits(a.firm_inventory_days(), b.firm_inventory_days()));
  EXPECT_TRUE(same_bits(a.link_supplier(), b.link_supplier()));
  EXPECT_TRUE(same_bits(a.link_buyer(), b.link_buyer()));
  EXPECT_TRUE(same_bits(a.link_flow(), b.link_flow()));
  EXPECT_TRUE(same_bits(a.link_lead_time(), b.link_lead_time()));
  EXPECT_EQ(a.lead_times().domestic, b.lead_times().domestic);
  EXPECT_EQ(a.lead_times().international, b.lead_times().international);
  EXPECT_EQ(a.lead_times().pairs, b.lead_times().pairs);
  ASSERT_EQ(a.final_demand_split().size(), b.final_demand_split().size());
  for (std::size_t k = 0; k < a.final_demand_split().size(); ++k) {
    EXPECT_EQ(a.final_demand_split()[k].firm, b.final_demand_split()[k].firm);
    EXPECT_EQ(a.final_demand_split()[k].country, b.final_demand_split()[k].country);
    EXPECT_EQ(std::memcmp(&a.final_demand_split()[k].amount, &b.final_demand_split()[k].amount, 8),
              0);
  }
  // Derived by the World from the same tables: the same bits too.
  EXPECT_TRUE(same_bits(a.baseline_output(), b.baseline_output()));
  EXPECT_TRUE(same_bits(a.final_dest_begin(), b.final_dest_begin()));
  EXPECT_TRUE(same_bits(a.final_dest_amount(), b.final_dest_amount()));
  EXPECT_EQ(a.sha256(), b.sha256());
}

/// Everything a world can hold: groups, every material option (and none), lead-time defaults
/// and pairs, final demand split by destination, a firm's own inventory days, odd ids.
World everything_world() {
  WorldBuilder b;
  const CountryId chn = b.country("CHN", {"brics"}, "China");
  const CountryId jpn = b.country("JPN", {"ipef", "g7"}, "Japan");
  const CountryId usa = b.country("USA", {"ipef", "g7"});
  const MaterialId ga = b.material("gallium", 60.0, "t");
  const MaterialId wafer = b.material("wafer", std::nullopt, "wafers");
  b.tables().materials[ga].requalification_days = 180.0;
  b.tables().materials[ga].utilisation = 0.8;
  b.tables().materials[wafer].unit_value = 1234.5;
  b.tables().materials[wafer].tier = "component";
  b.tables().materials[wafer].name = "GaN wafer";
  b.tables().materials[wafer].distinct_parts = true;
  const FirmId mine = b.firm("mine, \"quoted\" id", chn, ga, 1.0 / 3.0);
  const FirmId fab = b.firm("fab-ü", jpn, wafer, 4.5, 12.5);
  const FirmId fab2 = b.firm("fab2", usa, wafer, 7.0);
  b.link(mine, fab, 10.0 / 3.0, 0);
  b.link(mine, fab2, 2.0, 9);
  b.link(fab, fab2, 0.1, 0);
  b.final_demand_to(fab, usa, 4.0);
  b.final_demand_to(fab, jpn, 0.5);
  b.tables().lead_times.domestic = 2;
  b.tables().lead_times.international = 14;
  b.tables().lead_times.pairs[{chn, jpn}] = 21;
  return b.build();
}

}  // namespace

TEST(BinaryWorld, EveryTableReadsBackToTheBit) {
  const fs::path d = scratch("everything");
  const World w = everything_world();
  write_binary_world(w, (d / "w.h5").string());
  ASSERT_TRUE(is_binary_world((d / "w.h5").string()));
  expect_same_world(w, load_binary_world((d / "w.h5").string()));
  // load_world recognises it, as every command and the scenario's `world:` do.
  expect_same_world(w, load_world((d / "w.h5").string()));
  fs::remove_all(d);
}

TEST(BinaryWorld, ShippedWorldsReadBackToTheBit) {
  const fs::path d = scratch("shipped");
  for (const char* rel :
       {"scenarios/worlds/example.yaml", "scenarios/worlds/critical-materials.yaml",
        "scenarios/worlds/mrio-example/imported/world.yaml"}) {
    const World w = load_world(std::string(SHORTFALL_SOURCE_DIR) + "/" + rel);
    write_binary_world(w, (d / "w.h5").string());
    SCOPED_TRACE(rel);
    expect_same_world(w, load_world((d / "w.h5").string()));
  }
  fs::remove_all(d);
}

TEST(BinaryWorld, ARunOnItGivesTheSameSeries) {
  const fs::path d = scratch("run");
  const World text =
      load_world(std::string(SHORTFALL_SOURCE_DIR) + "/scenarios/worlds/example.yaml");
  write_binary_world(text, (d / "w.h5").string());
  const World binary = load_world((d / "w.h5").string());
  Scenario sc = testing_support::make_scenario(
      "days: 40\nevents:\n  - {type: capacity_loss, start: 3, end: 20, country: CHN, "
      "material: gallium, loss: 0.6}\n");
  Simulation a(text, sc), b(binary, sc);
  while (a.step()) {
    ASSERT_TRUE(b.step());
    ASSERT_TRUE(same_bits(std::vector<double>(a.production().begin(), a.production().end()),
                          std::vector<double>(b.production().begin(), b.production().end())))
        << "day " << a.day();
  }
  fs::remove_all(d);
}

namespace {
/// Overwrite element 0 of a double dataset of an HDF5 file.
void poke(const fs::path& file, const char* dataset, double value) {
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, dataset, H5P_DEFAULT);
  hsize_t start = 0, count = 1;
  hid_t fs_ = H5Dget_space(d);
  H5Sselect_hyperslab(fs_, H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  hid_t ms = H5Screate_simple(1, &count, nullptr);
  H5Dwrite(d, H5T_NATIVE_DOUBLE, ms, fs_, H5P_DEFAULT, &value);
  H5Sclose(ms);
  H5Sclose(fs_);
  H5Dclose(d);
  H5Fclose(f);
}

std::string error_of(const fs::path& file, std::string* key = nullptr) {
  try {
    (void)load_world(file.string());
  } catch (const InputError& e) {
    if (key) *key = e.where().key_path;
    EXPECT_EQ(e.where().file, file.string());
    return e.what();
  }
  return "";
}
}  // namespace

TEST(BinaryWorld, AnEditedFileIsRefusedByItsHash) {
  const fs::path d = scratch("edited");
  write_binary_world(everything_world(), (d / "w.h5").string());
  poke(d / "w.h5", "links/flow", std::nextafter(10.0 / 3.0, 0.0));  // one ulp off
  std::string key;
  const std::string what = error_of(d / "w.h5", &key);
  EXPECT_EQ(key, "sha256") << what;
  EXPECT_NE(what.find("do not hash to the stored content hash"), std::string::npos) << what;
  fs::remove_all(d);
}

TEST(BinaryWorld, ForeignOrDamagedFilesNameWhatIsWrong) {
  const fs::path d = scratch("foreign");
  // Another HDF5 file (here, one without the format attribute).
  {
    hid_t f = H5Fcreate((d / "other.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
  }
  std::string key;
  std::string what = error_of(d / "other.h5", &key);
  EXPECT_EQ(key, "format");
  EXPECT_NE(what.find("expected a binary world written by `shortfall convert`"), std::string::npos)
      << what;
  // The signature, then garbage.
  { std::ofstream(d / "bad.h5", std::ios::binary) << "\x89HDF\r\n\x1a\n" << std::string(100, 'x'); }
  what = error_of(d / "bad.h5");
  EXPECT_NE(what.find("a file HDF5 cannot open"), std::string::npos) << what;
  // A dataset of the wrong length.
  write_binary_world(everything_world(), (d / "w.h5").string());
  {
    hid_t f = H5Fopen((d / "w.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "links/flow", H5P_DEFAULT);
    hsize_t n = 2;
    hid_t s = H5Screate_simple(1, &n, nullptr);
    hid_t g = H5Dcreate2(f, "links/flow", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(g);
    H5Sclose(s);
    H5Fclose(f);
  }
  what = error_of(d / "w.h5", &key);
  EXPECT_EQ(key, "links/flow");
  EXPECT_NE(what.find("expected 3 values, found 2"), std::string::npos) << what;
  fs::remove_all(d);
}
