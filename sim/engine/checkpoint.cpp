// Checkpoints (issue 8): the whole mutable state of a run after a day, so that a long run can
// be resumed after a crash with bit-identical results. The world and scenario are not stored;
// their hashes are, and a checkpoint only loads into a Simulation of the same world, scenario
// text and number of days.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>
#include <type_traits>
#include <utility>

#include "engine/engine.hpp"
#include "util/atomic_file.hpp"
#include "util/sha256.hpp"

namespace shortfall {

namespace {

// v4: the state written whole from its field list (RunState::fields()), the set-up's members of
// stockpiles and mechanisms and every member of the run metrics included; v3 listed it by hand.
// v5: base_lead and slot_n_base kept only where an event needs them, and the HDF5 recorder's
// buffered rows without the production loss (hdf5-recorder-v3).
// v6: lead kept only where a lead time can differ from 1 (an older binary would read past it).
constexpr char kMagic[] = "shortfall-checkpoint-v6";

template <class T>
concept Number = std::is_arithmetic_v<T> || std::is_enum_v<T>;
template <class T>
constexpr bool kIsVector = false;
template <class T>
constexpr bool kIsVector<std::vector<T>> = true;
template <class T>
constexpr bool kNoWay = false;

// Out and In: one field() each, for every type the state holds, so that a struct's field list
// (its static fields()) writes and reads it alike. Numbers as their bytes (bool as one byte),
// strings and vectors as a 64-bit count and their elements (numbers in one block), structs as
// their fields in the order listed.
class Out {
 public:
  explicit Out(std::ostream& os) : os_(os) {}
  template <Number T>
  void pod(const T& v) {
    os_.write(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void str(const std::string& s) {
    pod<std::uint64_t>(s.size());
    os_.write(s.data(), std::streamsize(s.size()));
  }
  template <class T>
  void field(const T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      pod<std::uint8_t>(v);
    } else if constexpr (Number<T>) {
      pod(v);
    } else if constexpr (std::is_same_v<T, std::string>) {
      str(v);
    } else if constexpr (kIsVector<T>) {
      pod<std::uint64_t>(v.size());
      using E = typename T::value_type;
      if constexpr (Number<E> && !std::is_same_v<E, bool>) {
        if (!v.empty())
          os_.write(reinterpret_cast<const char*>(v.data()), std::streamsize(v.size() * sizeof(E)));
      } else {
        for (const E& e : v) field(e);  // std::vector<bool>: each a bool
      }
    } else if constexpr (util::HasFields<T>) {
      std::apply([this](const auto&... m) { (field(m), ...); }, T::fields(v));
    } else {
      static_assert(kNoWay<T>, "a checkpoint cannot write this type: give it a fields() list");
    }
  }
  /// A run option that shapes the state, which a load checks (In::expect).
  template <Number T>
  void expect(const T& v, const char*) {
    pod(v);
  }

 private:
  std::ostream& os_;
};

class In {
 public:
  In(std::istream& is, std::string what) : is_(is), what_(std::move(what)) {
    const auto here = is_.tellg();
    is_.seekg(0, std::ios::end);
    end_ = is_.tellg();
    is_.seekg(here);
    check();
  }
  void check() {
    if (!is_) fail("checkpoint is truncated or unreadable");
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw InputError(SourceLocation{what_, 0, 0, ""}, why);
  }
  template <Number T>
  T pod() {
    T v{};
    is_.read(reinterpret_cast<char*>(&v), sizeof(T));
    check();
    return v;
  }
  /// A count of elements of at least `each` bytes, no more than the bytes left can hold.
  std::uint64_t size(std::uint64_t each) {
    const auto n = pod<std::uint64_t>();
    if (n > std::uint64_t(end_ - is_.tellg()) / each)
      fail("checkpoint is truncated or has an absurd size field");
    return n;
  }
  std::string str() {
    std::string s(size(1), '\0');
    is_.read(s.data(), std::streamsize(s.size()));
    check();
    return s;
  }
  template <class T>
  void field(T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      v = pod<std::uint8_t>() != 0;
    } else if constexpr (Number<T>) {
      v = pod<T>();
    } else if constexpr (std::is_same_v<T, std::string>) {
      v = str();
    } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
      v.assign(size(1), false);
      for (std::size_t k = 0; k < v.size(); ++k) v[k] = pod<std::uint8_t>() != 0;
    } else if constexpr (kIsVector<T>) {
      using E = typename T::value_type;
      if constexpr (Number<E>) {
        v.resize(size(sizeof(E)));
        if (!v.empty())
          is_.read(reinterpret_cast<char*>(v.data()), std::streamsize(v.size() * sizeof(E)));
        check();
      } else {
        v.resize(size(1));
        for (E& e : v) field(e);
      }
    } else if constexpr (util::HasFields<T>) {
      std::apply([this](auto&... m) { (field(m), ...); }, T::fields(v));
    } else {
      static_assert(kNoWay<T>, "a checkpoint cannot read this type: give it a fields() list");
    }
  }
  template <Number T>
  void expect(const T& v, const char* option) {
    if (pod<T>() != v)
      fail(std::string("checkpoint was written with other run options (") + option + ")");
  }

 private:
  std::istream& is_;
  std::string what_;
  std::streampos end_;
};

std::string identity(const Simulation& sim) {
  detail::Sha256 h;
  h.update(sim.world().sha256());
  h.update(sim.scenario().text);
  h.update_pod(sim.total_days());
  return h.hex();
}

/// The checkpoint of a run, one list for writing (Out, from a const Impl) and reading (In): the
/// run options that shape the state, then the state (RunState) whole, member by member as
/// RunState::fields() and the field lists of the structs it holds name them.
template <class Archive, class Self>
void run_state(Archive& a, Self& s) {
  a.expect(std::uint8_t(s.options.metrics), "metrics");
  using State = std::conditional_t<std::is_const_v<Self>, const RunState, RunState>;
  a.field(static_cast<State&>(s));
}

}  // namespace

void Recorder::checkpoint(const Simulation&, std::ostream&) {}
void Recorder::restore(const Simulation&, std::istream&) {
  throw std::runtime_error("this recorder cannot resume from a checkpoint");
}

void engine::write_state(std::ostream& os, const RunState& state) {
  Out o(os);
  o.field(state);
}

void engine::read_state(std::istream& is, RunState& state) {
  In i(is, "checkpoint");
  i.field(state);
}

void Simulation::Impl::save(std::ostream& os) const {
  Out o(os);
  run_state(o, *this);
}

void Simulation::Impl::load(std::istream& is) {
  const std::size_t n_stockpiles = stockpiles.size(), n_mechanisms = mechanisms.size();
  In i(is, "checkpoint");
  run_state(i, *this);
  metrics_day_full = -1;   // the metrics' buffers are of another day
  slot_short_day = -1;     // and the flags of the input shortages
  slot_sums_left = false;  // the slots' sums were filled before the save (sync_slot_sums)
  const SourceLocation where{"checkpoint", 0, 0, ""};
  if (stockpiles.size() != n_stockpiles)
    throw InputError(where, "stockpiles do not match the scenario");
  if (mechanisms.size() != n_mechanisms)
    throw InputError(where, "mechanisms do not match the scenario");
  if (options.metrics) {
    const PairBaselines& base = metrics.baselines();
    const std::size_t pairs = base.countries * base.materials;
    const auto state = MetricsAccumulator::fields(std::as_const(metrics));
    const RunMetrics& m = std::get<0>(state);
    bool fits = m.countries == base.countries && m.materials == base.materials &&
                std::get<1>(state).size() == pairs;
    auto per_pair = [&](const auto& f) {  // every vector of the metrics has one per pair
      if constexpr (kIsVector<std::decay_t<decltype(f)>>)
        return f.size() == pairs;
      else
        return true;
    };
    std::apply([&](const auto&... f) { fits = (fits && ... && per_pair(f)); },
               RunMetrics::fields(m));
    if (!fits) throw InputError(where, "run metrics do not fit this world");
  }
  const std::size_t lanes = z0.size();
  if (S.size() != lanes || out_pos.size() != lanes || x.size() != world.num_firms())
    throw InputError(where, "checkpoint does not fit this world");
  // Not state: waterfill's weights are rebuilt from the loaded z0_out and out_extra.
  if (!wf_weight.empty()) refresh_weights();
}

void Simulation::Impl::sync_served_orders() {
  if (!gather_orders) return;
  for (Lane l = 0; l < Lane(O.size()); ++l) o_out[out_pos[l]] = O[l];  // no cap: served = O
}

void Simulation::Impl::one_lane_sums(double* ordered, double* received) const {
  for (const Slot s : one_slot) {
    const Lane l = net.slot_lane_begin[s];
    ordered[s] = 0.0 + O[l];
    received[s] = 0.0 + y[l];
  }
}

void Simulation::Impl::sync_slot_sums() {
  if (!slot_sums_left) return;
  one_lane_sums(slot_ordered.data(), slot_received.data());
  slot_sums_left = false;
}

void Simulation::save_checkpoint(const std::string& path, Recorder* recorder) const {
  std::ostringstream sim_state, rec_state;
  // Where the buyers leave o_out alone (gather_orders), it is filled from the orders first, so
  // that the checkpoint holds the state the scatter would have left (o_out is derived state;
  // filling it changes nothing the run reads).
  impl_->sync_served_orders();
  impl_->sync_slot_sums();  // and the sums of slots of one lane, where left unwritten today
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
