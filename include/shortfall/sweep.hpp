// Parameter sweeps (docs/sweeps.md): many runs of one base scenario with parameters varied by
// key path, run in parallel over one shared read-only World, written to one HDF5 file.
//
//   SweepSpec spec = load_sweep("sweeps/x.yaml");   // parse + check the axes against the base
//   SweepPlan plan = plan_sweep(spec);              // points x replicates, one Scenario per point
//   World world = load_world(plan.world_path);
//   validate_sweep(plan, world);                    // check_scenario for every point
//   run_sweep(plan, world, {.out = "outputs/x.h5", .threads = 2});
//
// Finished runs are appended to a journal next to the output (`<out>.partial`, and
// `<out>.partial.<rank>` for MPI ranks > 0) as soon as each run ends; the HDF5 file is written
// from the journals under a temporary name and renamed into place once every run is done. A
// killed sweep loses only the runs in flight; `resume` continues from the journals.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "shortfall/error.hpp"
#include "shortfall/metrics.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/world.hpp"

namespace shortfall {

enum class Sampling { kGrid, kRandom, kLatinHypercube };
enum class AxisKind { kInt, kReal, kText };

/// One value of an axis: a whole number, a real number or a text (any other YAML value, kept as
/// its flow-style YAML text).
using AxisValue = std::variant<std::int64_t, double, std::string>;

/// One varied parameter.
struct SweepAxis {
  std::string path;      ///< key path into the scenario, as written: "events[0].license_share"
  std::string name;      ///< coordinate name in the output: "license_share" (unique)
  SourceLocation where;  ///< the axis key in the sweep file
  AxisKind kind = AxisKind::kReal;
  /// Discrete values (grid; random/latin_hypercube pick among them). YAML text of each value.
  std::vector<std::string> values;
  /// A continuous range (random/latin_hypercube only: `{range: [lo, hi]}` without steps).
  bool continuous = false;
  double lo = 0, hi = 0;
};

struct SweepSpec {
  std::string path;  ///< the sweep file ("" if built from text without one)
  std::string text;  ///< its YAML text (stored in the output)
  std::string name;
  std::string base_path;  ///< the base scenario, resolved relative to the sweep file
  std::string base_text;  ///< its YAML text (stored in the output)
  std::vector<SweepAxis> axes;
  Sampling sampling = Sampling::kGrid;
  std::size_t samples = 0;        ///< random / latin_hypercube
  std::uint64_t sample_seed = 1;  ///< the sweep's `seed`: drives random / latin_hypercube
  int replicates = 1;             ///< seeds seed+0 .. seed+replicates-1
  int record_every = 0;           ///< 0: the base scenario's record.every
};

/// Parse a sweep file and its base scenario. Throws InputError (naming the sweep file's line and
/// column) or IoError. Key paths are checked against the base scenario here.
SweepSpec load_sweep(const std::string& path);
SweepSpec parse_sweep(const std::string& text, const std::string& path);

/// The parameter points: one vector of axis values per point, in run order. Grid: cartesian
/// product, first axis slowest. Random: independent uniform draws. Latin hypercube: for each
/// axis the unit interval is cut into `samples` strata and every stratum gets exactly one
/// sample. Deterministic in the sweep's seed (xoshiro256** seeded by splitmix64).
std::vector<std::vector<AxisValue>> expand_points(const SweepSpec& spec);

/// Set the value at a key path in scenario YAML text and return the new text (emitted by
/// yaml-cpp: comments are dropped). Sequence selectors `[k]` (index) or `[name]` (the item whose
/// `name` or `id` is `name`; on a map, the key `name`) must exist; missing map keys are created.
/// `value_yaml` is a YAML value ("0.25", "[CHN, RUS]"). Throws InputError at `where`.
std::string set_key_path(const std::string& scenario_text, const std::string& key_path,
                         const std::string& value_yaml, const SourceLocation& where = {});

struct SweepRun {
  std::size_t point = 0;
  int replicate = 0;
  std::uint64_t seed = 0;
};

/// A sweep expanded into runs: run k is point k / replicates, replicate k % replicates.
struct SweepPlan {
  SweepSpec spec;
  std::vector<std::vector<AxisValue>> points;
  /// The parsed, validated scenario of each point (its `text` left empty to save memory).
  std::vector<Scenario> point_scenarios;
  std::vector<SweepRun> runs;
  std::string world_path;
  SourceLocation world_where;  ///< the base scenario's `world:` key
  std::vector<int> days;       ///< recorded days (union over points), the output's `day`
  std::string sha256;          ///< identity of the sweep (sweep + base text + program version)

  [[nodiscard]] std::size_t num_runs() const { return runs.size(); }
  /// The scenario of run k, as parse_scenario(run_scenario_text(k)) gives it (except `text`).
  [[nodiscard]] Scenario run_scenario(std::size_t run) const;
  /// The YAML text of run k: the base scenario with the axes' values and the run's seed set.
  /// `shortfall run` on this text reproduces the run.
  [[nodiscard]] std::string run_scenario_text(std::size_t run) const;
};

/// Expand and parse every point (as parse_scenario does for a normal scenario). A point whose
/// scenario is invalid raises InputError at the axis key in the sweep file.
SweepPlan plan_sweep(const SweepSpec& spec);

/// check_scenario for every point against the world; returns the distinct warnings.
std::vector<std::string> validate_sweep(const SweepPlan& plan, const World& world);

/// What a sweep keeps of one run: the country x material series of a run file on the recorded
/// days, row-major [day][country][material] over plan.days (NaN after the run's last day), and
/// the run metrics of model 10 over every simulated day: RunMetrics, accumulated by the
/// simulation itself (shortfall/metrics.hpp), so the same numbers, bit for bit, as the `summary`
/// group that `shortfall run` of the run's scenario writes.
struct RunResult {
  std::size_t run = 0;
  std::vector<double> production, output_lost, shortage, unmet_final_demand, order_backlog,
      inventory_days;
  RunMetrics metrics;
};

/// Simulate run k alone (one thread). Throws Interrupted if `cancel` is raised.
RunResult simulate_run(const SweepPlan& plan, const World& world, std::size_t run,
                       const std::atomic<bool>* cancel = nullptr);

struct SweepOptions {
  std::string out;       ///< the HDF5 output file
  int threads = 0;       ///< runs in parallel (0: all hardware threads)
  bool resume = false;   ///< continue from the journals of an interrupted sweep
  bool restart = false;  ///< discard the journals of an earlier sweep
  const std::atomic<bool>* cancel = nullptr;  ///< stop (runs in flight are lost)
  /// Called (serialised) after each finished run: runs done in this process, runs this process
  /// has to do.
  std::function<void(std::size_t done, std::size_t total)> progress;
};

struct SweepStatus {
  std::size_t total = 0;        ///< runs in the sweep
  std::size_t done_before = 0;  ///< found in journals at the start (resume)
  std::size_t done_now = 0;     ///< run by this call
  bool complete = false;        ///< the output file was written
  bool interrupted = false;     ///< cancel was raised
  double seconds = 0;           ///< wall time of the runs
};

/// Single-process sweep: check the journals (resume / restart), run the missing runs with TBB,
/// and write the output when all are done. Throws InputError when journals exist and neither
/// resume nor restart is set, or when they belong to a different sweep.
SweepStatus run_sweep(const SweepPlan& plan, const World& world, const SweepOptions& options);

// ---- reading a sweep's output (shortfall compare) -----------------------------------------

struct SweepCoordinate {
  std::string name;
  std::string key_path;  ///< "" for replicate / seed / point
  AxisKind kind = AxisKind::kInt;
  std::vector<double> numbers;     ///< kInt / kReal, per run
  std::vector<std::string> texts;  ///< kText, per run
  [[nodiscard]] std::string label(std::size_t run) const;
};

struct SweepOutput {
  std::string name, sweep_text;
  std::size_t runs = 0, countries = 0, materials = 0;
  std::vector<std::string> country, material, material_unit;
  std::vector<SweepCoordinate> coords;  ///< axes, then replicate, seed, point
  /// Each run's metrics, read from the file's `summary` group (`days` is not stored: 0).
  std::vector<RunMetrics> metrics;
  [[nodiscard]] const SweepCoordinate* find(const std::string& name) const;
};

/// Read the coordinates and the `summary` group of a sweep output. Throws IoError/InputError.
SweepOutput read_sweep_output(const std::string& path);

struct Spread {
  std::size_t n = 0;  ///< values summarised
  double mean = 0, std = 0, min = 0, max = 0;
};

/// One row of `shortfall compare`: a (material, country) and a value of the --by coordinates,
/// on the run metrics of model 10 (headline: output lost).
struct CompareRow {
  std::string material, country, unit;
  std::vector<std::string> by;  ///< labels of the --by coordinates
  std::size_t runs = 0;
  Spread output_lost_days;        ///< days of baseline output
  Spread peak_output_loss;        ///< fraction of baseline output
  Spread shortage_days;           ///< input shortage, days of baseline use
  Spread unmet_final_days;        ///< days of baseline final use
  Spread recovery_day;            ///< over the runs that recovered (recovery_day > 0)
  std::size_t undisturbed = 0;    ///< runs with recovery_day 0 (never disturbed)
  std::size_t not_recovered = 0;  ///< runs with recovery_day -1
};

/// Run metrics grouped by the values of `by` (coordinate names; empty: all runs together), per
/// material and country, over all other coordinates (replicates and other axes). Rows where no
/// run was affected (RunMetrics::affected) are left out; within a material, countries come
/// worst first by output lost (then input shortage, unmet final demand) over all runs. Never
/// sums across materials.
std::vector<CompareRow> compare_sweep(const SweepOutput& out, const std::vector<std::string>& by,
                                      const std::string& country_filter = "",
                                      const std::string& material_filter = "");

}  // namespace shortfall
