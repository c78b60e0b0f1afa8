// shortfall analyze <world.yaml | scenario.yaml> [--top 20] [--out analysis.h5]
//                   [--simulate-top K] [--days D] [--threads N] [--no-esri]
// Network analytics before any shock (sim/analysis/analyze.cpp, definitions in docs/analysis.md).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "shortfall/analyze.hpp"
#include "shortfall/error.hpp"

namespace shortfall::cli {

namespace {
struct AnalyzeArgs {
  std::string input, out;
  AnalyzeOptions opt;
  bool no_esri = false, quiet = false;
};
}  // namespace

Command add_analyze_command(CLI::App& app) {
  auto args = std::make_shared<AnalyzeArgs>();
  auto* sub = app.add_subcommand(
      "analyze",
      "Network analytics of a world: dependency, pass-through, chokepoints, systemic risk");
  sub->add_option("input", args->input,
                  "World YAML (explicit or description), or a scenario (its world and model "
                  "parameters are used)")
      ->required();
  sub->add_option("--top", args->opt.top, "Rows per table")->check(CLI::Range(0, 100000));
  sub->add_option("--out,-o", args->out, "Write the analysis as HDF5 to this file");
  sub->add_option("--simulate-top", args->opt.simulate_top,
                  "Knockout simulations: top K candidates per kind and ranking (0: none)")
      ->check(CLI::Range(0, 100000));
  sub->add_option("--days", args->opt.knockout_days, "Days per knockout simulation")
      ->check(CLI::Range(1, 36500));
  sub->add_option("--threads,-t", args->opt.threads, "Worker threads (default: all cores)")
      ->check(CLI::Range(0, 4096));
  sub->add_option("--max-betweenness-firms", args->opt.max_betweenness_firms,
                  "Skip firm-level betweenness above this many firms (default 20000)");
  sub->add_option("--max-esri-firms", args->opt.max_esri_firms,
                  "Skip the systemic risk index above this many firms (default 20000)");
  sub->add_flag("--no-esri", args->no_esri, "Skip the systemic risk index");
  sub->add_flag("--quiet,-q", args->quiet, "Print only the timings");

  Command cmd;
  cmd.sub = sub;
  cmd.run = [args]() -> int {
    auto t0 = std::chrono::steady_clock::now();
    if (!args->out.empty()) check_output_file(args->out);  // before the analysis, not after
    AnalysisInput in = load_analysis_input(args->input);
    const double load_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    args->opt.esri = !args->no_esri;
    Analysis a = analyze(in.world, in.scenario.model, args->opt);
    if (in.from_scenario) a.scenario_name = in.scenario.name;
    std::cout << "world       " << in.world.source() << " (" << in.world.num_firms() << " firms, "
              << in.world.num_links() << " links, " << in.world.countries().size() << " countries, "
              << in.world.materials().size() << " materials; " << a.graph.num_nodes()
              << " (country, material) nodes, " << a.graph.edge_from.size() << " edges)\n";
    if (in.from_scenario) std::cout << "parameters  from scenario " << in.scenario.name << "\n";
    if (args->quiet)
      for (const auto& n : a.notes) std::cout << "note        " << n << "\n";
    if (!args->quiet) {
      std::cout << "\n";
      print_analysis(a, in.world, std::cout, args->opt.top);
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", load_s);
    std::cout << "timings     load " << buf << " s";
    for (const auto& [name, s] : a.seconds) {
      std::snprintf(buf, sizeof buf, "%.3f", s);
      std::cout << ", " << name << " " << buf << " s";
    }
    std::cout << " (" << (args->opt.threads > 0 ? std::to_string(args->opt.threads) : "all")
              << " threads)\n";
    if (!args->out.empty()) {
      write_analysis(a, in.world, args->out);
      std::cout << "output      " << args->out << "\n";
    }
    return kExitOk;
  };
  return cmd;
}

}  // namespace shortfall::cli
