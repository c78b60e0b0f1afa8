// Extra subcommands of the shortfall program. Each lives in sim/cli/<name>_command.cpp (listed
// in sim/cli/CMakeLists.txt) and registers itself through one function: it adds its options to
// `app` and returns the action to run when it was chosen.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace shortfall::cli {

struct Command {
  CLI::App* sub = nullptr;
  std::function<int()> run;  ///< returns the exit code; may throw InputError/IoError
};

Command add_sweep_command(CLI::App& app);
Command add_compare_command(CLI::App& app);
Command add_analyze_command(CLI::App& app);
Command add_report_command(CLI::App& app);
Command add_hindcast_command(CLI::App& app);
Command add_import_mrio_command(CLI::App& app);
Command add_convert_command(CLI::App& app);

}  // namespace shortfall::cli
