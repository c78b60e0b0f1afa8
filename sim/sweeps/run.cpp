// Running a sweep: the simulation of one run, the runs shared over TBB threads and appended to
// a journal (journal.cpp), then the journals joined into the sweep file (join_journals,
// file_writer.cpp) (docs/sweeps.md).
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "shortfall/describe.hpp"
#include "sweeps/sweep_internal.hpp"

namespace shortfall {
namespace sweep_detail {

RunResult simulate(const SweepPlan& plan, const World& world, std::size_t run,
                   const std::atomic<bool>* cancel) {
  Scenario sc = plan.run_scenario(run);
  // The sweep's recorded days, not the base scenario's: the metrics phase then sums every
  // series on those days alone, and country_material below returns them (the same bits).
  if (plan.spec.record_every > 0) sc.record.every = plan.spec.record_every;
  const std::size_t ncm = world.countries().size() * world.materials().size();
  const std::size_t nd = plan.days.size();
  RunResult r;
  r.run = run;
  for (const auto& s : kSeries) (r.*s.run).assign(nd * ncm, kNaN);
  RunOptions opt;
  opt.threads = 1;
  opt.cancel = cancel;
  opt.metrics = true;
  Simulation sim(world, sc, opt);
  std::size_t row = 0;
  CountryMaterialDay cm;
  while (true) {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Interrupted();
    if (!sim.step()) break;
    const int t = sim.day();
    while (row < nd && plan.days[row] < t) ++row;
    if (row < nd && plan.days[row] == t) {
      sim.country_material(cm);
      check_finite(cm, t, world);  // never write a NaN or inf silently
      const std::size_t off = row * ncm;
      for (const auto& s : kSeries)
        std::copy((cm.*s.day).begin(), (cm.*s.day).end(), (r.*s.run).begin() + off);
      ++row;
    }
  }
  r.metrics = sim.run_metrics();
  return r;
}

}  // namespace sweep_detail

using namespace sweep_detail;

RunResult simulate_run(const SweepPlan& plan, const World& world, std::size_t run,
                       const std::atomic<bool>* cancel) {
  return simulate(plan, world, run, cancel);
}

std::vector<std::vector<std::size_t>> run_groups(const SweepPlan& plan,
                                                 const std::vector<std::size_t>& runs) {
  std::vector<std::vector<std::size_t>> groups;
  std::vector<std::size_t> group_of_point(plan.point_scenarios.size(), std::size_t(-1));
  std::vector<signed char> seeded(plan.point_scenarios.size(), -1);
  for (std::size_t run : runs) {
    const std::size_t p = plan.runs.at(run).point;
    if (seeded[p] < 0) seeded[p] = uses_seed(plan.point_scenarios[p]) ? 1 : 0;
    if (seeded[p] == 0 && group_of_point[p] != std::size_t(-1)) {
      groups[group_of_point[p]].push_back(run);
      continue;
    }
    if (seeded[p] == 0) group_of_point[p] = groups.size();
    groups.push_back({run});
  }
  return groups;
}

std::vector<std::size_t> deal_runs(const SweepPlan& plan, const std::vector<std::size_t>& runs,
                                   int rank, int ranks) {
  std::vector<std::size_t> mine;
  const std::vector<std::vector<std::size_t>> groups = run_groups(plan, runs);
  for (std::size_t g = std::size_t(rank); g < groups.size(); g += std::size_t(ranks))
    mine.insert(mine.end(), groups[g].begin(), groups[g].end());
  return mine;
}

std::size_t execute_runs(const SweepPlan& plan, const World& world,
                         const std::vector<std::size_t>& runs, const std::string& journal,
                         const SweepOptions& options) {
  if (runs.empty()) return 0;
  {
    namespace fs = std::filesystem;
    fs::path p(journal);
    std::error_code ec;
    if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  }
  JournalWriter writer(journal, plan, world);
  const int threads = options.threads > 0 ? options.threads
                                          : int(std::max(1u, std::thread::hardware_concurrency()));
  const std::vector<std::vector<std::size_t>> groups = run_groups(plan, runs);
  std::mutex mu;
  std::size_t done = 0;
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, groups.size(), 1),
        [&](const tbb::blocked_range<std::size_t>& range) {
          for (std::size_t g = range.begin(); g < range.end(); ++g) {
            if (options.cancel && options.cancel->load()) return;
            RunResult r;
            try {
              r = simulate(plan, world, groups[g].front(), options.cancel);
            } catch (const Interrupted&) {
              return;
            }
            // The group's other runs are the same run under another seed, which it never read.
            std::lock_guard<std::mutex> lock(mu);
            for (std::size_t run : groups[g]) {
              r.run = run;
              writer.append(r);
              ++done;
              if (options.progress) options.progress(done, runs.size());
            }
          }
        },
        tbb::simple_partitioner());
  });
  return done;
}

SweepStatus run_sweep(const SweepPlan& plan, const World& world, const SweepOptions& options) {
  SweepStatus st;
  st.total = plan.num_runs();
  if (options.out.empty()) throw IoError("sweep: no output file given");
  check_output_file(options.out);
  if (options.restart) remove_journals(options.out);
  std::vector<char> done(st.total, 0);
  if (has_journals(options.out)) {
    if (!options.resume)
      throw InputError(SourceLocation{journal_path(options.out, 0), 0, 0, ""},
                       "an interrupted sweep left partial results here; run with --resume to "
                       "continue it or --restart to discard them");
    for (std::size_t r : completed_runs(plan, world, options.out)) done[r] = 1, ++st.done_before;
  }
  std::vector<std::size_t> todo;
  for (std::size_t r = 0; r < st.total; ++r)
    if (!done[r]) todo.push_back(r);
  auto t0 = std::chrono::steady_clock::now();
  st.done_now = execute_runs(plan, world, todo, journal_path(options.out, 0), options);
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (st.done_now < todo.size()) {
    st.interrupted = true;
    return st;
  }
  join_journals(plan, world, options.out);
  st.complete = true;
  return st;
}

}  // namespace shortfall
