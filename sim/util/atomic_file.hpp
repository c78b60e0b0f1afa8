// Atomic file publication: every file the program writes appears under its final name only when
// complete. It is written under a temporary name in the same folder (so the rename is atomic),
// its bytes are made durable (fsync), and only then is it renamed; a failure removes the
// temporary and leaves any existing file at the final name untouched.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace shortfall::util {

/// The temporary name for `path`: ".NAME.partial" beside it (hidden, same file system).
[[nodiscard]] std::string temporary_name(const std::string& path);

/// Whether a failed fsync's errno means the device did not take the file's bytes (EIO, ENOSPC,
/// EDQUOT, ...), not that the file system cannot sync (EINVAL, EROFS), which is passed over.
[[nodiscard]] bool device_refused(int err);

/// Make the bytes of `tmp` durable and rename it to `path`. On failure removes `tmp` and throws
/// IoError "PATH: cannot move WHAT into place (REASON)HINT".
void publish_file(const std::string& tmp, const std::string& path, std::string_view what,
                  std::string_view hint = {});

/// Write a file through `write` (given a binary stream to the temporary), then publish it.
/// Throws IoError naming `path` when it cannot be written; any exception from `write` removes the
/// temporary and passes through.
void write_file_atomically(const std::string& path, std::string_view what,
                           const std::function<void(std::ostream&)>& write);

/// The same for a text held in memory.
void write_file_atomically(const std::string& path, std::string_view what, std::string_view text);

}  // namespace shortfall::util
