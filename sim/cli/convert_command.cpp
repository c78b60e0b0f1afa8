// shortfall convert WORLD OUT.h5
//
// Writes any world the program reads (explicit YAML + CSV, a description, a binary world) as a
// binary world: one HDF5 file of plain arrays that loads several times faster than the text
// tables and is accepted wherever a world file is (docs/input.md, "Binary worlds"). Exit 0 on
// success, 2 on bad input, 3 when the file cannot be written.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/world.hpp"

namespace shortfall::cli {

namespace {

struct ConvertArgs {
  std::string world, out;
};

int run_convert(const ConvertArgs& a) {
  using Clock = std::chrono::steady_clock;
  check_output_file(a.out, "out");  // before loading: a bad path fails in a second
  const auto t0 = Clock::now();
  const World w = load_world(a.world);
  const auto t1 = Clock::now();
  write_binary_world(w, a.out);
  const auto t2 = Clock::now();
  const World back = load_binary_world(a.out);  // what every later load will do, checked once
  const auto t3 = Clock::now();
  if (back.sha256() != w.sha256())
    throw InternalError(a.out + ": the binary world does not read back as the world written");
  auto s = [](auto d) { return std::chrono::duration<double>(d).count(); };
  std::printf("world       %s: %zu firms, %zu links (sha256 %s)\n", a.world.c_str(), w.num_firms(),
              w.num_links(), w.sha256().c_str());
  std::printf("written to  %s\n", a.out.c_str());
  std::printf("seconds     %.3f to load the original, %.3f to write, %.3f to load the binary\n",
              s(t1 - t0), s(t2 - t1), s(t3 - t2));
  return kExitOk;
}

}  // namespace

Command add_convert_command(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  auto* sub = app.add_subcommand(
      "convert", "Write a world as one binary file that loads faster (docs/input.md)");
  sub->add_option("world", args->world, "World to convert (YAML, description or binary)")
      ->required();
  sub->add_option("out", args->out, "Binary world to write (.h5)")->required();
  return {sub, [args] { return run_convert(*args); }};
}

}  // namespace shortfall::cli
