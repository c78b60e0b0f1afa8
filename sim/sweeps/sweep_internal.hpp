// What the files of sim/sweeps share (not installed): the small text helpers and key paths
// (key_path.cpp), the values of an axis (sampling.cpp), the series and metrics a sweep keeps
// and the simulation of one run (run.cpp), and the run journals (journal.cpp). The sweep file
// itself is spec.cpp, the plan plan.cpp, the HDF5 output file_writer.cpp, reading it back and
// `compare` reader.cpp (docs/sweeps.md).
#pragma once

#include "output/variables.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/sweep.hpp"
#include "sweeps/journal.hpp"

#include <sys/types.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace shortfall::sweep_detail {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr std::size_t kMaxRuns = 50'000'000;
inline constexpr long long kMaxSeed = 1LL << 62;

// ---- small helpers (key_path.cpp) --------------------------------------------------------

/// `v` rounded to 15 significant digits: linspace(0, 0.3, 4) gives 0.1, not 0.09999999999999999.
double round15(double v);
/// Shortest text that reads back as exactly `v`.
std::string format_double(double v);
bool parse_int(const std::string& s, std::int64_t& out);
bool parse_real(const std::string& s, double& out);
std::string flow_yaml(const YAML::Node& node);
std::string emit_yaml(const YAML::Node& node, const SourceLocation& where = {});
/// YAML::Load with errors as InputError at `where`.
YAML::Node load_value(const std::string& text, const SourceLocation& where);
std::string sanitize(const std::string& s);
/// Names an axis coordinate may not take: the dimensions and the variables of the file's
/// groups (an axis coordinate is written into each of them).
const std::set<std::string>& reserved_names();

// ---- key paths (key_path.cpp) ------------------------------------------------------------

struct Segment {
  bool select = false;  ///< [text] rather than .text
  std::string text;
};

std::vector<Segment> parse_key_path(const std::string& path, const SourceLocation& where);

/// Set `value` at the path in `root` (modified in place). Returns the resolved path with sequence
/// items as indices ("events[0].license_share"), as the scenario parser names keys.
std::string set_in_node(const YAML::Node& root, const std::vector<Segment>& segs,
                        const YAML::Node& value, const std::string& path,
                        const SourceLocation& where);

// ---- the values of an axis (sampling.cpp) ------------------------------------------------

AxisValue value_of(const SweepAxis& a, const std::string& text);
/// Map u in [0, 1) to a value of the axis.
AxisValue value_at(const SweepAxis& a, double u);
std::string yaml_of(const AxisValue& v);
std::string label_of(const AxisValue& v);

// ---- what a sweep keeps of a run (run.cpp) -----------------------------------------------

/// The country x material series a sweep records: the run file's (output/variables.hpp), and
/// where each is kept in a run's result.
struct SeriesInfo {
  std::vector<double> CountryMaterialDay::*day;
  std::vector<double> RunResult::*run;
  const char* name;
  const char* units;
  const char* long_name;
};
inline constexpr std::vector<double> RunResult::*kResultSeries[] = {
    &RunResult::production,         &RunResult::output_lost,   &RunResult::shortage,
    &RunResult::unmet_final_demand, &RunResult::order_backlog, &RunResult::inventory_days};
static_assert(std::size(kResultSeries) == detail::kNumCmSeries);
constexpr auto make_series() {
  std::array<SeriesInfo, detail::kNumCmSeries> s{};
  for (std::size_t k = 0; k < s.size(); ++k)
    s[k] = {detail::kCmSeries[k].field, kResultSeries[k], detail::kCmSeries[k].name,
            detail::kCmSeries[k].units, detail::kCmSeries[k].long_name};
  return s;
}
inline constexpr auto kSeries = make_series();
inline constexpr std::size_t kNumSeries = kSeries.size();

using detail::kMetrics;
using detail::MetricInfo;
inline constexpr std::size_t kNumReal = detail::kNumRealMetrics,
                             kNumWhole = detail::kNumWholeMetrics;

/// Runs the simulation of run k, one thread. The metrics are the simulation's own
/// (RunOptions::metrics, accumulated inside step() every day); the series are taken on the
/// recorded days only.
RunResult simulate(const SweepPlan& plan, const World& world, std::size_t run,
                   const std::atomic<bool>* cancel);

// ---- journals (journal.cpp) --------------------------------------------------------------

struct Dims {
  std::uint64_t runs = 0, days = 0, countries = 0, materials = 0;
  [[nodiscard]] std::size_t ncm() const { return std::size_t(countries * materials); }
  [[nodiscard]] std::size_t payload() const {
    return std::size_t(kNumSeries * days * ncm() * 8 + kNumReal * ncm() * 8 +
                       kNumWhole * ncm() * 4);
  }
};

Dims dims_of(const SweepPlan& plan, const World& world);

/// Decode a payload; false if it is malformed.
bool decode(const unsigned char* p, std::size_t len, std::size_t run, const Dims& d, RunResult& r);

bool read_at(int fd, unsigned char* p, std::size_t n, off_t off);

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

/// A journal being appended to.
class JournalWriter {
 public:
  JournalWriter(const std::string& path, const SweepPlan& plan, const World& world);
  ~JournalWriter();
  void append(const RunResult& r);

 private:
  std::string path_;
  Dims dims_;
  Fd fd_;
  std::chrono::steady_clock::time_point last_sync_;
};

struct JournalEntry {
  std::size_t run;
  std::size_t file;    ///< index into the file list
  off_t offset;        ///< of the payload
  std::size_t length;  ///< of the payload
};

std::vector<std::string> journal_files(const std::string& out);

/// Index the valid records of all journals of `out` (first copy of each run wins). Torn or
/// corrupt tails are cut off when `truncate`.
std::vector<JournalEntry> scan_journals(const SweepPlan& plan, const World& world,
                                        const std::vector<std::string>& files, bool truncate);

}  // namespace shortfall::sweep_detail
