// Durability while the run goes on: a thread that makes what has been written of a file so far
// durable (fdatasync) each time it is asked, while the caller keeps computing. The output's
// final fsync (util/atomic_file.hpp) then has only the file's last bytes to wait for, not all
// of them: on the development machine's disk the 150 MB file of a 60-day firm-level run took
// 0.17-0.25 s to sync at the end, 3 ms with the syncs made during the run (docs/performance.md,
// Recording). It only waits on the device: no byte of the file changes.
//
// A failed sync (EIO, ENOSPC, EDQUOT) is kept and thrown by finish(), so that the file is never
// published as complete after the device refused some of it (the kernel reports a write-back
// error once; the final fsync might not see it again). File systems that cannot sync (EINVAL,
// EROFS: util::device_refused) are passed over, as the final fsync does.
// SHORTFALL_BACKGROUND_SYNC=0 in the environment turns the thread off (the final fsync does it
// all, as before).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace shortfall::util {

class BackgroundSync {
 public:
  /// Syncs `path` (opened when first asked). `sync` replaces fdatasync on the file's
  /// descriptor (tests): it returns 0 or an errno value.
  explicit BackgroundSync(std::string path, std::function<int(int fd)> sync = {});
  BackgroundSync(const BackgroundSync&) = delete;
  BackgroundSync& operator=(const BackgroundSync&) = delete;
  ~BackgroundSync();

  /// Asks for a sync of what is written so far and returns at once. Asks made while a sync
  /// runs are merged into one sync after it.
  void request();

  /// Waits for the sync under way (one asked for and not started is dropped: the final fsync
  /// covers it) and stops the thread. Throws IoError naming the file if a sync failed.
  void finish();

  /// Whether SHORTFALL_BACKGROUND_SYNC leaves it on (read once).
  static bool enabled();

 private:
  void loop();
  void stop();

  std::string path_;
  std::function<int(int)> sync_;
  int fd_ = -1;
  int error_ = 0;  // the first failed sync's errno
  bool pending_ = false, stopping_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace shortfall::util
