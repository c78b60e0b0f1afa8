// Was this process started by a parallel launcher (mpirun, mpiexec, srun) as one of several?
//
// A shortfall built without MPI, started by `mpirun -np 2`, would run the whole command twice
// and both copies would write the same files. The program reads the launcher's environment
// variables before it reads any input, and refuses (exit 2) what would collide. No MPI here:
// the library and its headers never include mpi.h.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace shortfall {

/// What the environment says about the launcher that started this process.
struct Launch {
  std::string launcher;  ///< "mpirun (Open MPI)", "srun (Slurm)", ...
  std::string evidence;  ///< the variable it was read from, e.g. "OMPI_COMM_WORLD_SIZE=2"
  int size = 1;          ///< processes started together (at least rank + 1)
  int rank = -1;         ///< this process's rank, -1 when the launcher does not say
  /// The launcher gave MPI a way to connect the processes (Open MPI's mpirun, PMI or PMIx);
  /// false for `srun` without `--mpi=pmix|pmi2`, whose tasks would each start MPI alone.
  bool mpi_wireup = false;
};

/// Reads a variable of the environment: nullptr when it is not set.
using EnvLookup = std::function<const char*(const char*)>;

/// The launcher that started this process, read from `env` (default: the process's
/// environment); nullopt when none did. `srun` is recognised by SLURM_STEP_NUM_TASKS, which only
/// srun sets: a batch script's own SLURM_NTASKS / SLURM_PROCID do not count.
std::optional<Launch> detect_launch(const EnvLookup& env);
std::optional<Launch> detect_launch();

/// Why `command` must not run as one of several processes of `launch`, or "" when it may:
/// a program built without MPI refuses every command under a launcher of more than one process,
/// one built with MPI every command but `sweep` (the one that shares its work over MPI ranks).
std::string launch_refusal(const Launch& launch, bool built_with_mpi, const std::string& command);

}  // namespace shortfall
