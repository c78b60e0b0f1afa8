// shortfall: the command-line program.
//   shortfall run <scenario.yaml> [--out FILE] [--threads N] [--days N]
//   shortfall validate <scenario.yaml>
//   shortfall info <world.yaml>
//   shortfall generate <description.yaml> --out DIR
//   shortfall generate --synthetic --firms N --links M --materials K --countries C --seed S --out
//   DIR
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
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "cli/commands.hpp"
#include "cli/launch.hpp"
#include "shortfall/describe.hpp"
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
extern "C" void on_signal(int) {
  g_interrupted.store(true);
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void print_world(const World& w, std::ostream& os) {
  WorldStats s = w.stats();
  os << "world       " << w.source() << "\n"
     << "sha256      " << w.sha256() << "\n"
     << "countries   " << s.countries << "\n"
     << "materials   " << s.materials << "\n"
     << "firms       " << s.firms << " (" << s.raw_firms << " without inputs, "
     << s.firms_with_final_demand << " selling to final users)\n"
     << "links       " << s.links << " (mean in-degree " << s.mean_in_degree << ", max in "
     << s.max_in_degree << ", max out " << s.max_out_degree << ")\n"
     << "lead times  up to " << s.max_lead_time << " days\n"
     << "balance     max |x0 - sales - final demand| / x0 = " << s.max_balance_residual << "\n";
}

/// Passes the run on to the HDF5 recorder and prints model 10's metrics at the end (they are
/// accumulated by the simulation every day: shortfall/metrics.hpp, the same numbers as the
/// file's `summary` group).
class SummaryRecorder final : public Recorder {
 public:
  explicit SummaryRecorder(Recorder* next) : next_(next) {}
  void begin(const Simulation& sim) override {
    if (next_) next_->begin(sim);
  }
  void record_day(const Simulation& sim) override {
    if (next_) next_->record_day(sim);
  }
  void finish(const Simulation& sim) override {
    if (next_) next_->finish(sim);
  }
  void checkpoint(const Simulation& sim, std::ostream& state) override {
    if (next_) next_->checkpoint(sim, state);
  }
  static void print(const Simulation& sim, std::ostream& os, std::size_t top) {
    const World& w = sim.world();
    const RunMetrics m = sim.run_metrics();
    const std::size_t nm = m.materials;
    std::vector<std::size_t> idx;
    for (std::size_t k = 0; k < m.countries * nm; ++k)
      if (m.affected(k)) idx.push_back(k);
    // Worst first by output lost, then input shortage, then unmet final demand.
    std::sort(idx.begin(), idx.end(), [&](auto a, auto b) {
      return std::tie(m.output_lost_days[b], m.shortage_days[b], m.unmet_final_days[b], a) <
             std::tie(m.output_lost_days[a], m.shortage_days[a], m.unmet_final_days[a], b);
    });
    if (idx.empty()) {
      os << "No losses: no output lost, no input shortage and no unmet final demand in " << m.days
         << " days.\n";
      return;
    }
    os << "Losses by country and material over " << m.days
       << " days (worst first by output lost; docs/model.md section 10):\n"
          "  output lost: days of the country's baseline output of the material; input shortage:\n"
          "  days of its firms' baseline use; unmet final demand: days of its final users' use;\n"
          "  recovery: first day from which output >= 99% of baseline and shortage <= 1% of use\n"
          "  hold to the end (-1: not recovered).\n";
    char line[320];
    std::snprintf(line, sizeof line, "  %-8s %-24s %12s %10s %12s %12s %9s %9s\n", "country",
                  "material", "output lost", "peak loss", "input short", "unmet final", "1st short",
                  "recovery");
    os << line;
    std::snprintf(line, sizeof line, "  %-8s %-24s %12s %10s %12s %12s %9s %9s\n", "", "", "(days)",
                  "(%)", "(days use)", "(days use)", "(day)", "(day)");
    os << line;
    auto num = [](double v, bool has) {
      char b[32];
      if (!has) return std::string("-");
      std::snprintf(b, sizeof b, "%.2f", v);
      return std::string(b);
    };
    const PairBaselines& base = sim.pair_baselines();
    for (std::size_t r = 0; r < std::min(top, idx.size()); ++r) {
      const std::size_t k = idx[r];
      std::snprintf(line, sizeof line, "  %-8s %-24s %12s %10s %12s %12s %9d %9d\n",
                    w.countries()[k / nm].code.c_str(), w.materials()[k % nm].id.c_str(),
                    num(m.output_lost_days[k], base.output[k] > 0).c_str(),
                    num(100.0 * m.peak_output_loss[k], base.output[k] > 0).c_str(),
                    num(m.shortage_days[k], base.use[k] > 0).c_str(),
                    num(m.unmet_final_days[k], base.final_use[k] > 0).c_str(),
                    m.first_shortage_day[k], m.recovery_day[k]);
      os << line;
    }
    if (idx.size() > top) os << "  ... and " << idx.size() - top << " more\n";
    const CountryValues v = country_values(m, base);
    if (!v.any) return;
    std::vector<std::size_t> cs;
    for (std::size_t c = 0; c < m.countries; ++c)
      if (v.output_lost[c] > 0.0 || v.unmet_final[c] > 0.0) cs.push_back(c);
    if (cs.empty()) return;
    std::sort(cs.begin(), cs.end(), [&](auto a, auto b) {
      return std::tie(v.output_lost[b], a) < std::tie(v.output_lost[a], b);
    });
    os << "In value, per country (materials with a unit_value only; currency of the world's "
          "unit values):\n";
    std::snprintf(line, sizeof line, "  %-8s %16s %20s\n", "country", "output lost",
                  "unmet final demand");
    os << line;
    for (std::size_t r = 0; r < std::min(top, cs.size()); ++r) {
      std::snprintf(line, sizeof line, "  %-8s %16.4g %20.4g\n", w.countries()[cs[r]].code.c_str(),
                    v.output_lost[cs[r]], v.unmet_final[cs[r]]);
      os << line;
    }
  }

 private:
  Recorder* next_;
};

int cmd_run(const std::string& scenario_path, std::string out, int threads, int days, bool quiet,
            int top, int checkpoint_every, bool resume) {
  auto t0 = Clock::now();
  Scenario sc = load_scenario(scenario_path);
  if (out.empty()) out = "outputs/" + std::filesystem::path(scenario_path).stem().string() + ".h5";
  check_output_file(out);  // before loading the world: a bad --out fails in a second, not after
  World world = load_world(sc.world_path, sc.world_where);
  for (auto& w : check_scenario(sc, world)) std::cerr << "warning: " << w << "\n";
  double load_s = seconds_since(t0);
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
    if (!quiet) std::cout << "resuming   after day " << sim.day() << " from " << checkpoint << "\n";
    sim.resume(&summary);
  } else {
    if (resume && !quiet)
      std::cout << "no checkpoint at " << checkpoint << ": starting from day 0\n";
    sim.run(&summary);
  }
  std::filesystem::remove(checkpoint);
  double run_s = seconds_since(t1);
  if (!quiet) {
    std::cout << "scenario    " << sc.name << " (" << scenario_path << ")\n";
    std::cout << "world       " << world.num_firms() << " firms, " << world.num_links()
              << " links, " << world.countries().size() << " countries, "
              << world.materials().size() << " materials\n";
    char buf[200];
    double link_days = double(world.num_links()) * sim.total_days();
    std::snprintf(buf, sizeof buf,
                  "run         %d day%s on %d thread%s in %.3f s (load %.3f s; %.3g link-days/s)\n",
                  sim.total_days(), sim.total_days() == 1 ? "" : "s", sim.threads(),
                  sim.threads() == 1 ? "" : "s", run_s, load_s,
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

/// Everything the run will do, the world, and what will do nothing (warnings, on stdout: they
/// are part of the answer; the exit code stays 0).
int cmd_validate(const std::string& scenario_path) {
  Scenario sc = load_scenario(scenario_path);
  World world = load_world(sc.world_path, sc.world_where);
  auto warnings = check_scenario(sc, world);
  for (auto& w : scenario_noop_warnings(sc, world)) warnings.push_back(std::move(w));
  const std::string out = "outputs/" + std::filesystem::path(scenario_path).stem().string() + ".h5";
  print_scenario_plan(sc, world, out + " (shortfall run's default; --out to change)", std::cout);
  print_world(world, std::cout);
  if (!warnings.empty()) {
    std::cout << "warnings    " << warnings.size() << " (settings that will do nothing)\n";
    for (const auto& w : warnings) std::cout << "warning: " << w << "\n";
    std::cout << "valid, with " << warnings.size() << " warning"
              << (warnings.size() == 1 ? "" : "s") << "\n";
  } else {
    std::cout << "valid\n";
  }
  return kExitOk;
}

/// `shortfall run`: its options and action.
cli::Command add_run_command(CLI::App& app) {
  struct RunArgs {
    std::string scenario, out;
    int threads = 0, days = 0, top = 15;
    bool quiet = false;
    int checkpoint_every = 0;
    bool resume = false;
  };
  auto a = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand("run", "Run a scenario and write HDF5 output");
  run->add_option("scenario", a->scenario, "Scenario YAML file")->required();
  run->add_option("--out,-o", a->out, "Output HDF5 file (default outputs/<scenario>.h5)");
  run->add_option("--threads,-t", a->threads,
                  "Worker threads (default 0: one per 100,000 links, 1 + links / 100,000 "
                  "rounded down, at most the number of cores)")
      ->check(CLI::Range(0, 4096));
  run->add_option("--days", a->days, "Override the scenario's number of days")
      ->check(CLI::Range(1, 36500));
  run->add_option("--top", a->top, "Rows in the shortage summary")->check(CLI::Range(0, 100000));
  run->add_flag("--quiet,-q", a->quiet, "Print nothing on success");
  run->add_option("--checkpoint-every", a->checkpoint_every,
                  "Write a restartable checkpoint (<out>.checkpoint) every N days")
      ->check(CLI::Range(1, 36500));
  run->add_flag("--resume", a->resume, "Continue from <out>.checkpoint if it exists");
  return cli::Command{run, [a]() -> int {
                        return cmd_run(a->scenario, a->out, a->threads, a->days, a->quiet, a->top,
                                       a->checkpoint_every, a->resume);
                      }};
}

/// `shortfall validate`: its options and action.
cli::Command add_validate_command(CLI::App& app) {
  auto scenario = std::make_shared<std::string>();
  auto* validate = app.add_subcommand("validate", "Check a scenario and its world; no run");
  validate->add_option("scenario", *scenario, "Scenario YAML file")->required();
  return cli::Command{validate, [scenario]() -> int { return cmd_validate(*scenario); }};
}

/// Version 2 world data: materials with utilisation / unit_value, firms whose final demand is
/// split by destination (docs/model.md section 1).
void print_world_v2(const World& w) {
  std::size_t u = 0, v = 0, split = 0;
  for (const auto& m : w.materials()) u += m.utilisation ? 1 : 0, v += m.unit_value ? 1 : 0;
  for (FirmId i = 0; i < w.num_firms(); ++i) {
    const auto b = w.final_dest_begin()[i], e = w.final_dest_begin()[i + 1];
    split += e > b + 1 || (e == b + 1 && w.final_dest_country()[b] != w.firm_country()[i]);
  }
  std::cout << "materials   " << u << " with utilisation, " << v << " with unit_value\n"
            << "final use   " << split
            << " firms sell final demand to other countries (split by destination)\n";
}

/// `shortfall info WORLD [--list TABLE]`: the overview of a world (explicit or a description,
/// generated first), or one full table of it.
int cmd_info(const std::string& world_path, const std::string& info_list) {
  auto print_list = [&](const World& w) {
    print_world_table(w,
                      info_list == "countries" ? WorldTable::kCountries
                      : info_list == "groups"  ? WorldTable::kGroups
                                               : WorldTable::kMaterials,
                      std::cout);
  };
  if (is_world_description(world_path)) {
    GenerationReport report;
    World w = generate_world(world_path, GenerateOptions{}, &report);
    if (!info_list.empty()) {
      print_list(w);
      return kExitOk;
    }
    print_world(w, std::cout);
    print_world_v2(w);
    std::cout << "generated   seed " << report.seed << " in " << report.seconds
              << " s; recipe balance residual (max over firms and inputs) "
              << report.max_balance_residual << "\n";
    print_world_ids(w, std::cout);
    return kExitOk;
  }
  World w = load_world(world_path);
  if (!info_list.empty()) {
    print_list(w);
    return kExitOk;
  }
  print_world(w, std::cout);
  print_world_v2(w);
  print_world_ids(w, std::cout);
  return kExitOk;
}

/// `shortfall info`: its options and action.
cli::Command add_info_command(CLI::App& app) {
  struct InfoArgs {
    std::string world_path, info_list;
  };
  auto a = std::make_shared<InfoArgs>();
  auto* info = app.add_subcommand("info", "Summarize a world");
  info->add_option("world", a->world_path, "World YAML (explicit or description)")->required();
  info->add_option("--list", a->info_list,
                   "A full table instead of the overview: countries (names, groups), groups "
                   "(members) or materials (unit, tier, producers by share of output)")
      ->check(CLI::IsMember({"countries", "groups", "materials"}));
  return cli::Command{info, [a]() -> int { return cmd_info(a->world_path, a->info_list); }};
}

struct GenerateArgs {
  std::string desc, out;
  SyntheticSpec spec;
  bool synthetic = false;
  std::optional<std::uint64_t> seed;
};

/// `shortfall generate`: a world from a description or a synthetic one, written as explicit
/// YAML + CSV.
int cmd_generate(GenerateArgs& a) {
  if (a.synthetic == !a.desc.empty()) {
    std::cerr << "error: give either a description file or --synthetic\n";
    return kExitInputError;
  }
  if (a.seed) a.spec.seed = *a.seed;
  check_output_directory(a.out);
  World w = a.synthetic ? generate_synthetic(a.spec)
                        : generate_world(a.desc, GenerateOptions{a.seed}, nullptr);
  write_world(w, a.out);
  print_world(w, std::cout);
  std::cout << "written to  " << a.out << "\n";
  return kExitOk;
}

/// `shortfall generate`: its options and action.
cli::Command add_generate_command(CLI::App& app) {
  auto a = std::make_shared<GenerateArgs>();
  auto* gen = app.add_subcommand("generate", "Write a generated world as explicit YAML + CSV");
  gen->add_option("description", a->desc, "World description YAML");
  gen->add_flag("--synthetic", a->synthetic, "A synthetic scale-free world");
  gen->add_option("--firms", a->spec.firms, "Synthetic: firms");
  gen->add_option("--links", a->spec.links, "Synthetic: links");
  gen->add_option("--materials", a->spec.materials, "Synthetic: materials");
  gen->add_option("--countries", a->spec.countries, "Synthetic: countries");
  gen->add_option("--seed", a->seed, "Seed (replaces the description's seed)");
  gen->add_option("--out,-o", a->out, "Output directory")->required();
  return cli::Command{gen, [a]() -> int { return cmd_generate(*a); }};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"shortfall: agent-based simulation of supply-chain disruptions"};
  app.set_version_flag("--version", cli::version_text());
  app.require_subcommand(1);

  // The subcommands, in the order of `shortfall --help`.
  std::vector<cli::Command> commands;
  commands.push_back(add_run_command(app));
  commands.push_back(add_validate_command(app));
  commands.push_back(add_info_command(app));
  commands.push_back(add_generate_command(app));
  commands.push_back(cli::add_sweep_command(app));
  commands.push_back(cli::add_compare_command(app));
  commands.push_back(cli::add_analyze_command(app));
  commands.push_back(cli::add_report_command(app));
  commands.push_back(cli::add_hindcast_command(app));
  commands.push_back(cli::add_import_mrio_command(app));
  commands.push_back(cli::add_convert_command(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitInputError;
  }
  // Under mpirun/srun with several processes: refuse what would collide, before any input.
  if (int rc = cli::refuse_under_launcher(app)) return rc;

  try {
    for (auto& cmd : commands)
      if (cmd.sub && *cmd.sub) return cmd.run();
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
