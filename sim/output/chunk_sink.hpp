// Where the run file's filtered chunks go (output/hdf5_output.cpp). Straight into the file's
// datasets (H5Dwrite_chunk), or, for a run that writes checkpoints, appended to a spool file
// beside the output: an append-only file is never left inconsistent by a process killed at an
// arbitrary moment (the HDF5 library updates a file's metadata in place between flushes), so a
// resumed run truncates the spool to the length its checkpoint recorded and goes on. The
// finished run creates its HDF5 file and replays the spool into it, the last record of each
// chunk in the order the chunks were completed, then removes the spool.
#pragma once

#include <hdf5.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "output/chunk_filter.hpp"

namespace shortfall::detail {

class ChunkSink {
 public:
  /// Writes into the datasets given by set_datasets (series index -> dataset).
  ChunkSink() = default;
  ChunkSink(const ChunkSink&) = delete;
  ChunkSink& operator=(const ChunkSink&) = delete;
  ~ChunkSink();

  /// Spool mode: create (truncate) `path`, or, with `resume_length`, reopen it and cut it to
  /// that length (what a checkpoint recorded). Throws IoError on failure.
  void open_spool(std::string path, const std::uint64_t* resume_length = nullptr);
  [[nodiscard]] bool spooling() const { return fd_ >= 0; }

  void set_datasets(std::vector<hid_t> datasets) { datasets_ = std::move(datasets); }

  /// One chunk of series `series` whose first element is at `offset` (rank entries).
  void put(std::uint32_t series, const std::vector<hsize_t>& offset, const FilteredChunk& c);

  /// Spool mode: the spool on disk (fdatasync) and its length, for a checkpoint.
  std::uint64_t sync();

  /// Spool mode, once the datasets are set: writes the spool's chunks into them, then closes
  /// and removes the spool.
  void replay();

  /// Closes the spool; removes it unless `keep` (a checkpoint refers to it).
  void close(bool keep);

 private:
  struct Header {
    std::uint32_t series = 0, filter_mask = 0;
    std::array<std::uint64_t, 3> offset{};
    std::uint64_t size = 0;
  };
  void write_all(const void* p, std::size_t n);
  void write_chunk(const Header& h, const void* bytes) const;

  std::vector<hid_t> datasets_;
  std::string path_;
  int fd_ = -1;
  std::uint64_t length_ = 0;
};

}  // namespace shortfall::detail
