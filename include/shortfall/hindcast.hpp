// Hindcasts (docs/hindcast.md): historical events replayed and compared with what was observed.
//
// A record file (EVENT.record.yaml) names a scenario and lists checks: a metric of one country
// and material over a window of days, and the bound the historical record puts on it. The
// hindcast runs the scenario and says, check by check, whether the model stays within the
// bound.
#pragma once

#include <iosfwd>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "shortfall/error.hpp"

namespace shortfall {

enum class HindcastMetric {
  MinProduction,      ///< min over the window of production / baseline output (fraction)
  OutputLostDays,     ///< sum of output_lost / baseline output (days of output)
  PeakOutputLoss,     ///< max of output_lost / baseline output (fraction)
  MinInventoryDays,   ///< min of inventory_days (days of use)
  InventoryDaysEnd,   ///< inventory_days on the window's last day
  InputShortageDays,  ///< sum of input shortage / baseline use (days of use)
  FirstLossDay,       ///< first day with production < 0.99 baseline; never = +inf
  RecoveryDay,        ///< first day from which production >= 0.99 baseline to the window's end
};
/// The record's name of a metric ("min_production", ...).
const char* metric_name(HindcastMetric m);

struct HindcastCheck {
  std::string id, observed, source, quality, country, material;
  HindcastMetric metric = HindcastMetric::MinProduction;
  int first_day = 0, last_day = 0;  ///< the window, inclusive
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  SourceLocation where;  ///< the check in its record file
  [[nodiscard]] bool holds(double value) const { return value >= lo && value <= hi; }
  /// "in [0.4, 0.65]", "<= 4.5", ">= 120".
  [[nodiscard]] std::string bound() const;
};

struct HindcastEvent {
  std::string id, title, kind, half, start, summary, discussion;
  std::string record_path, scenario_path;
  std::vector<HindcastCheck> checks;
  [[nodiscard]] bool loss() const { return kind == "loss"; }
};

/// The keys a sources file defines: the first cell of every table row ("| KEY | ..."), and
/// templated keys such as "USGS26-<x>" (which accept USGS26-anything).
std::set<std::string> read_source_keys(const std::string& sources_md);

/// Reads one record. With `source_keys`, a check whose source is not among them is an error.
/// InputError (file, line, column, key) on anything malformed.
HindcastEvent load_hindcast_record(const std::string& path,
                                   const std::set<std::string>* source_keys = nullptr);
/// Every *.record.yaml in `dir`, by file name. An empty directory is an input error.
std::vector<HindcastEvent> load_hindcast_records(const std::string& dir,
                                                 const std::set<std::string>* source_keys);

/// One check's result.
struct CheckOutcome {
  double value = 0.0;
  bool holds = false;
};

/// A checked pair's daily series, for pictures.
struct HindcastSeries {
  std::string country, material;
  std::vector<double> production_ratio;  ///< production / baseline output (NaN: not made there)
  std::vector<double> inventory_days;    ///< NaN where nobody in the country uses it
};

struct HindcastOutcome {
  const HindcastEvent* event = nullptr;
  int days = 0;
  std::vector<CheckOutcome> checks;  ///< one per event->checks
  std::vector<HindcastSeries> series;
  double seconds = 0.0;
  [[nodiscard]] std::size_t held() const;
};

/// A value set at a key path of the event's scenario or of its world (file) before the run,
/// as in sweeps (shortfall/sweep.hpp set_key_path): "model.tau",
/// "materials[gallium].inventory_days".
struct HindcastOverride {
  std::string target;      ///< "scenario" or "world"
  std::string path;        ///< key path
  std::string value_yaml;  ///< a YAML value
  SourceLocation where;    ///< where the override was given (for errors)
};

/// Loads the event's scenario and world (with `overrides` applied), checks that every check's
/// country, material and window exist there (InputError pointing at the check), and runs it.
HindcastOutcome run_hindcast_event(const HindcastEvent& event, int threads = 0,
                                   const std::vector<HindcastOverride>& overrides = {});

/// One parameter of the sensitivity analysis (docs/hindcast.md): the values at the ends of its
/// sourced range, set at every path given.
struct SensitivityParameter {
  std::string name, target, source, note;
  std::vector<std::string> paths;
  std::string low, high, base;  ///< YAML values as written
  SourceLocation where;
};
/// Reads a sensitivity file (`parameters:` list). InputError on anything malformed.
std::vector<SensitivityParameter> load_sensitivity(const std::string& path);

/// Checks that hold with the parameter at its low and at its high end, and the checks whose
/// verdict flips against the base run ("event/check").
struct SensitivityResult {
  const SensitivityParameter* parameter = nullptr;
  std::size_t held_low = 0, held_high = 0;
  std::vector<std::string> flips_low, flips_high;
};
std::vector<SensitivityResult> run_sensitivity(const std::vector<HindcastEvent>& events,
                                               const std::vector<HindcastOutcome>& base,
                                               const std::vector<SensitivityParameter>& params,
                                               int threads = 0);
void print_sensitivity(const std::vector<SensitivityResult>& results, std::size_t base_held,
                       std::size_t total, std::ostream& os);
/// A tornado chart (inline SVG): per parameter, the change in checks holding at each end.
void write_sensitivity_svg(const std::vector<SensitivityResult>& results, std::size_t base_held,
                           std::ostream& os);

/// Counts of checks that hold: all, the `fit` half, the `held_out` half, loss events.
struct HindcastTally {
  std::size_t held = 0, total = 0, events = 0;
  std::size_t fit_held = 0, fit_total = 0, out_held = 0, out_total = 0;
  std::size_t loss_held = 0, loss_total = 0, loss_events = 0;
  [[nodiscard]] double share() const { return total ? double(held) / double(total) : 0.0; }
};
HindcastTally tally(const std::vector<HindcastOutcome>& outcomes);

/// One line per check, then "N of M checks hold (E events)" and the halves.
void print_hindcast(const std::vector<HindcastOutcome>& outcomes, std::ostream& os);
/// The same as a self-contained HTML page with one picture (inline SVG) per event.
void write_hindcast_html(const std::vector<HindcastOutcome>& outcomes, std::ostream& os,
                         const std::vector<SensitivityResult>* sensitivity = nullptr);
/// The validation report (scenarios/VALIDATION.md): summary table, then event by event the
/// record, the checks with the model's values, and the record's discussion; `notes`, if not
/// empty, is Markdown appended at the end (the general discussion, kept in the records' folder).
void write_hindcast_markdown(const std::vector<HindcastOutcome>& outcomes, const std::string& notes,
                             const std::string& command, std::ostream& os);

}  // namespace shortfall
