// shortfall_bench: times whole simulated years on synthetic worlds (issue 6).
// Prints one row per case: link-days per second, ms per day by phase, peak RSS, and the share
// of this machine's measured streaming bandwidth that the day's estimated traffic reaches.
// With --load WORLD.yaml it times loading that world instead (issue 21): seconds, links per
// second and peak RSS of the loading process. With --scenario FILE.yaml it times that scenario
// on its own world (e.g. the default world, or the peer-like world of peer_like_world.py):
// set-up, run and CPU seconds, link-days per second and microseconds a day by phase.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "shortfall/generator.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/world.hpp"

using namespace shortfall;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// CPU seconds of this process (user + system, all threads): steadier than wall time on a
/// shared machine.
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;
}

/// STREAM-like triad a = b + s*c over 3 x 64 MiB arrays with `threads` std::threads (each
/// touching its own block first); returns GB/s (best of 5). Plain threads, not TBB, so that it
/// also runs in a forked child.
double stream_bandwidth(int threads) {
  const std::size_t n = (64u << 20) / sizeof(double);
  std::vector<double> a(n), b(n), c(n);
  const auto t = std::size_t(std::max(1, threads));
  auto each_block = [&](auto&& body) {
    std::vector<std::thread> pool;
    for (std::size_t w = 0; w < t; ++w)
      pool.emplace_back([&, w] { body(w * n / t, (w + 1) * n / t); });
    for (auto& th : pool) th.join();
  };
  each_block([&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) a[i] = 0.0, b[i] = 1.0, c[i] = 2.0;
  });
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = Clock::now();
    each_block([&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i) a[i] = b[i] + 3.0 * c[i];
    });
    double s = since(t0);
    best = std::max(best, 3.0 * double(n) * sizeof(double) / s / 1e9);
  }
  if (a[n / 2] != 7.0) std::fprintf(stderr, "stream check failed\n");
  return best;
}

/// The probe in a child process, so that its arrays never count in this process's peak RSS.
double stream_bandwidth_forked(int threads) {
  int fd[2];
  if (pipe(fd) != 0) return 0.0;
  const pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    const double gbps = stream_bandwidth(threads);
    [[maybe_unused]] auto n = write(fd[1], &gbps, sizeof gbps);
    _exit(0);
  }
  close(fd[1]);
  double gbps = 0.0;
  if (pid < 0 || read(fd[0], &gbps, sizeof gbps) != sizeof gbps) gbps = 0.0;
  close(fd[0]);
  if (pid > 0) waitpid(pid, nullptr, 0);
  return gbps;
}

// Roofline model: estimated memory traffic per link and day with lead time 1 and proportional
// rationing (docs/performance.md), in bytes. A scattered access counts a whole 64-byte line,
// read and, for a write, written back.
//   inventory+orders: stock read+written, Z0, yesterday's delivery, order written, out-position
//     (44 streamed) + the served order scattered to supplier order (one line, 128);
//   demand+production+rationing: the served orders streamed (8) + the supplier's own arrays
//     (about 80 bytes a firm, 16 a link at 5 links a firm);
//   shipping: supplier id, order, delivery written (with its read for ownership) (28) + the
//     supplier's rule gathered (one line read, 64; an 8-byte-per-firm array that may sit in L3).
constexpr double kBytesInventory = 44 + 128, kBytesDemand = 24, kBytesShip = 28 + 64;

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
  int repeat = 1;
  std::string model = "default";
  bool metrics = true;
  app.add_option("--firms", spec.firms);
  app.add_option("--links", spec.links);
  app.add_option("--materials", spec.materials);
  app.add_option("--countries", spec.countries);
  app.add_option("--seed", spec.seed);
  app.add_option("--days", days);
  app.add_option("--threads", threads, "Thread counts to run, e.g. 1 2 4");
  app.add_option("--rationing", rationing);
  app.add_option("--model", model, "default (model version 2) or preset (inoue_todo_2019)")
      ->check(CLI::IsMember({"default", "preset"}));
  app.add_flag("!--no-metrics", metrics, "Do not accumulate the run metrics every day");
  app.add_flag("!--no-header", header);
  app.add_flag("!--no-stream", stream);
  app.add_option("--repeat", repeat,
                 "Runs per case; the fastest is reported (a shared machine's noise only slows)")
      ->check(CLI::Range(1, 100));
  std::string load;
  app.add_option("--load", load, "Time loading this world file (best of --repeat) and exit");
  std::string scenario_path;
  app.add_option("--scenario", scenario_path,
                 "Time this scenario's run (its world; nothing recorded; metrics on; the run of "
                 "least CPU time of --repeat, each thread count of --threads) by phase, and exit");
  CLI11_PARSE(app, argc, argv);

  if (!scenario_path.empty()) {
    // A small world's engine time (issue 21, item 4): CPU seconds of the run alone, by phase.
    const Scenario sc = load_scenario(scenario_path);
    const World w = load_world(sc.world_path);
    if (header)
      std::printf("%-7s %-7s %3s %8s %8s %8s %9s %7s %7s %7s %7s %7s %7s %7s  %s\n", "firms",
                  "links", "thr", "setup_ms", "run_s", "cpu_s", "Mlinkd/s", "us/day", "events",
                  "inv+ord", "dem+rat", "ship", "policy", "metrics", "scenario");
    for (int th : threads) {
      RunOptions opt;
      opt.threads = th;
      opt.profile = true;
      opt.metrics = metrics;
      double run_s = 0.0, setup_s = 0.0, cpu_s = 0.0;
      PhaseTimes pt;
      for (int r = 0; r < repeat; ++r) {
        const double c0 = cpu_seconds();
        auto t1 = Clock::now();
        Simulation sim(w, sc, opt);
        const double s0 = since(t1);
        sim.run(nullptr);
        const double s = since(t1), c = cpu_seconds() - c0;
        if (r == 0 || c < cpu_s) run_s = s, setup_s = s0, cpu_s = c, pt = sim.phase_seconds();
      }
      const double us = 1e6 / double(sc.days);
      std::printf(
          "%-7zu %-7zu %3d %8.2f %8.3f %8.3f %9.1f %7.0f %7.0f %7.0f %7.0f %7.0f %7.0f %7.0f  %s\n",
          w.num_firms(), w.num_links(), th, setup_s * 1e3, run_s, cpu_s,
          double(w.num_links()) * sc.days / (run_s - setup_s) / 1e6, run_s * us, pt.events * us,
          pt.inventory_orders * us, pt.demand_production_rationing * us, pt.shipping * us,
          pt.policies * us, pt.metrics * us, scenario_path.c_str());
      std::fflush(stdout);
    }
    return 0;
  }

  if (!load.empty()) {
    double best = 0.0;
    std::size_t firms = 0, links = 0;
    for (int r = 0; r < repeat; ++r) {
      auto t1 = Clock::now();
      World w = load_world(load);
      const double s = since(t1);
      if (r == 0 || s < best) best = s;
      firms = w.num_firms(), links = w.num_links();
    }
    if (header)
      std::printf("%-9s %-9s %8s %10s %8s  %s\n", "firms", "links", "load_s", "Mlinks/s", "rss_MB",
                  "world");
    std::printf("%-9zu %-9zu %8.2f %10.2f %8.0f  %s\n", firms, links, best,
                double(links) / best / 1e6, peak_rss_mb(), load.c_str());
    return 0;
  }

  auto t0 = Clock::now();
  World world = generate_synthetic(spec);
  const double gen_s = since(t0);

  // A shock that propagates: half of the raw-material capacity lost, recovering over 120 days.
  std::string yaml = "name: bench\nworld: none\ndays: " + std::to_string(days) +
                     "\nmodel: {rationing: " + rationing +
                     (model == "preset" ? ", preset: inoue_todo_2019" : "") +
                     "}\nrecord: {firm_level: false}\nevents:\n"
                     "  - {type: capacity_loss, start: 10, loss: 0.5, material: " +
                     world.materials()[0].id + ", recovery: {type: linear, days: 120}}\n";
  Scenario sc = parse_scenario(yaml, "<bench>");

  const std::string label =
      rationing + (model == "preset" ? "/preset" : "/default") + (metrics ? "" : "/nometrics");
  if (header) {
    std::printf("%-9s %-9s %-26s %3s %8s %8s %9s %7s %7s %7s %7s %7s %8s %8s %6s %15s\n", "firms",
                "links", "rationing/model", "thr", "gen_s", "run_s", "Mlinkd/s", "ms/day",
                "inv+ord", "dem+rat", "ship", "other", "rss_MB", "strm_GBs", "bw%",
                "bw%inv/dem/ship");
  }
  for (int th : threads) {
    RunOptions opt;
    opt.threads = th;
    opt.profile = true;
    opt.metrics = metrics;
    double run_s = 0.0;
    PhaseTimes pt;
    for (int r = 0; r < repeat; ++r) {
      Simulation sim(world, sc, opt);
      auto t1 = Clock::now();
      sim.run(nullptr);
      const double s = since(t1);
      if (r == 0 || s < run_s) {
        run_s = s;
        pt = sim.phase_seconds();
      }
    }
    const double links = double(world.num_links());
    const double link_days = links * days;
    const double ms = 1000.0 / days;
    const double rss = peak_rss_mb();
    const double gbps = stream ? stream_bandwidth_forked(th) : 0.0;
    // Share of the streaming bandwidth that the modelled traffic reaches, whole day and by phase.
    auto share = [&](double bytes_per_link_day, double seconds) {
      return gbps > 0 && seconds > 0 ? 100.0 * link_days * bytes_per_link_day / seconds / 1e9 / gbps
                                     : 0.0;
    };
    char phases[64];
    std::snprintf(
        phases, sizeof phases, "%.0f/%.0f/%.0f%%", share(kBytesInventory, pt.inventory_orders),
        share(kBytesDemand, pt.demand_production_rationing), share(kBytesShip, pt.shipping));
    std::printf(
        "%-9zu %-9zu %-26s %3d %8.2f %8.2f %9.1f %7.2f %7.2f %7.2f %7.2f %7.2f %8.0f %8.1f %5.0f%% "
        "%15s\n",
        world.num_firms(), world.num_links(), label.c_str(), th, gen_s, run_s,
        link_days / run_s / 1e6, run_s * ms, pt.inventory_orders * ms,
        pt.demand_production_rationing * ms, pt.shipping * ms,
        (pt.events + pt.policies + pt.metrics) * ms, rss, gbps,
        share(kBytesInventory + kBytesDemand + kBytesShip, run_s), gbps > 0 ? phases : "-");
    std::fflush(stdout);
  }
  return 0;
}
