// Internal: the state and phases of one simulation (Simulation::Impl). The core phases
// (docs/model.md 3-5) are defined here; policies (sections 6-9) in policies.cpp.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <thread>

#include "util/text.hpp"
#include "engine/kernels.hpp"
#include "world/network.hpp"
#include "shortfall/error.hpp"
#include "shortfall/simulation.hpp"

namespace shortfall {

using detail::Lane;
using detail::Slot;

namespace engine {

using detail::Lane;
using detail::Slot;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The firms an event selects, resolved against the world once.
struct FirmSet {
  std::vector<FirmId> firms;
  std::vector<double> losses;  // capacity_loss: per firm (same length) or empty
};

inline std::vector<bool> country_mask(const World& w, const std::vector<std::string>& names,
                                      bool empty_means_all) {
  std::vector<bool> mask(w.countries.size(), names.empty() && empty_means_all);
  for (const auto& n : names)
    for (CountryId c : w.resolve_countries(n)) mask[c] = true;
  return mask;
}

inline std::vector<bool> material_mask(const World& w, const std::vector<std::string>& names,
                                       bool empty_means_all) {
  std::vector<bool> mask(w.materials.size(), names.empty() && empty_means_all);
  for (const auto& n : names) {
    if (n == "all")
      std::fill(mask.begin(), mask.end(), true);
    else if (auto p = w.find_material(n))
      mask[*p] = true;
  }
  return mask;
}

using util::join;

}  // namespace engine

using namespace engine;

struct Simulation::Impl {
  const World& world;
  const detail::Network& net;
  Scenario scenario;
  int total_days;
  int day = -1;
  int threads;
  mutable tbb::task_arena arena;  // mutable: country_material (const) runs in it too
  double inv_tau;
  const std::atomic<bool>* cancel;
  RunOptions options;
  bool profile;
  PhaseTimes times;

  // ---- firm state (index FirmId) ----
  const std::vector<double>& x0;
  std::vector<double> cap_base;  // x0 / u0: capacity at delta = 0, alpha = 1 (model 3.5)
  // C: today's final demand after export-control caps (the claim rationed in step 6);
  // x_inp: today's input-constrained output (model 3.5), kept for spare capacity (model 7).
  std::vector<double> x, x_new, D, cap, C, c, delta, delta0, input_short, x_inp;
  std::vector<double> alpha;
  std::vector<std::uint8_t> binding;
  std::vector<std::int32_t> first_short;
  std::vector<double> demand_factor;
  // Final demand by destination (model 1, 4): per entry of world.final_dest_*, the export-control
  // cap k on it (+inf where none; empty without final-demand controls) and today's capped claim
  // C_{j,d} (empty where no firm's final demand can be capped).
  std::vector<double> fd_share, fd_capped;
  std::vector<double> C_want;  // C0_i f_i: what final users wanted today, before caps
  // The run metrics of model 10, accumulated every day (RunOptions::metrics).
  MetricsAccumulator metrics;
  CountryMaterialDay metrics_day;
  bool planned_orders = true;  // orders: planned (x̂ from capacity and demand) or output_based
  bool destocking = false;
  std::vector<std::uint8_t> recovery_type;
  std::vector<double> recovery_rate;  // linear: delta0/R is recomputed; exponential: factor

  // ---- slot state (index Slot: one per buyer and input material) ----
  std::vector<double> slot_A;         // A_ip = sum Z0
  std::vector<double> slot_n;         // n for this slot
  std::vector<double> slot_stock;     // S_ip after the day's update
  std::vector<double> slot_ordered;   // sum O (wanted)
  std::vector<double> slot_received;  // sum y shipped today

  // ---- lane state (index Lane: one per link, buyer-major) ----
  std::vector<double> z0, S, O, y;
  std::vector<double> cap_share;  // export-control cap k, +inf where none; empty if no controls
  std::vector<std::int32_t> lead, base_lead;
  std::vector<std::uint8_t> lane_class;  // priority class of the buyer for the supplier
  // In-transit pipeline: per lane a ring of `ring_len` slots keyed by arrival day. Each slot
  // holds the number of shipments arriving that day and their total minus count * Z0.
  std::vector<std::uint32_t> ring_off;
  std::vector<std::int32_t> ring_len;
  std::vector<double> ring_dev;
  std::vector<std::uint16_t> ring_cnt;
  // Per lane, the number of shipments in the pipeline and of ring slots whose deviation is not
  // 0 (exact integer running counts). The deviations are summed afresh, in slot order, only
  // where some are not 0, so the sum depends on the pipeline alone, never on its history,
  // and lanes at baseline cost O(1) a day whatever the lead time.
  std::vector<std::int32_t> transit_cnt;
  std::vector<std::uint16_t> transit_nz;
  std::vector<std::int32_t> ring_pos;  // t mod ring_len for today's t (no division in the loop)
  /// The in-transit rings of all lanes behind restrict pointers: the one implementation of a
  /// lane's arrivals, pipeline totals and shipments, for the fast and the general loops and
  /// the policies.
  struct Pipeline {
    const std::uint32_t* __restrict off;
    const std::int32_t* __restrict len;
    std::int32_t* __restrict pos;
    std::uint16_t* __restrict cnt;
    double* __restrict dev;
    std::int32_t* __restrict n_transit;  // shipments in the pipeline
    std::uint16_t* __restrict n_dev;     // ring slots whose deviation is not 0
    const std::int32_t* __restrict lead;
    /// Today's arrivals on lane l (nominal size z each plus their deviations); empties the slot.
    double arrive(Lane l, double z) const {
      const std::uint32_t today = off[l] + std::uint32_t(pos[l]);
      const double a = double(cnt[today]) * z + take_deviation(l, today);
      n_transit[l] -= cnt[today];
      cnt[today] = 0;
      return a;
    }
    /// arrive() where the ring is full (see fixed_lead): one shipment in every slot, before and
    /// after the day, so the counts stay as they are. The same value as arrive's (1.0 z = z).
    double arrive_full(Lane l, double z) const {
      return z + take_deviation(l, off[l] + std::uint32_t(pos[l]));
    }
    /// Empties ring slot k of lane l of its deviation and returns it.
    double take_deviation(Lane l, std::uint32_t k) const {
      const double d = dev[k];
      if (d != 0.0) --n_dev[l];
      dev[k] = 0.0;
      return d;
    }
    /// ship() where the ring is full: the lead time is the ring's length, so today's shipment
    /// takes the slot that today's arrivals left, and the counts stay as they are.
    void ship_full(Lane l, double y, double z) const {
      const std::int32_t p = pos[l];
      pos[l] = p + 1 == len[l] ? 0 : p + 1;
      add_deviation(l, off[l] + std::uint32_t(p), y - z);
    }
    /// The deviations still in transit, summed in slot order (0, without a loop, where none).
    [[nodiscard]] double deviation_in_transit(Lane l) const {
      double d = 0.0;
      if (n_dev[l] > 0)
        for (std::int32_t q = 0; q < len[l]; ++q) d += dev[off[l] + std::uint32_t(q)];
      return d;
    }
    void add_deviation(Lane l, std::uint32_t k, double d) const {
      if (d == 0.0) return;  // adding 0 changes neither the slot nor whether it is 0
      const bool was = dev[k] != 0.0;
      dev[k] += d;
      n_dev[l] = std::uint16_t(n_dev[l] + (dev[k] != 0.0) - was);
    }
    /// Today's shipment y on lane l (baseline z) arrives on day t + lead: slot (t + lead) mod
    /// len, lead <= len. Moves the lane's position on to tomorrow.
    void ship(Lane l, double y, double z) const {
      const std::int32_t n = len[l], p = pos[l];
      const std::int32_t ahead = p + lead[l] >= n ? p + lead[l] - n : p + lead[l];
      const std::uint32_t slot = off[l] + std::uint32_t(ahead);
      pos[l] = p + 1 == n ? 0 : p + 1;
      cnt[slot] += 1;
      n_transit[l] += 1;
      add_deviation(l, slot, y - z);
    }
  };
  Pipeline pipeline() {
    return {ring_off.data(), ring_len.data(),    ring_pos.data(),   ring_cnt.data(),
            ring_dev.data(), transit_cnt.data(), transit_nz.data(), lead.data()};
  }
  // With every lead time 1 and no transport disruption possible, the pipeline is just
  // yesterday's deliveries y: no rings are kept (the fast path of the hot loop).
  bool unit_lead = false;
  // Rings but no transport disruption that changes a lead time: every ring's length is its
  // lane's lead time and each slot holds exactly one shipment at the end of every day, so the
  // buyer and shipping loops leave the counts alone (arrive_full, ship_full).
  bool fixed_lead = false;
  /// How the loops over a firm's own lanes keep the pipeline.
  enum class Transit { kUnitLead, kFullRings, kRings };

  // Served orders (min(O, k Z0) under export controls) by out-position (net.out_lane order;
  // a lane added during the run has the out-position equal to its lane id): the buyer phase
  // scatters them once, the supplier phase streams through its customers' orders. Deliveries
  // flow back without a second scatter: the supplier leaves one number, `rule` (encoding
  // below), and the shipping phase computes each lane's delivery from it and the lane's own
  // served order, gathering from the firm array.
  std::vector<Lane> out_pos;  // lane -> out-position
  std::vector<double> o_out;
  std::vector<double> rule;              // per supplier, today: see encode_* below
  std::vector<detail::Allotment> allot;  // per supplier, today; priority rationing only
  // rule[j]: sign bit clear, a share s >= 0: y = served x s (s = 1 when all are served in full,
  // x/D under proportional rationing). Sign bit set, -L: waterfill at level L, y = min(served,
  // L Z0) (L = inf: no cap). NaN: priority rationing, y from allot[j]. A supplier that serves
  // everyone in full leaves its rule's own code for it (1, -inf, or NaN with shares 1), so the
  // shipping loop's branch on the kind of code goes the same way for every lane.
  static double encode_waterfill(double level) { return -level; }
  static constexpr double kRulePriority = std::numeric_limits<double>::quiet_NaN();
  static double deliver_share(double code, double sv) { return sv * code; }  // sign clear
  /// Sign set: min(sv, L Z0), which is sv itself where L = inf (inf Z0 is inf, or NaN for
  /// Z0 = 0, and std::min(sv, NaN) is sv).
  static double deliver_level(double code, double sv, double z0) {
    return std::min(sv, -code * z0);
  }
  static double deliver_by_rule(double code, double sv, double z0) {  // code not NaN
    return std::signbit(code) ? deliver_level(code, sv, z0) : deliver_share(code, sv);
  }
  [[nodiscard]] double rule_in_full() const {
    switch (scenario.model.rationing) {
      case Rationing::kWaterfill:
        return encode_waterfill(std::numeric_limits<double>::infinity());
      case Rationing::kPriority:
        return kRulePriority;
      default:
        return 1.0;
    }
  }
  // Waterfill and priority rationing read Z0 and the buyer's class per customer: supplier-major
  // copies keep those reads sequential (filled only for those rules).
  std::vector<double> z0_out;
  std::vector<std::uint8_t> class_out;
  // Waterfill's weight per supplier: its customers' Z0 summed in customers()' order, plus C0.
  // Kept between days; refresh_weight(j) wherever supplier j's customers' Z0 change.
  std::vector<double> wf_weight;

  // ---- lanes added during the run (new suppliers, sections 7-8): index >= num_links ----
  std::vector<FirmId> extra_supplier, extra_buyer;  // by lane - num_links
  std::vector<std::vector<Lane>> slot_extra;  // per slot; left empty when no links can be added
  std::vector<std::vector<Lane>> out_extra;   // per firm; likewise
  [[nodiscard]] FirmId sup(Lane l) const {
    return l < net.num_links ? net.lane_supplier[l] : extra_supplier[l - net.num_links];
  }
  [[nodiscard]] FirmId buy(Lane l) const {
    return l < net.num_links ? net.lane_buyer[l] : extra_buyer[l - net.num_links];
  }
  template <class F>
  void for_slot_lanes(Slot s, F&& f) const {
    for (Lane l = net.slot_lane_begin[s]; l < net.slot_lane_begin[s + 1]; ++l) f(l);
    if (!slot_extra.empty())
      for (Lane l : slot_extra[s]) f(l);
  }
  // ---- policies (sections 6-9; policies.cpp) ----
  bool overproduction = false;    // any alpha_max > 1 possible
  std::vector<double> alpha_max;  // per firm, current ceiling
  struct StockpileState {
    std::size_t policy = 0;
    CountryId country = 0;
    MaterialId material = 0;
    double initial = 0, level = 0, rate = 0;
    bool released = false;  // release switched on (by day, threshold or a crisis meeting)
    bool to_target = false;  // opened by a cover trigger: fills gaps to stock targets
  };
  struct MechanismState {
    std::size_t policy = 0;
    std::vector<bool> member;     // by country
    std::vector<int> above_days;  // by country x material: consecutive days over trigger
    std::vector<int> request_day, meeting_day, implementation_day;  // by country x material
  };
  std::vector<StockpileState> stockpiles;
  std::vector<MechanismState> mechanisms;
  std::vector<double> cm_use;                  // baseline daily input use by country x material
  std::vector<double> cm_ratio;                // today's input shortage / baseline use
  std::vector<double> cm_cover;                // today's inventory cover (days of use)
  std::vector<std::uint16_t> low_days;         // per slot: consecutive days below theta
  std::vector<std::vector<FirmId>> producers;  // per material
  struct CrisisSurge {
    std::vector<bool> member;
    MaterialId material = 0;
    double alpha_max = 1.0;
  };
  std::vector<CrisisSurge> crisis_surges;  // implemented by crisis meetings
  bool policies_on = false;
  void init_policies();
  void save(std::ostream& out) const;  // checkpoint.cpp
  void load(std::istream& in);
  void recompute_alpha_max(int t);
  [[nodiscard]] double control_share(FirmId supplier, FirmId buyer, int t) const;
  void policy_day_start(int t);
  void policy_day_end(int t);
  void switch_supplier(Slot s, int t, const std::vector<bool>* allowed_countries,
                       std::vector<double>& spare, const char* why);
  [[nodiscard]] bool blocked(FirmId supplier, FirmId buyer, int t) const;

  // ---- events ----
  std::vector<FirmSet> event_firms;  // per scenario event
  std::vector<EventRecord> log;

  // Per-thread scratch for the gathered rationing kernels.
  struct Scratch {
    std::vector<double> orders, z0;
    std::vector<std::uint8_t> cls;
    detail::WaterfillScratch waterfill;
  };
  std::vector<Scratch> scratch;  // indexed by tbb::this_task_arena::current_thread_index()
  Scratch& thread_scratch() {
    const int tid = tbb::this_task_arena::current_thread_index();
    return scratch[std::size_t(tid < 0 ? threads : tid)];
  }

  Impl(const World& w, const Scenario& s, RunOptions opt)
      : world(w),
        net(w.network()),
        scenario(s),
        total_days(opt.days > 0 ? opt.days : s.days),
        threads(opt.threads > 0 ? opt.threads : default_threads(w)),
        arena(threads),
        inv_tau(1.0 / s.model.tau),
        cancel(opt.cancel),
        options(opt),
        profile(opt.profile),
        x0(w.baseline_output) {
    const std::size_t n = w.num_firms(), m = w.num_links();
    planned_orders = s.model.orders == Orders::kPlanned;
    destocking = s.model.destocking;
    cap_base.resize(n);
    for (FirmId i = 0; i < n; ++i) {
      const auto& own = w.materials[w.firm_material[i]].utilisation;
      const double u0 = own && !s.model.is_preset() ? *own : s.model.utilisation;
      cap_base[i] = x0[i] / u0;  // x0 itself where u0 = 1
    }
    x = x0;
    x_new = x0;
    D = x0;
    cap = cap_base;
    C = w.final_demand;
    C_want = w.final_demand;
    if (opt.metrics) metrics = MetricsAccumulator(w);
    c = w.final_demand;
    delta.assign(n, 0.0);
    delta0.assign(n, 0.0);
    alpha.assign(n, 1.0);
    input_short.assign(n, 0.0);
    binding.assign(n, kBindDemand);
    first_short.assign(n, -1);
    demand_factor.assign(n, 1.0);
    recovery_type.assign(n, std::uint8_t(RecoveryType::kNone));
    recovery_rate.assign(n, 0.0);

    // Lanes and slots.
    z0.resize(m);
    base_lead.resize(m);
    lane_class.resize(m);
    for (Lane l = 0; l < m; ++l) {
      LinkId link = net.lane_link[l];
      z0[l] = w.link_flow[link];
      base_lead[l] = w.link_lead_time[link];
      CountryId cs = w.firm_country[net.lane_supplier[l]], cb = w.firm_country[net.lane_buyer[l]];
      PriorityClass cls = PriorityClass::kRest;
      if (cs == cb) {
        cls = PriorityClass::kDomestic;
      } else {
        for (const auto& g : w.countries[cs].groups) {
          const auto& bg = w.countries[cb].groups;
          if (std::find(bg.begin(), bg.end(), g) != bg.end()) cls = PriorityClass::kGroup;
        }
      }
      lane_class[l] = static_cast<std::uint8_t>(cls);
    }
    lead = base_lead;
    const Slot ns = net.num_slots();
    slot_A.assign(ns, 0.0);
    slot_n.assign(ns, 0.0);
    slot_stock.assign(ns, 0.0);
    slot_ordered.assign(ns, 0.0);
    slot_received.assign(ns, 0.0);
    S.resize(m);
    for (Slot s = 0; s < ns; ++s) {
      FirmId i = net.slot_firm[s];
      double nd = w.firm_inventory_days[i];
      if (std::isnan(nd)) nd = w.materials[net.slot_material[s]].inventory_days.value_or(kNaN);
      if (std::isnan(nd)) nd = s_model_inventory_days();
      if (!(nd > 0.0))
        throw InputError(SourceLocation{w.source, 0, 0, "inventory_days"},
                         "expected inventory days > 0 for firm '" + w.firm_id[i] + "' input '" +
                             w.materials[net.slot_material[s]].id + "', found " +
                             std::to_string(nd));
      slot_n[s] = nd;
      double a = 0.0, pool = 0.0;
      for (Lane l = net.slot_lane_begin[s]; l < net.slot_lane_begin[s + 1]; ++l) {
        a += z0[l];
        S[l] = nd * z0[l];  // S_ji = n_i Z0_ji (the same expression the kernels use)
        pool += S[l];
      }
      slot_A[s] = a;
      slot_stock[s] = pool;
      slot_ordered[s] = a;
      slot_received[s] = a;
    }
    O = z0;
    y = z0;

    // Events: resolve selections once; size the in-transit rings for the longest lead time
    // any transport disruption can impose on each lane.
    std::vector<std::int32_t> max_lead = base_lead;
    bool any_control = false;
    for (const auto& ev : scenario.events) {
      event_firms.push_back(resolve_firms(ev));
      if (ev.type == EventType::kExportControl || ev.type == EventType::kTradeCut)
        any_control = true;
      if (ev.type == EventType::kTransportDisruption) {
        for (Lane l = 0; l < m; ++l)
          if (between_match(ev, l)) max_lead[l] += ev.extra_days;
      }
    }
    if (any_control) cap_share.assign(m, std::numeric_limits<double>::infinity());
    if (any_control && s.model.final_demand_controls)
      fd_share.assign(w.final_dest_country.size(), std::numeric_limits<double>::infinity());
    if (!fd_share.empty() || w.has_final_demand_split) fd_capped = w.final_dest_amount;
    out_pos.resize(m);
    for (Lane k = 0; k < m; ++k) out_pos[net.out_lane[k]] = k;
    o_out.resize(m);
    for (Lane l = 0; l < m; ++l) o_out[out_pos[l]] = z0[l];
    rule.assign(n, 1.0);
    if (s.model.rationing == Rationing::kPriority) allot.resize(n);
    if (s.model.rationing == Rationing::kWaterfill) {
      z0_out.resize(m);
      for (Lane l = 0; l < m; ++l) z0_out[out_pos[l]] = z0[l];
      wf_weight.resize(n);
      refresh_weights();
    }
    if (s.model.rationing == Rationing::kPriority) {
      class_out.resize(m);
      for (Lane l = 0; l < m; ++l) class_out[out_pos[l]] = lane_class[l];
    }
    unit_lead = w.lead_times.domestic == 1 && w.lead_times.international == 1 &&
                std::all_of(max_lead.begin(), max_lead.end(), [](auto v) { return v == 1; }) &&
                std::all_of(w.lead_times.pairs.begin(), w.lead_times.pairs.end(),
                            [](const auto& kv) { return kv.second == 1; });
    fixed_lead = !unit_lead && max_lead == base_lead;
    ring_off.resize(unit_lead ? 0 : m);
    ring_len.resize(unit_lead ? 0 : m);
    std::uint64_t total = 0;
    for (Lane l = 0; l < (unit_lead ? 0 : m); ++l) {
      ring_off[l] = static_cast<std::uint32_t>(total);
      ring_len[l] = max_lead[l];
      total += std::uint64_t(max_lead[l]);
      if (total >= std::numeric_limits<std::uint32_t>::max())
        throw InputError(SourceLocation{scenario.path, 0, 0, "events"},
                         "lead times too long: the in-transit pipeline would exceed 2^32 slots");
    }
    ring_dev.assign(total, 0.0);
    ring_cnt.assign(total, 0);
    // Initial pipeline: one shipment of Z0 from each of the l days before day 0, arriving on
    // days 0 .. l-1.
    for (Lane l = 0; l < (unit_lead ? 0 : m); ++l)
      for (int d = 0; d < lead[l]; ++d) ring_cnt[ring_off[l] + d % ring_len[l]] = 1;
    if (!unit_lead) {
      transit_cnt = lead;
      transit_nz.assign(m, 0);
      ring_pos.assign(m, 0);
    }

    scratch.resize(std::size_t(threads) + 1);
    init_policies();
  }

  /// With --threads 0: one thread per 100,000 links, up to the hardware's threads. A day of a
  /// small world is too short to amortise the barriers between phases.
  static int default_threads(const World& w) {
    const auto hw = std::max(1u, std::thread::hardware_concurrency());
    return int(std::min<std::size_t>(hw, 1 + w.num_links() / 100000));
  }

  double s_model_inventory_days() const { return scenario.model.inventory_days; }

  bool firm_selected(const Selector& sel, const std::vector<bool>& cmask,
                     const std::vector<bool>& exc, const std::vector<bool>& mmask,
                     const std::vector<bool>& mexc, FirmId i) const {
    return cmask[world.firm_country[i]] && !exc[world.firm_country[i]] &&
           mmask[world.firm_material[i]] && !mexc[world.firm_material[i]] && (void(sel), true);
  }

  FirmSet resolve_firms(const Event& ev) const {
    FirmSet fs;
    if (ev.type != EventType::kCapacityLoss && ev.type != EventType::kDemandShock) return fs;
    if (!ev.firm_losses.empty()) {
      for (const auto& [id, loss] : ev.firm_losses) {
        auto f = world.find_firm(id);
        if (!f) throw InputError(ev.where, "unknown firm '" + id + "' in firms_csv");
        fs.firms.push_back(*f);
        fs.losses.push_back(loss);
      }
      return fs;
    }
    const Selector& sel = ev.firms;
    auto cmask = country_mask(world, sel.countries, true);
    auto exc = country_mask(world, sel.except_countries, false);
    auto mmask = material_mask(world, sel.materials, true);
    auto mexc = material_mask(world, sel.except_materials, false);
    if (!sel.firms.empty()) {
      for (const auto& id : sel.firms) {
        auto f = world.find_firm(id);
        if (!f) throw InputError(ev.where, "unknown firm '" + id + "' in 'firms'");
        if (firm_selected(sel, cmask, exc, mmask, mexc, *f)) fs.firms.push_back(*f);
      }
    } else {
      for (FirmId i = 0; i < world.num_firms(); ++i)
        if (firm_selected(sel, cmask, exc, mmask, mexc, i)) fs.firms.push_back(i);
    }
    return fs;
  }

  bool between_match(const Event& ev, Lane l) const {
    return between_countries(ev, world.firm_country[sup(l)], world.firm_country[buy(l)]);
  }
  bool between_countries(const Event& ev, CountryId a, CountryId b) const {
    if (a == b) return false;  // trade cuts and transport disruptions act across borders
    auto in = [&](const std::vector<std::string>& side, CountryId c) {
      for (const auto& n : side)
        if (n == "all" || n == world.countries[c].code)
          return true;
        else
          for (const auto& g : world.countries[c].groups)
            if (g == n) return true;
      return false;
    };
    return (in(ev.side_a, a) && in(ev.side_b, b)) || (in(ev.side_b, a) && in(ev.side_a, b));
  }

  bool active(const Event& ev, int t) const { return t >= ev.start && (!ev.end || t < *ev.end); }

  // ---- phase 1: events ---------------------------------------------------------------------
  void apply_events(int t) {
    expect_phase(Phase::kEvents);
    bool controls_changed = false, demand_changed = false, transport_changed = false;
    for (std::size_t k = 0; k < scenario.events.size(); ++k) {
      const Event& ev = scenario.events[k];
      const bool starts = ev.start == t, ends = ev.end && *ev.end == t;
      if (!starts && !ends) continue;
      EventRecord rec;
      rec.day = t;
      rec.type = std::string(ends ? "end:" : "") + event_type_name(ev.type);
      rec.description = ev.description;
      switch (ev.type) {
        case EventType::kCapacityLoss: {
          const FirmSet& fs = event_firms[k];
          rec.country = join(ev.firms.countries);
          rec.material = join(ev.firms.materials);
          rec.firms = std::int64_t(fs.firms.size());
          rec.quantity = ev.loss;
          if (starts) {
            for (std::size_t q = 0; q < fs.firms.size(); ++q) {
              FirmId i = fs.firms[q];
              double loss = fs.losses.empty() ? ev.loss : fs.losses[q];
              // Losses compound: two 50% losses leave 25% of capacity.
              delta[i] = 1.0 - (1.0 - delta[i]) * (1.0 - loss);
              delta0[i] = delta[i];
              recovery_type[i] = std::uint8_t(ev.recovery.type);
              recovery_rate[i] = ev.recovery.type == RecoveryType::kExponential
                                     ? std::exp2(-1.0 / ev.recovery.days)
                                     : ev.recovery.days;
            }
          }
          if (ends && ev.recovery.type == RecoveryType::kStep)
            for (FirmId i : fs.firms) delta[i] = 0.0;
          break;
        }
        case EventType::kDemandShock:
          rec.country = join(ev.firms.countries);
          rec.material = join(ev.firms.materials);
          rec.firms = std::int64_t(event_firms[k].firms.size());
          rec.quantity = ev.factor;
          demand_changed = true;
          break;
        case EventType::kExportControl:
          rec.country = join(ev.exporters);
          rec.material = join(ev.materials);
          rec.quantity = ev.license_share;
          controls_changed = true;
          break;
        case EventType::kTradeCut:
          rec.country = join(ev.side_a) + "|" + join(ev.side_b);
          rec.material = "all";
          controls_changed = true;
          break;
        case EventType::kTransportDisruption:
          rec.country = join(ev.side_a) + "|" + join(ev.side_b);
          rec.quantity = ev.extra_days;
          transport_changed = true;
          break;
      }
      log.push_back(std::move(rec));
    }
    if (demand_changed) {
      std::fill(demand_factor.begin(), demand_factor.end(), 1.0);
      for (std::size_t k = 0; k < scenario.events.size(); ++k) {
        const Event& ev = scenario.events[k];
        if (ev.type == EventType::kDemandShock && active(ev, t))
          for (FirmId i : event_firms[k].firms) demand_factor[i] *= ev.factor;
      }
    }
    if (controls_changed) recompute_controls(t);
    if (demand_changed || (controls_changed && !fd_share.empty())) recompute_final_demand();
    if (transport_changed) {
      lead = base_lead;
      for (const Event& ev : scenario.events)
        if (ev.type == EventType::kTransportDisruption && active(ev, t))
          for (Lane l = 0; l < Lane(z0.size()); ++l)
            if (between_match(ev, l)) lead[l] += ev.extra_days;
    }
  }

  /// Final users' wants C0_{j,d} f_j (f: today's demand-shock factor), summed per firm as
  /// f_j C0_j less what export controls cap on each destination (model 3.4, 4), so that C_j
  /// is exactly f_j C0_j where no cap applies; fd_capped keeps each destination's capped claim.
  void recompute_final_demand() {
    const auto& begin = world.final_dest_begin;
    const auto& amount = world.final_dest_amount;
    for (FirmId i = 0; i < world.num_firms(); ++i) {
      const double f = demand_factor[i];
      double claim = world.final_demand[i] * f;
      for (std::uint32_t k = begin[i]; k < begin[i + 1]; ++k) {
        const double want = amount[k] * f;
        double capped = want;
        if (!fd_share.empty() && !std::isinf(fd_share[k])) {
          capped = std::min(want, fd_share[k] * amount[k]);
          claim -= want - capped;
        }
        if (!fd_capped.empty()) fd_capped[k] = capped;
      }
      C[i] = std::max(0.0, claim);
      C_want[i] = world.final_demand[i] * f;
    }
  }
  /// What the final users of destination entry k wanted today, before any cap.
  [[nodiscard]] double final_want(FirmId j, std::uint32_t k) const {
    return world.final_dest_amount[k] * demand_factor[j];
  }

  void recompute_controls(int t) {
    std::fill(cap_share.begin(), cap_share.end(), std::numeric_limits<double>::infinity());
    std::fill(fd_share.begin(), fd_share.end(), std::numeric_limits<double>::infinity());
    for (std::size_t k = 0; k < scenario.events.size(); ++k) {
      const Event& ev = scenario.events[k];
      if (!active(ev, t)) continue;
      std::int64_t matched = 0;
      if (ev.type == EventType::kTradeCut) {
        for (Lane l = 0; l < Lane(z0.size()); ++l)
          if (between_match(ev, l)) cap_share[l] = 0.0, ++matched;
        for (FirmId j = 0; j < FirmId(world.num_firms()) && !fd_share.empty(); ++j)
          for (std::uint32_t k = world.final_dest_begin[j]; k < world.final_dest_begin[j + 1];
               ++k)
            if (between_countries(ev, world.firm_country[j], world.final_dest_country[k]))
              fd_share[k] = 0.0;
      } else if (ev.type == EventType::kExportControl) {
        auto exp = country_mask(world, ev.exporters, false);
        auto mats = material_mask(world, ev.materials, false);
        auto tgt = country_mask(world, ev.targets, false);
        auto exc = country_mask(world, ev.except_targets, false);
        for (Lane l = 0; l < Lane(z0.size()); ++l) {
          FirmId j = sup(l), i = buy(l);
          CountryId cj = world.firm_country[j], ci = world.firm_country[i];
          if (cj != ci && exp[cj] && mats[world.firm_material[j]] && tgt[ci] && !exc[ci]) {
            cap_share[l] = std::min(cap_share[l], ev.license_share);
            ++matched;
          }
        }
        // Model 4: exports to final users in the targets, with final_demand_controls.
        for (FirmId j = 0; j < FirmId(world.num_firms()) && !fd_share.empty(); ++j) {
          const CountryId cj = world.firm_country[j];
          if (!exp[cj] || !mats[world.firm_material[j]]) continue;
          for (std::uint32_t k = world.final_dest_begin[j]; k < world.final_dest_begin[j + 1];
               ++k) {
            const CountryId d = world.final_dest_country[k];
            if (d != cj && tgt[d] && !exc[d]) fd_share[k] = std::min(fd_share[k], ev.license_share);
          }
        }
      } else {
        continue;
      }
      if (ev.start == t && !log.empty()) {
        for (auto it = log.rbegin(); it != log.rend() && it->day == t; ++it)
          if (it->description == ev.description && it->firms == 0) it->firms = matched;
      }
    }
  }

  // ---- phases 2-3: inventory and orders, per buyer -------------------------------------------
  static constexpr Lane kPrefetch = 16;  // lanes ahead for scattered accesses
  /// max(0, v) as std::max(0.0, v), or kSelect: detail::max0_select, without a branch.
  template <bool kSelect>
  static double nonneg(double v) {
    if constexpr (kSelect)
      return detail::max0_select(v);
    else
      return std::max(0.0, v);
  }

  /// Steps 2-3 for the buyers [ib, ie).
  void buyer_range(FirmId ib, FirmId ie) {
    expect_phase(Phase::kBuyers);
    if (slot_extra.empty()) {
      if (destocking)
        buyer_by_lead<false>(ib, ie);
      else
        buyer_by_lead<true>(ib, ie);
      return;
    }
    for (FirmId i = ib; i < ie; ++i) buyer_any(i, output_ratio(i), planned_ratio(i));
  }
  template <bool kClip>
  void buyer_by_lead(FirmId ib, FirmId ie) {
    if (unit_lead)
      buyer_lanes<Transit::kUnitLead, kClip>(ib, ie);
    else if (fixed_lead)
      buyer_lanes<Transit::kFullRings, kClip>(ib, ie);
    else
      buyer_lanes<Transit::kRings, kClip>(ib, ie);
  }
  /// x / x0, the scale of a firm's input use and orders (0 for a firm without baseline output).
  [[nodiscard]] double output_ratio(FirmId i) const { return x0[i] > 0.0 ? x[i] / x0[i] : 0.0; }
  /// Today's capacity x^cap_i = alpha_i (1 - delta_i) x0_i / u0_i (model 3.3, 3.5).
  [[nodiscard]] double capacity_today(FirmId i) const {
    return alpha[i] * (1.0 - delta[i]) * cap_base[i];
  }
  /// x̂ / x0, the scale of a firm's stock targets (model 3.3): planned output
  /// min(x^cap(t), D(t-1)) under orders: planned, last output x(t-1) under output_based. Read
  /// in the buyer phase, before step 4 overwrites D with today's demand.
  [[nodiscard]] double planned_ratio(FirmId i) const {
    if (!planned_orders) return output_ratio(i);
    return x0[i] > 0.0 ? std::min(capacity_today(i), D[i]) / x0[i] : 0.0;
  }

  /// The buyer phase over a firm's own contiguous lanes (no lanes added during the run), with
  /// the arrays behind restrict pointers. kUnitLead: every lead time is 1, so the pipeline is
  /// yesterday's delivery y (the hot loop of large worlds); otherwise the per-lane rings, full
  /// ones (fixed_lead) without touching the counts.
  /// The arithmetic is the same, operation for operation, as buyer_any's.
  template <Transit kTransit, bool kClip>
  void buyer_lanes(FirmId ib, FirmId ie) {
    constexpr bool kUnitLead = kTransit == Transit::kUnitLead;
    const Lane* __restrict lane_begin = net.slot_lane_begin.data();
    const double* __restrict zz = z0.data();
    const double* __restrict yy = y.data();
    const Lane* __restrict pos = out_pos.data();
    double* __restrict SS = S.data();
    double* __restrict OO = O.data();
    double* __restrict oo = o_out.data();
    const double* __restrict share = cap_share.empty() ? nullptr : cap_share.data();
    const Pipeline pipe = pipeline();
    const double itau = inv_tau;
    const Lane n_lanes = net.num_links;
    const Slot* __restrict slot_begin = net.slot_begin.data();
    const double* __restrict slot_days = slot_n.data();
    double* __restrict stock_after = slot_stock.data();
    double* __restrict slot_sum = slot_ordered.data();
    for (FirmId i = ib; i < ie; ++i) {
      const double xr = output_ratio(i), xh = planned_ratio(i);
      for (Slot s = slot_begin[i]; s < slot_begin[i + 1]; ++s) {
        const Lane lb = lane_begin[s], le = lane_begin[s + 1];
        const double n_days = slot_days[s];
        double pool = 0.0, pool0 = 0.0;
        for (Lane l = lb; l < le; ++l) {
          pool += SS[l];
          pool0 += n_days * zz[l];
        }
        const bool single = le - lb == 1;
        double after = 0.0, ordered = 0.0;
        for (Lane l = lb; l < le; ++l) {
          // The scattered write below misses the cache; ask for its line a few lanes ahead.
          __builtin_prefetch(oo + pos[l + kPrefetch < n_lanes ? l + kPrefetch : l], 1, 0);
          const double z = zz[l];
          double arrival, o;
          if constexpr (kUnitLead) {
            arrival = yy[l];  // shipped yesterday, nothing else in transit
          } else {
            // Arrivals due today (shipments of earlier days), then the rest of the pipeline.
            arrival = kTransit == Transit::kFullRings ? pipe.arrive_full(l, z) : pipe.arrive(l, z);
          }
          // Step 2.
          const double draw = detail::draw_down(z, xr, SS[l], n_days, pool, pool0, single);
          const double stock = nonneg<!kUnitLead>(SS[l] + (arrival - draw));
          SS[l] = stock;
          after += stock;
          // Step 3.
          if constexpr (kUnitLead) {
            double restock = (n_days * z) * xh - stock;
            if constexpr (kClip) restock = std::max(0.0, restock);
            o = z * xr + restock * itau;
            o = std::max(0.0, o);  // (NaN -> 0)
          } else {
            // (A full ring holds one shipment a day of lead time, less the one just arrived.)
            const std::int32_t shipments =
                kTransit == Transit::kFullRings ? pipe.lead[l] - 1 : pipe.n_transit[l];
            o = detail::order_for(z, xr, xh, kClip, n_days, stock, pipe.lead[l], shipments,
                                  pipe.deviation_in_transit(l), itau, detail::max0_select);
          }
          OO[l] = o;
          const double served = share ? serve(o, share[l], z) : o;
          oo[pos[l]] = served;
          ordered += o;
        }
        stock_after[s] = after;
        slot_sum[s] = ordered;
      }
    }
  }

  /// The buyer phase in general: lanes added during the run (sections 7-8) included.
  void buyer_any(FirmId i, double xr, double xh) {
    for (Slot s = net.slot_begin[i]; s < net.slot_begin[i + 1]; ++s) {
      const double n_days = slot_n[s];
      double pool = 0.0, pool0 = 0.0;
      std::size_t lanes = 0;
      for_slot_lanes(s, [&](Lane l) {
        pool += S[l];
        pool0 += n_days * z0[l];
        ++lanes;
      });
      const bool single = lanes == 1;
      double after = 0.0, ordered = 0.0;
      const Pipeline pipe = pipeline();
      for_slot_lanes(s, [&](Lane l) {
        // Arrivals due today (shipments of earlier days), then the rest of the pipeline.
        double arrival, in_transit = 0.0, in_transit_dev = 0.0;
        if (unit_lead) {
          arrival = y[l];  // shipped yesterday, nothing else in transit
        } else {
          arrival = pipe.arrive(l, z0[l]);
          in_transit = pipe.n_transit[l];
          in_transit_dev = pipe.deviation_in_transit(l);
        }
        // Step 2.
        const double draw = detail::draw_down(z0[l], xr, S[l], n_days, pool, pool0, single);
        const double stock = std::max(0.0, S[l] + (arrival - draw));
        S[l] = stock;
        after += stock;
        // Step 3.
        const double o = detail::order_for(z0[l], xr, xh, !destocking, n_days, stock, lead[l],
                                           in_transit, in_transit_dev, inv_tau);
        O[l] = o;
        o_out[out_pos[l]] = served_order(l, o);
        ordered += o;
      });
      slot_stock[s] = after;
      slot_ordered[s] = ordered;
    }
  }

  // ---- phases 4-6: demand, production, rationing, per supplier ------------------------------
  /// The order that can be served under export controls: min(O, k Z0) (section 4).
  double served_order(Lane l, double o) const {
    return cap_share.empty() ? o : serve(o, cap_share[l], z0[l]);
  }
  /// min(O, k Z0), O itself where no cap applies (k = inf).
  static double serve(double o, double k, double z) {
    return std::isinf(k) ? o : std::min(o, k * z);
  }
  static constexpr FirmId kSuppliersAhead = 8;  // suppliers ahead for waterfill's Z0 reads
  /// Steps 4-6 for the suppliers [jb, je), with the arrays behind restrict pointers; the
  /// rationing of a supplier that cannot serve everyone is left to ration().
  void supplier_range(FirmId jb, FirmId je) {
    expect_phase(Phase::kSuppliers);
    const Lane* __restrict out_begin = net.out_begin.data();
    const Slot* __restrict slot_begin = net.slot_begin.data();
    const double* __restrict oo = o_out.data();
    const double* __restrict xx0 = x0.data();
    const double* __restrict cb = cap_base.data();
    double* __restrict xin = x_inp.empty() ? nullptr : x_inp.data();
    const double* __restrict CC = C.data();
    const double* __restrict al = alpha.data();
    const double* __restrict de = delta.data();
    const double* __restrict stock = slot_stock.data();
    const double* __restrict use = slot_A.data();
    double* __restrict DD = D.data();
    double* __restrict cp = cap.data();
    double* __restrict xn = x_new.data();
    std::uint8_t* __restrict bind = binding.data();
    double* __restrict rr = rule.data();
    double* __restrict cc = c.data();
    const double in_full = rule_in_full();
    const bool extra = !out_extra.empty();
    // Waterfill reads the Z0 of the customers of each supplier that runs short, from z0_out
    // (in the orders' order, but only where rationing is needed, so the hardware does not
    // stream it): ask for the first and last line a few suppliers ahead.
    const double* __restrict zo = z0_out.empty() ? nullptr : z0_out.data();
    Scratch& sc = thread_scratch();
    for (FirmId j = jb; j < je; ++j) {
      if (zo && j + kSuppliersAhead < je) {
        const Lane b = out_begin[j + kSuppliersAhead], e = out_begin[j + kSuppliersAhead + 1];
        __builtin_prefetch(zo + b, 0, 0);
        __builtin_prefetch(zo + (e > b ? e - 1 : b), 0, 0);
      }
      // Step 4: D_j = sum_i O_ji + C_j (summed in the order that defined x0_j).
      double orders = 0.0;
      for (Lane k = out_begin[j]; k < out_begin[j + 1]; ++k) orders += oo[k];
      if (extra)
        for (Lane l : out_extra[j]) orders += oo[l];
      const double demand = orders + CC[j];
      DD[j] = demand;
      // Step 5.
      const double capacity = al[j] * (1.0 - de[j]) * cb[j];  // = capacity_today(j)
      double input_limit = std::numeric_limits<double>::infinity();
      for (Slot s = slot_begin[j]; s < slot_begin[j + 1]; ++s)
        input_limit = std::min(input_limit, stock[s] * xx0[j] / use[s]);
      if (xin) xin[j] = input_limit;
      auto [xj, b] = detail::produce(capacity, input_limit, demand);
      cp[j] = capacity;
      xn[j] = xj;
      bind[j] = b;
      // Step 6. Everyone served in full (r = 1 gives y = O exactly), or one rule for all,
      // applied by the shipping phase.
      if (xj >= demand) {
        rr[j] = in_full;
        if (!allot.empty()) allot[j] = detail::allot_all(CC[j]);
        cc[j] = CC[j];
      } else {
        const auto [code, to_final] = ration(j, xj, demand, sc);
        rr[j] = code;
        cc[j] = to_final;
      }
    }
  }

  // A supplier's customers' orders, Z0 or classes, supplier-major: read in place, or, where
  // links were added to it during the run, gathered into `buf` (the added lanes last). This
  // is the lists' order for the rules, and for wf_weight.
  [[nodiscard]] bool has_added(FirmId j) const {
    return !out_extra.empty() && !out_extra[j].empty();
  }
  template <class T>
  std::span<const T> customers(FirmId j, const std::vector<T>& out, std::vector<T>& buf) const {
    const Lane kb = net.out_begin[j], ke = net.out_begin[j + 1];
    if (!has_added(j)) [[likely]]
      return {out.data() + kb, ke - kb};
    return gather_customers(j, out, buf);
  }
  template <class T>
  [[gnu::noinline]] std::span<const T> gather_customers(FirmId j, const std::vector<T>& out,
                                                        std::vector<T>& buf) const {
    buf.assign(out.begin() + net.out_begin[j], out.begin() + net.out_begin[j + 1]);
    for (Lane l : out_extra[j]) buf.push_back(out[l]);
    return buf;
  }
  /// Waterfill's weight of supplier j from its customers' Z0 now.
  void refresh_weight(FirmId j) {
    std::vector<double> buf;
    wf_weight[j] = detail::waterfill_weight(customers(j, z0_out, buf), world.final_demand[j]);
  }
  void refresh_weights() {
    for (FirmId j = 0; j < FirmId(wf_weight.size()); ++j) refresh_weight(j);
  }

  /// Step 6 for supplier j, which produces xj < its demand: its rule of the day and what its
  /// final users get (c). sc: the calling thread's scratch (found once per range of firms).
  std::pair<double, double> ration(FirmId j, double xj, double demand, Scratch& sc) {
    detail::Allotment a;
    double code = 0.0;
    switch (scenario.model.rationing) {
      case Rationing::kProportional:
        a = detail::allot_proportional(xj, demand, C[j]);
        code = a.share[0];
        break;
      case Rationing::kFinalDemandLast:
        a = detail::allot_final_demand_last(xj, demand, C[j]);
        code = a.share[0];
        break;
      case Rationing::kWaterfill:
        a = detail::allot_waterfill_short(xj, wf_weight[j], customers(j, o_out, sc.orders),
                                          customers(j, z0_out, sc.z0), C[j], world.final_demand[j],
                                          sc.waterfill);
        code = encode_waterfill(a.level);
        break;
      case Rationing::kPriority:
        a = detail::allot_priority(xj, customers(j, o_out, sc.orders),
                                   customers(j, class_out, sc.cls), C[j], scenario.model.priority);
        allot[j] = a;
        code = kRulePriority;
        break;
    }
    return {code, a.c};
  }

  /// Today's delivery on lane l from supplier j (after the supplier phase).
  [[nodiscard]] double delivery(Lane l, FirmId j) const {
    return deliver_lane(rule[j], j, served_order(l, O[l]), z0[l], lane_class[l]);
  }
  /// A lane's delivery under its supplier j's rule of the day, from the served order sv.
  [[nodiscard]] double deliver_lane(double code, FirmId j, double sv, double z,
                                    std::uint8_t cls) const {
    return std::isnan(code) ? detail::deliver(allot[j], sv, z, cls) : deliver_by_rule(code, sv, z);
  }

  /// The kind of rule every supplier leaves under the scenario's rationing (see `rule`).
  enum class RuleKind { kShare, kLevel, kClasses };
  /// Deliveries into a buyer's own contiguous lanes (no lanes added during the run): the same
  /// arithmetic as the general loop in ship_range, with the arrays behind restrict pointers,
  /// one loop per kind of rule so that each reads only what its deliveries need (Z0 for
  /// waterfill levels, classes for priority).
  template <Transit kTransit, RuleKind kKind>
  void ship_lanes(FirmId ib, FirmId ie, int t) {
    const Lane* __restrict lane_begin = net.slot_lane_begin.data();
    const FirmId* __restrict supplier = net.lane_supplier.data();
    const double* __restrict r = rule.data();
    const double* __restrict OO = O.data();
    const double* __restrict share = cap_share.empty() ? nullptr : cap_share.data();
    const double* __restrict zz = z0.data();
    double* __restrict yy = y.data();
    const Pipeline pipe = pipeline();
    const Slot* __restrict slot_begin = net.slot_begin.data();
    const double* __restrict slot_sum = slot_ordered.data();
    double* __restrict slot_got = slot_received.data();
    const Lane last = lane_begin[slot_begin[ie]];
    for (FirmId i = ib; i < ie; ++i) {
      double worst_fill = 1.0;
      bool any_short = false;
      for (Slot s = slot_begin[i]; s < slot_begin[i + 1]; ++s) {
        double received = 0.0;
        for (Lane l = lane_begin[s]; l < lane_begin[s + 1]; ++l) {
          // A gather from the suppliers' rules: ask for the line a few lanes ahead.
          if (l + kPrefetch < last) {
            if constexpr (kKind == RuleKind::kClasses)
              __builtin_prefetch(allot.data() + supplier[l + kPrefetch], 0, 0);
            else
              __builtin_prefetch(r + supplier[l + kPrefetch], 0, 0);
          }
          const double o = OO[l];
          const double sv = share ? serve(o, share[l], zz[l]) : o;
          double yl;
          if constexpr (kKind == RuleKind::kShare)
            yl = deliver_share(r[supplier[l]], sv);
          else if constexpr (kKind == RuleKind::kLevel)
            yl = deliver_level(r[supplier[l]], sv, zz[l]);
          else
            yl = detail::deliver(allot[supplier[l]], sv, zz[l], lane_class[l]);
          yy[l] = yl;
          received += yl;
          any_short |= yl < o;
          if constexpr (kTransit == Transit::kFullRings)
            pipe.ship_full(l, yl, zz[l]);
          else if constexpr (kTransit == Transit::kRings)
            pipe.ship(l, yl, zz[l]);
        }
        slot_got[s] = received;
        if (slot_sum[s] > 0.0) worst_fill = std::min(worst_fill, received / slot_sum[s]);
      }
      end_of_day(i, t, worst_fill, any_short);
    }
  }

  template <RuleKind kKind>
  void ship_by_lead(FirmId ib, FirmId ie, int t) {
    if (unit_lead)
      ship_lanes<Transit::kUnitLead, kKind>(ib, ie, t);
    else if (fixed_lead)
      ship_lanes<Transit::kFullRings, kKind>(ib, ie, t);
    else
      ship_lanes<Transit::kRings, kKind>(ib, ie, t);
  }

  // ---- shipping, bookkeeping and step 7 (recovery), per buyer --------------------------------
  /// Shipping for the buyers [ib, ie), then each one's end of the day.
  void ship_range(FirmId ib, FirmId ie, int t) {
    expect_phase(Phase::kShipping);
    if (slot_extra.empty()) {
      switch (scenario.model.rationing) {
        case Rationing::kWaterfill:
          ship_by_lead<RuleKind::kLevel>(ib, ie, t);
          break;
        case Rationing::kPriority:
          ship_by_lead<RuleKind::kClasses>(ib, ie, t);
          break;
        default:
          ship_by_lead<RuleKind::kShare>(ib, ie, t);
      }
      return;
    }
    const Pipeline pipe = pipeline();
    for (FirmId i = ib; i < ie; ++i) {
      double worst_fill = 1.0;
      bool short_today = false;
      for (Slot s = net.slot_begin[i]; s < net.slot_begin[i + 1]; ++s) {
        double received = 0.0;
        for_slot_lanes(s, [&](Lane l) {
          const double yl = delivery(l, sup(l));
          y[l] = yl;
          received += yl;
          if (yl < O[l]) short_today = true;
          if (!unit_lead) pipe.ship(l, yl, z0[l]);
        });
        slot_received[s] = received;
        if (slot_ordered[s] > 0.0) worst_fill = std::min(worst_fill, received / slot_ordered[s]);
      }
      end_of_day(i, t, worst_fill, short_today);
    }
  }

  /// Buyer i's bookkeeping once its deliveries are in (worst_fill: the lowest share of a
  /// slot's orders delivered; short_today: a lane got less than it ordered), step 7 and
  /// section 6's overproduction capacity.
  void end_of_day(FirmId i, int t, double worst_fill, bool short_today) {
    input_short[i] = 1.0 - worst_fill;
    if (short_today && first_short[i] < 0) first_short[i] = t;
    // Step 7: recovery at the end of the day.
    if (delta[i] > 0.0) {
      switch (RecoveryType(recovery_type[i])) {
        case RecoveryType::kLinear:
          delta[i] = std::max(0.0, delta[i] - delta0[i] / recovery_rate[i]);
          break;
        case RecoveryType::kExponential:
          delta[i] *= recovery_rate[i];
          break;
        case RecoveryType::kStep:
        case RecoveryType::kNone:
          break;
      }
    }
    // Section 6: overproduction capacity follows scarcity (alpha stays 1 when alpha_max = 1).
    if (overproduction) {
      const double d = D[i], xi = x_new[i], tau_a = scenario.model.tau_alpha;
      const double scarcity = d > 0.0 ? (d - xi) / d : 0.0;
      if (scarcity > 0.0)
        alpha[i] += (alpha_max[i] - alpha[i]) * scarcity / tau_a;
      else
        alpha[i] += (1.0 - alpha[i]) / tau_a;
    }
  }

  /// f(begin, end) over consecutive ranges of all firms, in parallel (work stealing over chunks
  /// that TBB splits no finer than 256 firms; one range on one thread). Each phase loops over a
  /// whole range, its arrays' pointers loaded once per range, not once per firm.
  template <class F>
  void for_firm_ranges(F&& f) {
    const std::size_t n = world.num_firms();
    if (threads == 1) {
      f(FirmId(0), FirmId(n));
      return;
    }
    arena.execute([&] {
      tbb::parallel_for(
          tbb::blocked_range<std::size_t>(0, n, 256),
          [&](const tbb::blocked_range<std::size_t>& r) { f(FirmId(r.begin()), FirmId(r.end())); });
    });
  }

  // ---- one day: docs/model.md section 3, as a declared list of phases ----------------------
  /// The phases of a day, in order. The engine fuses the model's steps that loop over the same
  /// index: 3.2-3.3 per buyer, 3.4-3.6 per supplier, shipping and 3.7 per buyer again; the
  /// policies act at the fixed points section 3 names (section 6's ceilings after 3.1,
  /// sections 6-9 after every firm's 3.7).
  enum class Phase : std::uint8_t {
    kEvents,       // 3.1 events
    kPolicyStart,  // section 6: surge ceilings, right after 3.1
    kBuyers,       // 3.2 inventory, 3.3 orders, per buyer
    kSuppliers,    // 3.4 demand, 3.5 production, 3.6 rationing, per supplier
    kShipping,     // 3.6 shipping, 3.7 recovery (and section 6's alpha), per buyer
    kPolicyEnd,    // sections 6-9: shortage ratios, crisis mechanisms, stockpiles, new suppliers
    kMetrics,      // section 10: the day's country x material metrics (3.8 records them)
    kNone,         // between days
  };
  struct DayPhase {
    Phase phase;
    const char* model_steps;     ///< docs/model.md
    double PhaseTimes::*time;    ///< where --profile adds its seconds
    void (Impl::*run)(int t);
  };
  /// The phase running now; the phases' own loops check it in builds with assertions, so a
  /// phase called out of its place in the day fails there.
  Phase running = Phase::kNone;
  void expect_phase([[maybe_unused]] Phase p) const { assert(running == p); }

  void phase_events(int t) { apply_events(t); }
  void phase_policy_start(int t) {
    if (policies_on) policy_day_start(t);
  }
  void phase_buyers(int) {
    for_firm_ranges([&](FirmId ib, FirmId ie) { buyer_range(ib, ie); });
  }
  void phase_suppliers(int) {
    for_firm_ranges([&](FirmId jb, FirmId je) { supplier_range(jb, je); });
  }
  void phase_shipping(int t) {
    for_firm_ranges([&](FirmId ib, FirmId ie) { ship_range(ib, ie, t); });
    // Copied, not swapped: x stays the same buffer for the whole run, so that views of it
    // (Simulation::production, the Python API's numpy arrays) stay valid and see each day.
    for_firm_ranges([&](FirmId ib, FirmId ie) {
      std::copy(x_new.begin() + ib, x_new.begin() + ie, x.begin() + ib);
    });
  }
  void phase_policy_end(int t) {
    if (policies_on) policy_day_end(t);
  }
  void phase_metrics(int t) {
    if (!options.metrics) return;
    country_material<false>(metrics_day);
    metrics.add_day(t, metrics_day);
  }

  bool step() {
    // The day (the class is complete here, so its phases can be named).
    static constexpr DayPhase kDay[] = {
        {Phase::kEvents, "3.1", &PhaseTimes::events, &Impl::phase_events},
        {Phase::kPolicyStart, "6", &PhaseTimes::events, &Impl::phase_policy_start},
        {Phase::kBuyers, "3.2-3.3", &PhaseTimes::inventory_orders, &Impl::phase_buyers},
        {Phase::kSuppliers, "3.4-3.6", &PhaseTimes::demand_production_rationing,
         &Impl::phase_suppliers},
        {Phase::kShipping, "3.6-3.7", &PhaseTimes::shipping, &Impl::phase_shipping},
        {Phase::kPolicyEnd, "6-9", &PhaseTimes::policies, &Impl::phase_policy_end},
        {Phase::kMetrics, "10", &PhaseTimes::metrics, &Impl::phase_metrics},
    };
    if (day + 1 >= total_days) return false;
    const int t = ++day;
    using Clock = std::chrono::steady_clock;
    auto mark = profile ? Clock::now() : Clock::time_point{};
    for (const DayPhase& p : kDay) {
      running = p.phase;
      (this->*p.run)(t);
      if (profile) {
        const auto now = Clock::now();
        times.*p.time += std::chrono::duration<double>(now - mark).count();
        mark = now;
      }
    }
    running = Phase::kNone;
    // Never publish a NaN: the state is checked at the end of the run (and, in debug builds, on
    // every recorded day) before the recorder writes the day.
#ifndef NDEBUG
    if (t + 1 >= total_days || t % std::max(1, scenario.record.every) == 0) check_finite(t);
#else
    if (t + 1 >= total_days) check_finite(t);
#endif
    return true;
  }

  /// InternalError naming the first number of the state after day t that is not finite
  /// (firms' production, demand, capacity, final demand and deliveries; stocks, orders,
  /// shipments and goods in transit of every lane; stockpiles; the run metrics). A serial scan,
  /// once per run in release builds.
  void check_finite(int t) const {
    auto all_finite = [](const std::vector<double>& v) {
      bool ok = true;
      for (double d : v) ok &= std::abs(d) <= std::numeric_limits<double>::max();
      return ok;
    };
    auto fail = [&](const std::string& what, double v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", v);
      throw InternalError("day " + std::to_string(t) + ": " + what + " is " + buf +
                          ", not a finite number: the model's state overflowed (a bug, or an "
                          "input beyond the documented bounds); the run is stopped and no output "
                          "is written. Please report it with the scenario and world.");
    };
    auto check = [&](const std::vector<double>& v, const char* name, auto&& who) {
      if (all_finite(v)) return;
      for (std::size_t k = 0; k < v.size(); ++k)
        if (!std::isfinite(v[k])) fail(std::string(name) + " " + who(k), v[k]);
    };
    auto firm = [&](std::size_t i) { return "of firm '" + world.firm_id[i] + "'"; };
    auto lane = [&](std::size_t l) {
      return "of the link " + world.firm_id[sup(Lane(l))] + " -> " + world.firm_id[buy(Lane(l))];
    };
    auto slot = [&](std::size_t s) {
      return "of firm '" + world.firm_id[net.slot_firm[s]] + "' (input " +
             world.materials[net.slot_material[s]].id + ")";
    };
    check(x, "production", firm);
    check(D, "demand", firm);
    check(cap, "capacity", firm);
    check(C, "final demand", firm);
    check(C_want, "final demand wanted", firm);
    check(c, "final deliveries", firm);
    check(input_short, "input shortfall", firm);
    check(alpha, "overproduction", firm);
    check(slot_stock, "stock", slot);
    check(S, "stock", lane);
    check(O, "order", lane);
    check(y, "shipment", lane);
    check(ring_dev, "goods in transit", [](std::size_t) { return std::string("of a link"); });
    for (const auto& st : stockpiles)
      if (!std::isfinite(st.level))
        fail("the level of stockpile '" + scenario.policies[st.policy].name + "'", st.level);
    if (options.metrics) {
      const RunMetrics m = metrics.result();
      auto pair = [&](std::size_t k) {
        return "of " + world.countries[k / m.materials].code + " " +
               world.materials[k % m.materials].id;
      };
      check(m.output_lost_days, "output lost", pair);
      check(m.shortage_days, "input shortage", pair);
      check(m.unmet_final_days, "unmet final demand", pair);
      check(m.output_lost_units, "output lost (units)", pair);
      check(m.unmet_final_units, "unmet final demand (units)", pair);
    }
  }

  /// The input shortage of slot s today (model 10): max(0, A x~/x0 - S) with x~ = min(x^cap, D)
  /// and S the pooled stock after step 2; 0 for a firm without baseline output.
  [[nodiscard]] double slot_shortage(Slot s, FirmId i) const {
    if (!(x0[i] > 0.0)) return 0.0;
    const double sellable = std::min(cap[i], D[i]);
    return std::max(0.0, slot_A[s] * (sellable / x0[i]) - slot_stock[s]);
  }

  /// The day's country x material aggregates (model 10) into out's buffers. kAll false: the
  /// headline series alone (the same sums, so the same bits). The firms are summed in order
  /// within fixed blocks of at least kCmBlock firms (at most kCmMaxBlocks blocks: the blocks
  /// depend on the number of firms alone), the blocks in parallel, and the block sums added in
  /// block order: the same bits for any number of threads (and a single block, the plain sum in
  /// firm order, for worlds of up to kCmBlock firms).
  static constexpr std::size_t kCmBlock = 16384, kCmMaxBlocks = 64;
  template <bool kAll>
  void country_material(CountryMaterialDay& out) const {
    const std::size_t ncm = world.countries.size() * world.materials.size();
    const std::size_t n = world.num_firms();
    constexpr std::size_t kSeries = kAll ? 7 : 4;  // the last is the use, for inventory_days
    std::vector<double>* series[6] = {&out.production,         &out.output_lost,
                                      &out.shortage,           &out.unmet_final_demand,
                                      &out.order_backlog,      &out.inventory_days};
    for (std::size_t q = 0; q < (kAll ? 6 : 4); ++q) series[q]->assign(ncm, 0.0);
    const std::size_t blocks =
        std::min(kCmMaxBlocks, std::max<std::size_t>(1, n / kCmBlock));
    std::vector<double> use_sum(kAll ? ncm : 0, 0.0);
    auto block_range = [&](std::size_t b) {
      return std::pair{FirmId(b * n / blocks), FirmId((b + 1) * n / blocks)};
    };
    if (blocks == 1) {
      double* dst[7] = {series[0]->data(), series[1]->data(), series[2]->data(),
                        series[3]->data(), kAll ? series[4]->data() : nullptr,
                        kAll ? series[5]->data() : nullptr, use_sum.data()};
      cm_accumulate<kAll>(0, FirmId(n), dst);
    } else {
      std::vector<double> part(blocks * kSeries * ncm, 0.0);
      auto run_block = [&](std::size_t b) {
        double* dst[7];
        for (std::size_t q = 0; q < 7; ++q)
          dst[q] = q < kSeries ? part.data() + (b * kSeries + q) * ncm : nullptr;
        if constexpr (!kAll) dst[4] = dst[5] = dst[6] = nullptr;
        const auto [ib, ie] = block_range(b);
        cm_accumulate<kAll>(ib, ie, dst);
      };
      if (threads == 1) {
        for (std::size_t b = 0; b < blocks; ++b) run_block(b);
      } else {
        arena.execute([&] {
          tbb::parallel_for(tbb::blocked_range<std::size_t>(0, blocks, 1),
                            [&](const tbb::blocked_range<std::size_t>& r) {
                              for (std::size_t b = r.begin(); b < r.end(); ++b) run_block(b);
                            });
        });
      }
      for (std::size_t q = 0; q < kSeries; ++q) {
        double* total = q < 6 ? series[q]->data() : use_sum.data();
        for (std::size_t b = 0; b < blocks; ++b) {
          const double* p = part.data() + (b * kSeries + q) * ncm;
          for (std::size_t k = 0; k < ncm; ++k) total[k] += p[k];
        }
      }
    }
    if constexpr (kAll) {
      double* stock = out.inventory_days.data();
      for (std::size_t k = 0; k < ncm; ++k)
        stock[k] = use_sum[k] > 0.0 ? stock[k] / use_sum[k] : kNaN;
    }
  }

  /// country_material's sums over the firms [ib, ie), in firm order, into dst: production,
  /// output lost, shortage, unmet final demand, and with kAll the order backlog, the stock and
  /// the use.
  template <bool kAll>
  void cm_accumulate(FirmId ib, FirmId ie, double* const* dst) const {
    const std::size_t nm = world.materials.size();
    double* __restrict production = dst[0];
    double* __restrict lost = dst[1];
    double* __restrict shortage = dst[2];
    double* __restrict unmet_final = dst[3];
    double* __restrict backlog = dst[4];
    double* __restrict stock = dst[5];
    double* __restrict use = dst[6];
    const auto& dest_begin = world.final_dest_begin;
    const auto& dest_country = world.final_dest_country;
    for (FirmId i = ib; i < ie; ++i) {
      const CountryId ci = world.firm_country[i];
      const MaterialId pi = world.firm_material[i];
      const std::size_t country = ci * nm;
      const std::size_t own = country + pi;
      production[own] += x[i];
      lost[own] += std::max(0.0, x0[i] - x[i]);
      // Unmet final demand, attributed to the destination (model 10).
      const std::uint32_t kb = dest_begin[i], ke = dest_begin[i + 1];
      if (ke == kb + 1 && dest_country[kb] == ci) {
        unmet_final[own] += C[i] - c[i];  // all at home: nothing can be capped
      } else if (ke > kb) {
        const double served = C[i] > 0.0 ? c[i] / C[i] : 0.0;
        for (std::uint32_t k = kb; k < ke; ++k) {
          const double claim = fd_capped.empty() ? final_want(i, k) : fd_capped[k];
          unmet_final[dest_country[k] * nm + pi] += final_want(i, k) - claim * served;
        }
      }
      for (Slot s = net.slot_begin[i]; s < net.slot_begin[i + 1]; ++s) {
        const std::size_t k = country + net.slot_material[s];
        shortage[k] += slot_shortage(s, i);
        if constexpr (kAll) {
          backlog[k] += slot_ordered[s] - slot_received[s];
          stock[k] += slot_stock[s];
          use[k] += slot_A[s];
        }
      }
    }
  }
};

}  // namespace shortfall
