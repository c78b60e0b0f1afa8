// Checkpoints (issue 8): the whole mutable state of a run after a day, so that a long run can
// be resumed after a crash with bit-identical results. The world and scenario are not stored;
// their hashes are, and a checkpoint only loads into a Simulation of the same world, scenario
// text and number of days.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <type_traits>

#include "engine/engine.hpp"
#include "util/atomic_file.hpp"
#include "util/sha256.hpp"

namespace shortfall {

namespace {

// v3: model version 2 (planned orders, final demand by destination, run metrics).
constexpr char kMagic[] = "shortfall-checkpoint-v3";

class Out {
 public:
  explicit Out(std::ostream& os) : os_(os) {}
  template <class T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    os_.write(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <class T>
  void vec(const std::vector<T>& v) {
    pod<std::uint64_t>(v.size());
    if constexpr (std::is_same_v<T, bool>) {
      for (bool b : v) pod<std::uint8_t>(b);
    } else if constexpr (std::is_same_v<T, std::string>) {
      for (const auto& s : v) str(s);
    } else {
      if (!v.empty())
        os_.write(reinterpret_cast<const char*>(v.data()), std::streamsize(v.size() * sizeof(T)));
    }
  }
  template <class T>
  void vecvec(const std::vector<std::vector<T>>& v) {
    pod<std::uint64_t>(v.size());
    for (const auto& x : v) vec(x);
  }
  void str(const std::string& s) {
    pod<std::uint64_t>(s.size());
    os_.write(s.data(), std::streamsize(s.size()));
  }
  // field(): one name for reading and writing, so that state_arrays() lists the state once.
  template <class T>
  void field(const std::vector<std::vector<T>>& v) {
    vecvec(v);
  }
  template <class T>
  void field(const std::vector<T>& v) {
    vec(v);
  }
  template <class T>
  void field(const T& v) {
    pod(v);
  }

 private:
  std::ostream& os_;
};

class In {
 public:
  In(std::istream& is, std::string what) : is_(is), what_(std::move(what)) {}
  void check() {
    if (!is_)
      throw InputError(SourceLocation{what_, 0, 0, ""}, "checkpoint is truncated or unreadable");
  }
  template <class T>
  T pod() {
    T v{};
    is_.read(reinterpret_cast<char*>(&v), sizeof(T));
    check();
    return v;
  }
  std::uint64_t size(std::uint64_t limit = (1ULL << 40)) {
    auto n = pod<std::uint64_t>();
    if (n > limit)
      throw InputError(SourceLocation{what_, 0, 0, ""}, "checkpoint has an absurd size field");
    return n;
  }
  template <class T>
  void vec(std::vector<T>& v) {
    const std::uint64_t n = size();
    if constexpr (std::is_same_v<T, bool>) {
      v.assign(n, false);
      for (std::uint64_t k = 0; k < n; ++k) v[k] = pod<std::uint8_t>() != 0;
    } else if constexpr (std::is_same_v<T, std::string>) {
      v.resize(n);
      for (auto& s : v) s = str();
    } else {
      v.resize(n);
      if (n) is_.read(reinterpret_cast<char*>(v.data()), std::streamsize(n * sizeof(T)));
      check();
    }
  }
  template <class T>
  void vecvec(std::vector<std::vector<T>>& v) {
    v.resize(size());
    for (auto& x : v) vec(x);
  }
  template <class T>
  void field(std::vector<std::vector<T>>& v) {
    vecvec(v);
  }
  template <class T>
  void field(std::vector<T>& v) {
    vec(v);
  }
  template <class T>
  void field(T& v) {
    v = pod<T>();
  }
  std::string str() {
    std::string s(size(1ULL << 32), '\0');
    is_.read(s.data(), std::streamsize(s.size()));
    check();
    return s;
  }

 private:
  std::istream& is_;
  std::string what_;
};

std::string identity(const Simulation& sim) {
  detail::Sha256 h;
  h.update(sim.world().sha256);
  h.update(sim.scenario().text);
  h.update_pod(sim.total_days());
  return h.hex();
}

}  // namespace

void Recorder::checkpoint(const Simulation&, std::ostream&) {}
void Recorder::restore(const Simulation&, std::istream&) {
  throw std::runtime_error("this recorder cannot resume from a checkpoint");
}

/// The simulation's day and flat state arrays, in checkpoint order, for writing (Out) and
/// reading (In) alike.
template <class Archive, class Impl>
void state_arrays(Archive& a, Impl& s) {
  a.field(s.day);
  for (auto* v : {&s.x,
                  &s.x_new,
                  &s.D,
                  &s.cap,
                  &s.C,
                  &s.c,
                  &s.delta,
                  &s.delta0,
                  &s.input_short,
                  &s.alpha,
                  &s.demand_factor,
                  &s.recovery_rate,
                  &s.slot_A,
                  &s.slot_n,
                  &s.slot_stock,
                  &s.slot_ordered,
                  &s.slot_received,
                  &s.z0,
                  &s.S,
                  &s.O,
                  &s.y,
                  &s.ring_dev,
                  &s.o_out,
                  &s.alpha_max,
                  &s.cm_ratio,
                  &s.cm_cover,
                  &s.x_inp,
                  &s.fd_share,
                  &s.fd_capped,
                  &s.C_want})
    a.field(*v);
  a.field(s.binding);
  a.field(s.first_short);
  a.field(s.recovery_type);
  a.field(s.cap_share);
  a.field(s.lead);
  a.field(s.base_lead);
  a.field(s.lane_class);
  a.field(s.ring_off);
  a.field(s.ring_len);
  a.field(s.ring_cnt);
  a.field(s.transit_cnt);
  a.field(s.transit_nz);
  a.field(s.ring_pos);
  a.field(s.extra_supplier);
  a.field(s.extra_buyer);
  a.field(s.slot_extra);
  a.field(s.out_extra);
  a.field(s.out_pos);
  a.field(s.z0_out);
  a.field(s.class_out);
  a.field(s.low_days);
}

void Simulation::Impl::save(std::ostream& os) const {
  Out o(os);
  state_arrays(o, *this);
  o.pod<std::uint64_t>(stockpiles.size());
  for (const auto& st : stockpiles) {
    o.pod(st.initial);
    o.pod(st.level);
    o.pod(st.rate);
    o.pod<std::uint8_t>(st.released);
    o.pod<std::uint8_t>(st.to_target);
  }
  o.pod<std::uint64_t>(mechanisms.size());
  for (const auto& m : mechanisms) {
    o.vec(m.above_days);
    o.vec(m.request_day);
    o.vec(m.meeting_day);
    o.vec(m.implementation_day);
  }
  o.pod<std::uint64_t>(crisis_surges.size());
  for (const auto& cs : crisis_surges) {
    o.vec(cs.member);
    o.pod(cs.material);
    o.pod(cs.alpha_max);
  }
  o.pod<std::uint64_t>(log.size());
  for (const auto& e : log) {
    o.pod(e.day);
    o.str(e.type);
    o.str(e.description);
    o.str(e.country);
    o.str(e.material);
    o.pod(e.firms);
    o.pod(e.quantity);
  }
  o.pod<std::uint8_t>(options.metrics);
  if (options.metrics) metrics.save(os);
}

void Simulation::Impl::load(std::istream& is) {
  In i(is, "checkpoint");
  state_arrays(i, *this);
  if (i.size() != stockpiles.size())
    throw InputError(SourceLocation{"checkpoint", 0, 0, ""},
                     "stockpiles do not match the scenario");
  for (auto& st : stockpiles) {
    st.initial = i.pod<double>();
    st.level = i.pod<double>();
    st.rate = i.pod<double>();
    st.released = i.pod<std::uint8_t>() != 0;
    st.to_target = i.pod<std::uint8_t>() != 0;
  }
  if (i.size() != mechanisms.size())
    throw InputError(SourceLocation{"checkpoint", 0, 0, ""},
                     "mechanisms do not match the scenario");
  for (auto& m : mechanisms) {
    i.vec(m.above_days);
    i.vec(m.request_day);
    i.vec(m.meeting_day);
    i.vec(m.implementation_day);
  }
  crisis_surges.resize(i.size(1 << 20));
  for (auto& cs : crisis_surges) {
    i.vec(cs.member);
    cs.material = i.pod<MaterialId>();
    cs.alpha_max = i.pod<double>();
  }
  log.resize(i.size(1ULL << 32));
  for (auto& e : log) {
    e.day = i.pod<int>();
    e.type = i.str();
    e.description = i.str();
    e.country = i.str();
    e.material = i.str();
    e.firms = i.pod<std::int64_t>();
    e.quantity = i.pod<double>();
  }
  if ((i.pod<std::uint8_t>() != 0) != options.metrics)
    throw InputError(SourceLocation{"checkpoint", 0, 0, ""},
                     "checkpoint was written with other run options (metrics)");
  if (options.metrics) metrics.load(is);
  const std::size_t m = z0.size();
  if (S.size() != m || out_pos.size() != m || x.size() != world.num_firms())
    throw InputError(SourceLocation{"checkpoint", 0, 0, ""}, "checkpoint does not fit this world");
  if (!wf_weight.empty()) refresh_weights();  // derived from z0_out, not stored
}

void Simulation::save_checkpoint(const std::string& path, Recorder* recorder) const {
  std::ostringstream sim_state, rec_state;
  impl_->save(sim_state);
  if (recorder) recorder->checkpoint(*this, rec_state);
  util::write_file_atomically(path, "the checkpoint", [&](std::ostream& f) {
    Out o(f);
    o.str(kMagic);
    o.str(identity(*this));
    o.str(sim_state.str());
    o.str(rec_state.str());
  });
}

void Simulation::load_checkpoint(const std::string& path, Recorder* recorder) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError(path + ": cannot open checkpoint (" + std::strerror(errno) + ")");
  In i(f, path);
  if (const std::string magic = i.str(); magic != kMagic) {
    const std::string family = "shortfall-checkpoint-";
    if (magic.rfind(family, 0) == 0)
      throw InputError(
          SourceLocation{path, 0, 0, ""},
          "expected a checkpoint of format " + std::string(kMagic).substr(family.size()) +
              ", found format " + magic.substr(family.size()) +
              " (written by another version of shortfall): run again without --resume");
    throw InputError(SourceLocation{path, 0, 0, ""},
                     "expected a shortfall checkpoint, found another file");
  }
  if (i.str() != identity(*this))
    throw InputError(SourceLocation{path, 0, 0, ""},
                     "checkpoint belongs to another world, scenario or number of days");
  std::istringstream sim_state(i.str()), rec_state(i.str());
  impl_->load(sim_state);
  if (recorder) recorder->restore(*this, rec_state);
}

}  // namespace shortfall
