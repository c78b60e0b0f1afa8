// The output variables, defined once: the country x material series of a run (model 10), the
// baseline tables and the run metrics, with the names, units and meanings the run file
// (output/hdf5_output.cpp) and the sweep file (sweeps/) both write. A new series or metric is
// added here (and to CountryMaterialDay or RunMetrics, and the engine or MetricsAccumulator that
// fills it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

#include "shortfall/metrics.hpp"
#include "shortfall/simulation.hpp"

namespace shortfall::detail {

/// A (country, material) variable: a member of `Of`, its name, units and meaning in the files.
template <class Of>
struct CmVariable {
  const char* name;
  std::vector<double> Of::*field;
  const char* units;
  const char* long_name;
};

/// A country x material series, in file order.
using CmSeries = CmVariable<CountryMaterialDay>;
inline constexpr CmSeries kCmSeries[] = {
    {"production", &CountryMaterialDay::production, "units of the material per day",
     "output of the country's makers of the material"},
    {"output_lost", &CountryMaterialDay::output_lost, "units of the material per day",
     "output lost: sum over the country's makers of max(0, x0 - x)"},
    {"shortage", &CountryMaterialDay::shortage, "units of the material per day",
     "input shortage: what the country's users lacked of the material to make what they could "
     "sell today, sum of max(0, A min(x^cap, D) / x0 - S)"},
    {"unmet_final_demand", &CountryMaterialDay::unmet_final_demand, "units of the material per day",
     "final users in the country (destination) not served, before export-control caps"},
    {"order_backlog", &CountryMaterialDay::order_backlog, "units of the material per day",
     "diagnostic: orders of the country's buyers not delivered, restocking orders included"},
    {"inventory_days", &CountryMaterialDay::inventory_days,
     "days of cover (pooled stock / baseline daily use)", "inventory cover"},
};
inline constexpr std::size_t kNumCmSeries = std::size(kCmSeries);

/// A (country, material) table of the baselines (model 10's denominators), in file order.
using BaselineTable = CmVariable<PairBaselines>;
inline constexpr BaselineTable kBaselineTables[] = {
    {"baseline_output", &PairBaselines::output, "units of the material per day",
     "baseline output of the country's makers"},
    {"baseline_use", &PairBaselines::use, "units of the material per day",
     "baseline daily use: sum of A_ip over the country's users of the material"},
    {"baseline_final_use", &PairBaselines::final_use, "units of the material per day",
     "baseline daily final use in the country (destination) of the material"},
};

/// A run metric per (country, material): real-valued or whole days, in the `summary` group's
/// order.
struct MetricInfo {
  const char* name;
  std::vector<double> RunMetrics::*real;         ///< or nullptr
  std::vector<std::int32_t> RunMetrics::*whole;  ///< or nullptr
  const char* units;                             ///< nullptr: none (days as integers)
  const char* long_name;
};
inline constexpr MetricInfo kMetrics[] = {
    {"output_lost_days", &RunMetrics::output_lost_days, nullptr, "days of baseline output",
     "output lost: sum over days of output_lost / baseline output"},
    {"peak_output_loss", &RunMetrics::peak_output_loss, nullptr, "fraction of baseline output",
     "largest daily output_lost / baseline output"},
    {"shortage_days", &RunMetrics::shortage_days, nullptr, "days of baseline use",
     "input shortage: sum over days of shortage / baseline use"},
    {"unmet_final_demand_days", &RunMetrics::unmet_final_days, nullptr,
     "days of baseline final use",
     "unmet final demand: sum over days of unmet_final_demand / baseline final use"},
    {"output_lost_units", &RunMetrics::output_lost_units, nullptr, "units of the material",
     "output lost summed over the days"},
    {"unmet_final_demand_units", &RunMetrics::unmet_final_units, nullptr, "units of the material",
     "unmet final demand summed over the days"},
    {"first_shortage_day", nullptr, &RunMetrics::first_shortage_day, nullptr,
     "first day with input shortage (-1: never)"},
    {"recovery_day", nullptr, &RunMetrics::recovery_day, nullptr,
     "first day from which production >= 0.99 of baseline and input shortage <= 0.01 of use "
     "hold to the end (0: never disturbed, -1: not recovered)"},
};
inline constexpr std::size_t kNumRealMetrics = 6, kNumWholeMetrics = 2;
static_assert(std::size(kMetrics) == kNumRealMetrics + kNumWholeMetrics);

}  // namespace shortfall::detail
