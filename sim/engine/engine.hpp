// Internal: the state and phases of one simulation (Simulation::Impl). The core phases
// (docs/model.md 3-5) are defined here; policies (sections 6-9) in policies.cpp.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <thread>
#include <tuple>

#include "engine/kernels.hpp"
#include "engine/pipeline.hpp"
#include "engine/run_state.hpp"
#include "shortfall/error.hpp"
#include "shortfall/simulation.hpp"
#include "util/fields.hpp"
#include "util/text.hpp"
#include "world/network.hpp"
#include "world/selection.hpp"

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

using util::join;

}  // namespace engine

using namespace engine;

/// A run: its set-up (world, scenario, options, what they imply) and, as its base, the state
/// (RunState). Data members here are NOT in a checkpoint: each is set up from the world,
/// scenario and options, recomputed every day before it is read, or rebuilt after a load
/// (Impl::load). State that a later day reads belongs in RunState.
struct Simulation::Impl : RunState {
  const World& world;
  const detail::Network& net;
  Scenario scenario;
  int total_days;
  int threads;
  mutable tbb::task_arena arena;  // mutable: country_material (const) runs in it too
  double inv_tau;
  const std::atomic<bool>* cancel;
  RunOptions options;
  bool profile;
  PhaseTimes times;  // --profile's seconds of this process (a resumed run counts afresh)

  // ---- firms (index FirmId): set up from the world and scenario ----
  const std::vector<double>& x0;
  std::vector<double> cap_base;    // x0 / u0: capacity at delta = 0, alpha = 1 (model 3.5)
  std::vector<double> floor_x;     // x0 of by-product makers, else 0 (model 3.5); empty if none
  CountryMaterialDay metrics_day;  // the metrics' buffers: filled afresh every day, then read
  int metrics_day_full = -1;       // day whose metrics_day holds all 7 series (else -1); not state
  bool full_series = true;         // sum all 7 on recorded days; false in run() without a recorder
  bool planned_orders = true;      // orders: planned (x̂ from capacity and demand) or output_based
  bool destocking = false;

  using Pipeline = engine::Pipeline;  // pipeline.hpp
  Pipeline pipeline() {
    return {ring_off.data(), ring_len.data(),    ring_pos.data(),   ring_cnt.data(),
            ring_dev.data(), transit_cnt.data(), transit_nz.data(), lead.data()};
  }
  // Every lead time 1, no transport disruption possible: the pipeline is just yesterday's
  // deliveries y, no rings (the hot loop's fast path). lead_all_one: no such event at all either.
  bool unit_lead = false, lead_all_one = false, transport_events = false;
  [[nodiscard]] std::int32_t lead_of(Lane l) const { return lead_all_one ? 1 : lead[l]; }
  // Rings but no transport disruption that changes a lead time: every ring's length is its
  // lane's lead time and each slot holds exactly one shipment at the end of every day, so the
  // buyer and shipping loops leave the counts alone (arrive_full, ship_full).
  bool fixed_lead = false;
  enum class Transit { kUnitLead, kFullRings, kRings };  // how a firm's lanes keep the pipeline

  // Served orders (min(O, k Z0) under export controls) by out-position (net.out_lane order; a
  // lane added during the run has the out-position equal to its lane id): the buyer phase
  // scatters them once, the supplier phase streams through its customers' orders. Deliveries
  // flow back without a second scatter: the supplier leaves one number, `rule` (encoding below),
  // and the shipping phase computes each lane's delivery from it and its own served order.
  // rule and allot: written by every supplier every day before shipping reads them (not state).
  std::vector<double> rule;  // per supplier, today: see encode_* below
  // Where slots of one lane are listed, no export control can cap an order (so the served
  // order is O itself), no link can be added and the rationing rule reads no customer's order
  // (proportional, final demand last): the buyers do not scatter their orders, and the supplier
  // phase gathers each customer's from O through net.out_lane instead (the same values in the
  // same order). Set up once. The scattered store was the buyer phase's dearest access, and a
  // gathered line is read once where a scattered one is read and written back: on the peer-like
  // world the buyer phase takes 0.6 of its time, the supplier phase 1.5 of its own, the day
  // about 0.91 (docs/performance.md). o_out is then not written during the run; a checkpoint
  // fills it from O first (sync_served_orders), so that it holds what the scatter would have.
  bool gather_orders = false;
  void sync_served_orders();
  // Where slots of one lane are listed and no policy acts, on a day whose metrics sum the
  // headline series alone (all_series_on false): the buyer and shipping phases leave the
  // slot_ordered and slot_received of slots of one lane unwritten (each would be 0.0 + its
  // lane's O and y), as nothing reads them that day: ship_one_lane's fill takes a slot of one
  // lane's sums from its lane, and country_material's order backlog (on demand, through
  // Simulation::country_material) copies of the sums filled by one_lane_sums while this is
  // set. A checkpoint fills them first (sync_slot_sums). Set by each day's buyer phase; false
  // after a load (not state).
  bool slot_sums_left = false;
  void sync_slot_sums();
  /// The ordered and received sums of the slots of one lane, 0.0 + their lane's O and y, into
  /// ordered[s] and received[s]; the other slots' left as they are.
  void one_lane_sums(double* ordered, double* received) const;
  // Where slots of one lane are listed, the run keeps its metrics and no policy acts (so
  // nothing changes a slot's stock, use, or its firm's capacity and demand between the phases):
  // per firm, whether some slot's input shortage (model 10) is above 0 today, set by the
  // supplier phase of day slot_short_day (supplier_loop). The metrics pass leaves out the loop
  // over the slots of a block of firms none of which is set, on days that sum the headline
  // series alone: each of those slots adds max(0, A r - S) = +0.0 to a sum that is never -0,
  // which leaves its bits as they are. Empty otherwise; -1 after a load (not state).
  std::vector<std::uint8_t> slot_short;
  int slot_short_day = -1;
  // Where slots of one lane are listed: bit j clear where supplier j's rule today is its
  // in-full code (rule_in_full), written by the supplier phase for ship_one_lane, which then
  // reads the rule array only where the bit is set if few suppliers ration today
  // (few_rationers: fewer than one in kFewRationers). That array, 8 bytes a supplier, falls
  // out of the caches under the shipping phase's streams; these bits, 1/64 of it, stay (not
  // state: rewritten every day before they are read).
  std::vector<std::uint64_t> rationing_bits;
  // One in 8, between the peer-like world's shocks that were measured (session 25, shipping
  // phase, two threads): 5% of the suppliers rationing, about 0.85 of its time with the bits;
  // 15%, 0.95-0.97 of it without them (the rules gathered and prefetched, as before); 70%, the
  // same; with the bits alone, 1.3x.
  bool few_rationers = false;
  static constexpr std::size_t kFewRationers = 8;
  /// Supplier j's word of rationing_bits: the bits of the suppliers [max(jb, j's word's first),
  /// j] from bits, the others left as they are.
  void mark_rationing(FirmId jb, FirmId j, std::uint64_t bits);  // suppliers.cpp
  /// Supplier j's bit of rationing_bits (bits), 0 or 1.
  [[nodiscard]] static std::uint64_t rations(const std::uint64_t* bits, FirmId j) {
    return (bits[j >> 6] >> (j & 63)) & 1;
  }
  /// Where ship_one_lane reads supplier j's rule for slots of several lanes on days with few
  /// rationers: r + j where rationing_bits is set, &in_full (the same value) where it is clear.
  /// Chosen by a mask, since GCC turns the select of a pointer into a branch, which
  /// mispredicted on the scattered rationers. (r + j for every lane there, prefetched along
  /// the list as now: the shipping phase 1.08-1.1x slower, session 25.)
  [[nodiscard]] static const double* rule_at(const std::uint64_t* bits, const double* r, FirmId j,
                                             const double& in_full) {
    const std::uintptr_t mask = -std::uintptr_t(rations(bits, j));
    const auto full = reinterpret_cast<std::uintptr_t>(&in_full);
    const auto own = reinterpret_cast<std::uintptr_t>(r + j);
    return reinterpret_cast<const double*>(full ^ ((own ^ full) & mask));
  }
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
  // Waterfill's weight per supplier: its customers' Z0 summed in customers()' order, plus C0.
  // Kept between days; refresh_weight(j) wherever supplier j's customers' Z0 change. Derived,
  // not state: a checkpoint's load rebuilds it from z0_out and out_extra (refresh_weights).
  std::vector<double> wf_weight;

  // ---- lanes added during the run (new suppliers, sections 7-8): index >= num_links ----
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
  // ---- policies (sections 6-9; policies.cpp): set up by init_policies ----
  bool overproduction = false;                 // any alpha_max > 1 possible
  std::vector<double> cm_use;                  // baseline daily input use by country x material
  std::vector<std::vector<FirmId>> producers;  // per material (the world's firms)
  bool policies_on = false;
  void init_policies();
  void save(std::ostream& out) const;  // checkpoint.cpp
  void load(std::istream& in);
  void recompute_alpha_max(int t);
  [[nodiscard]] double control_share(FirmId supplier, FirmId buyer, int t) const;
  void policy_day_start(int t);
  void policy_day_end(int t);
  // policy_day_end's steps, in the order of docs/model.md section 3 (policies.cpp).
  void policy_ratios_today();
  std::vector<double>& usable_spare(std::vector<double>& spare) const;
  [[nodiscard]] double slot_fill(Slot s) const;
  void crisis_mechanisms(int t, std::vector<double>& spare);
  void release_stockpiles(int t);
  void new_suppliers(int t, std::vector<double>& spare);
  void switch_supplier(Slot s, int t, const std::vector<bool>* allowed_countries,
                       std::vector<double>& spare, const char* why);
  [[nodiscard]] bool blocked(FirmId supplier, FirmId buyer, int t) const;

  // ---- events: resolved against the world at set-up ----
  std::vector<FirmSet> event_firms;               // per scenario event
  std::vector<ExportControlReach> control_reach;  // per scenario event (none for other types)
  std::vector<double> slot_n_base;  // slot_n without front-loading (3.1); empty if no such event

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

  Impl(const World& w, const Scenario& s, RunOptions opt);
  // The set-up's steps, in order (setup.cpp).
  void init_firms();
  void init_lanes_and_slots();
  void spread_inventory_targets();
  std::vector<std::int32_t> init_events();
  void init_rationing();
  void init_pipeline(const std::vector<std::int32_t>& max_lead);

  /// With --threads 0: one thread per 100,000 links, up to the hardware's threads (a small
  /// world's day is too short to amortise the barriers between phases).
  static int default_threads(const World& w);

  bool firm_selected(const Selector& sel, const std::vector<bool>& cmask,
                     const std::vector<bool>& exc, const std::vector<bool>& mmask,
                     const std::vector<bool>& mexc, FirmId i) const {
    return cmask[world.firm_country()[i]] && !exc[world.firm_country()[i]] &&
           mmask[world.firm_material()[i]] && !mexc[world.firm_material()[i]] && (void(sel), true);
  }

  FirmSet resolve_firms(const Event& ev) const;

  bool between_match(const Event& ev, Lane l) const {
    return between_countries(ev, world.firm_country()[sup(l)], world.firm_country()[buy(l)]);
  }
  bool between_countries(const Event& ev, CountryId a, CountryId b) const {
    if (a == b) return false;  // trade cuts and transport disruptions act across borders
    auto in = [&](const std::vector<std::string>& side, CountryId c) {
      return world.country_in(c, side);
    };
    return (in(ev.side_a, a) && in(ev.side_b, b)) || (in(ev.side_b, a) && in(ev.side_a, b));
  }

  bool active(const Event& ev, int t) const { return t >= ev.start && (!ev.end || t < *ev.end); }
  // ---- phase 1: events ---------------------------------------------------------------------
  void apply_events(int t);

  /// Final users' wants C0_{j,d} f_j (f: today's demand-shock factor), summed per firm as
  /// f_j C0_j less what export controls cap on each destination (model 3.4, 4), so that C_j
  /// is exactly f_j C0_j where no cap applies; fd_capped keeps each destination's capped claim.
  void recompute_final_demand();
  /// What the final users of destination entry k wanted today, before any cap.
  [[nodiscard]] double final_want(FirmId j, std::uint32_t k) const {
    return world.final_dest_amount()[k] * demand_factor[j];
  }
  void recompute_controls(int t);
  void recompute_stock_targets(int t);  // slot_n: slot_n_base + active front-loading (3.1)

  // ---- phases 2-3: inventory and orders, per buyer -------------------------------------------
  // Lanes ahead for the scattered and gathered accesses (the buyer phase's served orders, the
  // shipping phase's rules). 32, not 16: day against day by the day's parity, the buyer phase
  // takes 0.89-0.90 of its time on the 1M/5M synthetic world, 0.91-0.94 on the 100k ones (the
  // peer-like world too), and the shipping phase 0.93-0.95; 64 no better than 32-40.
  static constexpr Lane kPrefetch = 32;
  /// Firms a block of the loops over listed slots holds its per-firm values for (the ratios,
  /// fills, input limits; buyer_one_lane, ship_one_lane, supplier_loop, cm_accumulate).
  static constexpr FirmId kSlotBlock = 256;
  /// Slots ahead on the list of slots of several lanes for the same accesses (their first two
  /// lanes; the lanes just ahead in lane order belong mostly to slots of one lane, which the
  /// loop before had already fetched). ship_one_lane's second pass over the lanes of rationing
  /// suppliers looks the same distance ahead along its own list.
  static constexpr std::uint32_t kMultiAhead = 8;
  /// Slots of one lane a chunk of ship_one_lane's loop lists its short slots for (on the stack).
  static constexpr std::uint32_t kShortChunk = 512;

  /// Steps 2-3 for the buyers [ib, ie).
  void buyer_range(FirmId ib, FirmId ie);
  template <bool kClip>
  void buyer_by_lead(FirmId ib, FirmId ie);
  /// x / x0, the scale of a firm's input use and orders (0 for a firm without baseline output).
  [[nodiscard]] double output_ratio(FirmId i) const { return x0[i] > 0.0 ? x[i] / x0[i] : 0.0; }
  /// Today's capacity x^cap_i = alpha_i (1 - delta_i) x0_i / u0_i (model 3.3, 3.5).
  [[nodiscard]] double capacity_today(FirmId i) const {
    return alpha[i] * (1.0 - delta[i]) * cap_base[i];
  }
  /// x̂ / x0, the scale of a firm's stock targets (model 3.3): planned output
  /// min(x^cap(t), D(t-1)) under orders: planned (D(t-1) at least x0 for a by-product, 3.5),
  /// last output x(t-1) under output_based. Read in the buyer phase, before step 4 sets D.
  [[nodiscard]] double planned_ratio(FirmId i) const {
    if (!planned_orders) return output_ratio(i);
    const double d = floor_x.empty() ? D[i] : std::max(D[i], floor_x[i]);
    return x0[i] > 0.0 ? std::min(capacity_today(i), d) / x0[i] : 0.0;
  }

  /// The buyer phase over a firm's own contiguous lanes (no lanes added during the run), with
  /// the arrays behind restrict pointers. kUnitLead: every lead time is 1, so the pipeline is
  /// yesterday's delivery y (the hot loop of large worlds); otherwise the per-lane rings, full
  /// ones (fixed_lead) without touching the counts.
  /// The arithmetic is the same, operation for operation, as buyer_any's.
  template <Transit kTransit, bool kClip>
  void buyer_lanes(FirmId ib, FirmId ie);

  /// buyer_lanes at lead time 1 where slots of one lane are listed (88% of the slots on the
  /// peer-like world): per block of firms, those in one flat loop, then the others.
  /// kScatter false (gather_orders): the served orders are not scattered into o_out.
  template <bool kClip, bool kScatter>
  void buyer_one_lane(FirmId ib, FirmId ie);
  // Where every lead time is 1, some slot holds one lane and no link can be added: the slots
  // of one lane and of several, each in slot order, and each firm's first entry in each
  // (num_firms + 1); empty otherwise (list_one_lane_slots).
  std::vector<Slot> one_slot, multi_slot;
  std::vector<std::uint32_t> one_begin, multi_begin;
  void list_one_lane_slots();  // setup.cpp
  /// Sections 7-8 can add links during the run (substitution, crisis matching of suppliers).
  [[nodiscard]] bool links_can_be_added() const;

  /// The buyer phase in general: lanes added during the run (sections 7-8) included.
  void buyer_any(FirmId i, double xr, double xh);

  // ---- phases 4-6: demand, production, rationing, per supplier ------------------------------
  /// The order that can be served under export controls: min(O, k Z0) (section 4).
  double served_order(Lane l, double o) const {
    return cap_share.empty() ? o : serve(o, cap_share[l], z0[l]);
  }
  /// min(O, k Z0), O itself where no cap applies (k = inf: k z is inf, or NaN where z = 0).
  static double serve(double o, double k, double z) { return std::min(o, k * z); }
  static constexpr FirmId kSuppliersAhead = 8;  // suppliers ahead for waterfill's Z0 reads
  /// Customers of a supplier summed without a branch on the list's length (supplier_range).
  static constexpr Lane kListHead = 4;
  /// v where keep, else +0.0, without a branch (a mask on the bits).
  static double keep_or_zero(double v, bool keep) {
    std::uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    b &= -std::uint64_t(keep);
    std::memcpy(&v, &b, sizeof v);
    return v;
  }
  /// Steps 4-6 for the suppliers [jb, je), with the arrays behind restrict pointers; the
  /// rationing of a supplier that cannot serve everyone is left to ration().
  void supplier_range(FirmId jb, FirmId je);
  /// kByBlock: a block of firms at a time, where slots of one lane are listed (suppliers.cpp);
  /// kGather (gather_orders): the customers' orders read from O through net.out_lane.
  template <bool kByBlock, bool kGather>
  void supplier_loop(FirmId jb, FirmId je);
  /// Step 4's demand of supplier j (suppliers.cpp).
  template <bool kGather>
  double supplier_demand(FirmId j) const;
  /// Out-positions ahead that the gather of gather_orders asks for its orders' lines (64: the
  /// supplier phase faster than at 16, as fast as at 128 or 256; peer-like world, session 27).
  static constexpr Lane kGatherAhead = 64;

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
    wf_weight[j] = detail::waterfill_weight(customers(j, z0_out, buf), world.final_demand()[j]);
  }
  void refresh_weights() {
    for (FirmId j = 0; j < FirmId(wf_weight.size()); ++j) refresh_weight(j);
  }

  /// Step 6 for supplier j, which produces xj < its demand: its rule of the day and what its
  /// final users get (c). sc: the calling thread's scratch (found once per range of firms).
  std::pair<double, double> ration(FirmId j, double xj, double demand, Scratch& sc);

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
  void ship_lanes(FirmId ib, FirmId ie, int t);

  /// ship_lanes at lead time 1 where slots of one lane are listed (buyer_one_lane): per block
  /// of firms, those in one flat loop, then the others, then each firm's end of the day.
  /// kFew (few suppliers ration today, few_rationers; share and level rules): the flat loop
  /// delivers every lane as in full and lists the lanes whose suppliers ration
  /// (rationing_bits); those are delivered again after it under their rules, read with a
  /// prefetch along that list (the rules of rationing suppliers had been read on the loop's
  /// path, without one). A lane delivered again replaces its delivery and received sum, or-s in
  /// its shortfall flag (the first was for a delivery in full, never less than the rule's) and
  /// joins the short list if short (so twice at most: the fill is a minimum, its test kept).
  /// The slots of several lanes read a rule from the array only where the bit is set.
  template <RuleKind kKind, bool kFew>
  void ship_one_lane(FirmId ib, FirmId ie, int t);
  template <RuleKind kKind>
  void ship_by_lead(FirmId ib, FirmId ie, int t);

  // ---- shipping, bookkeeping and step 7 (recovery), per buyer --------------------------------
  /// Shipping for the buyers [ib, ie), then each one's end of the day.
  void ship_range(FirmId ib, FirmId ie, int t);

  /// Buyer i's bookkeeping once its deliveries are in (worst_fill: the lowest share of a
  /// slot's orders delivered; short_today: a lane got less than it ordered), step 7 and
  /// section 6's overproduction capacity.
  void end_of_day(FirmId i, int t, double worst_fill, bool short_today);

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
    const char* model_steps;   ///< docs/model.md
    double PhaseTimes::*time;  ///< where --profile adds its seconds
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
  void phase_buyers(int t) {
    slot_sums_left = unit_lead && !one_slot.empty() && slot_extra.empty() && !policies_on &&
                     !(options.metrics && all_series_on(t));
    for_firm_ranges([&](FirmId ib, FirmId ie) { buyer_range(ib, ie); });
  }
  void phase_suppliers(int t) {
    for_firm_ranges([&](FirmId jb, FirmId je) { supplier_range(jb, je); });
    if (!slot_short.empty()) slot_short_day = t;
  }
  void phase_shipping(int t) {
    if (!rationing_bits.empty()) {
      std::size_t rationers = 0;
      for (std::uint64_t w : rationing_bits) rationers += std::size_t(std::popcount(w));
      few_rationers = rationers * kFewRationers < world.num_firms();
    }
    // Then each range's x from x_new (no range's shipping reads x). Copied, not swapped: x
    // stays the same buffer for the whole run, so that views of it (Simulation::production,
    // the Python API's numpy arrays) stay valid and see each day.
    for_firm_ranges([&](FirmId ib, FirmId ie) {
      ship_range(ib, ie, t);
      std::copy(x_new.begin() + ib, x_new.begin() + ie, x.begin() + ib);
    });
  }
  void phase_policy_end(int t) {
    if (policies_on) policy_day_end(t);
  }
  void phase_metrics(int t);  // aggregate.cpp
  /// Whether the metrics pass of day t sums every series (a day the scenario records, and the
  /// last), not the headline four alone; never where nothing reads them (full_series false).
  bool all_series_on(int t) const {
    return full_series && (t % std::max(1, scenario.record.every) == 0 || t + 1 >= total_days);
  }

  bool step();

  /// InternalError naming the first number of the state after day t that is not finite
  /// (firms' production, demand, capacity, final demand and deliveries; stocks, orders,
  /// shipments and goods in transit of every lane; stockpiles; the run metrics). A serial scan,
  /// once per run in release builds.
  void check_finite(int t) const;

  /// The input shortage of slot s today (model 10): max(0, A x~/x0 - S) with x~ = min(x^cap, D)
  /// and S the pooled stock after step 2 (A min_l S_l/Z0_l for distinct parts, model 3.5); 0 for
  /// a firm without baseline output.
  [[nodiscard]] double slot_shortage(Slot s, FirmId i) const {
    if (!(x0[i] > 0.0)) return 0.0;
    const double sellable = std::min(cap[i], D[i]);
    const double stock = slot_limit.empty() ? slot_stock[s] : slot_limit[s];
    return std::max(0.0, slot_A[s] * (sellable / x0[i]) - stock);
  }

  /// The day's country x material aggregates (model 10) into out's buffers. kAll false: the
  /// headline series alone (the same sums, so the same bits); kCover: the shortage and the
  /// inventory cover alone (the policies' triggers; the same bits again). The firms are summed in
  /// order within fixed blocks of at least kCmBlock firms (at most kCmMaxBlocks blocks: the blocks
  /// depend on the number of firms alone), the blocks in parallel, and the block sums added in
  /// block order: the same bits for any number of threads (and a single block, the plain sum in
  /// firm order, for worlds of up to kCmBlock firms).
  static constexpr std::size_t kCmBlock = 16384, kCmMaxBlocks = 64;
  template <bool kAll, bool kCover = false>
  void country_material(CountryMaterialDay& out) const;

  /// country_material's sums over the firms [ib, ie), in firm order, into dst: production,
  /// output lost, shortage, unmet final demand, and with kAll the order backlog, the stock and
  /// the use; with kCover the shortage, the stock and the use alone.
  /// kBySlot: the slots' sums for a block of 256 firms at a time, in one loop over its slots
  /// (the same terms in the same order into every sum; where slots of one lane are listed).
  /// short_firm (kBySlot): slot_short where it holds today's flags, else nullptr. ordered and
  /// received (kAll): each slot's sums of its orders and deliveries.
  template <bool kAll, bool kCover, bool kBySlot>
  void cm_accumulate(FirmId ib, FirmId ie, double* const* dst, const std::uint8_t* short_firm,
                     const double* ordered, const double* received) const;
};

}  // namespace shortfall
