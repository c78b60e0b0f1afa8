// Hindcast renderings (docs/hindcast.md): the terminal printout, the HTML page with its SVG
// panels, the Markdown of scenarios/VALIDATION.md, and the sensitivity printout and tornado.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "shortfall/hindcast.hpp"
#include "validation/hindcast_common.hpp"

namespace shortfall {

using namespace hindcasting;

namespace {

std::string md_cell(std::string s) {  // one table cell: no pipes, no line breaks
  for (auto& ch : s)
    if (ch == '\n') ch = ' ';
  std::string r;
  for (char ch : s) r += ch == '|' ? std::string("\\|") : std::string(1, ch);
  return r;
}

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
