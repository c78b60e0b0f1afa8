// Start-up checks of the program under a parallel launcher, and what it was built with
// (sim/cli/launch.cpp; the detection itself is sim/sweeps/launcher.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace shortfall::cli {

/// `shortfall --version`: the version, then whether MPI sweeps are built in.
std::string version_text();

/// Call after parsing, before the chosen command reads or writes anything: under mpirun/srun
/// with several processes, prints why the command must not run that way (once, from rank 0)
/// and returns kExitInputError; otherwise returns 0.
int refuse_under_launcher(const CLI::App& app);

}  // namespace shortfall::cli
