// Links the installed engine library: loads a world, runs a scenario without events, and checks
// what the model says of it (docs/model.md section 3: with no shock every firm makes its baseline
// output x0 every day), and that the installed program exists.
#include <cstdio>
#include <filesystem>

#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/version.hpp"
#include "shortfall/world.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const shortfall::World world = shortfall::load_world(argv[1]);
  const shortfall::Scenario scenario =
      shortfall::parse_scenario("world: w.yaml\ndays: 5\n", "consumer.yaml");
  shortfall::Simulation sim(world, scenario);
  sim.run(nullptr);
  const auto x = sim.production();
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x[i] != world.baseline_output()[i]) {
      std::printf("firm %zu: %g, baseline %g\n", i, x[i], world.baseline_output()[i]);
      return 1;
    }
  std::printf("shortfall %s: %zu firms at baseline after 5 days; program %s\n", shortfall::kVersion,
              x.size(), std::filesystem::exists(SHORTFALL_EXE) ? "installed" : "MISSING");
  return std::filesystem::exists(SHORTFALL_EXE) ? 0 : 1;
}
