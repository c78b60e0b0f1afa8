// shortfall compare <sweep.h5> [--by NAME]... [--country C] [--material M] [--csv]
//
// Summary metrics of a sweep by the values of one or more coordinates (an axis, replicate,
// seed or point), per material and country, with their spread over the other runs (replicates
// and the other axes). Quantities of different materials are never added together.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "shortfall/error.hpp"
#include "shortfall/sweep.hpp"

namespace shortfall::cli {

namespace {

struct CompareArgs {
  std::string file, country, material;
  std::vector<std::string> by;
  bool csv = false;
};

std::string num(double v) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string cell(const Spread& s) {
  if (s.n == 0) return "-";
  if (s.n == 1 || s.min == s.max) return num(s.mean);
  return num(s.mean) + " ±" + num(s.std) + " [" + num(s.min) + ", " + num(s.max) + "]";
}

void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& os,
                 std::size_t left_columns) {
  std::vector<std::size_t> w;
  for (auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c) {
      if (w.size() <= c) w.push_back(0);
      w[c] = std::max(w[c], r[c].size());
    }
  for (auto& r : rows) {
    std::string line = "  ";
    for (std::size_t c = 0; c < r.size(); ++c) {
      std::string pad(w[c] - r[c].size(), ' ');
      line += c < left_columns ? r[c] + pad : pad + r[c];
      if (c + 1 < r.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    os << line << "\n";
  }
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

int run_compare(const CompareArgs& a) {
  SweepOutput out = read_sweep_output(a.file);
  auto rows = compare_sweep(out, a.by, a.country, a.material);
  if (a.csv) {
    std::cout << "material,country,unit";
    for (auto& b : a.by) std::cout << "," << csv_field(b);
    std::cout << ",runs";
    for (const char* m : {"total_shortage", "peak_shortage", "days_in_shortage", "recovery_day"})
      for (const char* s : {"n", "mean", "std", "min", "max"}) std::cout << "," << m << "_" << s;
    std::cout << ",never_short,not_recovered\n";
    for (auto& r : rows) {
      std::cout << csv_field(r.material) << "," << csv_field(r.country) << "," << csv_field(r.unit);
      for (auto& b : r.by) std::cout << "," << csv_field(b);
      std::cout << "," << r.runs;
      for (const Spread* s :
           {&r.total_shortage, &r.peak_shortage, &r.days_in_shortage, &r.recovery_day}) {
        char buf[160];
        std::snprintf(buf, sizeof buf, ",%zu,%.17g,%.17g,%.17g,%.17g", s->n, s->mean, s->std,
                      s->min, s->max);
        std::cout << buf;
      }
      std::cout << "," << r.never_short << "," << r.not_recovered << "\n";
    }
    return kExitOk;
  }

  std::cout << "sweep " << out.name << " (" << a.file << "): " << out.runs << " runs";
  std::string axes;
  for (auto& c : out.coords)
    if (!c.key_path.empty()) axes += (axes.empty() ? "" : ", ") + c.name + " = " + c.key_path;
  if (!axes.empty()) std::cout << "; axes " << axes;
  std::cout << "\n";
  if (a.by.empty())
    std::cout << "all runs together (use --by NAME to group by an axis)";
  else {
    std::cout << "by";
    for (auto& b : a.by) std::cout << " " << b;
    std::cout << "; spread over the other axes and the replicates";
  }
  std::cout << ". Cells: mean ±std [min, max] over the runs.\n"
               "total = daily shortage summed over the days, peak = largest daily shortage (units "
               "of the material);\ndays short = days with shortage above "
            << out.shortage_threshold
            << " x baseline daily use; recovery = the day after the last of them,\nover the runs "
               "that recovered.\n";
  if (rows.empty()) {
    std::cout << "\nNo shortages in any run"
              << (a.country.empty() && a.material.empty() ? "" : " for the selection") << ".\n";
    return kExitOk;
  }
  std::string current;
  std::vector<std::vector<std::string>> table;
  auto flush = [&] {
    if (!table.empty()) print_table(table, std::cout, 1 + a.by.size());
    table.clear();
  };
  for (auto& r : rows) {
    if (r.material != current) {
      flush();
      current = r.material;
      std::cout << "\n" << r.material << (r.unit.empty() ? "" : " (" + r.unit + ")") << "\n";
      std::vector<std::string> head = {"country"};
      for (auto& b : a.by) head.push_back(b);
      for (const char* h :
           {"runs", "total", "peak", "days short", "recovery day", "never short", "not recovered"})
        head.emplace_back(h);
      table.push_back(head);
    }
    std::vector<std::string> line = {r.country};
    for (auto& b : r.by) line.push_back(b);
    line.push_back(std::to_string(r.runs));
    line.push_back(cell(r.total_shortage));
    line.push_back(cell(r.peak_shortage));
    line.push_back(cell(r.days_in_shortage));
    line.push_back(cell(r.recovery_day));
    line.push_back(std::to_string(r.never_short));
    line.push_back(std::to_string(r.not_recovered));
    table.push_back(line);
  }
  flush();
  return kExitOk;
}

}  // namespace

Command add_compare_command(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  auto* sub = app.add_subcommand("compare", "Summary metrics of a sweep by an axis");
  sub->add_option("sweep", a->file, "Sweep output (HDF5) written by `shortfall sweep`")->required();
  sub->add_option("--by", a->by,
                  "Group by this coordinate (an axis name, replicate, seed or point); repeatable")
      ->delimiter(',')
      ->allow_extra_args(false);
  sub->add_option("--country", a->country, "Only this country");
  sub->add_option("--material", a->material, "Only this material");
  sub->add_flag("--csv", a->csv, "Write CSV (with n, mean, std, min, max of each metric)");
  return Command{sub, [a]() -> int { return run_compare(*a); }};
}

}  // namespace shortfall::cli
