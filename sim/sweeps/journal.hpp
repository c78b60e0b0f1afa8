// The building blocks of run_sweep that the MPI driver (sim/cli/sweep_command.cpp) puts
// together across processes: run journals, running a subset of the runs, and joining the
// journals into the sweep file. Internal: not part of the public API (include/shortfall/).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "shortfall/sweep.hpp"
#include "shortfall/world.hpp"

namespace shortfall {

/// The journal of a process: `<out>.partial` for rank 0, `<out>.partial.<rank>` otherwise.
std::string journal_path(const std::string& out, int rank);
/// Runs already in the journals of `out` (sorted). Truncates a journal's torn last record.
/// Throws InputError if a journal belongs to another sweep (or world, or program version).
std::vector<std::size_t> completed_runs(const SweepPlan& plan, const World& world,
                                        const std::string& out);
/// True if any journal of `out` exists.
bool has_journals(const std::string& out);
/// Delete the journals of `out`.
void remove_journals(const std::string& out);
/// The runs to do, in groups that one simulation serves: a point whose scenario draws no random
/// numbers (uses_seed false: its seed only breaks ties between candidate suppliers, and nothing
/// switches suppliers) gives the same bits for every seed, so its replicates among `runs` are one
/// group (issue 21, item 4: 1,000 runs of the default world are 200 points x 5 replicates);
/// every other run is a group of its own. Groups keep the order of their first run.
std::vector<std::vector<std::size_t>> run_groups(const SweepPlan& plan,
                                                 const std::vector<std::size_t>& runs);
/// The share of `runs` of process `rank` of `ranks`: run_groups dealt round-robin, so that a
/// group's one simulation is not repeated on several processes.
std::vector<std::size_t> deal_runs(const SweepPlan& plan, const std::vector<std::size_t>& runs,
                                   int rank, int ranks);
/// Run the given runs (TBB, options.threads), appending each to `journal`. Returns the number
/// done; stops early (interrupted) when options.cancel is raised.
std::size_t execute_runs(const SweepPlan& plan, const World& world,
                         const std::vector<std::size_t>& runs, const std::string& journal,
                         const SweepOptions& options);
/// Write the output file from the journals (every run must be there), then delete them.
void join_journals(const SweepPlan& plan, const World& world, const std::string& out);

}  // namespace shortfall
