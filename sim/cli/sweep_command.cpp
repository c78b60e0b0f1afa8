// shortfall sweep <sweep.yaml> [--out FILE] [--threads N] [--resume | --restart] [--dry-run]
//                             [--print-scenario K] [--quiet]
//
// Runs every point of a parameter sweep (docs/sweeps.md) with TBB on one machine, or split
// across the ranks of `mpirun -np K shortfall sweep ...` when built with SHORTFALL_MPI: runs go
// round-robin to the ranks, each rank appends its finished runs to its own journal
// (<out>.partial.<rank>), and rank 0 joins the journals into the single output file after all
// ranks are done. The output is the same, bit for bit, as a single-machine sweep.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "shortfall/describe.hpp"
#include "shortfall/error.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/sweep.hpp"
#include "shortfall/world.hpp"
#include "sweeps/journal.hpp"

#ifdef SHORTFALL_WITH_MPI
#include <mpi.h>

#include "shortfall/launcher.hpp"
#endif

namespace shortfall::cli {

namespace {

struct SweepArgs {
  std::string file, out;
  int threads = 0;
  bool resume = false, restart = false, dry_run = false, quiet = false, no_mpi = false;
  long long print_scenario = -1;
};

std::atomic<bool> g_cancel{false};
void on_sweep_signal(int) {
  g_cancel.store(true);
}

using Clock = std::chrono::steady_clock;

/// A one-line progress display on stderr, only when stderr is a terminal.
class Progress {
 public:
  Progress(bool enabled, std::string label)
      : enabled_(enabled && ::isatty(STDERR_FILENO)), label_(std::move(label)), t0_(Clock::now()) {}
  ~Progress() { done(); }
  void update(std::size_t done, std::size_t total) {
    if (!enabled_) return;
    auto now = Clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double s = std::chrono::duration<double>(now - t0_).count();
    const double rate = s > 0 ? double(done) / s : 0.0;
    char eta[32] = "--:--";
    if (rate > 0) {
      long left = std::lround(double(total - done) / rate);
      if (left >= 3600)
        std::snprintf(eta, sizeof eta, "%ld:%02ld:%02ld", left / 3600, (left / 60) % 60, left % 60);
      else
        std::snprintf(eta, sizeof eta, "%ld:%02ld", left / 60, left % 60);
    }
    const int width = 24;
    int filled = total ? int(double(width) * double(done) / double(total)) : width;
    std::string bar(std::size_t(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r%s[%s] %zu/%zu runs  %.1f runs/s  ETA %s   ", label_.c_str(),
                 bar.c_str(), done, total, rate, eta);
    std::fflush(stderr);
    shown_ = true;
  }
  void done() {
    if (shown_) std::fprintf(stderr, "\n");
    shown_ = false;
  }

 private:
  bool enabled_;
  std::string label_;
  Clock::time_point t0_, last_{};
  bool shown_ = false;
};

std::string default_out(const std::string& sweep_file) {
  return "outputs/" + std::filesystem::path(sweep_file).stem().string() + ".h5";
}

std::string axis_label(const AxisValue& v) {
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", *d);
    // shortest form that reads back the same
    for (int p = 1; p <= 17; ++p) {
      char b2[64];
      std::snprintf(b2, sizeof b2, "%.*g", p, *d);
      if (std::strtod(b2, nullptr) == *d) return b2;
    }
    return buf;
  }
  return std::get<std::string>(v);
}

void print_plan(const SweepPlan& plan, std::ostream& os) {
  const SweepSpec& s = plan.spec;
  const char* sampling = s.sampling == Sampling::kGrid     ? "grid"
                         : s.sampling == Sampling::kRandom ? "random"
                                                           : "latin_hypercube";
  os << "sweep       " << s.name << " (" << s.path << "), base " << s.base_path << "\n";
  os << "runs        " << plan.num_runs() << " = " << plan.points.size() << " points (" << sampling
     << ") x " << s.replicates << " replicate" << (s.replicates == 1 ? "" : "s") << "; "
     << plan.days.size() << " recorded days (every " << s.record_every << ")\n";
  for (const auto& a : s.axes) {
    os << "axis        " << a.name << " = " << a.path << ": ";
    if (a.continuous) {
      os << (a.kind == AxisKind::kInt ? "whole numbers in [" : "uniform in [") << a.lo << ", "
         << a.hi << "]\n";
    } else {
      os << a.values.size() << " value" << (a.values.size() == 1 ? "" : "s") << " [";
      for (std::size_t i = 0; i < a.values.size(); ++i) {
        if (i == 8 && a.values.size() > 10) {
          os << ", ... " << a.values.back();
          break;
        }
        os << (i ? ", " : "") << a.values[i];
      }
      os << "]\n";
    }
  }
}

int print_runs(const SweepPlan& plan, std::ostream& os) {
  os << "run\tpoint\treplicate\tseed";
  for (const auto& a : plan.spec.axes) os << "\t" << a.name;
  os << "\n";
  for (std::size_t k = 0; k < plan.num_runs(); ++k) {
    const SweepRun& r = plan.runs[k];
    os << k << "\t" << r.point << "\t" << r.replicate << "\t" << r.seed;
    for (const auto& v : plan.points[r.point]) os << "\t" << axis_label(v);
    os << "\n";
  }
  return kExitOk;
}

struct Loaded {
  SweepPlan plan;
  World world;
  std::vector<std::string> warnings;
};

Loaded load(const SweepArgs& a) {
  Loaded l;
  l.plan = plan_sweep(load_sweep(a.file));
  l.world = load_world(l.plan.world_path, l.plan.world_where);
  l.warnings = validate_sweep(l.plan, l.world);
  // Axes and replicates that change nothing, reported before any run starts.
  for (auto& w : sweep_noop_warnings(l.plan, l.world)) l.warnings.push_back(std::move(w));
  return l;
}

void install_signals() {
  std::signal(SIGINT, on_sweep_signal);
  std::signal(SIGTERM, on_sweep_signal);
}

void print_summary(const Loaded& l, const std::string& out, std::size_t ran, std::size_t before,
                   double seconds, int threads, int ranks) {
  char buf[256];
  std::cout << "world       " << l.world.source() << ": " << l.world.num_firms() << " firms, "
            << l.world.num_links() << " links\n";
  std::snprintf(buf, sizeof buf, "ran         %zu runs in %.2f s (%.1f runs/s) on %d thread%s%s",
                ran, seconds, seconds > 0 ? double(ran) / seconds : 0.0, threads,
                threads == 1 ? "" : "s",
                ranks > 1 ? (" x " + std::to_string(ranks) + " ranks").c_str() : "");
  std::cout << buf;
  if (before) std::cout << "; " << before << " runs were done before (resumed)";
  std::cout << "\noutput      " << out << "\n";
}

int run_local(const SweepArgs& a) {
  // A bad --out fails before the world is loaded, not after the last run.
  if (!a.dry_run && a.print_scenario < 0)
    check_output_file(a.out.empty() ? default_out(a.file) : a.out);
  Loaded l = load(a);
  for (auto& w : l.warnings) std::cerr << "warning: " << w << "\n";
  if (a.print_scenario >= 0) {
    if (std::size_t(a.print_scenario) >= l.plan.num_runs())
      throw InputError(SourceLocation{a.file, 0, 0, ""},
                       "--print-scenario " + std::to_string(a.print_scenario) + ": the sweep has " +
                           std::to_string(l.plan.num_runs()) + " runs");
    // The world as an absolute path, so that the printed scenario runs from anywhere.
    const std::size_t k = std::size_t(a.print_scenario);
    std::string text =
        set_key_path(l.plan.run_scenario_text(k), "world",
                     std::filesystem::absolute(l.plan.world_path).lexically_normal().string());
    const SweepRun& r = l.plan.runs[k];
    std::cout << "# run " << k << " of sweep " << l.plan.spec.name << " (" << a.file << "): point "
              << r.point << ", replicate " << r.replicate;
    for (std::size_t i = 0; i < l.plan.spec.axes.size(); ++i)
      std::cout << ", " << l.plan.spec.axes[i].name << " = "
                << axis_label(l.plan.points[r.point][i]);
    std::cout << "\n" << text;
    return kExitOk;
  }
  if (a.dry_run) {
    print_plan(l.plan, std::cout);
    print_runs(l.plan, std::cout);
    std::cout << "valid\n";
    return kExitOk;
  }
  const std::string out = a.out.empty() ? default_out(a.file) : a.out;
  if (!a.quiet) print_plan(l.plan, std::cout);
  install_signals();
  SweepOptions opt;
  opt.out = out;
  opt.threads = a.threads;
  opt.resume = a.resume;
  opt.restart = a.restart;
  opt.cancel = &g_cancel;
  Progress progress(!a.quiet, "");
  opt.progress = [&](std::size_t done, std::size_t total) { progress.update(done, total); };
  SweepStatus st = run_sweep(l.plan, l.world, opt);
  progress.done();
  const int threads =
      a.threads > 0 ? a.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  if (st.interrupted) {
    std::cerr << "interrupted: " << st.done_before + st.done_now << " of " << st.total
              << " runs are kept in " << journal_path(out, 0)
              << "; run the same command with --resume to finish\n";
    return 130;
  }
  if (!a.quiet) print_summary(l, out, st.done_now, st.done_before, st.seconds, threads, 1);
  return kExitOk;
}

#ifdef SHORTFALL_WITH_MPI

/// Started by an MPI launcher (sim/sweeps/launcher.cpp): mpirun, srun --mpi=pmix, ... A process
/// alone runs without MPI (the same file, and no MPI start-up); so does `srun -n 1` without a
/// plugin. Every process of a launcher must decide alike: where the launcher gives only a rank,
/// rank 0 cannot tell its size, so any MPI launcher means MPI.
bool launched_by_mpi() {
  const auto launch = detect_launch();
  return launch && (launch->size > 1 || launch->mpi_wireup);
}

/// Error state of one phase, agreed on by all ranks.
struct Phase {
  int code = 0;
  std::string message;
  template <class F>
  void attempt(F&& f) {
    try {
      f();
    } catch (const InputError& e) {
      code = kExitInputError, message = e.what();
    } catch (const IoError& e) {
      code = kExitIoError, message = e.what();
    } catch (const std::exception& e) {
      code = kExitFailure, message = e.what();
    }
  }
  /// All ranks learn the worst code; the lowest failing rank prints its message.
  int agree(int rank) {
    int global = 0;
    MPI_Allreduce(&code, &global, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (global == 0) return 0;
    int mine = code ? rank : 1 << 30, first = 0;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (rank == first)
      std::cerr << "error" << (rank ? " (rank " + std::to_string(rank) + ")" : "") << ": "
                << message << "\n";
    return global;
  }
};

int run_mpi(const SweepArgs& a) {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  struct Finalize {
    ~Finalize() { MPI_Finalize(); }
  } finalize;
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  // A launcher whose processes MPI cannot connect (another MPI's mpiexec, srun without a PMI
  // plugin) leaves each process alone in MPI_COMM_WORLD: they would all write the same files.
  // (The launcher's count is a lower bound where it gives only a rank or the local count.)
  if (const auto launch = detect_launch(); launch && launch->size > size) {
    if (launch->rank <= 0)
      std::cerr << "error: started by " << launch->launcher << " with " << launch->size
                << " processes (" << launch->evidence << ") but MPI sees " << size
                << ": this shortfall's MPI (Open MPI) cannot connect them. Use Open MPI's "
                << "mpirun, or srun --mpi=pmix\n";
    return kExitInputError;
  }
  const std::string out = a.out.empty() ? default_out(a.file) : a.out;
  int threads = a.threads;
  if (threads <= 0) {
    const char* cpus = std::getenv("SLURM_CPUS_PER_TASK");
    threads = cpus ? std::max(1, std::atoi(cpus)) : 1;
  }

  // 1. Every rank loads and checks the sweep and the world.
  std::unique_ptr<Loaded> l;
  Phase p1;
  p1.attempt([&] {
    check_output_file(out);
    l = std::make_unique<Loaded>(load(a));
  });
  if (int rc = p1.agree(rank)) return rc;
  if (rank == 0) {
    for (auto& w : l->warnings) std::cerr << "warning: " << w << "\n";
    if (!a.quiet) print_plan(l->plan, std::cout);
    std::cout.flush();
  }

  // 2. Rank 0 reads the journals; every rank gets the runs left to do.
  Phase p2;
  std::vector<unsigned long long> todo;
  std::size_t before = 0;
  if (rank == 0)
    p2.attempt([&] {
      if (a.restart) remove_journals(out);
      std::vector<char> done(l->plan.num_runs(), 0);
      if (has_journals(out)) {
        if (!a.resume)
          throw InputError(SourceLocation{journal_path(out, 0), 0, 0, ""},
                           "an interrupted sweep left partial results here; run with --resume "
                           "to continue it or --restart to discard them");
        for (std::size_t r : completed_runs(l->plan, l->world, out)) done[r] = 1, ++before;
      }
      for (std::size_t r = 0; r < done.size(); ++r)
        if (!done[r]) todo.push_back(r);
    });
  if (int rc = p2.agree(rank)) return rc;
  unsigned long long n = todo.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
  todo.resize(std::size_t(n));
  if (n) MPI_Bcast(todo.data(), int(n), MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);

  // 3. Each rank runs its share: the groups of runs one simulation serves, round-robin.
  const std::vector<std::size_t> mine =
      deal_runs(l->plan, std::vector<std::size_t>(todo.begin(), todo.end()), rank, size);
  install_signals();
  Phase p3;
  std::size_t done_here = 0;
  auto t0 = Clock::now();
  {
    Progress progress(!a.quiet && rank == 0,
                      size > 1 ? "rank 0 of " + std::to_string(size) + " " : std::string());
    SweepOptions opt;
    opt.out = out;
    opt.threads = threads;
    opt.cancel = &g_cancel;
    opt.progress = [&](std::size_t d, std::size_t t) { progress.update(d, t); };
    p3.attempt(
        [&] { done_here = execute_runs(l->plan, l->world, mine, journal_path(out, rank), opt); });
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (int rc = p3.agree(rank)) return rc;
  int interrupted = done_here < mine.size() ? 1 : 0, any_interrupted = 0;
  MPI_Allreduce(&interrupted, &any_interrupted, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  unsigned long long here = done_here, total_done = 0;
  MPI_Reduce(&here, &total_done, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
  if (any_interrupted) {
    if (rank == 0)
      std::cerr << "interrupted: " << before + total_done << " of " << l->plan.num_runs()
                << " runs are kept in " << out << ".partial*; run the same command with "
                << "--resume to finish\n";
    return 130;
  }

  // 4. Rank 0 joins the journals into the output file.
  Phase p4;
  if (rank == 0) p4.attempt([&] { join_journals(l->plan, l->world, out); });
  if (int rc = p4.agree(rank)) return rc;
  if (rank == 0 && !a.quiet)
    print_summary(*l, out, std::size_t(total_done), before, seconds, threads, size);
  return kExitOk;
}

#endif  // SHORTFALL_WITH_MPI

}  // namespace

Command add_sweep_command(CLI::App& app) {
  auto a = std::make_shared<SweepArgs>();
  auto* sub = app.add_subcommand("sweep", "Run a parameter sweep and write one HDF5 file");
  sub->add_option("sweep", a->file, "Sweep YAML file")->required();
  sub->add_option("--out,-o", a->out, "Output HDF5 file (default outputs/<sweep>.h5)");
  sub->add_option("--threads,-t", a->threads,
                  "Runs in parallel (default: all cores; under MPI: per rank, default "
                  "SLURM_CPUS_PER_TASK or 1)")
      ->check(CLI::Range(0, 4096));
  sub->add_flag("--resume", a->resume, "Continue an interrupted sweep, skipping finished runs");
  sub->add_flag("--restart", a->restart, "Discard the partial results of an interrupted sweep");
  sub->add_flag("--dry-run,-n", a->dry_run, "Check the sweep and list its runs; run nothing");
  sub->add_option("--print-scenario", a->print_scenario,
                  "Print the scenario YAML of run K (to reproduce it with `shortfall run`)")
      ->check(CLI::Range(0LL, (1LL << 62)));
  sub->add_flag("--quiet,-q", a->quiet, "Print nothing on success and no progress");
#ifdef SHORTFALL_WITH_MPI
  sub->add_flag("--no-mpi", a->no_mpi, "Do not initialise MPI even when started by mpirun/srun");
#endif
  return Command{sub, [a]() -> int {
                   if (a->resume && a->restart)
                     throw InputError(SourceLocation{"--restart", 0, 0, ""},
                                      "give --resume or --restart, not both");
#ifdef SHORTFALL_WITH_MPI
                   if (!a->no_mpi && !a->dry_run && a->print_scenario < 0 && launched_by_mpi())
                     return run_mpi(*a);
#endif
                   return run_local(*a);
                 }};
}

}  // namespace shortfall::cli
