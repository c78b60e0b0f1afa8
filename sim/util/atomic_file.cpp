#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "shortfall/error.hpp"

namespace shortfall::util {

std::string temporary_name(const std::string& path) {
  const std::filesystem::path p(path);
  const std::filesystem::path dir = p.has_parent_path() ? p.parent_path() / "" : "";
  return dir.string() + "." + p.filename().string() + ".partial";
}

bool device_refused(int err) {
  return err != 0 && err != EINVAL && err != EROFS;
}

void publish_file(const std::string& tmp, const std::string& path, std::string_view what,
                  std::string_view hint) {
  if (int fd = ::open(tmp.c_str(), O_RDONLY); fd >= 0) {
    const int err = ::fsync(fd) == 0 ? 0 : errno;
    ::close(fd);
    if (device_refused(err)) {
      std::remove(tmp.c_str());
      throw IoError(path + ": cannot move " + std::string(what) + " into place (" +
                    std::strerror(err) + ")" + std::string(hint));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    std::remove(tmp.c_str());
    throw IoError(path + ": cannot move " + std::string(what) + " into place (" + err + ")" +
                  std::string(hint));
  }
}

void write_file_atomically(const std::string& path, std::string_view what,
                           const std::function<void(std::ostream&)>& write) {
  const std::string tmp = temporary_name(path);
  try {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f)
      throw IoError(path + ": cannot write " + std::string(what) + " (" + std::strerror(errno) +
                    ")");
    write(f);
    f.flush();
    if (!f) throw IoError(path + ": cannot write " + std::string(what) + " (disk full?)");
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  publish_file(tmp, path, what);
}

void write_file_atomically(const std::string& path, std::string_view what, std::string_view text) {
  write_file_atomically(path, what, [&](std::ostream& os) { os << text; });
}

}  // namespace shortfall::util
