// shortfall: the command-line program.
//   shortfall run <scenario.yaml> [--out FILE] [--threads N] [--days N]
//   shortfall validate <scenario.yaml>
//   shortfall info <world.yaml>
//   shortfall generate <description.yaml> --out DIR
//   shortfall generate --synthetic --firms N --links M --materials K --countries C --seed S --out DIR
// Exit codes: 0 ok, 1 failure, 2 bad input, 3 I/O error.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <tuple>
#include <string>
#include <vector>

#include "commands.hpp"
#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/hdf5_output.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/version.hpp"
#include "shortfall/world.hpp"

using namespace shortfall;

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted.store(true); }

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void print_world(const World& w, std::ostream& os) {
  WorldStats s = w.stats();
  os << "world       " << w.source << "\n"
     << "sha256      " << w.sha256 << "\n"
     << "countries   " << s.countries << "\n"
     << "materials   " << s.materials << "\n"
     << "firms       " << s.firms << " (" << s.raw_firms << " without inputs, "
     << s.firms_with_final_demand << " selling to final users)\n"
     << "links       " << s.links << " (mean in-degree " << s.mean_in_degree << ", max in "
     << s.max_in_degree << ", max out " << s.max_out_degree << ")\n"
     << "lead times  up to " << s.max_lead_time << " days\n"
     << "balance     max |x0 - sales - final demand| / x0 = " << s.max_balance_residual << "\n";
}

/// Country x material shortage summary, accumulated over recorded days.
class SummaryRecorder final : public Recorder {
 public:
  explicit SummaryRecorder(Recorder* next) : next_(next) {}
  void begin(const Simulation& sim) override {
    begin_without_next(sim);
    if (next_) next_->begin(sim);
  }
  void begin_without_next(const Simulation& sim) {
    const World& w = sim.world();
    nc_ = w.countries.size();
    nm_ = w.materials.size();
    use_.assign(nc_ * nm_, 0.0);
    for (LinkId l = 0; l < w.num_links(); ++l)
      use_[w.firm_country[w.link_buyer[l]] * nm_ + w.firm_material[w.link_supplier[l]]] +=
          w.link_flow[l];
    for (FirmId i = 0; i < w.num_firms(); ++i)
      use_[w.firm_country[i] * nm_ + w.firm_material[i]] += w.final_demand[i];
    base_output_.assign(nc_ * nm_, 0.0);
    for (FirmId i = 0; i < w.num_firms(); ++i)
      base_output_[w.firm_country[i] * nm_ + w.firm_material[i]] += w.baseline_output[i];
    lost_.assign(nc_ * nm_, 0.0);
    total_.assign(nc_ * nm_, 0.0);
    peak_.assign(nc_ * nm_, 0.0);
    peak_day_.assign(nc_ * nm_, -1);
    first_.assign(nc_ * nm_, -1);
    last_.assign(nc_ * nm_, -1);
  }
  void record_day(const Simulation& sim) override {
    CountryMaterialDay cm = sim.country_material();
    const int t = sim.day();
    // Testing hook: die like a killed process after recording day N (tests of --resume).
    static const char* abort_day = std::getenv("SHORTFALL_TEST_KILL_AFTER_DAY");
    if (abort_day && t == std::atoi(abort_day)) std::_Exit(137);
    for (std::size_t k = 0; k < nc_ * nm_; ++k) {
      if (base_output_[k] > 0.0)
        lost_[k] += std::max(0.0, 1.0 - cm.production[k] / base_output_[k]);
      double s = cm.shortage[k];
      // Ignore rounding-level noise: 1e-9 of daily use.
      if (use_[k] <= 0.0 || s <= 1e-9 * use_[k]) continue;
      total_[k] += s;
      if (s > peak_[k]) peak_[k] = s, peak_day_[k] = t;
      if (first_[k] < 0) first_[k] = t;
      last_[k] = t;
    }
    if (next_) next_->record_day(sim);
  }
  void finish(const Simulation& sim) override {
    if (next_) next_->finish(sim);
  }
  void checkpoint(const Simulation& sim, std::ostream& state) override {
    if (next_) next_->checkpoint(sim, state);
  }
  void print(const Simulation& sim, std::ostream& os, std::size_t top) const {
    const World& w = sim.world();
    std::vector<std::size_t> idx;
    for (std::size_t k = 0; k < nc_ * nm_; ++k)
      if (total_[k] > 0) idx.push_back(k);
    std::sort(idx.begin(), idx.end(), [&](auto a, auto b) {
      return total_[a] / use_[a] > total_[b] / use_[b] || (total_[a] / use_[a] == total_[b] / use_[b] && a < b);
    });
    if (idx.empty()) {
      os << "No shortages: every order and all final demand were met on every recorded day.\n";
      return;
    }
    os << "Shortages by country and material (worst first; 'days of use' = total shortage / "
          "baseline daily use):\n";
    char line[256];
    std::snprintf(line, sizeof line, "  %-8s %-26s %12s %10s %9s %13s\n", "country", "material",
                  "days of use", "peak %use", "peak day", "in shortage");
    os << line;
    for (std::size_t r = 0; r < std::min(top, idx.size()); ++r) {
      std::size_t k = idx[r];
      std::snprintf(line, sizeof line, "  %-8s %-26s %12.2f %9.1f%% %9d %6d..%-6d\n",
                    w.countries[k / nm_].code.c_str(), w.materials[k % nm_].id.c_str(),
                    total_[k] / use_[k], 100.0 * peak_[k] / use_[k], peak_day_[k], first_[k],
                    last_[k]);
      os << line;
    }
    if (idx.size() > top) os << "  ... and " << idx.size() - top << " more\n";
    // Output lost: what the country's makers of the material did not produce.
    std::vector<std::size_t> lost;
    for (std::size_t k = 0; k < nc_ * nm_; ++k)
      if (lost_[k] > 0.01) lost.push_back(k);
    std::sort(lost.begin(), lost.end(),
              [&](auto a, auto b) { return lost_[a] > lost_[b] || (lost_[a] == lost_[b] && a < b); });
    if (lost.empty()) return;
    os << "Output lost by country and material (days of baseline output over the recorded days):\n";
    for (std::size_t r = 0; r < std::min(top, lost.size()); ++r) {
      std::size_t k = lost[r];
      std::snprintf(line, sizeof line, "  %-8s %-26s %12.2f\n", w.countries[k / nm_].code.c_str(),
                    w.materials[k % nm_].id.c_str(), lost_[k]);
      os << line;
    }
    if (lost.size() > top) os << "  ... and " << lost.size() - top << " more\n";
  }

 private:
  Recorder* next_;
  std::size_t nc_ = 0, nm_ = 0;
  std::vector<double> use_, total_, peak_, base_output_, lost_;
  std::vector<int> peak_day_, first_, last_;
};

int cmd_run(const std::string& scenario_path, std::string out, int threads, int days, bool quiet,
            int top, int checkpoint_every, bool resume) {
  auto t0 = Clock::now();
  Scenario sc = load_scenario(scenario_path);
  World world = load_world(sc.world_path);
  for (auto& w : check_scenario(sc, world)) std::cerr << "warning: " << w << "\n";
  double load_s = seconds_since(t0);
  if (out.empty()) out = "outputs/" + std::filesystem::path(scenario_path).stem().string() + ".h5";
  RunOptions opt;
  opt.threads = threads;
  opt.days = days;
  opt.cancel = &g_interrupted;
  const std::string checkpoint = out + ".checkpoint";
  if (checkpoint_every > 0) {
    opt.checkpoint_every = checkpoint_every;
    opt.checkpoint_path = checkpoint;
  }
  Simulation sim(world, sc, opt);
  auto h5 = make_hdf5_recorder(out);
  SummaryRecorder summary(h5.get());
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  auto t1 = Clock::now();
  if (resume && std::filesystem::exists(checkpoint)) {
    // The summary's own totals restart from the checkpoint day; the HDF5 output is complete.
    sim.load_checkpoint(checkpoint, h5.get());
    summary.begin_without_next(sim);
    if (!quiet) std::cout << "resuming   after day " << sim.day() << " from " << checkpoint << "\n";
    sim.resume(&summary);
  } else {
    if (resume && !quiet) std::cout << "no checkpoint at " << checkpoint << ": starting from day 0\n";
    sim.run(&summary);
  }
  std::filesystem::remove(checkpoint);
  double run_s = seconds_since(t1);
  if (!quiet) {
    std::cout << "scenario    " << sc.name << " (" << scenario_path << ")\n";
    std::cout << "world       " << world.num_firms() << " firms, " << world.num_links()
              << " links, " << world.countries.size() << " countries, "
              << world.materials.size() << " materials\n";
    char buf[200];
    double link_days = double(world.num_links()) * sim.total_days();
    std::snprintf(buf, sizeof buf,
                  "run         %d days on %d threads in %.3f s (load %.3f s; %.3g link-days/s)\n",
                  sim.total_days(), sim.threads(), run_s, load_s,
                  run_s > 0 ? link_days / run_s : 0.0);
    std::cout << buf;
    // Daily stockpile releases are summarised per stockpile; other events are listed.
    std::map<std::string, std::tuple<int, int, int, double>> releases;  // first, last, days, total
    for (const auto& e : sim.event_log()) {
      if (e.type == "stockpile_release") {
        std::string key = e.country + " " + e.material;
        auto [it, fresh] = releases.try_emplace(key, e.day, e.day, 0, 0.0);
        auto& [first, last, n, total] = it->second;
        last = e.day;
        ++n;
        total += e.quantity;
        (void)fresh;
        (void)first;
        continue;
      }
      std::cout << "  day " << e.day << ": " << (e.type.rfind("end:", 0) == 0 ? "ends: " : "")
                << e.description << "\n";
    }
    for (const auto& [key, r] : releases)
      std::cout << "  stockpile " << key << ": released " << std::get<3>(r) << " units on "
                << std::get<2>(r) << " days between day " << std::get<0>(r) << " and "
                << std::get<1>(r) << "\n";
    summary.print(sim, std::cout, std::size_t(top));
    std::cout << "output      " << out << "\n";
  }
  return kExitOk;
}

int cmd_validate(const std::string& scenario_path) {
  Scenario sc = load_scenario(scenario_path);
  World world = load_world(sc.world_path);
  auto warnings = check_scenario(sc, world);
  for (auto& w : warnings) std::cerr << "warning: " << w << "\n";
  std::cout << "scenario    " << sc.name << ": " << sc.days << " days, seed " << sc.seed << ", "
            << sc.events.size() << " events\n";
  for (const auto& e : sc.events) std::cout << "  " << e.description << "\n";
  print_world(world, std::cout);
  std::cout << "valid\n";
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"shortfall: agent-based simulation of supply-chain disruptions"};
  app.set_version_flag("--version", std::string(kVersion));
  app.require_subcommand(1);

  std::string scenario, out, world_path, desc;
  int threads = 0, days = 0, top = 15;
  bool quiet = false;
  auto* run = app.add_subcommand("run", "Run a scenario and write HDF5 output");
  run->add_option("scenario", scenario, "Scenario YAML file")->required();
  run->add_option("--out,-o", out, "Output HDF5 file (default outputs/<scenario>.h5)");
  run->add_option("--threads,-t", threads, "Worker threads (default: all cores)")
      ->check(CLI::Range(0, 4096));
  run->add_option("--days", days, "Override the scenario's number of days")
      ->check(CLI::Range(1, 36500));
  run->add_option("--top", top, "Rows in the shortage summary")->check(CLI::Range(0, 100000));
  run->add_flag("--quiet,-q", quiet, "Print nothing on success");
  int checkpoint_every = 0;
  bool resume = false;
  run->add_option("--checkpoint-every", checkpoint_every,
                  "Write a restartable checkpoint (<out>.checkpoint) every N days")
      ->check(CLI::Range(1, 36500));
  run->add_flag("--resume", resume, "Continue from <out>.checkpoint if it exists");

  auto* validate = app.add_subcommand("validate", "Check a scenario and its world; no run");
  validate->add_option("scenario", scenario, "Scenario YAML file")->required();

  auto* info = app.add_subcommand("info", "Summarize a world");
  info->add_option("world", world_path, "World YAML (explicit or description)")->required();

  SyntheticSpec spec;
  bool synthetic = false;
  auto* gen = app.add_subcommand("generate", "Write a generated world as explicit YAML + CSV");
  gen->add_option("description", desc, "World description YAML");
  gen->add_flag("--synthetic", synthetic, "A synthetic scale-free world");
  gen->add_option("--firms", spec.firms, "Synthetic: firms");
  gen->add_option("--links", spec.links, "Synthetic: links");
  gen->add_option("--materials", spec.materials, "Synthetic: materials");
  gen->add_option("--countries", spec.countries, "Synthetic: countries");
  std::optional<std::uint64_t> gen_seed;
  gen->add_option("--seed", gen_seed, "Seed (replaces the description's seed)");
  gen->add_option("--out,-o", out, "Output directory")->required();

  std::vector<cli::Command> extra;
#ifdef SHORTFALL_HAVE_SWEEP_COMMAND
  extra.push_back(cli::add_sweep_command(app));
#endif
#ifdef SHORTFALL_HAVE_COMPARE_COMMAND
  extra.push_back(cli::add_compare_command(app));
#endif
#ifdef SHORTFALL_HAVE_ANALYZE_COMMAND
  extra.push_back(cli::add_analyze_command(app));
#endif
#ifdef SHORTFALL_HAVE_REPORT_COMMAND
  extra.push_back(cli::add_report_command(app));
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitInputError;
  }

  try {
    for (auto& cmd : extra)
      if (cmd.sub && *cmd.sub) return cmd.run();
    if (*run) return cmd_run(scenario, out, threads, days, quiet, top, checkpoint_every, resume);
    if (*validate) return cmd_validate(scenario);
    if (*info) {
      // Version 2 world data: materials with utilisation / unit_value, firms whose final
      // demand is split by destination (MODEL.md section 1).
      auto print_v2 = [](const World& w) {
        std::size_t u = 0, v = 0, split = 0;
        for (const auto& m : w.materials) u += m.utilisation ? 1 : 0, v += m.unit_value ? 1 : 0;
        for (FirmId i = 0; i < w.num_firms(); ++i) {
          const auto b = w.final_dest_begin[i], e = w.final_dest_begin[i + 1];
          split += e > b + 1 || (e == b + 1 && w.final_dest_country[b] != w.firm_country[i]);
        }
        std::cout << "materials   " << u << " with utilisation, " << v << " with unit_value\n"
                  << "final use   " << split
                  << " firms sell final demand to other countries (split by destination)\n";
      };
      if (is_world_description(world_path)) {
        GenerationReport report;
        World w = generate_world(world_path, GenerateOptions{}, &report);
        print_world(w, std::cout);
        print_v2(w);
        std::cout << "generated   seed " << report.seed << " in " << report.seconds
                  << " s; recipe balance residual (max over firms and inputs) "
                  << report.max_balance_residual << "\n";
        return kExitOk;
      }
      World w = load_world(world_path);
      print_world(w, std::cout);
      print_v2(w);
      return kExitOk;
    }
    if (*gen) {
      if (synthetic == !desc.empty()) {
        std::cerr << "error: give either a description file or --synthetic\n";
        return kExitInputError;
      }
      if (gen_seed) spec.seed = *gen_seed;
      World w = synthetic ? generate_synthetic(spec)
                          : generate_world(desc, GenerateOptions{gen_seed}, nullptr);
      write_world(w, out);
      print_world(w, std::cout);
      std::cout << "written to  " << out << "\n";
      return kExitOk;
    }
  } catch (const InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitInputError;
  } catch (const IoError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitIoError;
  } catch (const Interrupted&) {
    std::cerr << "interrupted: no output was written\n";
    return 130;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}
