// The command-line program: `info`, `validate` summaries, `run --days`, and an interrupted run
// (SIGINT) that leaves no output file; `compare` on a file that is not a sweep. Bad input is in
// test_bad_input.cpp.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "cli_support.hpp"

namespace fs = std::filesystem;

namespace {

const std::string kSource = SHORTFALL_SOURCE_DIR;
const std::string kCli = SHORTFALL_CLI;

using Result = shortfall::testing_support::ShellResult;

/// Run the program with `args` from the source directory; stderr is discarded.
Result run_cli(const std::string& args) {
  return shortfall::testing_support::run_shell("cd '" + kSource + "' && '" + kCli + "' " + args +
                                               " 2>/dev/null");
}

fs::path temp_dir(const std::string& tag) {
  return shortfall::testing_support::fresh_temp_dir("shortfall-cli", tag);
}

}  // namespace

TEST(Cli, InfoSummarizesTheWorld) {
  Result r = run_cli("info scenarios/worlds/example.yaml");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("world       scenarios/worlds/example.yaml\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("countries   4\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("materials   4\n"), std::string::npos) << r.out;
  // 11 firms; ga_cn1, ga_cn2, ga_jp have no inputs; 5 sell to final users (ga_cn1, ga_cn2,
  // ev_us, ev_de, ev_cn; ga_jp's final_demand is 0).
  EXPECT_NE(r.out.find("firms       11 (3 without inputs, 5 selling to final users)\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("links       14 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lead times  up to 14 days\n"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("sha256      [0-9a-f]{64}\n"))) << r.out;
}

TEST(Cli, ValidatePrintsTheScenarioAndWorld) {
  Result r = run_cli("validate scenarios/example-gallium-cut.yaml");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out.rfind("scenario    example-gallium-cut: 240 days, seed 1, 1 events\n", 0), 0u)
      << r.out;
  EXPECT_NE(r.out.find("export control by CHN on gallium to ipef"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("firms       11 "), std::string::npos) << r.out;
  EXPECT_TRUE(r.out.size() >= 6 && r.out.substr(r.out.size() - 6) == "valid\n") << r.out;
}

TEST(Cli, RunWithDaysOverride) {
  const fs::path dir = temp_dir("days");
  const fs::path out = dir / "out.h5";
  Result r = run_cli("run scenarios/example-gallium-cut.yaml --days 10 --threads 2 --out '" +
                     out.string() + "'");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("run         10 days on 2 threads"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("output      " + out.string()), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(out));
  fs::remove_all(dir);
}

TEST(Cli, InterruptedRunLeavesNoOutputFile) {
  // A synthetic world big enough that 36500 days take long; SIGINT once the temporary output
  // (written under another name next to the target) exists, so the handler is installed and
  // recording has begun. Exit 130, nothing left, and an existing file at the target untouched.
  const fs::path dir = temp_dir("sigint");
  Result g = run_cli(
      "generate --synthetic --firms 4000 --links 16000 --materials 6 --countries 4"
      " --seed 3 --out '" +
      (dir / "world").string() + "'");
  ASSERT_EQ(g.rc, 0) << g.out;
  {
    std::ofstream sc(dir / "long.yaml");
    sc << "name: long\nworld: world/world.yaml\ndays: 36500\n"
          "events:\n  - {type: capacity_loss, start: 0, material: m0, loss: 0.5}\n";
  }
  const fs::path outdir = dir / "out";
  fs::create_directories(outdir);
  const fs::path out = outdir / "long.h5";
  { std::ofstream(out) << "an earlier result\n"; }

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    const std::string scenario = (dir / "long.yaml").string(), o = out.string();
    execl(kCli.c_str(), kCli.c_str(), "run", scenario.c_str(), "--out", o.c_str(), "--threads", "1",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait (at most 60 s) for the temporary output ".long.h5.partial" (util/atomic_file.hpp):
  // the handler is installed before it is created. (Not any other name: the check of the
  // output's directory creates and removes a probe file before the world is even loaded.)
  bool started = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!started && std::chrono::steady_clock::now() < deadline) {
    started = fs::exists(outdir / ".long.h5.partial");
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(started);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(outdir)) {
    ++entries;
    EXPECT_EQ(e.path(), out) << "left behind: " << e.path();
  }
  EXPECT_EQ(entries, 1u);
  std::ifstream in(out);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "an earlier result\n");
  fs::remove_all(dir);
}

TEST(Cli, CompareRefusesARunFileNamingWhatIsMissing) {
  // A run's file is HDF5 but not a sweep: exit 2, naming the file and the first missing key.
  const fs::path dir = temp_dir("compare-run-file");
  const fs::path out = dir / "run.h5";
  ASSERT_EQ(run_cli("run scenarios/example-gallium-cut.yaml --days 5 --quiet --out '" +
                    out.string() + "'")
                .rc,
            0);
  Result r = shortfall::testing_support::run_shell("'" + kCli + "' compare '" + out.string() +
                                                   "' --by seed 2>&1");
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_NE(r.out.find(out.string() + ": axes: missing from a shortfall sweep output"),
            std::string::npos)
      << r.out;
  fs::remove_all(dir);
}
