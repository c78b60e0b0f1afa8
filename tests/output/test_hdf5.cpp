// The HDF5 recorder's file handling (make_hdf5_recorder): the output appears under its name
// only in finish(); a failed or interrupted run leaves no file and never damages an existing
// one; an unwritable place raises IoError naming the path. The firm-level series of a world
// wider than a chunk (and than a range of the recorder's parallel copy) hold the engine's
// values bit for bit. The contents are read back with h5py and xarray in
// tests/python/test_hdf5_roundtrip.py.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "shortfall/error.hpp"
#include "shortfall/hdf5_output.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/world.hpp"
#include "test_support.hpp"
#include "util/h5_reader.hpp"

namespace fs = std::filesystem;
using namespace shortfall;

namespace {

World small_world() {
  WorldBuilder b;
  auto CHN = b.country("CHN"), JPN = b.country("JPN", {"ipef"});
  auto ga = b.material("ga", 10.0, "t"), wf = b.material("wf", std::nullopt, "wafer");
  auto s = b.firm("s", CHN, ga, 1.0), w = b.firm("w", JPN, wf, 2.0);
  b.link(s, w, 0.5);
  return b.build();
}

Scenario small_scenario(int days = 20) {
  return parse_scenario("name: small\nworld: unused.yaml\ndays: " + std::to_string(days) +
                            "\nevents:\n  - {type: capacity_loss, start: 2, country: CHN,"
                            " loss: 0.5}\n",
                        "small.yaml");
}

/// A fresh, empty temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("shortfall-h5-" + std::to_string(getpid()) + "-" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  [[nodiscard]] const fs::path& path() const { return path_; }
  [[nodiscard]] std::size_t entries() const {
    return std::size_t(std::distance(fs::directory_iterator(path_), fs::directory_iterator()));
  }

 private:
  fs::path path_;
};

bool is_hdf5(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char sig[8] = {};
  in.read(sig, 8);
  return in && std::string(sig, 8) == std::string("\x89HDF\r\n\x1a\n", 8);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Forwards to another recorder, checks that the output is not visible while recording, and can
/// raise a cancel flag or throw on a given day.
class Probe final : public Recorder {
 public:
  Probe(Recorder* next, fs::path out) : next_(next), out_(std::move(out)) {}
  void begin(const Simulation& sim) override { next_->begin(sim); }
  void record_day(const Simulation& sim) override {
    next_->record_day(sim);
    ++days_;
    if (fs::exists(out_) && is_hdf5(out_)) visible_early_ = true;
    if (sim.day() == cancel_on_ && cancel_) cancel_->store(true);
    if (sim.day() == throw_on_) throw std::runtime_error("failure injected by the test");
  }
  void finish(const Simulation& sim) override { next_->finish(sim); }

  Recorder* next_;
  fs::path out_;
  int days_ = 0;
  bool visible_early_ = false;
  int cancel_on_ = -1, throw_on_ = -1;
  std::atomic<bool>* cancel_ = nullptr;
};

/// Forwards to another recorder and keeps each day's firm values as the file should hold them.
class Capture final : public Recorder {
 public:
  explicit Capture(Recorder* next) : next_(next) {}
  void begin(const Simulation& sim) override { next_->begin(sim); }
  void record_day(const Simulation& sim) override {
    next_->record_day(sim);
    const auto keep = [](std::vector<double>& to, auto from) {
      to.insert(to.end(), from.begin(), from.end());
    };
    keep(values["production"], sim.production());
    keep(values["demand"], sim.demand());
    keep(values["capacity"], sim.capacity());
    keep(values["input_shortfall"], sim.input_shortfall());
    auto C = sim.final_demand_wanted(), c = sim.final_delivered();
    for (std::size_t i = 0; i < C.size(); ++i) values["unmet_final_demand"].push_back(C[i] - c[i]);
    binding.insert(binding.end(), sim.binding().begin(), sim.binding().end());
  }
  void finish(const Simulation& sim) override { next_->finish(sim); }

  Recorder* next_;
  std::map<std::string, std::vector<double>> values;
  std::vector<std::uint8_t> binding;
};

}  // namespace

TEST(Hdf5Recorder, FileAppearsOnlyAfterFinish) {
  TempDir dir;
  const fs::path out = dir.path() / "out.h5";
  World w = small_world();
  Scenario s = small_scenario();
  Simulation sim(w, s);
  auto h5 = make_hdf5_recorder(out.string());
  Probe probe(h5.get(), out);
  sim.run(&probe);
  EXPECT_EQ(probe.days_, 20);
  EXPECT_FALSE(probe.visible_early_);
  EXPECT_TRUE(is_hdf5(out));
  h5.reset();
  EXPECT_TRUE(is_hdf5(out));
  EXPECT_EQ(dir.entries(), 1u) << "no temporary file may be left next to the output";
}

TEST(Hdf5Recorder, DestroyedWithoutFinishLeavesNothing) {
  TempDir dir;
  const fs::path out = dir.path() / "out.h5";
  World w = small_world();
  Scenario s = small_scenario();
  Simulation sim(w, s);
  {
    auto h5 = make_hdf5_recorder(out.string());
    h5->begin(sim);
    for (int k = 0; k < 5; ++k) {
      sim.step();
      h5->record_day(sim);
    }
    EXPECT_EQ(dir.entries(), 1u);  // the temporary file exists while recording
    EXPECT_FALSE(fs::exists(out));
  }
  EXPECT_EQ(dir.entries(), 0u);
}

TEST(Hdf5Recorder, FailedRunLeavesAnExistingFileUntouched) {
  TempDir dir;
  const fs::path out = dir.path() / "out.h5";
  { std::ofstream(out) << "an earlier result\n"; }
  World w = small_world();
  Scenario s = small_scenario();
  Simulation sim(w, s);
  {
    auto h5 = make_hdf5_recorder(out.string());
    Probe probe(h5.get(), out);
    probe.throw_on_ = 7;
    EXPECT_THROW(sim.run(&probe), std::runtime_error);
  }
  EXPECT_EQ(read_text(out), "an earlier result\n");
  EXPECT_EQ(dir.entries(), 1u);
}

TEST(Hdf5Recorder, InterruptedRunLeavesNothing) {
  TempDir dir;
  const fs::path out = dir.path() / "out.h5";
  { std::ofstream(out) << "an earlier result\n"; }
  World w = small_world();
  Scenario s = small_scenario();
  std::atomic<bool> cancel{false};
  RunOptions opt;
  opt.cancel = &cancel;
  Simulation sim(w, s, opt);
  {
    auto h5 = make_hdf5_recorder(out.string());
    Probe probe(h5.get(), out);
    probe.cancel_on_ = 4;
    probe.cancel_ = &cancel;
    EXPECT_THROW(sim.run(&probe), Interrupted);
    EXPECT_EQ(sim.day(), 4);  // stopped before day 5
  }
  EXPECT_EQ(read_text(out), "an earlier result\n");
  EXPECT_EQ(dir.entries(), 1u);
}

TEST(Hdf5Recorder, FinishReplacesAnExistingFile) {
  TempDir dir;
  const fs::path out = dir.path() / "out.h5";
  { std::ofstream(out) << "an earlier result\n"; }
  World w = small_world();
  Scenario s = small_scenario(5);
  Simulation sim(w, s);
  auto h5 = make_hdf5_recorder(out.string());
  sim.run(h5.get());
  EXPECT_TRUE(is_hdf5(out));
  EXPECT_EQ(dir.entries(), 1u);
}

TEST(Hdf5Recorder, CreatesMissingParentDirectories) {
  TempDir dir;
  const fs::path out = dir.path() / "a" / "b" / "out.h5";
  World w = small_world();
  Scenario s = small_scenario(3);
  Simulation sim(w, s);
  auto h5 = make_hdf5_recorder(out.string());
  sim.run(h5.get());
  EXPECT_TRUE(is_hdf5(out));
}

TEST(Hdf5Recorder, UnwritableDirectoryRaisesIoErrorNamingThePath) {
  // A regular file where the directory should be: no user (root included) can create the
  // output there.
  TempDir dir;
  const fs::path blocker = dir.path() / "not-a-directory";
  { std::ofstream(blocker) << "x"; }
  const fs::path out = blocker / "out.h5";
  World w = small_world();
  Scenario s = small_scenario(3);
  Simulation sim(w, s);
  try {
    auto h5 = make_hdf5_recorder(out.string());
    sim.run(h5.get());
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(blocker.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("out.h5"), std::string::npos) << msg;
  }
  EXPECT_EQ(read_text(blocker), "x");
}

// 40,000 firms: three chunks of 16,384 firms a day (the last one partial) and three ranges of
// the recorder's copy of a day on two threads; 10 days: two chunks of four days (each built with
// its last day read from the engine's arrays, the others from the recorder's rows) and a third
// of two days recorded and two of fill.
TEST(Hdf5Recorder, FirmSeriesOfAWideWorldHoldTheEnginesValues) {
  TempDir dir;
  const fs::path out = dir.path() / "wide.h5";
  World w = testing_support::random_world(40000, 5);
  Scenario s = parse_scenario(
      "name: wide\nworld: unused.yaml\ndays: 10\nevents:\n"
      "  - {type: capacity_loss, start: 1, country: C1, loss: 0.4}\n",
      "wide.yaml");
  Simulation sim(w, s, testing_support::with_threads(2));
  auto h5 = make_hdf5_recorder(out.string());
  Capture capture(h5.get());
  sim.run(&capture);
  detail::H5Reader file(out.string(), "the run's output");
  const std::size_t n = 10 * w.num_firms();
  for (const auto& [name, expect] : capture.values) {
    const auto got = file.flat<double>("firm/" + name, n);
    ASSERT_EQ(std::memcmp(got.data(), expect.data(), n * sizeof(double)), 0) << name;
  }
  const auto base = w.baseline_output();
  const auto loss = file.flat<double>("firm/production_loss", n);
  const auto& x = capture.values["production"];
  for (std::size_t k = 0; k < n; ++k) {
    const double x0 = base[k % w.num_firms()];
    ASSERT_EQ(loss[k], x0 > 0 ? 1.0 - x[k] / x0 : 0.0) << "day " << k / w.num_firms();
  }
  EXPECT_EQ(file.flat<std::int32_t>("firm/binding", n),
            std::vector<std::int32_t>(capture.binding.begin(), capture.binding.end()));
  // The shock shows: some firm lost output (else the series would test little).
  EXPECT_GT(*std::max_element(loss.begin(), loss.end()), 0.1);
}
