// The run metrics of model section 10 (docs/model.md), one definition for every command that
// prints or writes them: `run`'s summary, the HDF5 run file's `summary` group, sweep files,
// `compare`, `report` and the plots (which read them from the files).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <tuple>
#include <vector>

#include "shortfall/world.hpp"

namespace shortfall {

struct CountryMaterialDay;

/// The tolerance of recovery (model 10): production >= (1 - eps) of baseline output and input
/// shortage <= eps of baseline use.
inline constexpr double kRecoveryEps = 0.01;
/// Input shortage or unmet final demand at or below this share of the baseline counts as none
/// (floating-point rounding, not goods): first_shortage_day and the summary's rows use it.
inline constexpr double kNoiseShare = 1e-9;

/// Baseline denominators per (country, material), row-major [country][material] (model 10).
struct PairBaselines {
  std::size_t countries = 0, materials = 0;
  std::vector<double> output;      ///< sum of x0 over the country's makers of the material
  std::vector<double> use;         ///< sum of A_ip over the country's users of the material
  std::vector<double> final_use;   ///< sum of C0_{j,c} over makers j of p with destination c
  std::vector<double> unit_value;  ///< per material: currency per unit, NaN where not known
};
PairBaselines pair_baselines(const World& world);

/// Per (country, material) over a run's days, row-major [country][material] (model 10).
struct RunMetrics {
  std::size_t countries = 0, materials = 0;
  int days = 0;                           ///< days accumulated
  std::vector<double> output_lost_days;   ///< sum of output_lost / baseline output (days)
  std::vector<double> peak_output_loss;   ///< max of output_lost / baseline output (fraction)
  std::vector<double> shortage_days;      ///< sum of input shortage / baseline use (days of use)
  std::vector<double> unmet_final_days;   ///< sum of unmet final demand / baseline final use
  std::vector<double> output_lost_units;  ///< sum of output_lost (units of the material)
  std::vector<double> unmet_final_units;  ///< sum of unmet final demand (units)
  /// First day with input shortage above kNoiseShare of use; -1 if never.
  std::vector<std::int32_t> first_shortage_day;
  /// First day from which production >= (1 - eps) baseline and shortage <= eps use hold to the
  /// end of the run; 0 for a pair never disturbed, -1 if they do not hold on the last day.
  std::vector<std::int32_t> recovery_day;
  /// Any output lost, input shortage or unmet final demand above kNoiseShare of its baseline.
  [[nodiscard]] bool affected(std::size_t k) const;
  /// Every member, for a checkpoint (a member added above must be added here).
  template <class Self>
  static auto fields(Self& s) {
    return std::tie(s.countries, s.materials, s.days, s.output_lost_days, s.peak_output_loss,
                    s.shortage_days, s.unmet_final_days, s.output_lost_units, s.unmet_final_units,
                    s.first_shortage_day, s.recovery_day);
  }
};

/// Accumulates RunMetrics day by day (every simulated day, in order).
class MetricsAccumulator {
 public:
  MetricsAccumulator() = default;
  explicit MetricsAccumulator(const World& world);
  /// Day t's country x material series (production, output_lost, shortage, unmet_final_demand).
  void add_day(int t, const CountryMaterialDay& cm);
  [[nodiscard]] RunMetrics result() const;
  [[nodiscard]] const PairBaselines& baselines() const { return base_; }
  /// The accumulated state, for a checkpoint of a run: every member but the baselines, which
  /// the constructor derives from the world. A member added below must be added here.
  template <class Self>
  static auto fields(Self& s) {
    return std::tie(s.m_, s.last_unrecovered_, s.last_day_);
  }

 private:
  PairBaselines base_;  // from the world (constructor): not state
  RunMetrics m_;
  std::vector<std::int32_t> last_unrecovered_;  ///< last day the recovery test failed; -1 none
  int last_day_ = -1;
};

/// Output lost and unmet final demand in value per country, summed over the materials that have
/// a unit_value (model 10: only values are summed across materials).
struct CountryValues {
  std::vector<double> output_lost, unmet_final;  ///< per country, currency
  bool any = false;                              ///< some material has a unit_value
};
CountryValues country_values(const RunMetrics& m, const PairBaselines& base);

}  // namespace shortfall
