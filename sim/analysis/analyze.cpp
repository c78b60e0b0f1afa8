// Network analytics (include/shortfall/analyze.hpp; definitions in docs/analysis.md): all the
// measures together, and the analysis's input. The measures live in graph_measures.cpp
// (dependency, pass-through, betweenness), systemic_risk.cpp (ESRI) and knockouts.cpp; the
// HDF5 file in analysis_file.cpp and the terminal tables in print.cpp.
#include <chrono>
#include <string>

#include "shortfall/analyze.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/scenario.hpp"
#include "util/yaml_util.hpp"

namespace shortfall {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

// ---- all together -------------------------------------------------------------------------------

Analysis analyze(const World& world, const ModelParams& model, const AnalyzeOptions& opt) {
  Analysis a;
  using Clock = std::chrono::steady_clock;
  auto t = Clock::now();
  a.graph = aggregate_graph(world);
  a.seconds.emplace_back("graph", seconds_since(t));
  t = Clock::now();
  a.dep = dependency(world, a.graph);
  a.seconds.emplace_back("dependency", seconds_since(t));
  t = Clock::now();
  a.pass = pass_through(world, a.graph);
  a.seconds.emplace_back("pass_through", seconds_since(t));
  t = Clock::now();
  a.btw = betweenness(world, a.graph, opt.max_betweenness_firms);
  a.seconds.emplace_back("betweenness", seconds_since(t));
  if (a.btw.firm.empty() && world.num_firms() > 0)
    a.notes.push_back("firm betweenness skipped: " + std::to_string(world.num_firms()) +
                      " firms > --max-betweenness-firms " +
                      std::to_string(opt.max_betweenness_firms));
  const bool esri = opt.esri && world.num_firms() <= opt.max_esri_firms;
  if (opt.esri && !esri)
    a.notes.push_back("ESRI skipped: " + std::to_string(world.num_firms()) +
                      " firms > --max-esri-firms " + std::to_string(opt.max_esri_firms));
  if (esri) {
    t = Clock::now();
    a.risk = systemic_risk(world, opt.threads);
    a.seconds.emplace_back("esri", seconds_since(t));
  }
  if (opt.simulate_top > 0) {
    t = Clock::now();
    a.knockout_days = opt.knockout_days;
    a.knock = knockouts(world, a.graph, model, a.dep.end_product, a.btw, esri ? &a.risk : nullptr,
                        a.dep, opt.simulate_top, opt.knockout_days, opt.threads);
    a.seconds.emplace_back("knockouts", seconds_since(t));
  }
  return a;
}

AnalysisInput load_analysis_input(const std::string& path) {
  AnalysisInput in;
  bool scenario = false;
  if (!is_world_description(path)) {
    detail::YNode root = detail::load_yaml_file(path);
    scenario = root.is_map() && root.has("world") && !root.has("countries");
  }
  if (scenario) {
    in.scenario = load_scenario(path);
    in.world = load_world(in.scenario.world_path, in.scenario.world_where);
    in.from_scenario = true;
  } else {
    in.world = load_world(path);
  }
  return in;
}

}  // namespace shortfall
