// shortfall compare <sweep.h5> [--by NAME]... [--country C] [--material M] [--csv]
//
// The run metrics of model 10 (docs/model.md section 10: output lost, input shortage, unmet
// final demand, recovery day; read from the sweep file's `summary` group, the same numbers as a
// run's summary) by the values of one or more coordinates (an axis, replicate, seed or point),
// per material and country, with their spread over the other runs (replicates and the other
// axes). The headline is output lost. Quantities of different materials are never added.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
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
    for (const char* m : {"output_lost_days", "peak_output_loss", "shortage_days",
                          "unmet_final_demand_days", "recovery_day"})
      for (const char* s : {"n", "mean", "std", "min", "max"}) std::cout << "," << m << "_" << s;
    std::cout << ",undisturbed,not_recovered\n";
    for (auto& r : rows) {
      std::cout << csv_field(r.material) << "," << csv_field(r.country) << "," << csv_field(r.unit);
      for (auto& b : r.by) std::cout << "," << csv_field(b);
      std::cout << "," << r.runs;
      for (const Spread* s : {&r.output_lost_days, &r.peak_output_loss, &r.shortage_days,
                              &r.unmet_final_days, &r.recovery_day}) {
        char buf[160];
        std::snprintf(buf, sizeof buf, ",%zu,%.17g,%.17g,%.17g,%.17g", s->n, s->mean, s->std,
                      s->min, s->max);
        std::cout << buf;
      }
      std::cout << "," << r.undisturbed << "," << r.not_recovered << "\n";
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
               "Run metrics of docs/model.md section 10, as `shortfall run` prints them (worst "
               "first by output lost):\n"
               "  output lost: days of the country's baseline output of the material; peak loss: "
               "% of it;\n"
               "  input shortage: days of its firms' baseline use; unmet final demand: days of "
               "its final users' use;\n"
               "  recovery: first day from which output >= 99% of baseline and shortage <= 1% of "
               "use hold to the end,\n  over the runs that recovered (undisturbed: recovery day "
               "0; not recovered: -1).\n";
  if (rows.empty()) {
    std::cout << "\nNo losses (no output lost, input shortage or unmet final demand) in any run"
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
           {"runs", "output lost (days)", "peak loss (%)", "input short (days use)",
            "unmet final (days use)", "recovery (day)", "undisturbed", "not recovered"})
        head.emplace_back(h);
      table.push_back(head);
    }
    std::vector<std::string> line = {r.country};
    for (auto& b : r.by) line.push_back(b);
    line.push_back(std::to_string(r.runs));
    line.push_back(cell(r.output_lost_days));
    Spread peak = r.peak_output_loss;
    for (double* v : {&peak.mean, &peak.std, &peak.min, &peak.max}) *v *= 100.0;
    line.push_back(cell(peak));
    line.push_back(cell(r.shortage_days));
    line.push_back(cell(r.unmet_final_days));
    line.push_back(cell(r.recovery_day));
    line.push_back(std::to_string(r.undisturbed));
    line.push_back(std::to_string(r.not_recovered));
    table.push_back(line);
  }
  flush();
  return kExitOk;
}

}  // namespace

Command add_compare_command(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  auto* sub = app.add_subcommand("compare", "Run metrics of a sweep (model 10) by an axis");
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
