// Internal to the hindcasts (hindcast.cpp, hindcast_records.cpp, hindcast_report.cpp): the
// metrics a check can take, and numbers and text as the records and the renderings write them.
#pragma once

#include <string>

#include "shortfall/hindcast.hpp"

namespace shortfall::hindcasting {

struct MetricInfo {
  HindcastMetric metric;
  const char* name;
  const char* unit;  ///< for the tables
  bool timing;       ///< a day (printed as an integer, +inf as "never"/"not by day b")
  bool uses_output;  ///< needs baseline output of the pair (else baseline use)
};

inline constexpr MetricInfo kMetrics[] = {
    {HindcastMetric::MinProduction, "min_production", "of baseline", false, true},
    {HindcastMetric::OutputLostDays, "output_lost_days", "days of output", false, true},
    {HindcastMetric::PeakOutputLoss, "peak_output_loss", "of baseline", false, true},
    {HindcastMetric::MinInventoryDays, "min_inventory_days", "days of use", false, false},
    {HindcastMetric::InventoryDaysEnd, "inventory_days_end", "days of use", false, false},
    {HindcastMetric::InputShortageDays, "input_shortage_days", "days of use", false, false},
    {HindcastMetric::FirstLossDay, "first_loss_day", "day", true, true},
    {HindcastMetric::RecoveryDay, "recovery_day", "day", true, true},
};

const MetricInfo& info(HindcastMetric m);

/// A value as the tables show it: "-" for NaN, "inf" (or "never" for a day), a day as an
/// integer, otherwise 4 significant digits below 100 and an integer above.
std::string fmt(double v, bool timing = false);

/// The model's value of check `c`, in words where it is a day that never came.
std::string value_text(const HindcastCheck& c, double v);

std::string html_escape(const std::string& s);

/// `s` without leading and trailing white space.
std::string trim(std::string s);

}  // namespace shortfall::hindcasting
