#include "util/background_sync.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "shortfall/error.hpp"
#include "util/atomic_file.hpp"

namespace shortfall::util {

namespace {
/// Whether the environment leaves a switch on: everything but NAME=0 (read once per switch by
/// its caller).
bool switched_on(const char* name) {
  const char* e = std::getenv(name);
  return !(e && std::strcmp(e, "0") == 0);
}
}  // namespace

BackgroundSync::BackgroundSync(std::string path, std::function<int(int fd)> sync,
                               std::function<void(int fd)> drop, std::uint64_t keep)
    : path_(std::move(path)), sync_(std::move(sync)), drop_(std::move(drop)), keep_(keep) {
  if (!sync_) sync_ = [](int fd) { return ::fdatasync(fd) == 0 ? 0 : errno; };
  // An advice: where it fails or the file system ignores it, the pages stay, as before.
  static const bool drop_on = switched_on("SHORTFALL_DROP_CACHE");
  if (!drop_ && drop_on)
    drop_ = [](int fd) { (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED); };
}

BackgroundSync::~BackgroundSync() {
  stop();
}

bool BackgroundSync::enabled() {
  static const bool on = switched_on("SHORTFALL_BACKGROUND_SYNC");
  return on;
}

void BackgroundSync::request() {
  if (!thread_.joinable()) {
    if (fd_ < 0) fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return;  // nothing to sync in the background; the final fsync still runs
    thread_ = std::thread([this] { loop(); });
  }
  {
    std::lock_guard lock(mutex_);
    pending_ = true;
  }
  wake_.notify_one();
}

void BackgroundSync::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return pending_ || stopping_; });
    if (stopping_) return;
    pending_ = false;
    lock.unlock();
    const int err = sync_(fd_);
    struct stat st {};
    if (err == 0 && drop_ && ::fstat(fd_, &st) == 0 && std::uint64_t(st.st_size) > keep_)
      drop_(fd_);  // only pages now on the device are clean
    lock.lock();
    if (device_refused(err) && error_ == 0) error_ = err;
  }
}

void BackgroundSync::stop() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void BackgroundSync::finish() {
  stop();
  if (error_ != 0)
    throw IoError(path_ + ": the device did not take the whole output (" + std::strerror(error_) +
                  "); nothing was published");
}

}  // namespace shortfall::util
