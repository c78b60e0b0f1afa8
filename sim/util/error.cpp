#include "shortfall/error.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace shortfall {

namespace {

namespace fs = std::filesystem;

/// InputError unless a file can be created in `dir` (or, if `dir` does not exist yet, in its
/// nearest existing ancestor, from which the writer creates it). The error names `option`.
void check_writable_directory(fs::path dir, const std::string& out, const char* option) {
  const SourceLocation at{option, 0, 0, ""};
  std::error_code ec;
  if (dir.empty()) dir = ".";
  while (!fs::exists(dir, ec) && dir.has_parent_path() && dir.parent_path() != dir)
    dir = dir.parent_path();
  if (!fs::exists(dir, ec)) dir = ".";
  if (!fs::is_directory(dir, ec))
    throw InputError(
        at, "cannot write '" + out + "': '" + dir.string() + "' is a file, not a directory");
  const fs::path probe = dir / (".shortfall-probe-" + std::to_string(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno != EEXIST)
    throw InputError(at, "cannot write '" + out + "': cannot create a file in '" + dir.string() +
                             "' (" + std::strerror(errno) + ")");
  if (fd >= 0) {
    ::close(fd);
    ::unlink(probe.c_str());
  }
}

}  // namespace

void check_output_file(const std::string& path, const char* option) {
  const SourceLocation at{option, 0, 0, ""};
  if (path.empty()) throw InputError(at, "expected the name of the file to write, found nothing");
  const fs::path p(path);
  std::error_code ec;
  const fs::file_status st = fs::status(p, ec);
  if (fs::is_directory(st) || path.back() == '/')
    throw InputError(at, "'" + path +
                             "' is a directory; expected the name of the file to write (e.g. " +
                             (p / "out.h5").lexically_normal().string() + ")");
  if (fs::exists(st) && !fs::is_regular_file(st))
    throw InputError(at, "'" + path +
                             "' exists and is not a regular file; expected the name of the "
                             "file to write");
  check_writable_directory(p.parent_path(), path, option);
}

void check_output_directory(const std::string& path) {
  const SourceLocation at{"--out", 0, 0, ""};
  if (path.empty())
    throw InputError(at, "expected the name of the directory to write, found nothing");
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_directory(path, ec))
    throw InputError(at, "'" + path + "' is a file; expected a directory to write into");
  check_writable_directory(fs::path(path), path, "--out");
}

std::string SourceLocation::str() const {
  std::string out = file.empty() ? std::string("<input>") : file;
  if (line > 0) {
    out.append(1, ':').append(std::to_string(line));
    if (column > 0) out.append(1, ':').append(std::to_string(column));
  }
  if (!key_path.empty()) out.append(": ").append(key_path);
  return out;
}

InputError::InputError(SourceLocation where, const std::string& what)
    : std::runtime_error(where.str() + ": " + what), where_(std::move(where)), detail_(what) {}

}  // namespace shortfall
