// Helpers for the tests that run the command-line program: a shell command's exit status and
// output, a fresh temporary directory per test, and a file's bytes.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "scratch.hpp"

namespace shortfall::testing_support {

struct ShellResult {
  int rc = -1;      ///< exit status; -1 if the command did not exit normally
  std::string out;  ///< what it wrote to stdout (redirect stderr in the command to see it)
};

/// Runs `command` with /bin/sh.
inline ShellResult run_shell(const std::string& command) {
  ShellResult r;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  const int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

/// An empty directory `<temp>/<prefix>-<pid>-<tag>` (removed first if it exists, and at the end
/// if every test passed: scratch.hpp).
inline std::filesystem::path fresh_temp_dir(const std::string& prefix, const std::string& tag) {
  namespace fs = std::filesystem;
  const fs::path d =
      fs::temp_directory_path() / (prefix + "-" + std::to_string(getpid()) + "-" + tag);
  fs::remove_all(d);
  fs::create_directories(d);
  remove_at_exit(d);
  return d;
}

/// The whole file's bytes ("" if it cannot be read).
inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace shortfall::testing_support
