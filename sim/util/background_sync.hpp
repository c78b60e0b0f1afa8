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
//
// Once the file is larger than `keep` bytes (1 GiB), each sync that succeeded is followed by
// dropping the file's pages now on the device from the page cache (posix_fadvise DONTNEED:
// clean pages only, an advice that changes no byte). A run writes its file once and does not
// read it back, and a page cache that grew by gigabytes cost the development machine's kernel
// more with every gigabyte: a 1M-firm year (9 GB) took 62-72 s with the pages kept, 39-47 s
// with them dropped. Below 1 GiB nothing is dropped: there the drops' own kernel time made
// runs a few percent slower (docs/performance.md, Recording). SHORTFALL_DROP_CACHE=0 keeps
// every page.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace shortfall::util {

class BackgroundSync {
 public:
  /// Syncs `path` (opened when first asked). `sync` replaces fdatasync on the file's
  /// descriptor (tests): it returns 0 or an errno value. `drop` replaces the release of the
  /// synced pages from the page cache (tests), called after each sync that returned 0 once
  /// the file is larger than `keep` bytes.
  explicit BackgroundSync(std::string path, std::function<int(int fd)> sync = {},
                          std::function<void(int fd)> drop = {},
                          std::uint64_t keep = std::uint64_t(1) << 30);
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
  std::function<void(int)> drop_;
  std::uint64_t keep_;
  int fd_ = -1;
  int error_ = 0;  // the first failed sync's errno
  bool pending_ = false, stopping_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace shortfall::util
