// The run file's chunk writer and its crash-safe spool (output/chunk_sink.hpp).
#include "output/chunk_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <tuple>

#include "shortfall/error.hpp"

namespace shortfall::detail {

namespace {
[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IoError(path + ": " + what + " (" + std::strerror(errno) + ")");
}
}  // namespace

ChunkSink::~ChunkSink() {
  if (fd_ >= 0) ::close(fd_);
}

void ChunkSink::open_spool(std::string path, const std::uint64_t* resume_length) {
  path_ = std::move(path);
  fd_ = ::open(path_.c_str(), resume_length ? O_RDWR : (O_RDWR | O_CREAT | O_TRUNC), 0644);
  if (fd_ < 0)
    fail(path_, resume_length ? "cannot reopen the partial output of the checkpointed run"
                              : "cannot create the run's partial output");
  if (resume_length) {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail(path_, "cannot read the partial output");
    if (std::uint64_t(st.st_size) < *resume_length)
      throw IoError(path_ + ": the partial output is shorter than its checkpoint says (" +
                    std::to_string(st.st_size) + " < " + std::to_string(*resume_length) +
                    " bytes): run again without --resume");
    if (::ftruncate(fd_, off_t(*resume_length)) != 0)
      fail(path_, "cannot cut the partial output back to its checkpoint");
    length_ = *resume_length;
  }
  if (::lseek(fd_, off_t(length_), SEEK_SET) < 0) fail(path_, "cannot seek in the partial output");
}

void ChunkSink::write_all(const void* p, std::size_t n) {
  const auto* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd_, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail(path_, "cannot write the run's partial output (disk full?)");
    c += w;
    n -= std::size_t(w);
    length_ += std::uint64_t(w);
  }
}

void ChunkSink::write_chunk(const Header& h, const void* bytes) const {
  hsize_t offset[3] = {h.offset[0], h.offset[1], h.offset[2]};
  if (H5Dwrite_chunk(datasets_.at(h.series), H5P_DEFAULT, h.filter_mask, offset,
                     std::size_t(h.size), bytes) < 0)
    throw IoError(path_ + ": cannot write a chunk of the HDF5 output (disk full?)");
}

void ChunkSink::put(std::uint32_t series, const std::vector<hsize_t>& offset,
                    const FilteredChunk& c) {
  Header h{.series = series, .filter_mask = c.filter_mask, .size = c.bytes.size()};
  std::copy(offset.begin(), offset.end(), h.offset.begin());
  if (fd_ < 0) return write_chunk(h, c.bytes.data());
  write_all(&h, sizeof h);
  write_all(c.bytes.data(), c.bytes.size());
}

std::uint64_t ChunkSink::sync() {
  if (fd_ >= 0 && ::fdatasync(fd_) != 0) fail(path_, "cannot sync the run's partial output");
  return length_;
}

void ChunkSink::replay() {
  // The last record of each chunk (a checkpoint writes a chunk before it is complete), in the
  // order of those last records: the order in which a run without checkpoints writes them.
  using Key = std::tuple<std::uint32_t, std::uint64_t, std::uint64_t, std::uint64_t>;
  std::map<Key, std::pair<std::uint64_t, Header>> last;
  for (std::uint64_t at = 0; at < length_;) {
    Header h;
    if (::pread(fd_, &h, sizeof h, off_t(at)) != ssize_t(sizeof h) || h.series >= datasets_.size())
      throw IoError(path_ + ": the run's partial output is damaged at byte " + std::to_string(at));
    last[{h.series, h.offset[0], h.offset[1], h.offset[2]}] = {at, h};
    at += sizeof h + h.size;
  }
  std::vector<std::pair<std::uint64_t, Header>> order;
  for (auto& [key, rec] : last) order.push_back(rec);
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<unsigned char> bytes;
  for (const auto& [at, h] : order) {
    bytes.resize(std::size_t(h.size));
    if (::pread(fd_, bytes.data(), bytes.size(), off_t(at + sizeof h)) != ssize_t(bytes.size()))
      fail(path_, "cannot read the run's partial output");
    write_chunk(h, bytes.data());
  }
  close(/*keep=*/false);
}

void ChunkSink::close(bool keep) {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  if (!keep) std::remove(path_.c_str());
}

}  // namespace shortfall::detail
