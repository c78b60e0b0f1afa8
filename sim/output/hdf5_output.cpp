// HDF5 output with named dimensions (HDF5 dimension scales), readable by h5py and by
// xarray.open_dataset(path, group=..., engine="h5netcdf").
#include "output/variables.hpp"
#include "util/atomic_file.hpp"
#include "shortfall/hdf5_output.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "output/h5_handle.hpp"
#include "shortfall/error.hpp"
#include "shortfall/version.hpp"

namespace shortfall {

namespace {

using detail::H5Handle;

class Writer {
 public:
  explicit Writer(std::string path) : path_(std::move(path)) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw IoError(path_ + ": cannot write HDF5 output: " + what);
  }
  hid_t check(hid_t id, const char* what) const {
    if (id < 0) fail(what);
    return id;
  }
  void check(herr_t rc, const char* what) const {
    if (rc < 0) fail(what);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Series {
  std::string name;
  H5Handle dset;
  hid_t mem_type = -1;
};

using detail::kCmSeries;
constexpr std::size_t kNumCm = detail::kNumCmSeries;

}  // namespace

class Hdf5Recorder final : public Recorder {
 public:
  explicit Hdf5Recorder(std::string path) : final_path_(std::move(path)), w_(final_path_) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    namespace fs = std::filesystem;
    fs::path p(final_path_);
    std::error_code ec;
    if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
    tmp_path_ = util::temporary_name(final_path_);
  }

  ~Hdf5Recorder() override {
    if (!finished_) {
      close_all(/*may_throw=*/false);
      // A run that wrote a checkpoint keeps its partial output for `--resume`.
      if (!checkpointed_) std::remove(tmp_path_.c_str());
    }
  }

  /// Sizes, chunking and buffers, from the simulation (the same for begin and restore).
  void geometry(const Simulation& sim) {
    const World& world = sim.world();
    const Scenario& sc = sim.scenario();
    nf_ = world.num_firms();
    nc_ = world.countries.size();
    nm_ = world.materials.size();
    firm_level_ = sc.record.firm_level;
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
    firm_chunk_days_ = std::max<std::size_t>(1, std::min<std::size_t>(nd_, 65536 / firm_chunk_cols_));
    if (firm_level_) {
      firm_buf_.assign(6, std::vector<double>(firm_chunk_days_ * nf_, 0.0));
      binding_buf_.assign(firm_chunk_days_ * nf_, 0);
    }
  }

  void checkpoint(const Simulation&, std::ostream& state) override {
    flush_cm();
    if (firm_level_) flush_firm();
    if (H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0) w_.fail("flushing for a checkpoint");
    checkpointed_ = true;
    std::uint64_t n = recorded_;
    state.write(reinterpret_cast<const char*>(&n), sizeof n);
    state.write(reinterpret_cast<const char*>(stockpile_buf_.data()),
                std::streamsize(stockpile_buf_.size() * sizeof(double)));
  }

  void restore(const Simulation& sim, std::istream& state) override {
    geometry(sim);
    std::uint64_t n = 0;
    state.read(reinterpret_cast<char*>(&n), sizeof n);
    state.read(reinterpret_cast<char*>(stockpile_buf_.data()),
               std::streamsize(stockpile_buf_.size() * sizeof(double)));
    if (!state || n > nd_) w_.fail("the checkpoint's recorder state is damaged");
    recorded_ = cm_flushed_ = firm_flushed_ = std::size_t(n);
    file_ = H5Handle(H5Fopen(tmp_path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    if (file_.get() < 0)
      throw IoError(tmp_path_ + ": cannot reopen the partial output of the checkpointed run");
    auto open_group = [&](const char* name) {
      return H5Handle(w_.check(H5Gopen2(file_, name, H5P_DEFAULT), name), H5Gclose);
    };
    auto open_series = [&](hid_t g, const char* name, hid_t mem) {
      return Series{name, H5Handle(w_.check(H5Dopen2(g, name, H5P_DEFAULT), name), H5Dclose), mem};
    };
    cm_ = open_group("country_material");
    for (const auto& cs : kCmSeries)
      cm_series_.push_back(open_series(cm_, cs.name, H5T_NATIVE_DOUBLE));
    firm_ = open_group("firm");
    firm_coord_ = H5Handle(w_.check(H5Dopen2(firm_, "firm", H5P_DEFAULT), "firm"), H5Dclose);
    if (firm_level_) {
      for (const char* name : {"production", "demand", "capacity", "production_loss",
                               "input_shortfall", "unmet_final_demand"})
        firm_series_.push_back(open_series(firm_, name, H5T_NATIVE_DOUBLE));
      firm_series_.push_back(open_series(firm_, "binding", H5T_NATIVE_UINT8));
    }
    if (has_policy_) {
      policy_ = open_group("policy");
      stockpile_level_ = open_series(policy_, "stockpile_level", H5T_NATIVE_DOUBLE);
    }
  }

  void begin(const Simulation& sim) override {
    {
      std::error_code ec;  // found before the first day, not when the finished file is moved
      if (std::filesystem::is_directory(final_path_, ec)) w_.fail("it is a directory");
    }
    geometry(sim);
    const World& world = sim.world();
    const Scenario& sc = sim.scenario();

    H5Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
    file_ = H5Handle(H5Fcreate(tmp_path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose);
    if (file_.get() < 0)
      throw IoError(tmp_path_ + ": cannot create output file (" + std::strerror(errno) + ")");

    attr_string(file_, "scenario", sc.text);
    attr_string(file_, "scenario_name", sc.name);
    attr_string(file_, "world_sha256", world.sha256);
    attr_string(file_, "program_version", kVersion);
    attr_scalar<std::uint64_t>(file_, "seed", H5T_NATIVE_UINT64, sc.seed);
    attr_scalar<std::int32_t>(file_, "days", H5T_NATIVE_INT32, sim.total_days());
    write_model_attributes(sc.model);

    // country_material group
    cm_ = group("country_material");
    H5Handle cm_day = coord_int(cm_, "day", days_);
    std::vector<std::string> codes, names, ids, units;
    for (auto& c : world.countries) codes.push_back(c.code), names.push_back(c.name);
    for (auto& m : world.materials) ids.push_back(m.id), units.push_back(m.unit);
    H5Handle cm_country = coord_strings(cm_, "country", codes);
    H5Handle cm_material = coord_strings(cm_, "material", ids);
    dataset_strings(cm_, "country_name", names, {cm_country.get()});
    dataset_strings(cm_, "material_unit", units, {cm_material.get()});
    {
      std::vector<std::string> mnames, tiers;
      for (auto& m : world.materials) mnames.push_back(m.name), tiers.push_back(m.tier);
      dataset_strings(cm_, "material_name", mnames, {cm_material.get()});
      dataset_strings(cm_, "material_tier", tiers, {cm_material.get()});
      // The baseline denominators of model 10.
      const PairBaselines& base = sim.pair_baselines();
      dataset_2d(cm_, "baseline_output", base.output, cm_country, cm_material,
                 "units of the material per day", "baseline output of the country's makers");
      dataset_2d(cm_, "baseline_use", base.use, cm_country, cm_material,
                 "units of the material per day",
                 "baseline daily use: sum of A_ip over the country's users of the material");
      dataset_2d(cm_, "baseline_final_use", base.final_use, cm_country, cm_material,
                 "units of the material per day",
                 "baseline daily final use in the country (destination) of the material");
      dataset_doubles(cm_, "material_unit_value", base.unit_value, {cm_material.get()});
    }
    for (const auto& cs : kCmSeries) {
      cm_series_.push_back(series(cm_, cs.name, {nd_, nc_, nm_}, {cm_chunk_days_, nc_, nm_},
                                  H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE,
                                  {cm_day.get(), cm_country.get(), cm_material.get()}));
      attr_string(cm_series_.back().dset, "units", cs.units);
      attr_string(cm_series_.back().dset, "long_name", cs.long_name);
    }

    // policy group: stockpile levels per recorded day (mechanisms are written in finish()).
    if (has_policy_) {
      policy_ = group("policy");
      auto st = sim.stockpiles();
      std::vector<std::string> sname, scountry, smaterial;
      std::vector<double> sinit;
      for (auto& x : st) {
        sname.push_back(x.name);
        scountry.push_back(world.countries[x.country].code);
        smaterial.push_back(world.materials[x.material].id);
        sinit.push_back(x.initial);
      }
      H5Handle pday = coord_int(policy_, "day", days_);
      stockpile_coord_ = coord_strings(policy_, "stockpile", sname);
      dataset_strings(policy_, "stockpile_country", scountry, {stockpile_coord_.get()});
      dataset_strings(policy_, "stockpile_material", smaterial, {stockpile_coord_.get()});
      dataset_doubles(policy_, "stockpile_initial", sinit, {stockpile_coord_.get()});
      stockpile_level_ = series(policy_, "stockpile_level", {nd_, nsp_},
                                {std::min<std::size_t>(nd_, 64), std::max<std::size_t>(nsp_, 1)},
                                H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, {pday.get(), stockpile_coord_.get()});
      attr_string(stockpile_level_.dset, "units", "units of the stockpile's material");
    }

    // firm group
    firm_ = group("firm");
    std::vector<std::string> fcountry(nf_), fmaterial(nf_);
    for (std::size_t i = 0; i < nf_; ++i) {
      fcountry[i] = world.countries[world.firm_country[i]].code;
      fmaterial[i] = world.materials[world.firm_material[i]].id;
    }
    firm_coord_ = coord_strings(firm_, "firm", world.firm_id);
    dataset_strings(firm_, "country", fcountry, {firm_coord_.get()});
    dataset_strings(firm_, "material", fmaterial, {firm_coord_.get()});
    dataset_doubles(firm_, "baseline_output", world.baseline_output, {firm_coord_.get()});
    if (firm_level_) {
      H5Handle fday = coord_int(firm_, "day", days_);
      const std::size_t cf = firm_chunk_cols_;
      for (const char* name : {"production", "demand", "capacity", "production_loss",
                               "input_shortfall", "unmet_final_demand"})
        firm_series_.push_back(series(firm_, name, {nd_, nf_}, {firm_chunk_days_, cf},
                                      H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, {fday.get(), firm_coord_.get()}));
      firm_series_.push_back(series(firm_, "binding", {nd_, nf_}, {firm_chunk_days_, cf},
                                    H5T_NATIVE_UINT8, H5T_STD_U8LE, {fday.get(), firm_coord_.get()}));
      attr_string(firm_series_.back().dset, "flag_meanings", "0 demand, 1 capacity, 2 inputs");
    }
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
      const auto& x0 = sim.world().baseline_output;
      double* out[6];
      for (int k = 0; k < 6; ++k) out[k] = firm_buf_[std::size_t(k)].data() + rf * nf_;
      constexpr double kMax = std::numeric_limits<double>::max();
      bool finite = true;  // never write a NaN or inf silently
      for (std::size_t i = 0; i < nf_; ++i) {
        out[0][i] = x[i];
        out[1][i] = d[i];
        out[2][i] = cap[i];
        out[3][i] = x0[i] > 0.0 ? 1.0 - x[i] / x0[i] : 0.0;
        out[4][i] = is[i];
        out[5][i] = C[i] - c[i];
        for (int k = 0; k < 6; ++k) finite &= std::abs(out[k][i]) <= kMax;
      }
      if (!finite)
        throw InternalError("day " + std::to_string(sim.day()) +
                            ": a firm-level value is not a finite number (production, demand, "
                            "capacity, input shortfall or unmet final demand); no output is "
                            "written. Please report it with the scenario and world.");
      std::copy(b.begin(), b.end(), binding_buf_.begin() + rf * nf_);
    }
    if (has_policy_) {
      auto st = sim.stockpiles();
      for (std::size_t k = 0; k < nsp_; ++k) stockpile_buf_[recorded_ * nsp_ + k] = st[k].level;
    }
    ++recorded_;
    if (recorded_ % cm_chunk_days_ == 0 || recorded_ == nd_) flush_cm();
    if (firm_level_ && (recorded_ % firm_chunk_days_ == 0 || recorded_ == nd_)) flush_firm();
  }

  void finish(const Simulation& sim) override {
    if (recorded_ != nd_) w_.fail("recorded " + std::to_string(recorded_) + " of " +
                                  std::to_string(nd_) + " days");
    auto fs = sim.first_shortage_day();
    std::vector<std::int32_t> first(fs.begin(), fs.end());
    {
      hsize_t dims[1] = {nf_};
      H5Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
      H5Handle d(w_.check(H5Dcreate2(firm_, "first_shortage_day", H5T_STD_I32LE, space,
                                     H5P_DEFAULT, dcpl_plain(), H5P_DEFAULT),
                          "first_shortage_day"),
                 H5Dclose);
      w_.check(H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, first.data()),
               "first_shortage_day");
      attach(d, {firm_coord_.get()});
      attr_string(d, "long_name", "first day the firm received less than it ordered (-1: never)");
    }
    write_events(sim.event_log());
    if (has_policy_) write_policy(sim);
    write_summary(sim);
    close_all();
    util::publish_file(tmp_path_, final_path_, "the finished output");
    finished_ = true;
  }

 private:
  void write_policy(const Simulation& sim) {
    if (nd_ > 0 && nsp_ > 0)
      write_rows(stockpile_level_, 0, nd_, nsp_, stockpile_buf_.data(), 2, {nsp_});
    const World& world = sim.world();
    const std::size_t nc = world.countries.size(), nm = world.materials.size();
    auto names = sim.mechanisms();
    std::vector<int> req(names.size() * nc * nm, -1), meet(req), impl(req);
    for (const auto& r : sim.crisis_requests()) {
      std::size_t m = std::size_t(std::find(names.begin(), names.end(), r.mechanism) - names.begin());
      std::size_t k = (m * nc + r.country) * nm + r.material;
      req[k] = r.request_day;
      meet[k] = r.meeting_day;
      impl[k] = r.implementation_day;
    }
    H5Handle mech = coord_strings(policy_, "mechanism", names);
    std::vector<std::string> codes, ids;
    for (auto& c : world.countries) codes.push_back(c.code);
    for (auto& m : world.materials) ids.push_back(m.id);
    H5Handle pc = coord_strings(policy_, "country", codes);
    H5Handle pm = coord_strings(policy_, "material", ids);
    for (auto [name, data] : {std::pair<const char*, std::vector<int>*>{"request_day", &req},
                              {"meeting_day", &meet}, {"implementation_day", &impl}}) {
      hsize_t dims[3] = {names.size(), nc, nm};
      H5Handle space(H5Screate_simple(3, dims, nullptr), H5Sclose);
      H5Handle d(w_.check(H5Dcreate2(policy_, name, H5T_STD_I32LE, space, H5P_DEFAULT,
                                     dcpl_plain(), H5P_DEFAULT),
                          name),
                 H5Dclose);
      if (!data->empty())
        w_.check(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data->data()), name);
      attach(d, {mech.get(), pc.get(), pm.get()});
      attr_string(d, "long_name", "day of the crisis-response step for (mechanism, requesting "
                                  "country, material); -1: never requested");
    }
    // Links added during the run (new suppliers, crisis matches).
    std::vector<int> idx(sim.added_links());
    std::vector<std::string> sup, buy;
    std::vector<double> flow;
    for (std::size_t k = 0; k < sim.added_links(); ++k) {
      auto [j, i, z] = sim.added_link(k);
      idx[k] = int(k);
      sup.push_back(world.firm_id[j]);
      buy.push_back(world.firm_id[i]);
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
    H5Handle g = group("summary");
    std::vector<std::string> codes, ids;
    for (auto& c : world.countries) codes.push_back(c.code);
    for (auto& p : world.materials) ids.push_back(p.id);
    H5Handle gc = coord_strings(g, "country", codes);
    H5Handle gm = coord_strings(g, "material", ids);
    for (const detail::MetricInfo& mi : detail::kMetrics) {
      if (mi.real)
        dataset_2d(g, mi.name, m.*mi.real, gc, gm, mi.units, mi.long_name);
      else
        dataset_2d_int(g, mi.name, m.*mi.whole, gc, gm, mi.long_name);
    }
    attr_scalar<std::int32_t>(g, "days", H5T_NATIVE_INT32, m.days);
    const CountryValues v = country_values(m, sim.pair_baselines());
    if (v.any) {
      dataset_doubles(g, "output_lost_value", v.output_lost, {gc.get()});
      dataset_doubles(g, "unmet_final_demand_value", v.unmet_final, {gc.get()});
    }
  }

  void dataset_2d(hid_t g, const char* name, const std::vector<double>& v, hid_t dim0,
                  hid_t dim1, const char* units, const char* long_name) {
    hsize_t dims[2] = {nc_, nm_};
    H5Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose);
    H5Handle d(w_.check(H5Dcreate2(g, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl_plain(),
                                   H5P_DEFAULT),
                        name),
               H5Dclose);
    if (!v.empty())
      w_.check(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), name);
    attach(d, {dim0, dim1});
    attr_string(d, "units", units);
    attr_string(d, "long_name", long_name);
  }
  void dataset_2d_int(hid_t g, const char* name, const std::vector<std::int32_t>& v, hid_t dim0,
                      hid_t dim1, const char* long_name) {
    hsize_t dims[2] = {nc_, nm_};
    H5Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose);
    H5Handle d(w_.check(H5Dcreate2(g, name, H5T_STD_I32LE, space, H5P_DEFAULT, dcpl_plain(),
                                   H5P_DEFAULT),
                        name),
               H5Dclose);
    if (!v.empty())
      w_.check(H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), name);
    attach(d, {dim0, dim1});
    attr_string(d, "long_name", long_name);
  }

  /// Every model switch and parameter in force, after the preset (model 10's metadata).
  void write_model_attributes(const ModelParams& m) {
    attr_scalar<double>(file_, "tau", H5T_NATIVE_DOUBLE, m.tau);
    attr_string(file_, "model.preset", m.preset.empty() ? "none" : m.preset);
    attr_string(file_, "model.orders", m.orders == Orders::kPlanned ? "planned" : "output_based");
    attr_string(file_, "model.destocking", m.destocking ? "true" : "false");
    attr_scalar<double>(file_, "model.utilisation", H5T_NATIVE_DOUBLE, m.utilisation);
    attr_string(file_, "model.utilisation_source",
                m.is_preset() ? "the preset (the world's material utilisation is ignored)"
                              : "the world's material utilisation where given, else "
                                "model.utilisation");
    attr_string(file_, "model.final_demand_controls", m.final_demand_controls ? "true" : "false");
    attr_scalar<double>(file_, "model.tau", H5T_NATIVE_DOUBLE, m.tau);
    attr_scalar<double>(file_, "model.inventory_days", H5T_NATIVE_DOUBLE, m.inventory_days);
    attr_scalar<double>(file_, "model.alpha_max", H5T_NATIVE_DOUBLE, m.alpha_max);
    attr_scalar<double>(file_, "model.tau_alpha", H5T_NATIVE_DOUBLE, m.tau_alpha);
    static const char* kRationing[] = {"proportional", "final_demand_last", "waterfill",
                                       "priority"};
    attr_string(file_, "model.rationing", kRationing[int(m.rationing)]);
    attr_string(file_, "model.substitution", m.substitution.enabled ? "true" : "false");
    if (m.substitution.enabled) {
      attr_scalar<double>(file_, "model.substitution.threshold", H5T_NATIVE_DOUBLE,
                          m.substitution.threshold);
      attr_scalar<double>(file_, "model.substitution.search_days", H5T_NATIVE_DOUBLE,
                          m.substitution.search_days.value_or(-1.0));
      attr_scalar<double>(file_, "model.substitution.home_bias", H5T_NATIVE_DOUBLE,
                          m.substitution.home_bias);
      attr_scalar<double>(file_, "model.substitution.group_bias", H5T_NATIVE_DOUBLE,
                          m.substitution.group_bias);
    }
  }

  void close_all(bool may_throw = true) {
    stockpile_level_ = Series{};
    stockpile_coord_.reset();
    policy_.reset();
    cm_series_.clear();
    firm_series_.clear();
    firm_coord_.reset();
    cm_.reset();
    firm_.reset();
    if (file_.get() >= 0) {
      herr_t rc = H5Fclose(file_.get());
      file_ = H5Handle();
      if (rc < 0 && may_throw) w_.fail("closing the file (disk full?)");
    }
  }

  hid_t dcpl_plain() {
    if (dcpl_plain_.get() < 0) {
      dcpl_plain_ = H5Handle(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
      H5Pset_obj_track_times(dcpl_plain_, false);
    }
    return dcpl_plain_;
  }

  H5Handle group(const char* name) {
    H5Handle gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
    H5Pset_obj_track_times(gcpl, false);
    return H5Handle(w_.check(H5Gcreate2(file_, name, H5P_DEFAULT, gcpl, H5P_DEFAULT), name),
                    H5Gclose);
  }

  void attr_string(hid_t obj, const char* name, const std::string& value) {
    H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    H5Handle a(w_.check(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), name),
               H5Aclose);
    const char* p = value.c_str();
    w_.check(H5Awrite(a, type, &p), name);
  }

  template <class T>
  void attr_scalar(hid_t obj, const char* name, hid_t type, T value) {
    H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    H5Handle a(w_.check(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), name),
               H5Aclose);
    w_.check(H5Awrite(a, type, &value), name);
  }

  void attach(hid_t dset, std::initializer_list<hid_t> scales) {
    unsigned idx = 0;
    for (hid_t s : scales) w_.check(H5DSattach_scale(dset, s, idx++), "attaching a dimension");
  }

  H5Handle coord_int(hid_t g, const char* name, const std::vector<int>& values) {
    hsize_t dims[1] = {values.size()};
    H5Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    H5Handle d(w_.check(H5Dcreate2(g, name, H5T_STD_I32LE, space, H5P_DEFAULT, dcpl_plain(),
                                   H5P_DEFAULT),
                        name),
               H5Dclose);
    w_.check(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), name);
    w_.check(H5DSset_scale(d, name), name);
    return d;
  }

  H5Handle strings_dataset(hid_t g, const char* name, const std::vector<std::string>& values) {
    H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hsize_t dims[1] = {values.size()};
    H5Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    H5Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_obj_track_times(dcpl, false);
    if (!values.empty()) {
      hsize_t chunk[1] = {std::min<hsize_t>(values.size(), 65536)};
      H5Pset_chunk(dcpl, 1, chunk);
      H5Pset_deflate(dcpl, 1);
    }
    H5Handle d(w_.check(H5Dcreate2(g, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), name),
               H5Dclose);
    std::vector<const char*> ptrs(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) ptrs[i] = values[i].c_str();
    if (!values.empty())
      w_.check(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), name);
    return d;
  }

  H5Handle coord_strings(hid_t g, const char* name, const std::vector<std::string>& values) {
    H5Handle d = strings_dataset(g, name, values);
    w_.check(H5DSset_scale(d, name), name);
    return d;
  }

  void dataset_strings(hid_t g, const char* name, const std::vector<std::string>& values,
                       std::initializer_list<hid_t> scales) {
    H5Handle d = strings_dataset(g, name, values);
    attach(d, scales);
  }

  void dataset_doubles(hid_t g, const char* name, const std::vector<double>& values,
                       std::initializer_list<hid_t> scales) {
    hsize_t dims[1] = {values.size()};
    H5Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    H5Handle d(w_.check(H5Dcreate2(g, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl_plain(),
                                   H5P_DEFAULT),
                        name),
               H5Dclose);
    w_.check(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), name);
    attach(d, scales);
  }

  Series series(hid_t g, const char* name, std::vector<std::size_t> dims_in,
                std::vector<std::size_t> chunk_in, hid_t mem_type, hid_t file_type,
                std::initializer_list<hid_t> scales) {
    const int rank = int(dims_in.size());
    std::vector<hsize_t> dims(dims_in.begin(), dims_in.end()), chunk(chunk_in.begin(), chunk_in.end());
    for (auto& c : chunk) c = std::max<hsize_t>(1, c);
    H5Handle space(H5Screate_simple(rank, dims.data(), nullptr), H5Sclose);
    H5Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_obj_track_times(dcpl, false);
    bool empty = std::any_of(dims.begin(), dims.end(), [](hsize_t d) { return d == 0; });
    if (!empty) {
      H5Pset_chunk(dcpl, rank, chunk.data());
      H5Pset_shuffle(dcpl);
      H5Pset_deflate(dcpl, 1);
    }
    if (mem_type == H5T_NATIVE_DOUBLE) {
      double fill = std::numeric_limits<double>::quiet_NaN();
      H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &fill);
    }
    Series s{name,
             H5Handle(w_.check(H5Dcreate2(g, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                               name),
                      H5Dclose),
             mem_type};
    attach(s.dset, scales);
    return s;
  }

  void write_rows(const Series& s, std::size_t first_row, std::size_t rows, std::size_t row_len,
                  const void* data, int rank, const std::vector<hsize_t>& tail_dims) {
    H5Handle fspace(H5Dget_space(s.dset), H5Sclose);
    std::vector<hsize_t> start(std::size_t(rank), 0);
    std::vector<hsize_t> count(std::size_t(rank), 0);
    start[0] = first_row;
    count[0] = rows;
    for (int k = 1; k < rank; ++k) count[std::size_t(k)] = tail_dims[std::size_t(k - 1)];
    w_.check(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(),
                                 nullptr),
             s.name.c_str());
    H5Handle mspace(H5Screate_simple(rank, count.data(), nullptr), H5Sclose);
    (void)row_len;
    w_.check(H5Dwrite(s.dset, s.mem_type, mspace, fspace, H5P_DEFAULT, data), s.name.c_str());
  }

  // A flush writes the rows recorded since the last one; they start at buffer row
  // (first row % chunk days), since a checkpoint may flush in the middle of a chunk.
  void flush_cm() {
    std::size_t rows = recorded_ - cm_flushed_;
    if (rows == 0) return;
    const std::size_t at = (cm_flushed_ % cm_chunk_days_) * nc_ * nm_;
    for (std::size_t k = 0; k < cm_series_.size(); ++k)
      write_rows(cm_series_[k], cm_flushed_, rows, nc_ * nm_, cm_buf_[k].data() + at, 3, {nc_, nm_});
    cm_flushed_ = recorded_;
  }

  void flush_firm() {
    std::size_t rows = recorded_ - firm_flushed_;
    if (rows == 0) return;
    const std::size_t at = (firm_flushed_ % firm_chunk_days_) * nf_;
    for (std::size_t k = 0; k + 1 < firm_series_.size(); ++k)
      write_rows(firm_series_[k], firm_flushed_, rows, nf_, firm_buf_[k].data() + at, 2, {nf_});
    write_rows(firm_series_.back(), firm_flushed_, rows, nf_, binding_buf_.data() + at, 2, {nf_});
    firm_flushed_ = recorded_;
  }

  void write_events(const std::vector<EventRecord>& log) {
    H5Handle g = group("events");
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
    {
      hsize_t dims[1] = {log.size()};
      H5Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
      H5Handle d(w_.check(H5Dcreate2(g, "day", H5T_STD_I32LE, space, H5P_DEFAULT, dcpl_plain(),
                                     H5P_DEFAULT),
                          "events/day"),
                 H5Dclose);
      if (!log.empty())
        w_.check(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, day.data()), "events/day");
      attach(d, {ev.get()});
    }
    dataset_strings(g, "type", type, {ev.get()});
    dataset_strings(g, "description", desc, {ev.get()});
    dataset_strings(g, "country", country, {ev.get()});
    dataset_strings(g, "material", material, {ev.get()});
    dataset_doubles(g, "firms", firms, {ev.get()});
    dataset_doubles(g, "quantity", quantity, {ev.get()});
  }

  std::string final_path_, tmp_path_;
  Writer w_;
  H5Handle file_, cm_, firm_, firm_coord_, dcpl_plain_, policy_, stockpile_coord_;
  Series stockpile_level_;
  std::vector<double> stockpile_buf_;
  std::size_t nsp_ = 0;
  bool has_policy_ = false;
  std::vector<Series> cm_series_, firm_series_;
  std::vector<std::vector<double>> cm_buf_, firm_buf_;
  std::vector<std::uint8_t> binding_buf_;
  std::vector<int> days_;
  std::size_t nf_ = 0, nc_ = 0, nm_ = 0, nd_ = 0;
  std::size_t recorded_ = 0, cm_flushed_ = 0, firm_flushed_ = 0;
  std::size_t cm_chunk_days_ = 1, firm_chunk_days_ = 1, firm_chunk_cols_ = 1;
  bool firm_level_ = true, finished_ = false, checkpointed_ = false;
};

std::unique_ptr<Recorder> make_hdf5_recorder(const std::string& path) {
  return std::make_unique<Hdf5Recorder>(path);
}

}  // namespace shortfall
