// Hindcasts (docs/hindcast.md): record files, runs, and the three renderings (terminal, HTML,
// Markdown).
#include "shortfall/hindcast.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <regex>
#include <sstream>

#include "shortfall/metrics.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/sweep.hpp"
#include "shortfall/world.hpp"
#include "util/yaml_util.hpp"

#include <unistd.h>

namespace shortfall {

using detail::YNode;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct MetricInfo {
  HindcastMetric metric;
  const char* name;
  const char* unit;  ///< for the tables
  bool timing;       ///< a day (printed as an integer, +inf as "never"/"not by day b")
  bool uses_output;  ///< needs baseline output of the pair (else baseline use)
};

constexpr MetricInfo kMetrics[] = {
    {HindcastMetric::MinProduction, "min_production", "of baseline", false, true},
    {HindcastMetric::OutputLostDays, "output_lost_days", "days of output", false, true},
    {HindcastMetric::PeakOutputLoss, "peak_output_loss", "of baseline", false, true},
    {HindcastMetric::MinInventoryDays, "min_inventory_days", "days of use", false, false},
    {HindcastMetric::InventoryDaysEnd, "inventory_days_end", "days of use", false, false},
    {HindcastMetric::InputShortageDays, "input_shortage_days", "days of use", false, false},
    {HindcastMetric::FirstLossDay, "first_loss_day", "day", true, true},
    {HindcastMetric::RecoveryDay, "recovery_day", "day", true, true},
};

const MetricInfo& info(HindcastMetric m) {
  for (const auto& i : kMetrics)
    if (i.metric == m) return i;
  return kMetrics[0];
}

std::string fmt(double v, bool timing = false) {
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

std::string md_cell(std::string s) {  // one table cell: no pipes, no line breaks
  for (auto& ch : s)
    if (ch == '\n') ch = ' ';
  std::string r;
  for (char ch : s) r += ch == '|' ? std::string("\\|") : std::string(1, ch);
  return r;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

}  // namespace

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

// ---- record files ------------------------------------------------------------------------------

std::set<std::string> read_source_keys(const std::string& sources_md) {
  std::set<std::string> keys;
  std::istringstream in(detail::read_file(sources_md));
  static const std::regex row(R"(^\|\s*([A-Za-z][A-Za-z0-9_.<>\-]*)\s*\|)");
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, row)) keys.insert(m[1].str());
  return keys;
}

namespace {

bool known_source(const std::string& key, const std::set<std::string>& keys) {
  if (keys.count(key)) return true;
  // Templated keys: "USGS26-<x>" accepts "USGS26-gallium".
  for (const auto& k : keys) {
    const auto open = k.find('<');
    if (open != std::string::npos && open > 0 && k.back() == '>' && key.size() > open &&
        key.compare(0, open, k, 0, open) == 0)
      return true;
  }
  return false;
}

HindcastCheck parse_check(const YNode& n, const std::set<std::string>* source_keys) {
  n.expect_map();
  n.check_keys({"id", "observed", "source", "quality", "metric", "country", "material", "window",
                "range", "at_most", "at_least"});
  HindcastCheck c;
  c.where = n.where();
  c.id = n.at("id").as_string();
  c.observed = trim(n.at("observed").as_string());
  const YNode src = n.at("source");
  c.source = src.as_string();
  if (source_keys && !known_source(c.source, *source_keys))
    src.fail("expected a key of scenarios/worlds/sources.md, found '" + c.source + "'");
  const YNode q = n.at("quality");
  c.quality = q.as_string();
  if (c.quality != "S" && c.quality != "W" && c.quality != "A")
    q.fail("expected S (sourced figure), W (weak source) or A (assumed bound), found '" +
           c.quality + "'");
  const YNode met = n.at("metric");
  const std::string mname = met.as_string();
  bool found = false;
  std::string names;
  for (const auto& mi : kMetrics) {
    names += std::string(names.empty() ? "" : ", ") + mi.name;
    if (mname == mi.name) c.metric = mi.metric, found = true;
  }
  if (!found) met.fail("expected one of " + names + "; found '" + mname + "'");
  c.country = n.at("country").as_string();
  c.material = n.at("material").as_string();
  const YNode win = n.at("window");
  win.expect_seq();
  if (win.size() != 2)
    win.fail("expected [first_day, last_day], found " + std::to_string(win.size()) + " items");
  c.first_day = int(win.item(0).as_int_in(0, 36500));
  c.last_day = int(win.item(1).as_int_in(0, 36500));
  if (c.last_day < c.first_day)
    win.fail("expected last_day >= first_day, found [" + std::to_string(c.first_day) + ", " +
             std::to_string(c.last_day) + "]");
  const int bounds = int(n.has("range")) + int(n.has("at_most")) + int(n.has("at_least"));
  if (bounds != 1)
    n.fail("expected exactly one bound (range, at_most or at_least), found " +
           std::to_string(bounds));
  if (auto r = n.get("range")) {
    r->expect_seq();
    if (r->size() != 2) r->fail("expected [lo, hi], found " + std::to_string(r->size()) + " items");
    c.lo = r->item(0).as_double();
    c.hi = r->item(1).as_double();
    if (c.hi < c.lo) r->fail("expected lo <= hi, found [" + fmt(c.lo) + ", " + fmt(c.hi) + "]");
  }
  if (auto v = n.get("at_most")) c.hi = v->as_double();
  if (auto v = n.get("at_least")) c.lo = v->as_double();
  return c;
}

}  // namespace

HindcastEvent load_hindcast_record(const std::string& path,
                                   const std::set<std::string>* source_keys) {
  const YNode root = detail::load_yaml_file(path);
  root.expect_map();
  root.check_keys(
      {"event", "title", "kind", "scenario", "start", "half", "summary", "discussion", "checks"});
  HindcastEvent e;
  e.record_path = path;
  const YNode id = root.at("event");
  e.id = id.as_string();
  std::string stem = std::filesystem::path(path).filename().string();
  const std::string suffix = ".record.yaml";
  if (stem.size() > suffix.size() &&
      stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0)
    stem.resize(stem.size() - suffix.size());
  if (e.id != stem) id.fail("expected the file's name, '" + stem + "', found '" + e.id + "'");
  e.title = trim(root.at("title").as_string());
  const YNode kind = root.at("kind");
  e.kind = kind.as_string();
  if (e.kind != "loss" && e.kind != "no_loss")
    kind.fail("expected loss or no_loss, found '" + e.kind + "'");
  const YNode half = root.at("half");
  e.half = half.as_string();
  if (e.half != "fit" && e.half != "held_out")
    half.fail("expected fit or held_out, found '" + e.half + "'");
  const YNode start = root.at("start");
  e.start = start.as_string();
  static const std::regex date(R"(\d{4}-\d{2}-\d{2})");
  if (!std::regex_match(e.start, date))
    start.fail("expected a date YYYY-MM-DD, found '" + e.start + "'");
  e.summary = trim(root.at("summary").as_string());
  if (auto d = root.get("discussion")) e.discussion = trim(d->as_string());
  const YNode sc = root.at("scenario");
  e.scenario_path = detail::resolve_path(path, sc.as_string());
  if (!std::filesystem::is_regular_file(e.scenario_path))
    sc.fail("expected a scenario file, found no file at '" + e.scenario_path + "'");
  const YNode checks = root.at("checks");
  checks.expect_seq();
  if (checks.size() == 0) checks.fail("expected at least one check, found an empty list");
  for (std::size_t k = 0; k < checks.size(); ++k) {
    HindcastCheck c = parse_check(checks.item(k), source_keys);
    for (const auto& other : e.checks)
      if (other.id == c.id)
        checks.item(k).at("id").fail("expected a unique check id, found '" + c.id +
                                     "' twice (also at line " + std::to_string(other.where.line) +
                                     ")");
    e.checks.push_back(std::move(c));
  }
  return e;
}

std::vector<HindcastEvent> load_hindcast_records(const std::string& dir,
                                                 const std::set<std::string>* source_keys) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError({dir, 0, 0, ""}, "expected a directory of *.record.yaml files, found " +
                                          std::string(fs::exists(dir, ec) ? "a file" : "nothing"));
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 12 && name.compare(name.size() - 12, 12, ".record.yaml") == 0)
      paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) throw InputError({dir, 0, 0, ""}, "expected *.record.yaml files, found none");
  std::vector<HindcastEvent> events;
  for (const auto& p : paths) events.push_back(load_hindcast_record(p, source_keys));
  return events;
}

// ---- running -----------------------------------------------------------------------------------

namespace {

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

}  // namespace

HindcastOutcome run_hindcast_event(const HindcastEvent& event, int threads,
                                   const std::vector<HindcastOverride>& overrides) {
  const auto t0 = std::chrono::steady_clock::now();
  const Scenario sc = scenario_with(event.scenario_path, overrides);
  const World world = world_with(sc.world_path, sc.world_where, overrides);
  const PairBaselines base = pair_baselines(world);
  const std::size_t nm = world.materials.size();

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
    const auto& ser = out.series[s];
    const int a = c.first_day, b = c.last_day;
    const double ok = 1.0 - kRecoveryEps;
    double v = 0.0;
    switch (c.metric) {
      case HindcastMetric::MinProduction:
        v = kInf;
        for (int t = a; t <= b; ++t) v = std::min(v, ser.production_ratio[t]);
        break;
      case HindcastMetric::OutputLostDays:
        for (int t = a; t <= b; ++t) v += lost[s][t];
        break;
      case HindcastMetric::PeakOutputLoss:
        for (int t = a; t <= b; ++t) v = std::max(v, lost[s][t]);
        break;
      case HindcastMetric::MinInventoryDays:
        v = kInf;
        for (int t = a; t <= b; ++t) v = std::min(v, ser.inventory_days[t]);
        break;
      case HindcastMetric::InventoryDaysEnd:
        v = ser.inventory_days[b];
        break;
      case HindcastMetric::InputShortageDays:
        for (int t = a; t <= b; ++t) v += shortage[s][t];
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

// ---- renderings --------------------------------------------------------------------------------

namespace {

std::string pair_text(const HindcastCheck& c) {
  return c.country + " " + c.material + " " + metric_name(c.metric) + " d" +
         std::to_string(c.first_day) + "-" + std::to_string(c.last_day);
}

std::string tally_lines(const HindcastTally& t) {
  char b[512];
  std::snprintf(
      b, sizeof b,
      "%zu of %zu checks hold (%zu events)\n"
      "  fit half: %zu of %zu; held-out half: %zu of %zu; loss events (%zu): %zu of %zu\n",
      t.held, t.total, t.events, t.fit_held, t.fit_total, t.out_held, t.out_total, t.loss_events,
      t.loss_held, t.loss_total);
  return b;
}

}  // namespace

void print_hindcast(const std::vector<HindcastOutcome>& outcomes, std::ostream& os) {
  for (const auto& o : outcomes) {
    const HindcastEvent& e = *o.event;
    os << e.id << " (" << (e.loss() ? "loss" : "no loss") << ", "
       << (e.half == "fit" ? "fit" : "held out") << "; from " << e.start << "): " << e.title
       << "\n";
    for (std::size_t j = 0; j < e.checks.size(); ++j) {
      const auto& c = e.checks[j];
      os << "  " << (o.checks[j].holds ? "holds " : "FAILS ") << c.id << ": " << pair_text(c)
         << "  record " << c.bound() << " (" << c.observed << "; " << c.source << ", " << c.quality
         << ")  model " << value_text(c, o.checks[j].value) << "\n";
    }
  }
  os << tally_lines(tally(outcomes));
}

namespace {

// A small SVG: the production / baseline of each checked pair over the run, the windows of
// the production checks shaded with their bound (green where the check holds, red where not);
// inventory checks get a second panel in days of use.
void svg_panel(const HindcastOutcome& o, bool inventory, std::ostream& os) {
  const HindcastEvent& e = *o.event;
  std::vector<std::size_t> checks;
  for (std::size_t j = 0; j < e.checks.size(); ++j) {
    const bool inv = e.checks[j].metric == HindcastMetric::MinInventoryDays ||
                     e.checks[j].metric == HindcastMetric::InventoryDaysEnd ||
                     e.checks[j].metric == HindcastMetric::InputShortageDays;
    if (inv == inventory) checks.push_back(j);
  }
  if (checks.empty()) return;
  std::vector<std::size_t> series;  // the pairs these checks are on
  for (std::size_t j : checks)
    for (std::size_t s = 0; s < o.series.size(); ++s)
      if (o.series[s].country == e.checks[j].country &&
          o.series[s].material == e.checks[j].material &&
          std::find(series.begin(), series.end(), s) == series.end())
        series.push_back(s);
  const int W = 560, H = 220, L = 48, R = 170, T = 24, B = 30;
  const double days = std::max(1, o.days - 1);
  double ymax = 1.1;
  if (inventory) {
    ymax = 1.0;
    for (std::size_t s : series)
      for (double v : o.series[s].inventory_days)
        if (std::isfinite(v)) ymax = std::max(ymax, v);
    ymax *= 1.1;
  }
  auto X = [&](double d) { return L + (W - L - R) * d / days; };
  auto Y = [&](double v) { return T + (H - T - B) * (1.0 - std::clamp(v / ymax, 0.0, 1.0)); };
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
     << "' font-family='sans-serif' font-size='11'>\n";
  os << "<text x='" << L << "' y='14' font-weight='bold'>"
     << (inventory ? "Inventory cover (days of use)" : "Production / baseline output")
     << " and the record's bounds</text>\n";
  // Axes and ticks.
  os << "<line x1='" << L << "' y1='" << H - B << "' x2='" << W - R << "' y2='" << H - B
     << "' stroke='#444'/><line x1='" << L << "' y1='" << T << "' x2='" << L << "' y2='" << H - B
     << "' stroke='#444'/>\n";
  const double ystep = inventory ? std::max(1.0, std::ceil(ymax / 4.0)) : 0.25;
  for (int k = 0; k * ystep <= ymax + 1e-9; ++k) {
    const double v = k * ystep;
    char b[32];
    std::snprintf(b, sizeof b, inventory ? "%.0f" : "%.2f", v);
    os << "<text x='" << L - 4 << "' y='" << Y(v) + 4 << "' text-anchor='end'>" << b
       << "</text><line x1='" << L << "' y1='" << Y(v) << "' x2='" << W - R << "' y2='" << Y(v)
       << "' stroke='#ddd'/>\n";
  }
  for (int k = 0; k <= 4; ++k) {
    const double d = days * k / 4.0;
    os << "<text x='" << X(d) << "' y='" << H - B + 14 << "' text-anchor='middle'>" << int(d)
       << "</text>\n";
  }
  os << "<text x='" << (L + W - R) / 2 << "' y='" << H - 3
     << "' text-anchor='middle'>day of the scenario (0 = " << html_escape(e.start) << ")</text>\n";
  // Bounds of the checks: a level check (min production, inventory cover) shades its window
  // between its bounds; a timing check (first loss, recovery) marks the days its bound allows
  // as a bar along the top. Green where the check holds, red where not. Sums (output lost,
  // input shortage) are in the table only.
  int bar = 0;
  for (std::size_t j : checks) {
    const auto& c = e.checks[j];
    const char* fill = o.checks[j].holds ? "#2a9d8f" : "#e76f51";
    const std::string tip = html_escape(c.id + ": " + pair_text(c) + " record " + c.bound() +
                                        ", model " + value_text(c, o.checks[j].value));
    const bool level = c.metric == HindcastMetric::MinProduction ||
                       c.metric == HindcastMetric::MinInventoryDays ||
                       c.metric == HindcastMetric::InventoryDaysEnd;
    const bool timing =
        c.metric == HindcastMetric::FirstLossDay || c.metric == HindcastMetric::RecoveryDay;
    if (level) {
      const double lo = std::isinf(c.lo) ? 0.0 : std::max(0.0, c.lo);
      const double hi = std::isinf(c.hi) ? ymax : std::min(ymax, c.hi);
      os << "<rect x='" << X(c.first_day) << "' y='" << Y(hi) << "' width='"
         << std::max(2.0, X(c.last_day) - X(c.first_day)) << "' height='"
         << std::max(2.0, Y(lo) - Y(hi)) << "' fill='" << fill << "' fill-opacity='0.25' stroke='"
         << fill << "' stroke-opacity='0.6'><title>" << tip << "</title></rect>\n";
    } else if (timing) {
      const double a = std::max(double(c.first_day), std::isinf(c.lo) ? 0.0 : c.lo);
      const double b = std::min(double(c.last_day), std::isinf(c.hi) ? days : c.hi);
      const double y = T + 3 + 5 * (bar++ % 4);
      os << "<line x1='" << X(a) << "' y1='" << y << "' x2='" << X(std::max(a, b)) + 2 << "' y2='"
         << y << "' stroke='" << fill << "' stroke-width='4'><title>" << tip << "</title></line>\n";
    }
  }
  static const char* colors[] = {"#264653", "#e9c46a", "#8338ec", "#f4a261",
                                 "#3a86ff", "#6a994e", "#bc4749", "#577590"};
  int row = 0;
  for (std::size_t s : series) {
    const auto& v = inventory ? o.series[s].inventory_days : o.series[s].production_ratio;
    const char* col = colors[row % 8];
    os << "<polyline fill='none' stroke='" << col << "' stroke-width='1.6' points='";
    for (std::size_t t = 0; t < v.size(); ++t)
      if (std::isfinite(v[t])) os << X(double(t)) << ',' << Y(v[t]) << ' ';
    os << "'/>\n<line x1='" << W - R + 10 << "' y1='" << T + 8 + 16 * row << "' x2='" << W - R + 28
       << "' y2='" << T + 8 + 16 * row << "' stroke='" << col << "' stroke-width='2'/><text x='"
       << W - R + 32 << "' y='" << T + 12 + 16 * row << "'>"
       << html_escape(o.series[s].country + " " + o.series[s].material) << "</text>\n";
    ++row;
  }
  os << "</svg>\n";
}

}  // namespace

void write_hindcast_html(const std::vector<HindcastOutcome>& outcomes, std::ostream& os,
                         const std::vector<SensitivityResult>* sensitivity) {
  const HindcastTally t = tally(outcomes);
  os << "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'><title>shortfall "
        "hindcast</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:1em "
        "auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top;"
        "font-size:13px}.ok{color:#1b7f5f;font-weight:bold}.no{color:#c0392b;font-weight:bold}"
        "section{margin:2em 0}.meta{color:#666}</style></head><body>\n";
  os << "<h1>How well does the model reproduce the record?</h1>\n<p><b>" << t.held << " of "
     << t.total << " checks hold (" << t.events << " events)</b>. Fit half: " << t.fit_held
     << " of " << t.fit_total << "; held-out half: " << t.out_held << " of " << t.out_total
     << "; loss events (" << t.loss_events << "): " << t.loss_held << " of " << t.loss_total
     << ".</p>\n<table><tr><th>event</th><th>kind</th><th>half</th><th>start</th><th>checks "
        "holding</th></tr>\n";
  for (const auto& o : outcomes)
    os << "<tr><td><a href='#" << html_escape(o.event->id) << "'>" << html_escape(o.event->id)
       << "</a></td><td>" << (o.event->loss() ? "loss" : "no loss") << "</td><td>"
       << (o.event->half == "fit" ? "fit" : "held out") << "</td><td>" << o.event->start
       << "</td><td>" << o.held() << " of " << o.checks.size() << "</td></tr>\n";
  os << "</table>\n";
  if (sensitivity && !sensitivity->empty()) {
    os << "<section id='sensitivity'><h2>Which assumptions carry the result?</h2>\n<p>Each "
          "parameter set, one at a time, to the ends of its range in every event; the bars "
          "show how many more (right) or fewer (left) checks hold than in the base run.</p>\n";
    write_sensitivity_svg(*sensitivity, t.held, os);
    os << "<table><tr><th>parameter</th><th>source</th><th>low</th><th>high</th><th>checks "
          "that flip</th></tr>\n";
    for (const auto& r : *sensitivity) {
      std::string flips;
      for (const auto& f : r.flips_low) flips += "low " + f + " ";
      for (const auto& f : r.flips_high) flips += "high " + f + " ";
      os << "<tr><td>" << html_escape(r.parameter->name) << "</td><td>"
         << html_escape(r.parameter->source) << "</td><td>" << html_escape(r.parameter->low) << " ("
         << r.held_low << ")</td><td>" << html_escape(r.parameter->high) << " (" << r.held_high
         << ")</td><td>" << html_escape(flips.empty() ? "none" : flips) << "</td></tr>\n";
    }
    os << "</table></section>\n";
  }
  for (const auto& o : outcomes) {
    const HindcastEvent& e = *o.event;
    os << "<section id='" << html_escape(e.id) << "'><h2>" << html_escape(e.title) << "</h2>\n"
       << "<p class='meta'>" << html_escape(e.id) << " &middot; "
       << (e.loss() ? "loss event" : "no-loss event") << " &middot; "
       << (e.half == "fit" ? "fit half" : "held-out half") << " &middot; day 0 = " << e.start
       << "</p>\n<p>" << html_escape(e.summary) << "</p>\n";
    svg_panel(o, false, os);
    svg_panel(o, true, os);
    os << "<table><tr><th></th><th>check</th><th>what was observed</th><th>source</th>"
          "<th>bound</th><th>model</th></tr>\n";
    for (std::size_t j = 0; j < e.checks.size(); ++j) {
      const auto& c = e.checks[j];
      const bool ok = o.checks[j].holds;
      os << "<tr><td class='" << (ok ? "ok'>holds" : "no'>fails") << "</td><td>"
         << html_escape(pair_text(c)) << "</td><td>" << html_escape(c.observed) << "</td><td>"
         << html_escape(c.source) << " (" << c.quality << ")</td><td>" << html_escape(c.bound())
         << "</td><td>" << html_escape(value_text(c, o.checks[j].value)) << "</td></tr>\n";
    }
    os << "</table>\n";
    if (!e.discussion.empty()) os << "<p>" << html_escape(e.discussion) << "</p>\n";
    os << "</section>\n";
  }
  os << "</body></html>\n";
}

void write_hindcast_markdown(const std::vector<HindcastOutcome>& outcomes, const std::string& notes,
                             const std::string& command, std::ostream& os) {
  const HindcastTally t = tally(outcomes);
  os << "# Validation: the model against the historical record\n\n"
     << "<!-- Generated by `" << command
     << "`: do not edit by hand. The records are in scenarios/validation/*.record.yaml, their "
        "sources in scenarios/worlds/sources.md. -->\n\n"
     << "Each event below is a scenario replayed on the default world and a record of what was "
        "observed, as checks with bounds ([docs/hindcast.md](../docs/hindcast.md)). Every "
        "number in the model column comes from this engine and world; regenerate this file "
        "with `"
     << command << "`.\n\n"
     << "**" << t.held << " of " << t.total << " checks hold (" << t.events << " events).** "
     << "Fit half: " << t.fit_held << " of " << t.fit_total << "; held-out half: " << t.out_held
     << " of " << t.out_total << "; loss events (" << t.loss_events << "): " << t.loss_held
     << " of " << t.loss_total << ".\n\n"
     << "| event | kind | half | day 0 | checks holding | what happened "
        "|\n|---|---|---|---|---|---|\n";
  for (const auto& o : outcomes)
    os << "| [" << o.event->id << "](#" << o.event->id << ") | "
       << (o.event->loss() ? "loss" : "no loss") << " | "
       << (o.event->half == "fit" ? "fit" : "held out") << " | " << o.event->start << " | "
       << o.held() << " of " << o.checks.size() << " | " << md_cell(o.event->title) << " |\n";
  os << "\n";
  for (const auto& o : outcomes) {
    const HindcastEvent& e = *o.event;
    os << "<a id=\"" << e.id << "\"></a>\n## " << e.id << ": " << e.title << "\n\n"
       << (e.loss() ? "Loss event" : "No-loss event") << ", "
       << (e.half == "fit" ? "fit half" : "held-out half") << "; day 0 = " << e.start
       << "; scenario `"
       << std::filesystem::relative(
              e.scenario_path, std::filesystem::path(e.record_path).parent_path().parent_path())
              .generic_string()
       << "`.\n\n"
       << e.summary << "\n\n"
       << "| | check | what was observed | source | bound | model |\n|---|---|---|---|---|---|\n";
    for (std::size_t j = 0; j < e.checks.size(); ++j) {
      const auto& c = e.checks[j];
      os << "| " << (o.checks[j].holds ? "holds" : "**fails**") << " | " << md_cell(pair_text(c))
         << " | " << md_cell(c.observed) << " | " << c.source << " (" << c.quality << ") | "
         << md_cell(c.bound()) << " | " << md_cell(value_text(c, o.checks[j].value)) << " |\n";
    }
    os << "\n";
    if (!e.discussion.empty()) os << e.discussion << "\n\n";
  }
  if (!notes.empty()) os << notes << (notes.back() == '\n' ? "" : "\n");
}

// ---- sensitivity -------------------------------------------------------------------------------

std::vector<SensitivityParameter> load_sensitivity(const std::string& path) {
  const YNode root = detail::load_yaml_file(path);
  root.expect_map();
  root.check_keys({"parameters"});
  const YNode list = root.at("parameters");
  list.expect_seq();
  if (list.size() == 0) list.fail("expected at least one parameter, found an empty list");
  std::vector<SensitivityParameter> out;
  for (std::size_t k = 0; k < list.size(); ++k) {
    const YNode n = list.item(k);
    n.expect_map();
    n.check_keys({"name", "target", "paths", "low", "high", "base", "source", "note"});
    SensitivityParameter p;
    p.where = n.where();
    p.name = n.at("name").as_string();
    const YNode target = n.at("target");
    p.target = target.as_string();
    if (p.target != "scenario" && p.target != "world")
      target.fail("expected scenario or world, found '" + p.target + "'");
    p.paths = n.at("paths").as_string_list();
    if (p.paths.empty()) n.at("paths").fail("expected at least one key path, found none");
    auto value = [&](const char* key) {
      const YNode v = n.at(key);
      if (!v.is_scalar()) v.fail("expected a value, found " + detail::describe(v.node));
      return v.as_string();
    };
    p.low = value("low");
    p.high = value("high");
    p.base = value("base");
    p.source = n.at("source").as_string();
    if (auto note = n.get("note")) p.note = trim(note->as_string());
    out.push_back(std::move(p));
  }
  return out;
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

void print_sensitivity(const std::vector<SensitivityResult>& results, std::size_t base_held,
                       std::size_t total, std::ostream& os) {
  os << "sensitivity: checks holding with each parameter at the ends of its range (base "
     << base_held << " of " << total << "; +check now holds, -check no longer holds)\n";
  for (const auto& r : results) {
    const auto& p = *r.parameter;
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
      return s.empty() ? std::string("no check flips") : s;
    };
    os << "  " << p.name << " (" << p.source << "; base " << p.base << ")\n"
       << "    low  " << p.low << ": " << r.held_low << " of " << total << "  " << list(r.flips_low)
       << "\n"
       << "    high " << p.high << ": " << r.held_high << " of " << total << "  "
       << list(r.flips_high) << "\n";
  }
}

void write_sensitivity_svg(const std::vector<SensitivityResult>& results, std::size_t base_held,
                           std::ostream& os) {
  // Parameters ordered by the larger of their two swings, largest on top (a tornado).
  std::vector<const SensitivityResult*> rs;
  for (const auto& r : results) rs.push_back(&r);
  auto swing = [&](const SensitivityResult* r) {
    return std::max(std::abs(double(r->held_low) - double(base_held)),
                    std::abs(double(r->held_high) - double(base_held)));
  };
  std::stable_sort(rs.begin(), rs.end(), [&](auto* a, auto* b) { return swing(a) > swing(b); });
  double m = 1.0;
  for (auto* r : rs) m = std::max(m, swing(r));
  const int rowh = 26, L = 360, W = 880, mid = L + (W - L - 20) / 2, half = (W - L - 20) / 2;
  const int H = 40 + rowh * int(rs.size()) + 30;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
     << "' font-family='sans-serif' font-size='11'>\n<text x='4' y='14' font-weight='bold'>"
        "Change in checks holding with each parameter at the low (blue) and high (orange) end "
        "of its range</text>\n";
  auto X = [&](double d) { return mid + half * d / m; };
  for (std::size_t k = 0; k < rs.size(); ++k) {
    const auto& r = *rs[k];
    const double y = 34 + rowh * double(k);
    os << "<text x='" << L - 6 << "' y='" << y + 14 << "' text-anchor='end'>"
       << html_escape(r.parameter->name) << "</text>\n";
    const double dl = double(r.held_low) - double(base_held);
    const double dh = double(r.held_high) - double(base_held);
    os << "<rect x='" << std::min(X(0), X(dl)) << "' y='" << y + 2 << "' width='"
       << std::max(1.5, std::abs(X(dl) - X(0))) << "' height='9' fill='#3a86ff'><title>low "
       << html_escape(r.parameter->low) << ": " << r.held_low << "</title></rect>\n";
    os << "<rect x='" << std::min(X(0), X(dh)) << "' y='" << y + 12 << "' width='"
       << std::max(1.5, std::abs(X(dh) - X(0))) << "' height='9' fill='#f4a261'><title>high "
       << html_escape(r.parameter->high) << ": " << r.held_high << "</title></rect>\n";
  }
  const double yb = 34 + rowh * double(rs.size());
  os << "<line x1='" << X(0) << "' y1='28' x2='" << X(0) << "' y2='" << yb << "' stroke='#444'/>\n";
  const int step = std::max(1, int(std::ceil(m / 4.0)));
  for (int d = -int(m); d <= int(m); ++d)
    if (d % step == 0)
      os << "<text x='" << X(d) << "' y='" << yb + 14 << "' text-anchor='middle'>"
         << (d > 0 ? "+" : "") << d << "</text>\n";
  os << "<text x='" << mid << "' y='" << yb + 28
     << "' text-anchor='middle'>checks holding, against the base run</text>\n</svg>\n";
}

}  // namespace shortfall
