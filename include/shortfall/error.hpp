// Error types of shortfall.
//
// Bad input (a scenario, a world, a CSV table) raises InputError, whose message names the
// file, the line and column (or CSV row), the key path, what was expected and what was found.
// The command-line program maps InputError to exit code 2. I/O failures raise IoError (exit 3).
// Broken internal invariants are asserts, never exceptions.
#pragma once

#include <stdexcept>
#include <string>

namespace shortfall {

/// Where in an input file something was found. line and column are 1-based; 0 means unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key_path;  ///< e.g. "events[2].loss" or "links.csv row 17"

  /// "file:line:column: key_path" with the unknown parts left out.
  [[nodiscard]] std::string str() const;
};

/// Invalid user input: a configuration or data error. Exit code 2.
class InputError : public std::runtime_error {
 public:
  InputError(SourceLocation where, const std::string& what);
  [[nodiscard]] const SourceLocation& where() const noexcept { return where_; }
  /// The message without the location prefix.
  [[nodiscard]] const std::string& detail() const noexcept { return detail_; }

 private:
  SourceLocation where_;
  std::string detail_;
};

/// A file could not be read or written (missing, permission, disk full). Exit code 3.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A broken invariant found while running, e.g. a number of the model's state that is not
/// finite: a bug (inputs are bounded so that it cannot happen). Exit code 1 (kExitFailure, as
/// any other failure); the run's output is not published.
class InternalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Check, before any work, that `path` can be written as an output file (`--out`): not a
/// directory or another non-regular file, in a directory that exists (or can be created: the
/// nearest existing ancestor is a directory) and where a file can be created. InputError at
/// `option` (default "--out") otherwise (exit code 2). Creates nothing.
void check_output_file(const std::string& path, const char* option = "--out");
/// The same for an output directory (`generate --out DIR`): a directory, or a path that can be
/// created as one.
void check_output_directory(const std::string& path);

/// Exit codes of the command-line program.
enum ExitCode : int { kExitOk = 0, kExitFailure = 1, kExitInputError = 2, kExitIoError = 3 };

}  // namespace shortfall
