// shortfall import-mrio --format oecd-icio|wiod|exiobase|csv FILES... --out DIR
//                       [--firms-per-sector K] [--min-flow V] [--map FILE] [--unit TEXT]
//
// Writes the explicit world (world.yaml + firms.csv + links.csv + final_demand_split.csv) of a
// multi-regional input-output table (docs/mrio.md). Exit 0 on success, 2 on bad input, 3 when a
// file cannot be written.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "cli/commands.hpp"
#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/mrio.hpp"

namespace shortfall::cli {

namespace {

struct ImportArgs {
  std::string format, out, map, unit;
  std::vector<std::string> files;
  std::uint32_t firms_per_sector = 1;
  double min_flow = 0.0;
};

/// The world is written into DIR.partial and its files renamed into DIR when all are complete.
void publish_world(const World& w, const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path target(dir), partial = fs::path(dir + ".partial");
  std::error_code ec;
  fs::remove_all(partial, ec);
  write_world(w, partial.string());
  fs::create_directories(target, ec);
  if (ec) throw IoError(dir + ": cannot create directory (" + ec.message() + ")");
  for (const auto& entry : fs::directory_iterator(partial)) {
    fs::rename(entry.path(), target / entry.path().filename(), ec);
    if (ec)
      throw IoError((target / entry.path().filename()).string() +
                    ": cannot move the file into place (" + ec.message() + ")");
  }
  if (w.final_demand_split().empty()) fs::remove(target / "final_demand_split.csv", ec);
  fs::remove_all(partial, ec);
}

int run_import(const ImportArgs& a) {
  const auto format = parse_mrio_format(a.format);
  if (!format)
    throw InputError({"--format", 0, 0, ""},
                     "expected oecd-icio, wiod, exiobase or csv, found '" + a.format + "'");
  check_output_directory(a.out);
  MrioOptions opt;
  opt.firms_per_sector = a.firms_per_sector;
  opt.min_flow = a.min_flow;
  opt.unit = a.unit;
  if (!a.map.empty()) opt.map = read_mrio_map(a.map);
  const MrioTable table = read_mrio(*format, a.files);
  MrioReport r;
  const World w = build_mrio_world(table, opt, &r);
  publish_world(w, a.out);
  const std::string unit = w.materials().front().unit;
  std::printf(
      "table       %s (%s): %zu countries, %zu sectors, %zu entries, %zu missing cells "
      "read as 0\n",
      table.source.c_str(), a.format.c_str(), table.countries.size(), table.sectors.size(),
      table.entries.size(), r.missing_cells);
  std::printf(
      "world       %zu countries, %zu materials, %zu firms, %zu links; output %.6g %s "
      "a year\n",
      r.countries, r.sectors, r.firms, r.links, r.total_output, unit.c_str());
  std::printf(
      "negative    %zu intermediate entries dropped (%.6g), %zu final demands clipped "
      "to 0 (%.6g)\n",
      r.negative_flows, r.negative_flow_value, r.negative_final_demand,
      r.negative_final_demand_value);
  std::printf(
      "moved to final demand: own use %.6g, %zu links below --min-flow %.6g, purchases of "
      "%zu sectors with no output %.6g\n",
      r.own_use_value, r.small_links, r.small_link_value, r.empty_sectors,
      r.empty_sector_purchase_value);
  std::printf("written to  %s\n", a.out.c_str());
  return kExitOk;
}

}  // namespace

Command add_import_mrio_command(CLI::App& app) {
  auto args = std::make_shared<ImportArgs>();
  auto* sub = app.add_subcommand("import-mrio",
                                 "Write an explicit world from a multi-regional input-output table "
                                 "(docs/mrio.md)");
  sub->add_option("--format,-f", args->format, "oecd-icio, wiod, exiobase or csv")->required();
  sub->add_option("files", args->files,
                  "The table: one file (EXIOBASE: its directory, or Z.txt and Y.txt)")
      ->required();
  sub->add_option("--out,-o", args->out, "Output directory")->required();
  sub->add_option("--firms-per-sector", args->firms_per_sector,
                  "Firms per (country, sector), sized by Zipf shares (default 1)")
      ->check(CLI::Range(1, 1000));
  sub->add_option("--min-flow", args->min_flow,
                  "Links below this annual value (table currency) go to final demand")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--map", args->map, "CSV from,to renaming country and sector codes");
  sub->add_option("--unit", args->unit, "Unit of every material (default: the table's currency)");
  return {sub, [args] { return run_import(*args); }};
}

}  // namespace shortfall::cli
