// The run file made durable while the run goes on (sim/util/background_sync.hpp): asks made
// while a sync runs are merged into one sync after it, finish() waits for the sync under way,
// and a sync the device refused is thrown by finish(), naming the file, so that the output is
// never published as complete; a file system that cannot sync is not an error; the synced pages
// are dropped from the page cache after each sync that succeeded, and only then. The syncs are
// replaced by functions that count them and block where the test says.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "shortfall/error.hpp"
#include "test_support.hpp"
#include "util/background_sync.hpp"

namespace {

using shortfall::IoError;
using shortfall::util::BackgroundSync;

/// A file with some bytes, to open (the syncs below do not touch it).
std::string some_file(const std::string& name) {
  const auto dir = shortfall::testing_support::scratch_dir("background-sync", name);
  const std::string path = (dir / "out.h5").string();
  std::ofstream(path) << "bytes";
  return path;
}

/// Syncs that block until released, counting the calls.
struct Gate {
  std::mutex m;
  std::condition_variable cv;
  int calls = 0;
  bool open = false;
  int result = 0;  // what each sync returns: 0 or an errno value
  int operator()() {
    std::unique_lock lock(m);
    ++calls;
    cv.notify_all();
    cv.wait(lock, [this] { return open; });
    return result;
  }
  void wait_for_calls(int n) {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return calls >= n; });
  }
  void release() {
    std::lock_guard lock(m);
    open = true;
    cv.notify_all();
  }
};

TEST(BackgroundSync, AsksDuringASyncMergeIntoOneAndFinishWaitsForTheSyncUnderWay) {
  Gate gate;
  BackgroundSync s(some_file("merge"), [&](int) { return gate(); });
  s.request();
  gate.wait_for_calls(1);  // the first sync is under way and blocked
  for (int k = 0; k < 5; ++k) s.request();
  gate.release();
  gate.wait_for_calls(2);  // the five asks made one more sync
  s.finish();              // waits for it; nothing was asked after it
  EXPECT_EQ(gate.calls, 2);
}

TEST(BackgroundSync, FinishReturnsOnlyAfterTheSyncUnderWay) {
  Gate gate;
  BackgroundSync s(some_file("wait"), [&](int) { return gate(); });
  s.request();
  gate.wait_for_calls(1);
  std::atomic<bool> finished{false};
  std::thread t([&] {
    s.finish();
    finished = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(finished) << "finish() returned while a sync was under way";
  gate.release();
  t.join();
  EXPECT_TRUE(finished);
  EXPECT_EQ(gate.calls, 1);  // nothing asked after the first sync
}

/// finish() after one sync that returned `err` (an ask not yet started when finish() comes is
/// dropped, so the test waits for it to run).
void finish_after_a_sync_returning(const std::string& path, int err) {
  Gate gate;
  gate.open = true;
  gate.result = err;
  BackgroundSync s(path, [&](int) { return gate(); });
  s.request();
  gate.wait_for_calls(1);
  s.finish();
}

TEST(BackgroundSync, ARefusedSyncIsThrownByFinishNamingTheFile) {
  const std::string path = some_file("refused");
  for (const int err : {EIO, ENOSPC}) {
    try {
      finish_after_a_sync_returning(path, err);
      FAIL() << "finish() returned after a sync failed with errno " << err;
    } catch (const IoError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find(std::strerror(err)), std::string::npos) << what;
    }
  }
}

/// How many times the synced pages were dropped in one sync of a 5-byte file returning `err`,
/// with pages kept up to `keep` bytes.
int drops_after_a_sync(int err, std::uint64_t keep) {
  Gate gate;
  gate.open = true;
  gate.result = err;
  std::atomic<int> drops{0};
  BackgroundSync s(
      some_file("drop"), [&](int) { return gate(); }, [&](int) { ++drops; }, keep);
  s.request();
  gate.wait_for_calls(1);
  try {
    s.finish();
  } catch (const IoError&) {
    EXPECT_NE(err, 0);
  }
  return drops;
}

TEST(BackgroundSync, SyncedPagesAreDroppedOnlyAfterASyncThatSucceededOfAFileOverTheLimit) {
  EXPECT_EQ(drops_after_a_sync(0, 4), 1);    // 5 bytes > 4
  EXPECT_EQ(drops_after_a_sync(0, 5), 0);    // not over the limit
  EXPECT_EQ(drops_after_a_sync(EIO, 4), 0);  // the device refused: its pages are not clean
}

TEST(BackgroundSync, AFileSystemThatCannotSyncIsNotAnError) {
  EXPECT_NO_THROW(finish_after_a_sync_returning(some_file("einval"), EINVAL));
}

TEST(BackgroundSync, RealSyncsLeaveTheFileAsItIs) {
  const std::string path = some_file("real");
  {
    BackgroundSync s(path);
    for (int k = 0; k < 3; ++k) s.request();
    EXPECT_NO_THROW(s.finish());
  }
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "bytes");
}

}  // namespace
