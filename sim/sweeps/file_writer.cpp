// The HDF5 sweep file (docs/sweeps.md): written from the run journals once every run is done,
// runs decoded and compressed in parallel and written in run order, under a temporary name then
// renamed.
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <tbb/parallel_for.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "output/chunk_filter.hpp"
#include "shortfall/version.hpp"
#include "sweeps/sweep_internal.hpp"
#include "util/atomic_file.hpp"
#include "util/h5_writer.hpp"

namespace shortfall {

using namespace sweep_detail;

namespace {

using detail::H5Handle;

/// Whether two runs' series hold the same bits (what the file's series chunks are made of).
bool same_series(const RunResult& a, const RunResult& b) {
  for (const auto& series : kSeries) {
    const std::vector<double>& x = a.*series.run;
    const std::vector<double>& y = b.*series.run;
    if (x.size() != y.size() ||
        (!x.empty() && std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) != 0))
      return false;
  }
  return true;
}

/// Writes the sweep's HDF5 file: named dimensions as HDF5 dimension scales (as
/// sim/output/hdf5_output.cpp does), so that xarray.open_dataset(path, engine="h5netcdf") reads
/// them.
class SweepFileWriter {
 public:
  SweepFileWriter(const std::string& path, const SweepPlan& plan, const World& world)
      : path_(path),
        w_(path, "the sweep output"),
        plan_(plan),
        world_(world),
        d_(dims_of(plan, world)),
        base_(pair_baselines(world)) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    // No timestamps anywhere (the root group included): equal sweeps give equal bytes.
    file_ = detail::h5_create_file(path, {.v18_format = true, .root_times = false});
    if (file_.get() < 0)
      throw IoError(path + ": cannot create the sweep output (" + std::strerror(errno) + ")");
    for (std::size_t p = 0; p < base_.unit_value.size(); ++p)
      has_values_ = has_values_ || !std::isnan(base_.unit_value[p]);
    write_header();
  }

  ~SweepFileWriter() {
    series_.clear();
    metrics_.clear();
    values_.clear();
    scales_.clear();
    groups_.clear();
    file_.reset();
  }

  /// One run's series as the chunks the file stores them in, filtered as the series
  /// datasets' pipeline does (shuffle, the days past an edge chunk's end as the NaN fill value,
  /// then deflate by output/row_deflate.hpp). Thread-safe (no HDF5 calls), so that runs are
  /// compressed in parallel: H5Dwrite would run the filters one chunk at a time on the writing
  /// thread. Empty where the series are not chunked, or memory doubles are not the file's
  /// little-endian ones (write_run then writes through HDF5).
  using SeriesChunks = std::array<std::vector<std::vector<unsigned char>>, kNumSeries>;
  [[nodiscard]] SeriesChunks compress_series(const RunResult& r) const {
    SeriesChunks out;
    if (chunk_days_ == 0 || !native_le_) return out;
    const std::size_t ncm = d_.ncm(), nd = std::size_t(d_.days), cd = chunk_days_;
    const std::size_t elems = cd * ncm;
    unsigned char nan_bytes[sizeof(double)];
    std::memcpy(nan_bytes, &kNaN, sizeof nan_bytes);
    // Shuffled straight from the run's series into a buffer of the thread's, the days past the
    // series' end as the NaN fill.
    thread_local std::vector<unsigned char> shuffled;
    shuffled.resize(std::max(shuffled.size(), elems * sizeof(double)));
    for (std::size_t k = 0; k < kNumSeries; ++k) {
      const std::vector<double>& series = r.*kSeries[k].run;
      for (std::size_t d0 = 0; d0 < nd; d0 += cd) {
        const std::size_t n = std::min(cd, nd - d0) * ncm;
        detail::shuffle_row(series.data() + d0 * ncm, n, elems, sizeof(double), nan_bytes,
                            shuffled.data(), elems);
        out[k].push_back(detail::deflate_shuffled(shuffled.data(), elems * sizeof(double),
                                                  path_.c_str(), ncm)  // a row is a day
                             .bytes);
      }
    }
    return out;
  }

  /// Writes run r: its series (as `compressed`, from compress_series, where not empty) and
  /// its metrics.
  void write_run(const RunResult& r, const SeriesChunks& compressed = {}) {
    const std::size_t ncm = d_.ncm(), nd = std::size_t(d_.days);
    if (nd > 0 && ncm > 0 && !compressed[0].empty()) {
      for (std::size_t k = 0; k < kNumSeries; ++k) {
        for (std::size_t c = 0; c < compressed[k].size(); ++c) {
          const hsize_t offset[4] = {r.run, hsize_t(c) * chunk_days_, 0, 0};
          const auto& z = compressed[k][c];
          w_.check(H5Dwrite_chunk(series_[k], H5P_DEFAULT, 0, offset, z.size(), z.data()),
                   "writing");
        }
      }
    } else if (nd > 0 && ncm > 0) {
      for (std::size_t k = 0; k < kNumSeries; ++k) {
        hsize_t start[4] = {r.run, 0, 0, 0};
        hsize_t count[4] = {1, nd, d_.countries, d_.materials};
        w_.write_slab(series_[k], H5T_NATIVE_DOUBLE, 4, start, count, (r.*kSeries[k].run).data(),
                      "writing");
      }
    }
    // Metrics are buffered by chunk of runs and written once per chunk.
    const std::size_t slot = r.run % metric_chunk_;
    if (slot == 0 || block_start_ != r.run - slot) {
      flush_metrics();
      block_start_ = r.run - slot;
      block_runs_ = 0;
    }
    std::size_t nr = 0, nw = 0;
    for (const auto& m : kMetrics) {
      if (m.real) {
        const auto& v = r.metrics.*m.real;
        std::copy(v.begin(), v.end(), mbuf_d_[nr++].begin() + std::ptrdiff_t(slot * ncm));
      } else {
        const auto& v = r.metrics.*m.whole;
        std::copy(v.begin(), v.end(), mbuf_i_[nw++].begin() + std::ptrdiff_t(slot * ncm));
      }
    }
    if (has_values_) {
      const CountryValues v = country_values(r.metrics, base_);
      const std::size_t nc = std::size_t(d_.countries);
      std::copy(v.output_lost.begin(), v.output_lost.end(),
                vbuf_[0].begin() + std::ptrdiff_t(slot * nc));
      std::copy(v.unmet_final.begin(), v.unmet_final.end(),
                vbuf_[1].begin() + std::ptrdiff_t(slot * nc));
    }
    block_runs_ = std::max(block_runs_, slot + 1);
  }

  void close() {
    flush_metrics();
    series_.clear();
    metrics_.clear();
    values_.clear();
    scales_.clear();
    groups_.clear();
    if (H5Fclose(file_.release()) < 0) w_.fail("closing the file (disk full?)");
  }

 private:
  /// Chunked (`chunk` not empty), shuffled and deflated.
  static detail::H5Layout packed(std::vector<hsize_t> chunk, bool nan_fill) {
    return {.chunk = std::move(chunk), .shuffle = true, .deflate = 1, .nan_fill = nan_fill};
  }

  hid_t group(const char* name) {
    groups_.push_back(w_.group(file_, name));
    return groups_.back();
  }

  /// A 1-d dataset of numbers in `loc` over `dim` (or a dimension scale itself if dim < 0).
  H5Handle vector_dataset(hid_t loc, const char* name, hid_t file_type, hid_t mem_type,
                          std::size_t n, const void* data, hid_t dim) {
    if (dim >= 0)
      return w_.dataset(loc, name, file_type, {n}, {}, mem_type, data, {.scales = {dim}});
    return w_.make_scale(w_.dataset(loc, name, file_type, {n}, {}, mem_type, data), name);
  }

  H5Handle strings(hid_t loc, const char* name, const std::vector<std::string>& values, hid_t dim) {
    if (dim >= 0) return w_.strings(loc, name, values, {}, {.scales = {dim}});
    return w_.scale_strings(loc, name, values, {});
  }

  /// The `run` dimension of `loc` and the sweep's coordinates along it: one per axis, then
  /// replicate, seed, point. Returns the `run` scale.
  hid_t run_dimension(hid_t loc) {
    const SweepSpec& spec = plan_.spec;
    const std::size_t nr = plan_.num_runs();
    std::vector<std::int32_t> run_index(nr);
    std::iota(run_index.begin(), run_index.end(), 0);
    scales_.push_back(
        vector_dataset(loc, "run", H5T_STD_I32LE, H5T_NATIVE_INT32, nr, run_index.data(), -1));
    const hid_t run = scales_.back();
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      const SweepAxis& ax = spec.axes[a];
      H5Handle d;
      if (ax.kind == AxisKind::kInt) {
        std::vector<std::int64_t> v(nr);
        for (std::size_t k = 0; k < nr; ++k)
          v[k] = std::get<std::int64_t>(plan_.points[plan_.runs[k].point][a]);
        d = vector_dataset(loc, ax.name.c_str(), H5T_STD_I64LE, H5T_NATIVE_INT64, nr, v.data(),
                           run);
      } else if (ax.kind == AxisKind::kReal) {
        std::vector<double> v(nr);
        for (std::size_t k = 0; k < nr; ++k)
          v[k] = std::get<double>(plan_.points[plan_.runs[k].point][a]);
        d = vector_dataset(loc, ax.name.c_str(), H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, nr, v.data(),
                           run);
      } else {
        std::vector<std::string> v(nr);
        for (std::size_t k = 0; k < nr; ++k) v[k] = label_of(plan_.points[plan_.runs[k].point][a]);
        d = strings(loc, ax.name.c_str(), v, run);
      }
      w_.attr_string(d, "key_path", ax.path);
      w_.attr_string(d, "long_name", "sweep axis " + ax.path);
    }
    std::vector<std::int32_t> rep(nr), point(nr);
    std::vector<std::int64_t> seed(nr);
    for (std::size_t k = 0; k < nr; ++k) {
      rep[k] = plan_.runs[k].replicate;
      point[k] = std::int32_t(plan_.runs[k].point);
      seed[k] = std::int64_t(plan_.runs[k].seed);
    }
    {
      H5Handle d =
          vector_dataset(loc, "replicate", H5T_STD_I32LE, H5T_NATIVE_INT32, nr, rep.data(), run);
      w_.attr_string(d, "long_name",
                     "replicate: the run's seed is the scenario's seed + replicate");
    }
    {
      H5Handle d =
          vector_dataset(loc, "seed", H5T_STD_I64LE, H5T_NATIVE_INT64, nr, seed.data(), run);
      w_.attr_string(d, "long_name", "the run's scenario seed");
    }
    {
      H5Handle d =
          vector_dataset(loc, "point", H5T_STD_I32LE, H5T_NATIVE_INT32, nr, point.data(), run);
      w_.attr_string(d, "long_name",
                     "index of the parameter point (runs of a point differ by seed)");
    }
    return run;
  }

  /// The `country` and `material` dimensions of `loc`, with country_name and material_unit.
  std::pair<hid_t, hid_t> country_material_dimensions(hid_t loc) {
    std::vector<std::string> codes, names, ids, units;
    for (auto& c : world_.countries()) codes.push_back(c.code), names.push_back(c.name);
    for (auto& m : world_.materials()) ids.push_back(m.id), units.push_back(m.unit);
    scales_.push_back(strings(loc, "country", codes, -1));
    const hid_t country = scales_.back();
    scales_.push_back(strings(loc, "material", ids, -1));
    const hid_t material = scales_.back();
    strings(loc, "country_name", names, country);
    strings(loc, "material_unit", units, material);
    return {country, material};
  }

  void write_header() {
    const std::string axes = write_root();
    const std::string coords = axes + (axes.empty() ? "" : " ") + "replicate seed point";
    write_country_material(axes, coords);
    write_summary(axes, coords);
  }

  /// The root group: the sweep's attributes, its own dimension `run` and its coordinates.
  /// Returns the axes' coordinate names, space-separated (the `axes` attribute).
  std::string write_root() {
    const SweepSpec& spec = plan_.spec;
    w_.attr_string(file_, "title", "shortfall sweep " + spec.name);
    w_.attr_string(file_, "sweep", spec.text);
    w_.attr_string(file_, "sweep_path", spec.path);
    w_.attr_string(file_, "sweep_name", spec.name);
    w_.attr_string(file_, "sweep_sha256", plan_.sha256);
    w_.attr_string(file_, "base_scenario", spec.base_text);
    w_.attr_string(file_, "base_path", spec.base_path);
    w_.attr_string(file_, "world_sha256", world_.sha256());
    w_.attr_string(file_, "program_version", kVersion);
    const char* sampling = spec.sampling == Sampling::kGrid     ? "grid"
                           : spec.sampling == Sampling::kRandom ? "random"
                                                                : "latin_hypercube";
    w_.attr_string(file_, "sampling", sampling);
    w_.attr_scalar<std::int64_t>(file_, "samples", H5T_STD_I64LE, std::int64_t(spec.samples));
    w_.attr_scalar<std::int64_t>(file_, "sampling_seed", H5T_STD_I64LE,
                                 std::int64_t(spec.sample_seed));
    w_.attr_scalar<std::int32_t>(file_, "replicates", H5T_STD_I32LE, spec.replicates);
    w_.attr_scalar<std::int32_t>(file_, "points", H5T_STD_I32LE, std::int32_t(plan_.points.size()));
    std::string axes;
    for (auto& a : spec.axes) axes += (axes.empty() ? "" : " ") + a.name;
    w_.attr_string(file_, "axes", axes);

    // The root group: the sweep's own dimension `run` and its coordinates.
    run_dimension(file_);
    return axes;
  }

  /// The group `country_material`: dimensions, the world's baselines and the series datasets.
  void write_country_material(const std::string& axes, const std::string& coords) {
    const std::size_t nr = plan_.num_runs();
    // country_material: the run file's group of the same name, with a leading `run`.
    const hid_t cmg = group("country_material");
    w_.attr_string(cmg, "axes", axes);
    const hid_t cm_run = run_dimension(cmg);
    std::vector<std::int32_t> days(plan_.days.begin(), plan_.days.end());
    scales_.push_back(
        vector_dataset(cmg, "day", H5T_STD_I32LE, H5T_NATIVE_INT32, days.size(), days.data(), -1));
    const hid_t cm_day = scales_.back();
    const auto [cm_country, cm_material] = country_material_dimensions(cmg);
    {
      std::vector<std::string> mnames, tiers;
      for (auto& m : world_.materials()) mnames.push_back(m.name), tiers.push_back(m.tier);
      strings(cmg, "material_name", mnames, cm_material);
      strings(cmg, "material_tier", tiers, cm_material);
      for (const detail::BaselineTable& t : detail::kBaselineTables)
        w_.doubles(
            cmg, t.name, base_.*t.field, {d_.countries, d_.materials}, {},
            {.scales = {cm_country, cm_material}, .units = t.units, .long_name = t.long_name});
      vector_dataset(cmg, "material_unit_value", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                     base_.unit_value.size(), base_.unit_value.data(), cm_material);
    }
    // Series (run, day, country, material): one run per chunk, days split if large.
    const std::size_t ncm = std::max<std::size_t>(1, d_.ncm());
    const hsize_t chunk_days = std::max<hsize_t>(1, std::min<hsize_t>(d_.days, 131072 / ncm));
    for (const auto& s : kSeries) {
      hsize_t dims[4] = {nr, d_.days, d_.countries, d_.materials};
      hsize_t chunk[4] = {1, chunk_days, std::max<hsize_t>(1, d_.countries),
                          std::max<hsize_t>(1, d_.materials)};
      bool empty = nr == 0 || d_.days == 0 || d_.countries == 0 || d_.materials == 0;
      chunk_days_ = empty ? 0 : std::size_t(chunk_days);
      H5Handle d = w_.dataset(
          cmg, s.name, H5T_IEEE_F64LE, {std::begin(dims), std::end(dims)},
          packed(empty ? std::vector<hsize_t>{} : std::vector(chunk, chunk + 4), true),
          H5T_NATIVE_DOUBLE, nullptr, {.scales = {cm_run, cm_day, cm_country, cm_material}});
      w_.attr_string(d, "coordinates", coords);
      w_.attr_string(d, "units", s.units);
      w_.attr_string(d, "long_name", s.long_name);
      series_.push_back(std::move(d));
    }
  }

  /// The group `summary`: the run metrics' datasets (and values where materials have one).
  void write_summary(const std::string& axes, const std::string& coords) {
    const std::size_t nr = plan_.num_runs();
    const std::size_t ncm = std::max<std::size_t>(1, d_.ncm());
    // summary: the run file's group of the same name (model 10's metrics), with a leading `run`.
    const hid_t sg = group("summary");
    w_.attr_string(sg, "axes", axes);
    const hid_t s_run = run_dimension(sg);
    const auto [s_country, s_material] = country_material_dimensions(sg);
    metric_chunk_ =
        std::max<std::size_t>(1, std::min<std::size_t>(std::max<std::size_t>(nr, 1), 65536 / ncm));
    const bool empty = nr == 0 || d_.countries == 0 || d_.materials == 0;
    for (const MetricInfo& m : kMetrics) {
      hsize_t dims[3] = {nr, d_.countries, d_.materials};
      hsize_t chunk[3] = {metric_chunk_, std::max<hsize_t>(1, d_.countries),
                          std::max<hsize_t>(1, d_.materials)};
      H5Handle d = w_.dataset(
          sg, m.name, m.real ? H5T_IEEE_F64LE : H5T_STD_I32LE, {std::begin(dims), std::end(dims)},
          packed(empty ? std::vector<hsize_t>{} : std::vector(chunk, chunk + 3), m.real != nullptr),
          H5T_NATIVE_DOUBLE, nullptr, {.scales = {s_run, s_country, s_material}});
      w_.attr_string(d, "coordinates", coords);
      // No `units` on the day numbers: xarray would decode "day" or "days" as a timedelta.
      if (m.units) w_.attr_string(d, "units", m.units);
      w_.attr_string(d, "long_name", m.long_name);
      metrics_.push_back(std::move(d));
    }
    if (has_values_) {
      for (const char* name : {"output_lost_value", "unmet_final_demand_value"}) {
        hsize_t dims[2] = {nr, d_.countries};
        hsize_t chunk[2] = {metric_chunk_, std::max<hsize_t>(1, d_.countries)};
        const bool e = nr == 0 || d_.countries == 0;
        H5Handle d =
            w_.dataset(sg, name, H5T_IEEE_F64LE, {std::begin(dims), std::end(dims)},
                       packed(e ? std::vector<hsize_t>{} : std::vector(chunk, chunk + 2), true),
                       H5T_NATIVE_DOUBLE, nullptr, {.scales = {s_run, s_country}});
        w_.attr_string(d, "coordinates", coords);
        w_.attr_string(d, "units", "currency of the materials' unit_value");
        w_.attr_string(d, "long_name",
                       std::strcmp(name, "output_lost_value") == 0
                           ? "output lost in value, summed over the materials with a unit_value"
                           : "unmet final demand in value, summed over the materials with a "
                             "unit_value");
        values_.push_back(std::move(d));
      }
      vbuf_.assign(2, std::vector<double>(metric_chunk_ * std::size_t(d_.countries), kNaN));
    }
    mbuf_d_.assign(kNumReal, std::vector<double>(metric_chunk_ * d_.ncm(), kNaN));
    mbuf_i_.assign(kNumWhole, std::vector<std::int32_t>(metric_chunk_ * d_.ncm(), 0));
  }

  void flush_metrics() {
    if (block_runs_ == 0) return;
    hsize_t start[3] = {block_start_, 0, 0};
    hsize_t count[3] = {block_runs_, d_.countries, d_.materials};
    if (d_.ncm() > 0) {
      std::size_t nr = 0, nw = 0;
      for (std::size_t k = 0; k < kNumReal + kNumWhole; ++k) {
        if (kMetrics[k].real)
          w_.write_slab(metrics_[k], H5T_NATIVE_DOUBLE, 3, start, count, mbuf_d_[nr++].data(),
                        "writing");
        else
          w_.write_slab(metrics_[k], H5T_NATIVE_INT32, 3, start, count, mbuf_i_[nw++].data(),
                        "writing");
      }
    }
    if (has_values_ && d_.countries > 0)
      for (std::size_t k = 0; k < values_.size(); ++k)
        w_.write_slab(values_[k], H5T_NATIVE_DOUBLE, 2, start, count, vbuf_[k].data(), "writing");
    block_runs_ = 0;
  }

  std::string path_;
  detail::H5Writer w_;
  const SweepPlan& plan_;
  const World& world_;
  Dims d_;
  PairBaselines base_;
  bool has_values_ = false;  ///< some material has a unit_value
  H5Handle file_;
  std::vector<H5Handle> groups_, scales_, series_, metrics_, values_;
  std::size_t metric_chunk_ = 1, block_start_ = 0, block_runs_ = 0;
  std::size_t chunk_days_ = 0;  // days per chunk of the series; 0: not chunked
  const bool native_le_ = H5Tequal(H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE) > 0;
  std::vector<std::vector<double>> mbuf_d_, vbuf_;
  std::vector<std::vector<std::int32_t>> mbuf_i_;
};

}  // namespace

void join_journals(const SweepPlan& plan, const World& world, const std::string& out) {
  namespace fs = std::filesystem;
  const auto files = journal_files(out);
  auto entries = scan_journals(plan, world, files, false);
  if (entries.size() != plan.num_runs())
    throw IoError(out + ": the journals hold " + std::to_string(entries.size()) + " of " +
                  std::to_string(plan.num_runs()) + " runs; cannot write the output");
  std::sort(entries.begin(), entries.end(),
            [](const JournalEntry& a, const JournalEntry& b) { return a.run < b.run; });
  fs::path p(out);
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  // Appended piece by piece: "." + a string trips GCC 12's -Wrestrict (a false positive) here.
  std::string tmp_prefix = ".";
  tmp_prefix += p.filename().string();
  tmp_prefix += ".tmp-";
  const std::string tmp = (p.has_parent_path() ? p.parent_path() / "" : fs::path()).string() +
                          tmp_prefix + std::to_string(::getpid());
  // Remove what a join killed earlier left behind (its process is gone).
  for (auto it = fs::directory_iterator(p.has_parent_path() ? p.parent_path() : fs::path("."), ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, tmp_prefix.size(), tmp_prefix) != 0) continue;
    const std::string pid = name.substr(tmp_prefix.size());
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        }))
      continue;
    if (::kill(pid_t(std::stol(pid)), 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec);
  }
  ec.clear();
  const Dims d = dims_of(plan, world);
  try {
    std::vector<Fd> fds;
    for (auto& f : files) {
      fds.emplace_back(::open(f.c_str(), O_RDONLY | O_CLOEXEC));
      if (fds.back().get() < 0) throw IoError(f + ": cannot open (" + std::strerror(errno) + ")");
    }
    SweepFileWriter w(tmp, plan, world);
    // A batch of runs at a time: read serially, decoded and compressed in parallel, written
    // in run order.
    constexpr std::size_t kBatch = 32;
    std::vector<std::vector<unsigned char>> bufs(kBatch);
    std::vector<RunResult> results(kBatch);
    std::vector<SweepFileWriter::SeriesChunks> chunks(kBatch);
    std::vector<char> ok(kBatch), same(kBatch), dup(kBatch);
    // Per run of the batch, the run whose result and chunks it writes: itself, an earlier run
    // of the batch, or kLast (the previous batch's last run).
    constexpr std::size_t kLast = std::size_t(-1);
    std::vector<std::size_t> src(kBatch);
    RunResult last;
    SweepFileWriter::SeriesChunks last_chunks;
    std::vector<unsigned char> last_buf;
    bool have_last = false;
    auto result_of = [&](std::size_t q) -> RunResult& {
      return src[q] == kLast ? last : results[src[q]];
    };
    auto chunks_of = [&](std::size_t q) -> const SweepFileWriter::SeriesChunks& {
      return src[q] == kLast ? last_chunks : chunks[src[q]];
    };
    for (std::size_t b0 = 0; b0 < entries.size(); b0 += kBatch) {
      const std::size_t nb = std::min(kBatch, entries.size() - b0);
      for (std::size_t q = 0; q < nb; ++q) {
        const JournalEntry& e = entries[b0 + q];
        bufs[q].resize(e.length);
        ok[q] = read_at(fds[e.file].get(), bufs[q].data(), bufs[q].size(), e.offset);
      }
      // A record whose payload has the bytes of the one before it (a point's replicates that
      // cannot differ: sweeps/run.cpp simulates them once) decodes to the same result, but for
      // its run number: it is not decoded, and writes the result and chunks before it.
      for (std::size_t q = 0; q < nb; ++q) {
        const std::vector<unsigned char>* before = q > 0 ? (ok[q - 1] ? &bufs[q - 1] : nullptr)
                                                   : have_last ? &last_buf
                                                               : nullptr;
        dup[q] = ok[q] && before && *before == bufs[q];
        src[q] = dup[q] ? (q > 0 ? src[q - 1] : kLast) : q;
      }
      tbb::parallel_for(std::size_t(0), nb, [&](std::size_t q) {
        const JournalEntry& e = entries[b0 + q];
        if (!dup[q]) ok[q] = ok[q] && decode(bufs[q].data(), bufs[q].size(), e.run, d, results[q]);
      });
      // A run whose series equal the run's before it reuses its chunks: the same bytes,
      // compressed once.
      for (std::size_t q = 0; q < nb; ++q) {
        const RunResult* before = q > 0 ? &result_of(q - 1) : have_last ? &last : nullptr;
        same[q] =
            ok[q] && !dup[q] && before && (q == 0 || ok[q - 1]) && same_series(results[q], *before);
      }
      tbb::parallel_for(std::size_t(0), nb, [&](std::size_t q) {
        if (ok[q] && !same[q] && !dup[q]) chunks[q] = w.compress_series(results[q]);
      });
      for (std::size_t q = 0; q < nb; ++q) {
        const JournalEntry& e = entries[b0 + q];
        if (!ok[q])
          throw IoError(files[e.file] + ": cannot read run " + std::to_string(e.run) + " back");
        if (same[q]) chunks[q] = q > 0 ? chunks_of(q - 1) : last_chunks;
        RunResult& r = result_of(q);
        const std::size_t run = r.run;
        r.run = e.run;  // a duplicate writes the result it repeats under its own run number
        w.write_run(r, dup[q] ? chunks_of(q) : chunks[q]);
        r.run = run;
      }
      if (src[nb - 1] != kLast) {
        last = std::move(results[src[nb - 1]]);
        last_chunks = chunks[src[nb - 1]];
        last_buf = bufs[nb - 1];
      }
      have_last = true;
    }
    w.close();
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  util::publish_file(tmp, out, "the finished output",
                     "; the finished runs are kept in " + journal_path(out, 0) +
                         "*: fix the place and run the same command with --resume");
  for (auto& f : files) std::remove(f.c_str());
}

}  // namespace shortfall
