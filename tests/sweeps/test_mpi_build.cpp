// MPI in the build and the program under a parallel launcher (issue 19, "Clusters"): launcher
// detection from a fake environment, the refusal of what would collide (two copies of one
// command writing the same files), and what `shortfall --version` says about MPI. The fresh
// default configure and a real `mpirun -np 2` sweep are checked by tests/python/test_mpi_build.py.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "cli_support.hpp"
#include "shortfall/launcher.hpp"

namespace fs = std::filesystem;
using shortfall::detect_launch;
using shortfall::launch_refusal;

namespace {

using Env = std::map<std::string, std::string>;

std::optional<shortfall::Launch> detect(const Env& env) {
  return detect_launch([&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(Launcher, NoneWithoutLauncherVariables) {
  EXPECT_FALSE(detect({}));
  EXPECT_FALSE(detect({{"HOME", "/root"}, {"OMPI_MCA_btl", "self"}}));
  // A Slurm batch script's own environment (sbatch --ntasks=4) is not an srun step.
  EXPECT_FALSE(detect({{"SLURM_JOB_ID", "7"}, {"SLURM_NTASKS", "4"}, {"SLURM_PROCID", "0"}}));
  // Not numbers: ignored.
  EXPECT_FALSE(detect({{"OMPI_COMM_WORLD_SIZE", "two"}, {"SLURM_STEP_NUM_TASKS", ""}}));
}

TEST(Launcher, OpenMpiMpirun) {
  auto l = detect({{"OMPI_COMM_WORLD_SIZE", "2"},
                   {"OMPI_COMM_WORLD_RANK", "1"},
                   {"PMIX_RANK", "1"},
                   {"SLURM_NTASKS", "8"},
                   {"SLURM_PROCID", "0"}});
  ASSERT_TRUE(l);
  EXPECT_EQ(l->launcher, "mpirun (Open MPI)");
  EXPECT_EQ(l->size, 2);
  EXPECT_EQ(l->rank, 1);
  EXPECT_EQ(l->evidence, "OMPI_COMM_WORLD_SIZE=2");
  EXPECT_TRUE(l->mpi_wireup);
  // mpirun -np 1: one process, nothing to refuse.
  auto one = detect({{"OMPI_COMM_WORLD_SIZE", "1"}, {"OMPI_COMM_WORLD_RANK", "0"}});
  ASSERT_TRUE(one);
  EXPECT_EQ(one->size, 1);
  EXPECT_EQ(launch_refusal(*one, false, "sweep"), "");
  EXPECT_EQ(launch_refusal(*one, true, "run"), "");
}

TEST(Launcher, SrunWithAndWithoutMpiPlugin) {
  auto plain =
      detect({{"SLURM_STEP_NUM_TASKS", "4"}, {"SLURM_PROCID", "2"}, {"SLURM_NTASKS", "4"}});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->launcher, "srun (Slurm)");
  EXPECT_EQ(plain->size, 4);
  EXPECT_EQ(plain->rank, 2);
  EXPECT_FALSE(plain->mpi_wireup);
  auto pmix = detect({{"SLURM_STEP_NUM_TASKS", "4"}, {"SLURM_PROCID", "2"}, {"PMIX_RANK", "2"}});
  ASSERT_TRUE(pmix);
  EXPECT_EQ(pmix->launcher, "srun --mpi=pmix (Slurm)");
  EXPECT_TRUE(pmix->mpi_wireup);
  auto pmi2 = detect({{"SLURM_STEP_NUM_TASKS", "3"}, {"SLURM_PROCID", "0"}, {"PMI_FD", "5"}});
  ASSERT_TRUE(pmi2);
  EXPECT_EQ(pmi2->launcher, "srun --mpi=pmi2 (Slurm)");
  EXPECT_TRUE(pmi2->mpi_wireup);
  // srun -n 1 is one process.
  auto one = detect({{"SLURM_STEP_NUM_TASKS", "1"}, {"SLURM_PROCID", "0"}});
  ASSERT_TRUE(one);
  EXPECT_EQ(launch_refusal(*one, false, "run"), "");
}

TEST(Launcher, OtherMpiLaunchers) {
  auto hydra = detect({{"PMI_SIZE", "3"}, {"PMI_RANK", "0"}, {"MPI_LOCALNRANKS", "3"}});
  ASSERT_TRUE(hydra);
  EXPECT_EQ(hydra->size, 3);
  EXPECT_EQ(hydra->rank, 0);
  auto local = detect({{"MPI_LOCALNRANKS", "2"}, {"MPI_LOCALRANKID", "1"}});
  ASSERT_TRUE(local);
  EXPECT_EQ(local->size, 2);
  auto mv2 = detect({{"MV2_COMM_WORLD_SIZE", "5"}});
  ASSERT_TRUE(mv2);
  EXPECT_EQ(mv2->size, 5);
  EXPECT_EQ(mv2->rank, -1);
  // PMIx gives only the rank: a rank above 0 means several processes.
  auto pmix = detect({{"PMIX_RANK", "3"}});
  ASSERT_TRUE(pmix);
  EXPECT_EQ(pmix->size, 4);
  auto pmix0 = detect({{"PMIX_RANK", "0"}});
  ASSERT_TRUE(pmix0);
  EXPECT_EQ(pmix0->size, 1);
}

TEST(Launcher, WithoutMpiEveryCommandIsRefused) {
  auto l = detect({{"OMPI_COMM_WORLD_SIZE", "2"}, {"OMPI_COMM_WORLD_RANK", "0"}});
  ASSERT_TRUE(l);
  for (const char* cmd : {"sweep", "run", "info"}) {
    const std::string why = launch_refusal(*l, false, cmd);
    EXPECT_TRUE(has(why, "built without MPI")) << why;
    EXPECT_TRUE(has(why, "mpirun (Open MPI) with 2 processes")) << why;
    EXPECT_TRUE(has(why, "-DSHORTFALL_MPI=ON")) << why;
    EXPECT_TRUE(has(why, "without mpirun")) << why;
  }
}

TEST(Launcher, WithMpiOnlySweepRunsUnderALauncher) {
  auto l = detect({{"OMPI_COMM_WORLD_SIZE", "3"}, {"OMPI_COMM_WORLD_RANK", "0"}});
  ASSERT_TRUE(l);
  EXPECT_EQ(launch_refusal(*l, true, "sweep"), "");
  const std::string why = launch_refusal(*l, true, "run");
  EXPECT_TRUE(has(why, "only `shortfall sweep`")) << why;
  EXPECT_TRUE(has(why, "3 processes")) << why;
  // srun without --mpi=pmix: each task would start MPI alone.
  auto srun = detect({{"SLURM_STEP_NUM_TASKS", "4"}, {"SLURM_PROCID", "0"}});
  ASSERT_TRUE(srun);
  EXPECT_TRUE(has(launch_refusal(*srun, true, "sweep"), "srun --mpi=pmix"));
  auto pmix = detect({{"SLURM_STEP_NUM_TASKS", "4"}, {"SLURM_PROCID", "0"}, {"PMIX_RANK", "0"}});
  ASSERT_TRUE(pmix);
  EXPECT_EQ(launch_refusal(*pmix, true, "sweep"), "");
}

// ---- the program ------------------------------------------------------------------------------

namespace {

const std::string kSource = SHORTFALL_SOURCE_DIR;
const std::string kCli = SHORTFALL_CLI;

using Result = shortfall::testing_support::ShellResult;  ///< out: stdout and stderr

/// Runs `env ENV shortfall ARGS` from the source directory, with no launcher variables of its
/// own (a test run under mpirun or srun must not leak them in).
Result run_env(const std::string& env, const std::string& args) {
  const std::string cmd = "cd '" + kSource +
                          "' && env -u OMPI_COMM_WORLD_SIZE -u OMPI_COMM_WORLD_RANK "
                          "-u SLURM_STEP_NUM_TASKS -u PMIX_RANK -u PMI_SIZE -u PMI_RANK -u PMI_FD "
                          "-u MPI_LOCALNRANKS -u MV2_COMM_WORLD_SIZE " +
                          env + " '" + kCli + "' " + args + " 2>&1";
  return shortfall::testing_support::run_shell(cmd);
}

bool cli_has_mpi() {
  return has(run_env("", "--version").out, "mpi       yes");
}

fs::path empty_dir(const std::string& tag) {
  fs::path d =
      fs::temp_directory_path() / ("shortfall-mpi-" + std::to_string(getpid()) + "-" + tag);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(MpiBuild, VersionSaysWhetherMpiIsBuiltIn) {
  const Result r = run_env("", "--version");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out.rfind("shortfall ", 0), 0u) << r.out;
  EXPECT_EQ(has(r.out, "mpi       yes: Open MPI "), bool(SHORTFALL_TEST_CLI_MPI)) << r.out;
  EXPECT_EQ(has(r.out, "mpi       no"), !bool(SHORTFALL_TEST_CLI_MPI)) << r.out;
}

// Two copies of `run` under mpirun would write one file: refused before anything is read or
// written, with the message from rank 0 only.
TEST(MpiBuild, RunUnderALauncherIsRefusedBeforeTouchingAnything) {
  const fs::path dir = empty_dir("run");
  const std::string args =
      "run scenarios/example-gallium-cut.yaml --days 5 --out '" + (dir / "x.h5").string() + "'";
  const Result r0 = run_env("OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0", args);
  EXPECT_EQ(r0.rc, 2) << r0.out;
  EXPECT_TRUE(has(r0.out, "mpirun (Open MPI) with 2 processes")) << r0.out;
  EXPECT_TRUE(has(r0.out, cli_has_mpi() ? "only `shortfall sweep`" : "built without MPI"))
      << r0.out;
  const Result r1 = run_env("OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=1", args);
  EXPECT_EQ(r1.rc, 2) << r1.out;
  EXPECT_EQ(r1.out, "");
  EXPECT_TRUE(fs::is_empty(dir));
  // A launcher's only process runs as usual.
  const Result one = run_env("OMPI_COMM_WORLD_SIZE=1 OMPI_COMM_WORLD_RANK=0",
                             "validate scenarios/example-gallium-cut.yaml");
  EXPECT_EQ(one.rc, 0) << one.out;
  fs::remove_all(dir);
}

// The bug of issue 19: `mpirun -np 2 shortfall sweep` of a program without MPI ran two sweeps
// into one file (exit 2, "an interrupted sweep left partial results", a stray .partial). Without
// MPI it is refused up front; with MPI, srun without an MPI plugin is (each task would start MPI
// alone), before MPI starts.
TEST(MpiBuild, SweepUnderALauncherItCannotUseIsRefused) {
  const fs::path dir = empty_dir("sweep");
  const std::string args = "sweep scenarios/sweeps/example-license-share.yaml --quiet --out '" +
                           (dir / "s.h5").string() + "'";
  const bool mpi = cli_has_mpi();
  const Result r = mpi ? run_env("SLURM_STEP_NUM_TASKS=2 SLURM_PROCID=0", args)
                       : run_env("OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0", args);
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_TRUE(has(r.out, mpi ? "srun --mpi=pmix" : "this shortfall was built without MPI"))
      << r.out;
  EXPECT_FALSE(has(r.out, "interrupted sweep")) << r.out;
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}
