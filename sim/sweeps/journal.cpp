// The run journals of a sweep (docs/sweeps.md): every finished run appended to
// OUT.partial[.RANK] as a checksummed, compressed record, so that a killed sweep loses only the
// runs in flight; scanning them to resume or to join them into the sweep file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "sweeps/sweep_internal.hpp"

namespace shortfall {
namespace sweep_detail {

constexpr char kJournalMagic[8] = {'S', 'F', 'S', 'W', 'J', 'R', 'N', '1'};
constexpr std::uint32_t kRecordMagic = 0x4e555253;  // "SRUN"
constexpr std::size_t kHeaderSize = 8 + 4 + 4 + 64 + 64 + 4 * 8;
constexpr std::size_t kRecordHeaderSize = 32;

Dims dims_of(const SweepPlan& plan, const World& world) {
  return Dims{plan.num_runs(), plan.days.size(), world.countries().size(),
              world.materials().size()};
}

namespace {

std::uint64_t checksum(const unsigned char* p, std::size_t n, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h ^ (h >> 32);
}

template <class T>
void get_array(const unsigned char*& p, std::vector<T>& v, std::size_t n) {
  v.resize(n);
  std::memcpy(v.data(), p, n * sizeof(T));
  p += n * sizeof(T);
}

std::vector<unsigned char> journal_header(const SweepPlan& plan, const World& world) {
  std::vector<unsigned char> h(kHeaderSize, 0);
  std::size_t o = 0;
  auto raw = [&](const void* p, std::size_t n) {
    std::memcpy(h.data() + o, p, n);
    o += n;
  };
  raw(kJournalMagic, 8);
  const std::uint32_t version = 3, order = 0x01020304;  // 3: model 10's metrics, six series
  raw(&version, 4);
  raw(&order, 4);
  std::string ps = plan.sha256, ws = world.sha256();
  ps.resize(64, ' ');
  ws.resize(64, ' ');
  raw(ps.data(), 64);
  raw(ws.data(), 64);
  const Dims d = dims_of(plan, world);
  for (std::uint64_t v : {d.runs, d.days, d.countries, d.materials}) raw(&v, 8);
  return h;
}

// A record's payload is the run's arrays as 64-bit words (series day-major, then metrics),
// with each day of a series XOR-ed with the day before (steady series give zero words), then
// runs of zero words and of other words coded as (zeros, literals) pairs of varints. Lossless
// and deterministic; a quiet country x material series costs almost nothing.
void put_varint(std::vector<unsigned char>& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<unsigned char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<unsigned char>(v));
}

bool get_varint(const unsigned char*& p, const unsigned char* end, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p == end) return false;
    const unsigned char b = *p++;
    v |= std::uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

/// The run's arrays as words, in payload order: the series, the real metrics, then the int32
/// metrics packed two per word (RunMetrics::days is not kept: the plan gives it).
std::vector<std::uint64_t> to_words(const RunResult& r, const Dims& d) {
  std::vector<std::uint64_t> w(d.payload() / 8, 0);
  auto* bytes = reinterpret_cast<unsigned char*>(w.data());
  std::size_t o = 0;
  auto raw = [&](const void* p, std::size_t n) {
    std::memcpy(bytes + o, p, n);
    o += n;
  };
  for (const auto& s : kSeries) raw((r.*s.run).data(), (r.*s.run).size() * 8);
  for (const auto& m : kMetrics)
    if (m.real) raw((r.metrics.*m.real).data(), (r.metrics.*m.real).size() * 8);
  for (const auto& m : kMetrics)
    if (m.whole) raw((r.metrics.*m.whole).data(), (r.metrics.*m.whole).size() * 4);
  return w;
}

void xor_days(std::vector<std::uint64_t>& w, const Dims& d, bool forward) {
  const std::size_t ncm = d.ncm(), nd = std::size_t(d.days);
  for (std::size_t s = 0; s < kNumSeries; ++s) {
    std::uint64_t* a = w.data() + s * nd * ncm;
    if (forward) {  // encode: from the last day down
      for (std::size_t t = nd; t-- > 1;)
        for (std::size_t k = 0; k < ncm; ++k) a[t * ncm + k] ^= a[(t - 1) * ncm + k];
    } else {
      for (std::size_t t = 1; t < nd; ++t)
        for (std::size_t k = 0; k < ncm; ++k) a[t * ncm + k] ^= a[(t - 1) * ncm + k];
    }
  }
}

std::vector<unsigned char> encode(const RunResult& r, const Dims& d) {
  std::vector<std::uint64_t> w = to_words(r, d);
  xor_days(w, d, true);
  std::vector<unsigned char> buf(kRecordHeaderSize, 0);
  const std::size_t n = w.size();
  for (std::size_t i = 0; i < n;) {
    std::size_t z = i;
    while (z < n && w[z] == 0) ++z;
    std::size_t l = z;
    while (l < n && !(w[l] == 0 && (l + 1 == n || w[l + 1] == 0))) ++l;
    put_varint(buf, z - i);
    put_varint(buf, l - z);
    const auto* p = reinterpret_cast<const unsigned char*>(w.data() + z);
    buf.insert(buf.end(), p, p + (l - z) * 8);
    i = l;
  }
  const std::uint32_t magic = kRecordMagic, zero = 0;
  const std::uint64_t run = r.run, len = buf.size() - kRecordHeaderSize;
  const std::uint64_t sum = checksum(buf.data() + kRecordHeaderSize, len, run);
  std::memcpy(buf.data(), &magic, 4);
  std::memcpy(buf.data() + 4, &zero, 4);
  std::memcpy(buf.data() + 8, &run, 8);
  std::memcpy(buf.data() + 16, &len, 8);
  std::memcpy(buf.data() + 24, &sum, 8);
  return buf;
}

}  // namespace

/// Decode a payload; false if it is malformed.
bool decode(const unsigned char* p, std::size_t len, std::size_t run, const Dims& d, RunResult& r) {
  std::vector<std::uint64_t> w(d.payload() / 8, 0);
  const unsigned char* end = p + len;
  std::size_t i = 0;
  while (p < end) {
    std::uint64_t z = 0, l = 0;
    if (!get_varint(p, end, z) || !get_varint(p, end, l)) return false;
    if (z > w.size() - i || l > w.size() - i - z || std::uint64_t(end - p) < l * 8) return false;
    i += std::size_t(z);
    std::memcpy(w.data() + i, p, std::size_t(l) * 8);
    p += l * 8;
    i += std::size_t(l);
  }
  if (i != w.size()) return false;
  xor_days(w, d, false);
  const auto* b = reinterpret_cast<const unsigned char*>(w.data());
  r = RunResult{};
  r.run = run;
  const std::size_t ncm = d.ncm(), n = std::size_t(d.days) * ncm;
  for (const auto& s : kSeries) get_array(b, r.*s.run, n);
  RunMetrics& m = r.metrics;
  m.countries = std::size_t(d.countries);
  m.materials = std::size_t(d.materials);
  for (const auto& mi : kMetrics)
    if (mi.real) get_array(b, m.*mi.real, ncm);
  for (const auto& mi : kMetrics)
    if (mi.whole) get_array(b, m.*mi.whole, ncm);
  return true;
}

namespace {

bool write_all(int fd, const unsigned char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= std::size_t(w);
  }
  return true;
}

}  // namespace

bool read_at(int fd, unsigned char* p, std::size_t n, off_t off) {
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, off);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) return false;
    p += r;
    n -= std::size_t(r);
    off += r;
  }
  return true;
}

JournalWriter::JournalWriter(const std::string& path, const SweepPlan& plan, const World& world)
    : path_(path), dims_(dims_of(plan, world)) {
  fd_ = Fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (fd_.get() < 0)
    throw IoError(path + ": cannot open the sweep journal (" + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) throw IoError(path + ": cannot stat the sweep journal");
  if (st.st_size == 0) {
    auto h = journal_header(plan, world);
    if (!write_all(fd_.get(), h.data(), h.size()))
      throw IoError(path + ": cannot write the sweep journal (" + std::strerror(errno) + ")");
  }
  last_sync_ = std::chrono::steady_clock::now();
}

JournalWriter::~JournalWriter() {
  if (fd_.get() >= 0) ::fsync(fd_.get());
}

void JournalWriter::append(const RunResult& r) {
  auto buf = encode(r, dims_);
  if (!write_all(fd_.get(), buf.data(), buf.size()))
    throw IoError(path_ + ": cannot write the sweep journal (" + std::strerror(errno) + ")");
  auto now = std::chrono::steady_clock::now();
  if (now - last_sync_ > std::chrono::seconds(5)) {
    ::fdatasync(fd_.get());
    last_sync_ = now;
  }
}

std::vector<std::string> journal_files(const std::string& out) {
  namespace fs = std::filesystem;
  fs::path p(out);
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  const std::string stem = p.filename().string() + ".partial";
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.compare(0, stem.size(), stem) != 0) continue;
    std::string rest = name.substr(stem.size());
    bool ok = rest.empty();
    if (!ok && rest.size() > 1 && rest[0] == '.')
      ok = std::all_of(rest.begin() + 1, rest.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (ok && it->is_regular_file(ec)) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// Index the valid records of all journals of `out` (first copy of each run wins). Torn or
/// corrupt tails are cut off when `truncate`.
std::vector<JournalEntry> scan_journals(const SweepPlan& plan, const World& world,
                                        const std::vector<std::string>& files, bool truncate) {
  const Dims d = dims_of(plan, world);
  const auto want = journal_header(plan, world);
  std::vector<JournalEntry> entries;
  std::vector<char> seen(plan.num_runs(), 0);
  std::vector<unsigned char> buf;
  for (std::size_t f = 0; f < files.size(); ++f) {
    const std::string& path = files[f];
    Fd fd(::open(path.c_str(), (truncate ? O_RDWR : O_RDONLY) | O_CLOEXEC));
    if (fd.get() < 0)
      throw IoError(path + ": cannot open the sweep journal (" + std::strerror(errno) + ")");
    struct stat st {};
    ::fstat(fd.get(), &st);
    const off_t size = st.st_size;
    std::vector<unsigned char> head(kHeaderSize);
    if (size < off_t(kHeaderSize) || !read_at(fd.get(), head.data(), head.size(), 0)) {
      if (size < off_t(kHeaderSize) && truncate) {  // torn header: nothing in it
        if (::ftruncate(fd.get(), 0) != 0) throw IoError(path + ": cannot truncate");
        continue;
      }
      throw InputError(SourceLocation{path, 0, 0, ""}, "not a sweep journal (too short)");
    }
    if (std::memcmp(head.data(), kJournalMagic, 8) != 0)
      throw InputError(SourceLocation{path, 0, 0, ""}, "not a shortfall sweep journal");
    if (head != want)
      throw InputError(SourceLocation{path, 0, 0, ""},
                       "these partial results belong to a different sweep (the sweep file, the "
                       "base scenario, the world or the program version changed); run with "
                       "--restart to discard them");
    off_t off = off_t(kHeaderSize);
    while (off < size) {
      unsigned char rh[kRecordHeaderSize];
      bool ok = off + off_t(kRecordHeaderSize) <= size && read_at(fd.get(), rh, sizeof rh, off);
      std::uint32_t magic = 0;
      std::uint64_t run = 0, len = 0, sum = 0;
      if (ok) {
        std::memcpy(&magic, rh, 4);
        std::memcpy(&run, rh + 8, 8);
        std::memcpy(&len, rh + 16, 8);
        std::memcpy(&sum, rh + 24, 8);
        ok = magic == kRecordMagic && run < d.runs && len <= 2 * d.payload() + 64 &&
             off + off_t(kRecordHeaderSize + len) <= size;
        if (ok) {
          buf.resize(std::size_t(len));
          ok = read_at(fd.get(), buf.data(), buf.size(), off + off_t(kRecordHeaderSize)) &&
               checksum(buf.data(), buf.size(), run) == sum;
        }
      }
      if (!ok) {
        if (truncate && ::ftruncate(fd.get(), off) != 0)
          throw IoError(path + ": cannot truncate a torn record (" + std::strerror(errno) + ")");
        break;
      }
      if (!seen[run]) {
        seen[run] = 1;
        entries.push_back({std::size_t(run), f, off + off_t(kRecordHeaderSize), std::size_t(len)});
      }
      off += off_t(kRecordHeaderSize + len);
    }
  }
  return entries;
}

}  // namespace sweep_detail

using namespace sweep_detail;

std::string journal_path(const std::string& out, int rank) {
  // Appended piece by piece: "." + std::to_string(rank) trips GCC 12's -Wrestrict (a false
  // positive) in this file.
  std::string path = out + ".partial";
  if (rank != 0) {
    path += ".";
    path += std::to_string(rank);
  }
  return path;
}

bool has_journals(const std::string& out) {
  return !journal_files(out).empty();
}

void remove_journals(const std::string& out) {
  for (auto& f : journal_files(out)) std::remove(f.c_str());
}

std::vector<std::size_t> completed_runs(const SweepPlan& plan, const World& world,
                                        const std::string& out) {
  auto entries = scan_journals(plan, world, journal_files(out), true);
  std::vector<std::size_t> runs;
  for (auto& e : entries) runs.push_back(e.run);
  std::sort(runs.begin(), runs.end());
  return runs;
}

}  // namespace shortfall
