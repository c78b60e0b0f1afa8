// Launcher detection (include/shortfall/launcher.hpp).
#include "shortfall/launcher.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace shortfall {

namespace {

/// A whole number >= 0 read from the environment; nullopt when unset or not a number.
std::optional<int> env_int(const EnvLookup& env, const char* name) {
  const char* v = env(name);
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long x = std::strtol(v, &end, 10);
  if (errno || *end || x < 0 || x > (1L << 30)) return std::nullopt;
  return int(x);
}

struct Rule {
  const char* launcher;
  const char* size_var;  ///< nullptr: the launcher gives only the rank
  const char* rank_var;
  bool wireup;
};

// In order of precedence: Open MPI's mpirun also runs inside Slurm jobs (and then the job's
// SLURM_* variables are inherited), so its own variables come first.
constexpr Rule kRules[] = {
    {"mpirun (Open MPI)", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", true},
    {"mpirun (MVAPICH)", "MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK", true},
    {"srun (Slurm)", "SLURM_STEP_NUM_TASKS", "SLURM_PROCID", false},
    {"an MPI launcher (PMI: mpiexec of MPICH or Intel MPI)", "PMI_SIZE", "PMI_RANK", true},
    {"mpiexec (MPICH Hydra)", "MPI_LOCALNRANKS", "MPI_LOCALRANKID", true},
    {"an MPI launcher (PMIx)", nullptr, "PMIX_RANK", true},
    {"an MPI launcher (PMI)", nullptr, "PMI_RANK", true},
};

}  // namespace

std::optional<Launch> detect_launch(const EnvLookup& env) {
  for (const Rule& r : kRules) {
    const std::optional<int> size = r.size_var ? env_int(env, r.size_var) : std::nullopt;
    const std::optional<int> rank = env_int(env, r.rank_var);
    if (!size && !(r.size_var == nullptr && rank)) continue;
    Launch l;
    l.launcher = r.launcher;
    l.rank = rank ? *rank : -1;
    l.size = std::max(size ? *size : 1, l.rank + 1);
    l.evidence = size ? std::string(r.size_var) + "=" + std::to_string(*size)
                      : std::string(r.rank_var) + "=" + std::to_string(*rank);
    // srun gives MPI a way to connect its tasks only with --mpi=pmix (PMIX_*) or --mpi=pmi2
    // (PMI_FD); without, each task of an MPI program starts MPI alone.
    l.mpi_wireup = r.wireup || env("PMIX_RANK") || env("PMI_FD") || env("PMI_RANK");
    if (!r.wireup && l.mpi_wireup)
      l.launcher = env("PMIX_RANK") ? "srun --mpi=pmix (Slurm)" : "srun --mpi=pmi2 (Slurm)";
    return l;
  }
  return std::nullopt;
}

std::optional<Launch> detect_launch() {
  return detect_launch([](const char* name) -> const char* { return std::getenv(name); });
}

std::string launch_refusal(const Launch& launch, bool built_with_mpi, const std::string& command) {
  if (launch.size <= 1) return "";
  const std::string started = "started by " + launch.launcher + " with " +
                              std::to_string(launch.size) + " processes (" + launch.evidence + ")";
  if (!built_with_mpi)
    return "this shortfall was built without MPI but was " + started +
           ": each process would run the whole `" + command +
           "` and write the same files. Run it without mpirun/srun (one process runs on "
           "several cores: --threads), or rebuild with MPI: install OpenMPI (tools/setup installs "
           "libopenmpi-dev and openmpi-bin), then configure with -DSHORTFALL_MPI=ON (or AUTO, "
           "the default) and build again (tools/build)";
  if (command == "sweep") {
    if (launch.mpi_wireup) return "";
    return "shortfall sweep was " + started +
           " without an MPI interface for them: each task would start MPI alone and run the "
           "whole sweep into the same files. Start it with srun --mpi=pmix (or --mpi=pmi2; "
           "`srun --mpi=list` shows what this cluster offers), or with mpirun";
  }
  return "shortfall " + command + " was " + started + ", but only `shortfall sweep` shares its " +
         "work over MPI processes: each would run the whole `" + command +
         "` and write the same files. Run it without mpirun/srun (one process runs on several "
         "cores: --threads)";
}

}  // namespace shortfall
