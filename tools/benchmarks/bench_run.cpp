// shortfall_bench: times whole simulated years on synthetic worlds (issue 6).
// Prints one row per case: link-days per second, ms per day by phase, peak RSS, and the share
// of this machine's measured streaming bandwidth that the day's estimated traffic reaches.
#include <sys/resource.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "shortfall/generator.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"

using namespace shortfall;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;
}

/// STREAM-like triad a = b + s*c over 3 x 64 MiB arrays; returns GB/s (best of 5).
double stream_bandwidth(int threads) {
  const std::size_t n = (64u << 20) / sizeof(double);
  std::vector<double> a(n, 0.0), b(n, 1.0), c(n, 2.0);
  tbb::task_arena arena(threads);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = Clock::now();
    arena.execute([&] {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1 << 16), [&](auto r) {
        for (std::size_t i = r.begin(); i < r.end(); ++i) a[i] = b[i] + 3.0 * c[i];
      });
    });
    double s = since(t0);
    best = std::max(best, 3.0 * double(n) * sizeof(double) / s / 1e9);
  }
  if (a[n / 2] != 7.0) std::fprintf(stderr, "stream check failed\n");
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"shortfall_bench: time simulated years on synthetic worlds"};
  SyntheticSpec spec;
  spec.firms = 1000000;
  spec.links = 5000000;
  spec.materials = 10;
  spec.countries = 20;
  int days = 365;
  std::vector<int> threads{1};
  std::string rationing = "proportional";
  bool header = true, stream = true;
  app.add_option("--firms", spec.firms);
  app.add_option("--links", spec.links);
  app.add_option("--materials", spec.materials);
  app.add_option("--countries", spec.countries);
  app.add_option("--seed", spec.seed);
  app.add_option("--days", days);
  app.add_option("--threads", threads, "Thread counts to run, e.g. 1 2 4");
  app.add_option("--rationing", rationing);
  app.add_flag("!--no-header", header);
  app.add_flag("!--no-stream", stream);
  CLI11_PARSE(app, argc, argv);

  auto t0 = Clock::now();
  World world = generate_synthetic(spec);
  const double gen_s = since(t0);

  // A shock that propagates: half of the raw-material capacity lost, recovering over 120 days.
  std::string yaml = "name: bench\nworld: none\ndays: " + std::to_string(days) +
                     "\nmodel: {rationing: " + rationing +
                     "}\nrecord: {firm_level: false}\nevents:\n"
                     "  - {type: capacity_loss, start: 10, loss: 0.5, material: " +
                     world.materials[0].id + ", recovery: {type: linear, days: 120}}\n";
  Scenario sc = parse_scenario(yaml, "<bench>");

  if (header) {
    std::printf("%-9s %-9s %-12s %3s %8s %8s %9s %7s %7s %7s %7s %7s %8s %8s %6s\n", "firms",
                "links", "rationing", "thr", "gen_s", "run_s", "Mlinkd/s", "ms/day", "inv+ord",
                "dem+rat", "ship", "other", "rss_MB", "strm_GBs", "bw%");
  }
  for (int th : threads) {
    RunOptions opt;
    opt.threads = th;
    opt.profile = true;
    Simulation sim(world, sc, opt);
    auto t1 = Clock::now();
    sim.run(nullptr);
    const double run_s = since(t1);
    PhaseTimes pt = sim.phase_seconds();
    const double link_days = double(world.num_links()) * days;
    const double ms = 1000.0 / days;
    // Estimated bytes a day moves per link with lead time 1 (see README "Performance"):
    // inventory+orders ~48, demand+rationing ~44 (gathers through out_lane), shipping ~24.
    const double bytes_per_link_day = 116.0;
    const double achieved = link_days * bytes_per_link_day / run_s / 1e9;
    const double rss = peak_rss_mb();  // before the bandwidth probe's arrays
    const double gbps = stream ? stream_bandwidth(th) : 0.0;
    std::printf("%-9zu %-9zu %-12s %3d %8.2f %8.2f %9.1f %7.2f %7.2f %7.2f %7.2f %7.2f %8.0f %8.1f %5.0f%%\n",
                world.num_firms(), world.num_links(), rationing.c_str(), th, gen_s, run_s,
                link_days / run_s / 1e6, run_s * ms, pt.inventory_orders * ms,
                pt.demand_production_rationing * ms, pt.shipping * ms,
                (pt.events + pt.policies) * ms, rss, gbps,
                gbps > 0 ? 100.0 * achieved / gbps : 0.0);
    std::fflush(stdout);
  }
  return 0;
}
