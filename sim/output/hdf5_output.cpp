// HDF5 output with named dimensions (HDF5 dimension scales), readable by h5py and by
// xarray.open_dataset(path, group=..., engine="h5netcdf").
#include "shortfall/hdf5_output.hpp"
#include "output/variables.hpp"
#include "util/atomic_file.hpp"
#include "util/background_sync.hpp"

#include <hdf5.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "output/chunk_sink.hpp"
#include "output/model_attributes.hpp"
#include "shortfall/error.hpp"
#include "shortfall/version.hpp"
#include "util/h5_writer.hpp"
#include "util/no_init.hpp"

namespace shortfall {

namespace {

using detail::H5Handle;

using detail::H5Layout;
using detail::H5Writer;

/// One chunk to filter and store: series `series` at `offset`, built from `src`.
struct ChunkJob {
  std::uint32_t series = 0;
  std::vector<hsize_t> offset;
  detail::ChunkSource src;
};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();
constexpr std::uint8_t kZero = 0;
constexpr char kRecorderMagic[] = "hdf5-recorder-v3";

using detail::kCmSeries;
constexpr std::size_t kNumCm = detail::kNumCmSeries;
// The firm group's series: six doubles, then `binding` (one byte). The production loss is
// derived from production when its chunks are built (ChunkSource::x0), so its buffer stays empty.
constexpr const char* kFirmDoubles[] = {"production",      "demand",          "capacity",
                                        "production_loss", "input_shortfall", "unmet_final_demand"};
constexpr std::size_t kNumFirmSeries = std::size(kFirmDoubles) + 1;
constexpr std::size_t kLossSeries = 3;

}  // namespace

class Hdf5Recorder final : public Recorder {
 public:
  explicit Hdf5Recorder(std::string path)
      : final_path_(std::move(path)), w_(final_path_, "HDF5 output") {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    namespace fs = std::filesystem;
    fs::path p(final_path_);
    std::error_code ec;
    if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
    tmp_path_ = util::temporary_name(final_path_);
    spool_path_ = util::temporary_name(final_path_ + ".chunks");
  }

  ~Hdf5Recorder() override {
    sync_.reset();
    if (!finished_) {
      close_all(/*may_throw=*/false);
      std::remove(tmp_path_.c_str());
      // A run that wrote a checkpoint keeps its partial output (the spool) for `--resume`.
      sink_.close(/*keep=*/checkpointed_);
    }
  }

  /// Sizes, chunking and buffers, from the simulation (the same for begin and restore).
  void geometry(const Simulation& sim) {
    const World& world = sim.world();
    const Scenario& sc = sim.scenario();
    arena_ = std::make_unique<tbb::task_arena>(std::max(1, sim.threads()));
    nf_ = world.num_firms();
    nc_ = world.countries().size();
    nm_ = world.materials().size();
    firm_level_ = sc.record.firm_level;
    compression_ = sc.record.compression;
    firm_float32_ = sc.record.firm_float32;
    x0_ = world.baseline_output().data();
    const int every = std::max(1, sc.record.every);
    days_.clear();
    for (int t = 0; t < sim.total_days(); ++t)
      if (t % every == 0 || t == sim.total_days() - 1) days_.push_back(t);
    nd_ = days_.size();
    cm_chunk_days_ = std::max<std::size_t>(1, std::min<std::size_t>(nd_, 64));
    cm_buf_.assign(kNumCm, std::vector<double>(cm_chunk_days_ * nc_ * nm_, 0.0));
    has_policy_ = !sc.policies.empty() || sc.model.substitution.enabled;
    nsp_ = sim.stockpiles().size();
    stockpile_buf_.assign(nd_ * nsp_, 0.0);
    firm_chunk_cols_ = std::max<std::size_t>(1, std::min<std::size_t>(nf_, 16384));
    firm_chunk_days_ =
        std::max<std::size_t>(1, std::min<std::size_t>(nd_, 65536 / firm_chunk_cols_));
    if (firm_level_) {
      // A chunk's rows but its last: the day that completes a chunk is read from the engine's
      // arrays as the chunk is built (flush_firm), a day of rows less at the run's peak.
      const std::size_t rows = firm_chunk_days_ - 1;
      firm_buf_.assign(kNumFirmSeries - 1, {});
      for (std::size_t k = 0; k + 1 < kNumFirmSeries; ++k)
        if (k != kLossSeries) firm_buf_[k].resize(rows * nf_);
      binding_buf_.resize(rows * nf_);
      unmet_row_.resize(nf_);
      zero_firm_rows(rows);
    }
  }

  /// The firm rows zeroed on the run's threads, by ranges of firms: their pages' first touch
  /// (131 MB on a 1M-firm world, whose page faults on one thread took about 0.35 s of a 30-day
  /// run on the development machine; docs/performance.md, Recording).
  void zero_firm_rows(std::size_t rows) {
    auto zero = [&](std::size_t a, std::size_t b) {
      for (std::size_t d = 0; d < rows; ++d) {
        for (auto& buf : firm_buf_)
          if (!buf.empty()) std::fill(buf.data() + d * nf_ + a, buf.data() + d * nf_ + b, 0.0);
        std::fill(binding_buf_.data() + d * nf_ + a, binding_buf_.data() + d * nf_ + b,
                  std::uint8_t(0));
      }
      std::fill(unmet_row_.data() + a, unmet_row_.data() + b, 0.0);
    };
    for_firm_ranges(zero);
  }

  /// f(lo, hi) over ranges of kCopyGrain firms, on the run's threads (a world of at most
  /// kCopyGrain firms: one range, on this thread).
  template <class F>
  void for_firm_ranges(F&& f) {
    if (nf_ <= kCopyGrain) {
      f(std::size_t(0), nf_);
      return;
    }
    arena_->execute([&] {
      tbb::parallel_for(std::size_t(0), (nf_ + kCopyGrain - 1) / kCopyGrain, [&](std::size_t r) {
        f(r * kCopyGrain, std::min(nf_, (r + 1) * kCopyGrain));
      });
    });
  }

  void checkpoint(const Simulation&, std::ostream& state) override {
    if (!sink_.spooling())
      throw InternalError("the HDF5 recorder was begun for a run without checkpoints");
    flush_cm();
    if (firm_level_) flush_firm(nullptr);  // no chunk is complete here: record_day flushed it
    const std::uint64_t length = sink_.sync();
    checkpointed_ = true;
    const std::uint64_t n = recorded_;
    state.write(kRecorderMagic, sizeof kRecorderMagic);
    state.write(reinterpret_cast<const char*>(&n), sizeof n);
    state.write(reinterpret_cast<const char*>(&length), sizeof length);
    state.write(reinterpret_cast<const char*>(stockpile_buf_.data()),
                std::streamsize(stockpile_buf_.size() * sizeof(double)));
    partial_rows([&](void* p, std::size_t n) { state.write(static_cast<const char*>(p), n); });
  }

  void restore(const Simulation& sim, std::istream& state) override {
    geometry(sim);
    char magic[sizeof kRecorderMagic] = {};
    std::uint64_t n = 0, length = 0;
    state.read(magic, sizeof magic);
    state.read(reinterpret_cast<char*>(&n), sizeof n);
    state.read(reinterpret_cast<char*>(&length), sizeof length);
    state.read(reinterpret_cast<char*>(stockpile_buf_.data()),
               std::streamsize(stockpile_buf_.size() * sizeof(double)));
    if (!state || n > nd_ || std::memcmp(magic, kRecorderMagic, sizeof magic) != 0)
      w_.fail("the checkpoint's recorder state is damaged");
    recorded_ = cm_flushed_ = firm_flushed_ = std::size_t(n);
    partial_rows([&](void* p, std::size_t n) { state.read(static_cast<char*>(p), n); });
    if (!state) w_.fail("the checkpoint's recorder state is damaged");
    sink_.open_spool(spool_path_, &length);
    checkpointed_ = true;
  }

  /// The rows of the chunks not yet complete (a chunk is written whole, so a resumed run
  /// needs the rows recorded before the checkpoint): `io(pointer, bytes)` on each buffer.
  template <class Io>
  void partial_rows(Io&& io) {
    const std::size_t cm_rows = recorded_ % cm_chunk_days_;
    for (auto& b : cm_buf_) io(b.data(), cm_rows * nc_ * nm_ * sizeof(double));
    if (!firm_level_) return;
    const std::size_t firm_rows = recorded_ % firm_chunk_days_;
    for (auto& b : firm_buf_)
      if (!b.empty()) io(b.data(), firm_rows * nf_ * sizeof(double));
    io(binding_buf_.data(), firm_rows * nf_);
  }

  void begin(const Simulation& sim) override {
    {
      std::error_code ec;  // found before the first day, not when the finished file is moved
      if (std::filesystem::is_directory(final_path_, ec)) w_.fail("it is a directory");
    }
    geometry(sim);
    // A run that writes checkpoints spools its chunks (output/chunk_sink.hpp) and creates the
    // HDF5 file when it is finished; any other writes the file as it goes.
    const RunOptions& o = sim.options();
    if (o.checkpoint_every > 0 && !o.checkpoint_path.empty())
      sink_.open_spool(spool_path_);
    else
      create_file(sim);
  }

  /// The file, its coordinates and attributes, and its series datasets (empty until written).
  void create_file(const Simulation& sim) {
    const World& world = sim.world();
    const Scenario& sc = sim.scenario();

    file_ = detail::h5_create_file(tmp_path_, {.v18_format = true, .root_times = true});
    if (file_.get() < 0)
      throw IoError(tmp_path_ + ": cannot create output file (" + std::strerror(errno) + ")");

    w_.attr_string(file_, "scenario", sc.text);
    w_.attr_string(file_, "scenario_name", sc.name);
    w_.attr_string(file_, "world_sha256", world.sha256());
    w_.attr_string(file_, "program_version", kVersion);
    w_.attr_scalar<std::uint64_t>(file_, "seed", H5T_NATIVE_UINT64, sc.seed);
    w_.attr_scalar<std::int32_t>(file_, "days", H5T_NATIVE_INT32, sim.total_days());
    detail::write_model_attributes(w_, file_, sc.model, world);

    // country_material group
    cm_ = w_.group(file_, "country_material");
    H5Handle cm_day = coord_int(cm_, "day", days_);
    std::vector<std::string> codes, names, ids, units;
    for (auto& c : world.countries()) codes.push_back(c.code), names.push_back(c.name);
    for (auto& m : world.materials()) ids.push_back(m.id), units.push_back(m.unit);
    H5Handle cm_country = coord_strings(cm_, "country", codes);
    H5Handle cm_material = coord_strings(cm_, "material", ids);
    dataset_strings(cm_, "country_name", names, {cm_country.get()});
    dataset_strings(cm_, "material_unit", units, {cm_material.get()});
    {
      std::vector<std::string> mnames, tiers;
      for (auto& m : world.materials()) mnames.push_back(m.name), tiers.push_back(m.tier);
      dataset_strings(cm_, "material_name", mnames, {cm_material.get()});
      dataset_strings(cm_, "material_tier", tiers, {cm_material.get()});
      // The baseline denominators of model 10.
      const PairBaselines& base = sim.pair_baselines();
      for (const detail::BaselineTable& t : detail::kBaselineTables)
        w_.doubles(
            cm_, t.name, base.*t.field, {nc_, nm_}, {},
            {.scales = {cm_country, cm_material}, .units = t.units, .long_name = t.long_name});
      dataset_doubles(cm_, "material_unit_value", base.unit_value, {cm_material.get()});
    }
    for (const auto& cs : kCmSeries) {
      cm_series_.push_back(series(cm_, cs.name, {nd_, nc_, nm_}, {cm_chunk_days_, nc_, nm_},
                                  H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE,
                                  {.scales = {cm_day, cm_country, cm_material},
                                   .units = cs.units,
                                   .long_name = cs.long_name}));
    }

    // policy group: stockpile levels per recorded day (mechanisms are written in finish()).
    if (has_policy_) {
      policy_ = w_.group(file_, "policy");
      auto st = sim.stockpiles();
      std::vector<std::string> sname, scountry, smaterial;
      std::vector<double> sinit;
      for (auto& x : st) {
        sname.push_back(x.name);
        scountry.push_back(world.countries()[x.country].code);
        smaterial.push_back(world.materials()[x.material].id);
        sinit.push_back(x.initial);
      }
      H5Handle pday = coord_int(policy_, "day", days_);
      stockpile_coord_ = coord_strings(policy_, "stockpile", sname);
      dataset_strings(policy_, "stockpile_country", scountry, {stockpile_coord_.get()});
      dataset_strings(policy_, "stockpile_material", smaterial, {stockpile_coord_.get()});
      dataset_doubles(policy_, "stockpile_initial", sinit, {stockpile_coord_.get()});
      stockpile_level_ = series(
          policy_, "stockpile_level", {nd_, nsp_},
          {std::min<std::size_t>(nd_, 64), std::max<std::size_t>(nsp_, 1)}, H5T_NATIVE_DOUBLE,
          H5T_IEEE_F64LE,
          {.scales = {pday, stockpile_coord_}, .units = "units of the stockpile's material"});
    }

    // firm group
    firm_ = w_.group(file_, "firm");
    firm_coord_ = coord_strings(firm_, "firm", world.firm_id());
    {  // each firm's country and material: pointers to the codes, not a string per firm
      std::vector<const char*> text(nf_);
      for (std::size_t i = 0; i < nf_; ++i)
        text[i] = world.countries()[world.firm_country()[i]].code.c_str();
      w_.strings(firm_, "country", text, text_layout(nf_), {.scales = {firm_coord_.get()}});
      for (std::size_t i = 0; i < nf_; ++i)
        text[i] = world.materials()[world.firm_material()[i]].id.c_str();
      w_.strings(firm_, "material", text, text_layout(nf_), {.scales = {firm_coord_.get()}});
    }
    dataset_doubles(firm_, "baseline_output", world.baseline_output(), {firm_coord_.get()});
    if (firm_level_) {
      H5Handle fday = coord_int(firm_, "day", days_);
      const std::size_t cf = firm_chunk_cols_;
      for (const char* name : kFirmDoubles)
        firm_series_.push_back(series(
            firm_, name, {nd_, nf_}, {firm_chunk_days_, cf}, H5T_NATIVE_DOUBLE,
            firm_float32_ ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, {.scales = {fday, firm_coord_}}));
      firm_series_.push_back(series(firm_, "binding", {nd_, nf_}, {firm_chunk_days_, cf},
                                    H5T_NATIVE_UINT8, H5T_STD_U8LE,
                                    {.scales = {fday, firm_coord_}}));
      w_.attr_string(firm_series_.back(), "flag_meanings", "0 demand, 1 capacity, 2 inputs");
    }
    std::vector<hid_t> datasets;
    for (const auto& x : cm_series_) datasets.push_back(x);
    for (const auto& x : firm_series_) datasets.push_back(x);
    sink_.set_datasets(std::move(datasets));
  }

  void record_day(const Simulation& sim) override {
    const std::size_t r = recorded_ % cm_chunk_days_;
    CountryMaterialDay cm = sim.country_material();
    check_finite(cm, sim.day(), sim.world());  // never write a NaN or inf silently
    const std::size_t ncm = nc_ * nm_;
    for (std::size_t q = 0; q < kNumCm; ++q) {
      const auto& v = cm.*(kCmSeries[q].field);
      std::copy(v.begin(), v.end(), cm_buf_[q].begin() + r * ncm);
    }
    if (firm_level_) {
      const std::size_t rf = recorded_ % firm_chunk_days_;
      auto x = sim.production(), d = sim.demand(), cap = sim.capacity(),
           C = sim.final_demand_wanted(), c = sim.final_delivered(), is = sim.input_shortfall();
      auto b = sim.binding();
      // The day that completes a chunk stays where it is: flush_firm, below, builds the chunk
      // with this row read from the engine's arrays (the unmet demand from unmet_row_).
      const bool last = rf + 1 == firm_chunk_days_;
      double* out[6] = {};  // out[kLossSeries] stays null: the loss is not buffered
      for (std::size_t k = 0; k < 6; ++k)
        if (k != kLossSeries && !last) out[k] = firm_buf_[k].data() + rf * nf_;
      if (last) out[5] = unmet_row_.data();
      constexpr double kMax = std::numeric_limits<double>::max();
      // Copied on the run's threads in ranges of kCopyGrain firms (each range checks its own
      // values; the copy is the same whatever the split).
      std::atomic<bool> finite = true;  // never write a NaN or inf silently
      std::uint8_t* bout = last ? nullptr : binding_buf_.data() + rf * nf_;
      const auto copy = [&](std::size_t lo, std::size_t hi) {
        bool ok = true;
        for (std::size_t i = lo; i < hi; ++i) {
          // The loss is not buffered (ChunkSource::x0), but it is checked here.
          const double v[6] = {x[i],  d[i],       cap[i], detail::production_loss(x[i], x0_[i]),
                               is[i], C[i] - c[i]};
          for (std::size_t k = 0; k < 6; ++k) {
            ok &= std::abs(v[k]) <= kMax;
            if (out[k]) out[k][i] = v[k];
          }
        }
        if (bout)
          std::copy(b.begin() + std::ptrdiff_t(lo), b.begin() + std::ptrdiff_t(hi), bout + lo);
        if (!ok) finite = false;
      };
      for_firm_ranges(copy);
      if (!finite)
        throw InternalError("day " + std::to_string(sim.day()) +
                            ": a firm-level value is not a finite number (production, demand, "
                            "capacity, input shortfall or unmet final demand); no output is "
                            "written. Please report it with the scenario and world.");
    }
    if (has_policy_) {
      auto st = sim.stockpiles();
      for (std::size_t k = 0; k < nsp_; ++k) stockpile_buf_[recorded_ * nsp_ + k] = st[k].level;
    }
    ++recorded_;
    if (recorded_ % cm_chunk_days_ == 0 || recorded_ == nd_) flush_cm();
    if (firm_level_ && (recorded_ % firm_chunk_days_ == 0 || recorded_ == nd_)) flush_firm(&sim);
  }

  void finish(const Simulation& sim) override {
    if (recorded_ != nd_)
      w_.fail("recorded " + std::to_string(recorded_) + " of " + std::to_string(nd_) + " days");
    if (sink_.spooling()) {
      create_file(sim);
      sink_.replay();
    }
    auto fs = sim.first_shortage_day();
    std::vector<std::int32_t> first(fs.begin(), fs.end());
    w_.ints(firm_, "first_shortage_day", first, {nf_}, {},
            {.scales = {firm_coord_},
             .long_name = "first day the firm received less than it ordered (-1: never)"});
    write_events(sim.event_log());
    if (has_policy_) write_policy(sim);
    write_summary(sim);
    close_all();
    if (sync_) sync_->finish();
    util::publish_file(tmp_path_, final_path_, "the finished output");
    finished_ = true;
  }

 private:
  void write_policy(const Simulation& sim) {
    if (nd_ > 0 && nsp_ > 0)  // the whole series at once: its rows wait in stockpile_buf_
      w_.check(H5Dwrite(stockpile_level_, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                        stockpile_buf_.data()),
               "stockpile_level");
    const World& world = sim.world();
    const std::size_t nc = world.countries().size(), nm = world.materials().size();
    auto names = sim.mechanisms();
    std::vector<int> req(names.size() * nc * nm, -1), meet(req), impl(req);
    for (const auto& r : sim.crisis_requests()) {
      std::size_t m =
          std::size_t(std::find(names.begin(), names.end(), r.mechanism) - names.begin());
      std::size_t k = (m * nc + r.country) * nm + r.material;
      req[k] = r.request_day;
      meet[k] = r.meeting_day;
      impl[k] = r.implementation_day;
    }
    H5Handle mech = coord_strings(policy_, "mechanism", names);
    std::vector<std::string> codes, ids;
    for (auto& c : world.countries()) codes.push_back(c.code);
    for (auto& m : world.materials()) ids.push_back(m.id);
    H5Handle pc = coord_strings(policy_, "country", codes);
    H5Handle pm = coord_strings(policy_, "material", ids);
    for (auto [name, data] : {std::pair<const char*, std::vector<int>*>{"request_day", &req},
                              {"meeting_day", &meet},
                              {"implementation_day", &impl}}) {
      w_.ints(policy_, name, *data, {names.size(), nc, nm}, {},
              {.scales = {mech, pc, pm},
               .long_name = "day of the crisis-response step for (mechanism, requesting "
                            "country, material); -1: never requested"});
    }
    // Links added during the run (new suppliers, crisis matches).
    std::vector<int> idx(sim.added_links());
    std::vector<std::string> sup, buy;
    std::vector<double> flow;
    for (std::size_t k = 0; k < sim.added_links(); ++k) {
      auto [j, i, z] = sim.added_link(k);
      idx[k] = int(k);
      sup.push_back(world.firm_id()[j]);
      buy.push_back(world.firm_id()[i]);
      flow.push_back(z);
    }
    H5Handle nl = coord_int(policy_, "new_link", idx);
    dataset_strings(policy_, "new_link_supplier", sup, {nl.get()});
    dataset_strings(policy_, "new_link_buyer", buy, {nl.get()});
    dataset_doubles(policy_, "new_link_flow", flow, {nl.get()});
  }

  /// Model 10's metrics per (country, material) over the run: the `summary` group, the same
  /// numbers `shortfall run` prints (one definition: shortfall/metrics.hpp).
  void write_summary(const Simulation& sim) {
    const World& world = sim.world();
    const RunMetrics m = sim.run_metrics();
    if (m.days == 0) return;  // metrics were off for this run
    H5Handle g = w_.group(file_, "summary");
    std::vector<std::string> codes, ids;
    for (auto& c : world.countries()) codes.push_back(c.code);
    for (auto& p : world.materials()) ids.push_back(p.id);
    H5Handle gc = coord_strings(g, "country", codes);
    H5Handle gm = coord_strings(g, "material", ids);
    for (const detail::MetricInfo& mi : detail::kMetrics) {
      if (mi.real)
        w_.doubles(g, mi.name, m.*mi.real, {nc_, nm_}, {},
                   {.scales = {gc, gm}, .units = mi.units, .long_name = mi.long_name});
      else
        w_.ints(g, mi.name, m.*mi.whole, {nc_, nm_}, {},
                {.scales = {gc, gm}, .long_name = mi.long_name});
    }
    w_.attr_scalar<std::int32_t>(g, "days", H5T_NATIVE_INT32, m.days);
    const CountryValues v = country_values(m, sim.pair_baselines());
    if (v.any) {
      dataset_doubles(g, "output_lost_value", v.output_lost, {gc.get()});
      dataset_doubles(g, "unmet_final_demand_value", v.unmet_final, {gc.get()});
    }
  }

  void close_all(bool may_throw = true) {
    stockpile_level_.reset();
    stockpile_coord_.reset();
    policy_.reset();
    cm_series_.clear();
    firm_series_.clear();
    firm_coord_.reset();
    cm_.reset();
    firm_.reset();
    if (file_.get() >= 0 && H5Fclose(file_.release()) < 0 && may_throw)
      w_.fail("closing the file (disk full?)");
  }

  // The run file's layouts: text chunked and deflated, the other coordinates contiguous.
  static H5Layout text_layout(std::size_t n) {
    if (n == 0) return {};
    return {.chunk = {std::min<hsize_t>(n, 65536)}, .deflate = 1};
  }
  H5Handle coord_int(hid_t g, const char* name, const std::vector<int>& values) {
    return w_.scale_ints(g, name, values, {});
  }
  H5Handle coord_strings(hid_t g, const char* name, const std::vector<std::string>& values) {
    return w_.scale_strings(g, name, values, text_layout(values.size()));
  }
  void dataset_strings(hid_t g, const char* name, const std::vector<std::string>& values,
                       std::vector<hid_t> scales) {
    w_.strings(g, name, values, text_layout(values.size()), {.scales = std::move(scales)});
  }
  void dataset_doubles(hid_t g, const char* name, const std::vector<double>& values,
                       std::vector<hid_t> scales) {
    w_.doubles(g, name, values, {values.size()}, {}, {.scales = std::move(scales)});
  }

  /// A series: chunked (contiguous where empty), shuffled and deflated (by row_deflate unless
  /// the scenario says `record: {compression: deflate}`) unless it says `record: {compression:
  /// none}`, NaN before written.
  H5Handle series(hid_t g, const char* name, std::vector<std::size_t> dims_in,
                  std::vector<std::size_t> chunk_in, hid_t mem_type, hid_t file_type,
                  const detail::H5Meta& meta) {
    std::vector<hsize_t> dims(dims_in.begin(), dims_in.end());
    H5Layout layout{.nan_fill = mem_type == H5T_NATIVE_DOUBLE};
    if (std::none_of(dims.begin(), dims.end(), [](hsize_t d) { return d == 0; })) {
      for (std::size_t c : chunk_in) layout.chunk.push_back(std::max<hsize_t>(1, c));
      layout.shuffle = compression_ != Compression::kNone;
      layout.deflate = compression_ != Compression::kNone ? 1 : 0;
    }
    return w_.dataset(g, name, file_type, dims, layout, mem_type, nullptr, meta);
  }

  // A flush writes the chunk holding the rows recorded since the last flush, whole: the rows
  // of the chunk recorded so far (the buffers hold a chunk's rows from its first one; a
  // checkpoint may flush in the middle of a chunk, which is then written again when complete)
  // and the fill value for the others. Chunks are filtered on the run's threads.
  void flush_cm() {
    if (recorded_ == cm_flushed_) return;
    const std::size_t first = cm_flushed_ / cm_chunk_days_ * cm_chunk_days_, ncm = nc_ * nm_;
    std::vector<ChunkJob> jobs;
    for (std::size_t q = 0; q < kNumCm; ++q)
      jobs.push_back({.series = std::uint32_t(q),
                      .offset = {first, 0, 0},
                      .src = {.block = reinterpret_cast<const unsigned char*>(cm_buf_[q].data()),
                              .row_len = ncm,
                              .rows = recorded_ - first,
                              .chunk_rows = cm_chunk_days_,
                              .cols = ncm,
                              .fill = reinterpret_cast<const unsigned char*>(&kNaN)}});
    store(jobs);
    cm_flushed_ = recorded_;
  }

  /// `sim`: the engine, whose arrays hold the day just recorded (null where no chunk can be
  /// complete).
  void flush_firm(const Simulation* sim) {
    if (recorded_ == firm_flushed_) return;
    const std::size_t first = firm_flushed_ / firm_chunk_days_ * firm_chunk_days_;
    // A complete chunk's last row is the day just recorded, left in the engine's arrays (the
    // unmet demand in unmet_row_; the loss is made from production): the series' order.
    std::array<const unsigned char*, kNumFirmSeries> last{};
    if (recorded_ - first == firm_chunk_days_) {
      if (!sim) throw InternalError("HDF5 output: a complete chunk without its last day's row");
      const auto bytes = [](auto values) {
        return reinterpret_cast<const unsigned char*>(values.data());
      };
      last = {bytes(sim->production()), bytes(sim->demand()),          bytes(sim->capacity()),
              bytes(sim->production()), bytes(sim->input_shortfall()), bytes(std::span(unmet_row_)),
              bytes(sim->binding())};
    }
    std::vector<ChunkJob> jobs;
    // The series are created only at the end in a spooled run: they are counted, not looked at.
    for (std::size_t k = 0; k < kNumFirmSeries; ++k) {
      const bool binding = k + 1 == kNumFirmSeries, narrow = !binding && firm_float32_;
      const void* fill = binding ? &kZero : narrow ? static_cast<const void*>(&kNaNf) : &kNaN;
      for (std::size_t c0 = 0; c0 < nf_; c0 += firm_chunk_cols_)
        jobs.push_back({.series = std::uint32_t(kNumCm + k),
                        .offset = {first, c0},
                        .src = {.block = binding ? binding_buf_.data()
                                                 : reinterpret_cast<const unsigned char*>(
                                                       firm_buf_[k == kLossSeries ? 0 : k].data()),
                                .elem_size = binding ? 1u : sizeof(double),
                                .row_len = nf_,
                                .rows = recorded_ - first,
                                .chunk_rows = firm_chunk_days_,
                                .col0 = c0,
                                .cols = firm_chunk_cols_,
                                .fill = static_cast<const unsigned char*>(fill),
                                .to_float = narrow,
                                .x0 = k == kLossSeries ? x0_ : nullptr,
                                .last = last[k]}});
    }
    store(jobs);
    firm_flushed_ = recorded_;
  }

  /// Filters the chunks on the run's threads and stores them in order (into the file or the
  /// spool) as they come: at most a few chunks per thread are in flight, so a flush of a large
  /// world holds its buffers and those, not every filtered chunk of the flush at once.
  void store(const std::vector<ChunkJob>& jobs) {
    using Filtered = std::pair<std::size_t, detail::FilteredChunk>;
    std::size_t next = 0;
    const auto source = tbb::make_filter<void, std::size_t>(
        tbb::filter_mode::serial_in_order, [&](tbb::flow_control& fc) -> std::size_t {
          if (next == jobs.size()) fc.stop();
          return next++;
        });
    const auto compress = tbb::make_filter<std::size_t, Filtered>(
        tbb::filter_mode::parallel,
        [&](std::size_t j) { return Filtered(j, detail::build_chunk(jobs[j].src, compression_)); });
    const auto write =
        tbb::make_filter<Filtered, void>(tbb::filter_mode::serial_in_order, [&](const Filtered& f) {
          sink_.put(jobs[f.first].series, jobs[f.first].offset, f.second);
        });
    const auto tokens = std::size_t(4 * std::max(1, arena_->max_concurrency()));
    arena_->execute([&] { tbb::parallel_pipeline(tokens, source & compress & write); });
    if (!sink_.spooling() && util::BackgroundSync::enabled()) {
      if (!sync_) sync_ = std::make_unique<util::BackgroundSync>(tmp_path_);
      sync_->request();  // while the next days are simulated
    }
  }

  void write_events(const std::vector<EventRecord>& log) {
    H5Handle g = w_.group(file_, "events");
    std::vector<int> index(log.size());
    std::vector<int> day(log.size());
    std::vector<std::string> type, desc, country, material;
    std::vector<double> firms, quantity;
    for (std::size_t k = 0; k < log.size(); ++k) {
      index[k] = int(k);
      day[k] = log[k].day;
      type.push_back(log[k].type);
      desc.push_back(log[k].description);
      country.push_back(log[k].country);
      material.push_back(log[k].material);
      firms.push_back(double(log[k].firms));
      quantity.push_back(log[k].quantity);
    }
    H5Handle ev = coord_int(g, "event", index);
    w_.ints(g, "day", day, {log.size()}, {}, {.scales = {ev}});
    dataset_strings(g, "type", type, {ev.get()});
    dataset_strings(g, "description", desc, {ev.get()});
    dataset_strings(g, "country", country, {ev.get()});
    dataset_strings(g, "material", material, {ev.get()});
    dataset_doubles(g, "firms", firms, {ev.get()});
    dataset_doubles(g, "quantity", quantity, {ev.get()});
  }

  std::string final_path_, tmp_path_;
  std::unique_ptr<util::BackgroundSync> sync_;  // the file made durable as it is written
  H5Writer w_;
  H5Handle file_, cm_, firm_, firm_coord_, policy_, stockpile_coord_;
  H5Handle stockpile_level_;
  std::vector<double> stockpile_buf_;
  std::size_t nsp_ = 0;
  bool has_policy_ = false;
  std::vector<H5Handle> cm_series_, firm_series_;
  static constexpr std::size_t kCopyGrain = 16384;  // firms a range of the day's copy
  std::vector<std::vector<double>> cm_buf_;
  std::vector<util::NoInitVector<double>> firm_buf_;  // zeroed by zero_firm_rows
  const double* x0_ = nullptr;  // the world's baseline output (production loss, ChunkSource::x0)
  util::NoInitVector<std::uint8_t> binding_buf_;
  util::NoInitVector<double> unmet_row_;  // the unmet final demand of a chunk's last day
  std::vector<int> days_;
  std::size_t nf_ = 0, nc_ = 0, nm_ = 0, nd_ = 0;
  std::size_t recorded_ = 0, cm_flushed_ = 0, firm_flushed_ = 0;
  std::size_t cm_chunk_days_ = 1, firm_chunk_days_ = 1, firm_chunk_cols_ = 1;
  Compression compression_ = RecordConfig{}.compression;  // set from the scenario in geometry()
  bool firm_level_ = true, firm_float32_ = false, finished_ = false, checkpointed_ = false;
  std::string spool_path_;
  detail::ChunkSink sink_;
  std::unique_ptr<tbb::task_arena> arena_;  // the run's number of threads
};

std::unique_ptr<Recorder> make_hdf5_recorder(const std::string& path) {
  return std::make_unique<Hdf5Recorder>(path);
}

}  // namespace shortfall
