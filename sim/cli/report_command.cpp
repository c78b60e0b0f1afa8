// shortfall report <out.h5 | sweep.h5> -o report.html [--analysis analysis.h5]
// Writes one self-contained HTML page by running sim/plots/report.py with Debian's python3: for a
// run, its summary table, events and figures; for a sweep, the distribution of the headline
// metrics over the runs and the rank correlation of each swept axis with them. Any other file
// is refused with exit 2.
//
// Where report.py is found, first match wins:
//   1. $SHORTFALL_SOURCE_DIR/sim/plots/report.py
//   2. <directory of this executable>/../sim/plots/report.py   (a build folder inside the source
//      tree, e.g. build/shortfall -> sim/plots/report.py)
//   3. <directory of this executable>/../share/shortfall/plots/report.py (an installed layout)
//   4. the source tree this program was compiled from (the path of this file at compile time)
// The interpreter is $SHORTFALL_PYTHON, else /usr/bin/python3.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "shortfall/error.hpp"

extern char** environ;

namespace shortfall::cli {

namespace {

namespace fs = std::filesystem;

std::string find_report_script() {
  std::vector<fs::path> candidates;
  if (const char* src = std::getenv("SHORTFALL_SOURCE_DIR"); src && *src)
    candidates.push_back(fs::path(src) / "sim" / "plots" / "report.py");
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path() / ".." / "sim" / "plots" / "report.py");
    candidates.push_back(exe.parent_path() / ".." / "share" / "shortfall" / "plots" / "report.py");
  }
  candidates.push_back(fs::path(__FILE__).parent_path().parent_path() / "plots" / "report.py");
  for (const auto& c : candidates)
    if (fs::is_regular_file(c, ec)) return fs::weakly_canonical(c, ec).string();
  std::string tried;
  for (const auto& c : candidates) tried += "\n  " + c.string();
  throw IoError(
      "cannot find sim/plots/report.py; set SHORTFALL_SOURCE_DIR to the source folder. "
      "Tried:" +
      tried);
}

struct ReportArgs {
  std::string input, out, analysis, title;
};

}  // namespace

Command add_report_command(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  auto* sub = app.add_subcommand(
      "report",
      "Write a self-contained HTML report of a run or a sweep (figures embedded; no server)");
  sub->add_option("input", args->input,
                  "Output (HDF5) of `shortfall run`, or of `shortfall sweep` (a sweep report)")
      ->required();
  sub->add_option("--out,-o", args->out, "HTML file to write")->required();
  sub->add_option("--analysis", args->analysis,
                  "Also show the tables of an analysis file from `shortfall analyze --out` (run "
                  "reports)");
  sub->add_option("--title", args->title, "Page title (default: the scenario's name)");

  Command cmd;
  cmd.sub = sub;
  cmd.run = [args]() -> int {
    check_output_file(args->out);
    const std::string script = find_report_script();
    const char* py_env = std::getenv("SHORTFALL_PYTHON");
    const std::string python = py_env && *py_env ? py_env : "/usr/bin/python3";
    std::vector<std::string> argv_s = {python, script, args->input, "-o", args->out};
    if (!args->analysis.empty()) argv_s.insert(argv_s.end(), {"--analysis", args->analysis});
    if (!args->title.empty()) argv_s.insert(argv_s.end(), {"--title", args->title});
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ);
    if (rc != 0)
      throw IoError("cannot run " + python + " (" + std::strerror(rc) +
                    "); install Debian's python3 with h5py and matplotlib");
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
      if (errno != EINTR) throw IoError("waiting for report.py failed");
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    std::cerr << "error: report.py was killed by signal " << WTERMSIG(status) << "\n";
    return kExitFailure;
  };
  return cmd;
}

}  // namespace shortfall::cli
