// Hindcasts (docs/hindcast.md): the metrics and their text, and the runs (one event, or every
// event with each sensitivity parameter at the ends of its range). Reading the record files is
// in hindcast_records.cpp, the three renderings (terminal, HTML, Markdown) in
// hindcast_report.cpp.
#include "shortfall/hindcast.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <ostream>
#include <sstream>

#include "shortfall/metrics.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/sweep.hpp"
#include "shortfall/world.hpp"
#include "util/yaml_util.hpp"
#include "validation/hindcast_common.hpp"

#include <unistd.h>

namespace shortfall {

namespace hindcasting {

const MetricInfo& info(HindcastMetric m) {
  for (const auto& i : kMetrics)
    if (i.metric == m) return i;
  return kMetrics[0];
}

std::string fmt(double v, bool timing) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? (timing ? "never" : "inf") : "-inf";
  char b[48];
  if (timing)
    std::snprintf(b, sizeof b, "%.0f", v);
  else if (std::fabs(v) >= 100)
    std::snprintf(b, sizeof b, "%.0f", v);
  else
    std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

std::string value_text(const HindcastCheck& c, double v) {
  const MetricInfo& mi = info(c.metric);
  if (mi.timing && std::isinf(v))
    return c.metric == HindcastMetric::FirstLossDay ? "no loss"
                                                    : "not by day " + std::to_string(c.last_day);
  return fmt(v, mi.timing);
}

std::string html_escape(const std::string& s) {
  std::string r;
  for (char ch : s) {
    switch (ch) {
      case '&':
        r += "&amp;";
        break;
      case '<':
        r += "&lt;";
        break;
      case '>':
        r += "&gt;";
        break;
      case '"':
        r += "&quot;";
        break;
      default:
        r += ch;
    }
  }
  return r;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

}  // namespace hindcasting

using namespace hindcasting;

const char* metric_name(HindcastMetric m) {
  return info(m).name;
}

std::string HindcastCheck::bound() const {
  const bool timing = info(metric).timing;
  if (std::isinf(lo) && std::isinf(hi)) return "any";
  if (std::isinf(lo)) return "<= " + fmt(hi, timing);
  if (std::isinf(hi)) return ">= " + fmt(lo, timing);
  return "in [" + fmt(lo, timing) + ", " + fmt(hi, timing) + "]";
}

std::size_t HindcastOutcome::held() const {
  return std::size_t(std::count_if(checks.begin(), checks.end(), [](auto& c) { return c.holds; }));
}

// ---- running -----------------------------------------------------------------------------------

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The scenario with its overrides applied.
Scenario scenario_with(const std::string& path, const std::vector<HindcastOverride>& overrides) {
  bool any = false;
  for (const auto& o : overrides) any |= o.target == "scenario";
  if (!any) return load_scenario(path);
  std::string text = detail::read_file(path);
  for (const auto& o : overrides)
    if (o.target == "scenario") text = set_key_path(text, o.path, o.value_yaml, o.where);
  return parse_scenario(text, path);
}

// The world with its overrides applied: the edited text is written next to the original (so
// that files it names resolve the same way) under a unique hidden name, loaded, and removed.
World world_with(const std::string& path, const SourceLocation& where,
                 const std::vector<HindcastOverride>& overrides) {
  bool any = false;
  for (const auto& o : overrides) any |= o.target == "world";
  if (!any) return load_world(path, where);
  std::string text = detail::read_file(path);
  for (const auto& o : overrides)
    if (o.target == "world") text = set_key_path(text, o.path, o.value_yaml, o.where);
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path p(path);
  const std::filesystem::path tmp =
      p.parent_path() / (".hindcast-" + std::to_string(::getpid()) + "-" +
                         std::to_string(counter++) + "-" + p.filename().string());
  struct Remove {
    std::filesystem::path p;
    ~Remove() {
      std::error_code ec;
      std::filesystem::remove(p, ec);
    }
  } remove{tmp};
  {
    std::ofstream f(tmp);
    f << text;
    if (!f.flush()) throw IoError(tmp.string() + ": cannot write the edited world");
  }
  return load_world(tmp.string());
}

/// The value of the check's metric over its window, from the pair's daily series (production
/// and inventory) and its output lost and input shortage per day (fractions of baseline).
double metric_value(const HindcastCheck& c, const HindcastSeries& ser,
                    const std::vector<double>& lost, const std::vector<double>& shortage) {
  const int a = c.first_day, b = c.last_day;
  const double ok = 1.0 - kRecoveryEps;
  double v = 0.0;
  switch (c.metric) {
    case HindcastMetric::MinProduction:
      v = kInf;
      for (int t = a; t <= b; ++t) v = std::min(v, ser.production_ratio[t]);
      break;
    case HindcastMetric::OutputLostDays:
      for (int t = a; t <= b; ++t) v += lost[t];
      break;
    case HindcastMetric::PeakOutputLoss:
      for (int t = a; t <= b; ++t) v = std::max(v, lost[t]);
      break;
    case HindcastMetric::MinInventoryDays:
      v = kInf;
      for (int t = a; t <= b; ++t) v = std::min(v, ser.inventory_days[t]);
      break;
    case HindcastMetric::InventoryDaysEnd:
      v = ser.inventory_days[b];
      break;
    case HindcastMetric::InputShortageDays:
      for (int t = a; t <= b; ++t) v += shortage[t];
      break;
    case HindcastMetric::FirstLossDay:
      v = kInf;
      for (int t = a; t <= b; ++t)
        if (ser.production_ratio[t] < ok) {
          v = t;
          break;
        }
      break;
    case HindcastMetric::RecoveryDay: {
      int d = a;
      for (int t = a; t <= b; ++t)
        if (ser.production_ratio[t] < ok) d = t + 1;
      v = d > b ? kInf : double(d);
      break;
    }
  }
  return v;
}

}  // namespace

HindcastOutcome run_hindcast_event(const HindcastEvent& event, int threads,
                                   const std::vector<HindcastOverride>& overrides) {
  const auto t0 = std::chrono::steady_clock::now();
  const Scenario sc = scenario_with(event.scenario_path, overrides);
  const World world = world_with(sc.world_path, sc.world_where, overrides);
  const PairBaselines base = pair_baselines(world);
  const std::size_t nm = world.materials().size();

  // Validate every check against the world and the scenario before running.
  std::map<std::size_t, std::size_t> pair_series;  // country*nm+material -> series index
  HindcastOutcome out;
  out.event = &event;
  out.days = sc.days;
  std::vector<std::size_t> check_pair;
  // An InputError at the check's key (".country", ...) in its record file.
  auto at = [](const HindcastCheck& c, const char* key) {
    SourceLocation w = c.where;
    w.key_path += key;
    return w;
  };
  for (const auto& c : event.checks) {
    const auto ci = world.find_country(c.country);
    if (!ci)
      throw InputError(at(c, ".country"), "expected a country of the world " + sc.world_path +
                                              ", found '" + c.country + "'");
    const auto mi = world.find_material(c.material);
    if (!mi)
      throw InputError(at(c, ".material"), "expected a material of the world " + sc.world_path +
                                               ", found '" + c.material + "'");
    if (c.last_day >= sc.days)
      throw InputError(at(c, ".window"),
                       "expected a window within the scenario's " + std::to_string(sc.days) +
                           " days (0-" + std::to_string(sc.days - 1) + "), found [" +
                           std::to_string(c.first_day) + ", " + std::to_string(c.last_day) + "]");
    const std::size_t k = std::size_t(*ci) * nm + *mi;
    const bool need_output = info(c.metric).uses_output;
    if (need_output ? !(base.output[k] > 0) : !(base.use[k] > 0)) {
      throw InputError(at(c, ".metric"), "expected a pair the metric can be taken on, found that " +
                                             c.country +
                                             (need_output ? " makes no " : " uses no ") +
                                             c.material + " in the world " + sc.world_path);
    }
    check_pair.push_back(k);
    if (!pair_series.count(k)) {
      pair_series[k] = out.series.size();
      out.series.push_back({c.country, c.material, {}, {}});
    }
  }

  RunOptions opt;
  opt.threads = threads;
  opt.metrics = false;
  Simulation sim(world, sc, opt);
  CountryMaterialDay cm;
  std::vector<std::vector<double>> lost(out.series.size()), shortage(out.series.size());
  while (sim.step()) {
    sim.country_material(cm);
    for (const auto& [k, s] : pair_series) {
      auto& ser = out.series[s];
      ser.production_ratio.push_back(base.output[k] > 0 ? cm.production[k] / base.output[k]
                                                        : std::nan(""));
      ser.inventory_days.push_back(cm.inventory_days[k]);
      lost[s].push_back(base.output[k] > 0 ? cm.output_lost[k] / base.output[k] : 0.0);
      shortage[s].push_back(base.use[k] > 0 ? cm.shortage[k] / base.use[k] : 0.0);
    }
  }

  for (std::size_t j = 0; j < event.checks.size(); ++j) {
    const HindcastCheck& c = event.checks[j];
    const std::size_t s = pair_series.at(check_pair[j]);
    const double v = metric_value(c, out.series[s], lost[s], shortage[s]);
    out.checks.push_back({v, c.holds(v)});
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

HindcastTally tally(const std::vector<HindcastOutcome>& outcomes) {
  HindcastTally t;
  for (const auto& o : outcomes) {
    const std::size_t h = o.held(), n = o.checks.size();
    ++t.events;
    t.held += h, t.total += n;
    if (o.event->half == "fit")
      t.fit_held += h, t.fit_total += n;
    else
      t.out_held += h, t.out_total += n;
    if (o.event->loss()) t.loss_held += h, t.loss_total += n, ++t.loss_events;
  }
  return t;
}

std::vector<SensitivityResult> run_sensitivity(const std::vector<HindcastEvent>& events,
                                               const std::vector<HindcastOutcome>& base,
                                               const std::vector<SensitivityParameter>& params,
                                               int threads) {
  std::vector<SensitivityResult> results;
  for (const auto& p : params) {
    SensitivityResult r;
    r.parameter = &p;
    for (int end = 0; end < 2; ++end) {
      std::vector<HindcastOverride> overrides;
      for (const auto& path : p.paths)
        overrides.push_back({p.target, path, end == 0 ? p.low : p.high, p.where});
      std::size_t held = 0;
      std::vector<std::string> flips;
      for (std::size_t e = 0; e < events.size(); ++e) {
        const HindcastOutcome o = run_hindcast_event(events[e], threads, overrides);
        held += o.held();
        for (std::size_t j = 0; j < o.checks.size(); ++j)
          if (o.checks[j].holds != base[e].checks[j].holds)
            flips.push_back(std::string(o.checks[j].holds ? "+" : "-") + events[e].id + "/" +
                            events[e].checks[j].id);
      }
      (end == 0 ? r.held_low : r.held_high) = held;
      (end == 0 ? r.flips_low : r.flips_high) = std::move(flips);
    }
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace shortfall
