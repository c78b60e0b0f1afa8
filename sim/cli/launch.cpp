// Start-up checks under a parallel launcher (sim/cli/launch.hpp).
#include "cli/launch.hpp"

#include <iostream>

#include "shortfall/error.hpp"
#include "shortfall/launcher.hpp"
#include "shortfall/version.hpp"

#ifdef SHORTFALL_WITH_MPI
#include <mpi.h>
#endif

namespace shortfall::cli {

std::string version_text() {
  std::string s = std::string("shortfall ") + kVersion + "\n";
#ifdef SHORTFALL_WITH_MPI
  s += "mpi       yes: ";
#ifdef OMPI_MAJOR_VERSION
  s += "Open MPI " + std::to_string(OMPI_MAJOR_VERSION) + "." + std::to_string(OMPI_MINOR_VERSION) +
       "." + std::to_string(OMPI_RELEASE_VERSION) + ", ";
#endif
  s += "MPI " + std::to_string(MPI_VERSION) + "." + std::to_string(MPI_SUBVERSION) +
       " (sweeps share their runs over the processes of mpirun or srun)";
#else
  s += "mpi       no (OpenMPI was not installed at configure time, -DSHORTFALL_MPI=OFF, or a "
       "sanitizer build)";
#endif
  return s;
}

int refuse_under_launcher(const CLI::App& app) {
  const auto launch = detect_launch();
  if (!launch) return 0;
  const auto chosen = app.get_subcommands();
  const std::string command = chosen.empty() ? std::string() : chosen.front()->get_name();
#ifdef SHORTFALL_WITH_MPI
  const bool with_mpi = true;
#else
  const bool with_mpi = false;
#endif
  const std::string why = launch_refusal(*launch, with_mpi, command);
  if (why.empty()) return 0;
  if (launch->rank <= 0) std::cerr << "error: " << why << "\n";
  return kExitInputError;
}

}  // namespace shortfall::cli
