// Internal: the mutable state of a run (engine::RunState), which a checkpoint stores whole, and
// the checks that every member of it is listed for the checkpoint (Simulation::Impl, engine.hpp,
// derives from it).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <tuple>
#include <vector>

#include "shortfall/simulation.hpp"
#include "util/fields.hpp"
#include "world/network.hpp"

namespace shortfall::engine {

using detail::Lane;

/// The mutable state of a run: what a day leaves for the next days and for the accessors and
/// recorders that read a day's results, and so exactly what a checkpoint stores (checkpoint.cpp
/// writes and reads it whole, member by member through fields(), for saving and loading alike).
/// Every member here is listed in fields(): the static_asserts below fail to compile otherwise.
/// What the set-up derives from the world and the scenario, what a day recomputes before
/// reading it, and what is rebuilt from this state after a load belong to Simulation::Impl
/// instead, each with a comment saying which.
struct RunState {
  int day = -1;  // the last simulated day

  // ---- firm state (index FirmId) ----
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
  // The run metrics of model 10, accumulated every day (RunOptions::metrics; empty without).
  MetricsAccumulator metrics;
  std::vector<std::uint8_t> recovery_type;
  std::vector<double> recovery_rate;  // linear: delta0/R is recomputed; exponential: factor

  // ---- slot state (index Slot: one per buyer and input material) ----
  std::vector<double> slot_A;         // A_ip = sum Z0
  std::vector<double> slot_n;         // n for this slot
  std::vector<double> slot_stock;     // S_ip after the day's update
  std::vector<double> slot_ordered;   // sum O (wanted)
  std::vector<double> slot_received;  // sum y shipped today
  // Distinct parts (model 3.5): per slot 1 where each lane carries its own part; empty where no
  // slot does. slot_limit: the stock the input limit and the input shortage read, A min_l S_l/Z0_l
  // on those slots, the pooled stock on the others (empty with slot_distinct).
  std::vector<std::uint8_t> slot_distinct;
  std::vector<double> slot_limit;

  // ---- lane state (index Lane: one per link, buyer-major; lanes added during the run last) ----
  std::vector<double> z0, S, O, y;
  std::vector<double> cap_share;  // export-control cap k, +inf where none; empty if no controls
  std::vector<std::int32_t> lead, base_lead;  // empty: lead_all_one; no transport_events
  std::vector<std::uint8_t> lane_class;       // priority class of the buyer for the supplier
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
  // Served orders by out-position (see Simulation::Impl::rule).
  std::vector<Lane> out_pos;  // lane -> out-position
  std::vector<double> o_out;
  // Waterfill and priority rationing read Z0 and the buyer's class per customer: supplier-major
  // copies keep those reads sequential (filled only for those rules).
  std::vector<double> z0_out;
  std::vector<std::uint8_t> class_out;
  // Lanes added during the run (new suppliers, sections 7-8): index >= num_links.
  std::vector<FirmId> extra_supplier, extra_buyer;  // by lane - num_links
  std::vector<std::vector<Lane>> slot_extra;  // per slot; left empty when no links can be added
  std::vector<std::vector<Lane>> out_extra;   // per firm; likewise

  // ---- policies (sections 6-9; policies.cpp) ----
  std::vector<double> alpha_max;  // per firm, current ceiling
  struct StockpileState {
    std::size_t policy = 0;
    CountryId country = 0;
    MaterialId material = 0;
    double initial = 0, level = 0, rate = 0;
    bool released = false;   // release switched on (by day, threshold or a crisis meeting)
    bool to_target = false;  // opened by a cover trigger: fills gaps to stock targets
    template <class Self>    // every member (the set-up's too: a checkpoint restores them as set)
    static auto fields(Self& s) {
      return std::tie(s.policy, s.country, s.material, s.initial, s.level, s.rate, s.released,
                      s.to_target);
    }
  };
  struct MechanismState {
    std::size_t policy = 0;
    std::vector<bool> member;     // by country
    std::vector<int> above_days;  // by country x material: consecutive days over trigger
    std::vector<int> request_day, meeting_day, implementation_day;  // by country x material
    template <class Self>
    static auto fields(Self& s) {
      return std::tie(s.policy, s.member, s.above_days, s.request_day, s.meeting_day,
                      s.implementation_day);
    }
  };
  std::vector<StockpileState> stockpiles;  // one per stockpile policy (the set-up's number)
  std::vector<MechanismState> mechanisms;  // one per crisis-response policy (likewise)
  std::vector<double> cm_ratio;            // today's input shortage / baseline use
  std::vector<double> cm_cover;            // today's inventory cover (days of use)
  std::vector<std::uint16_t> low_days;     // per slot: consecutive days below theta
  struct CrisisSurge {
    std::vector<bool> member;
    MaterialId material = 0;
    double alpha_max = 1.0;
    template <class Self>
    static auto fields(Self& s) {
      return std::tie(s.member, s.material, s.alpha_max);
    }
  };
  std::vector<CrisisSurge> crisis_surges;  // implemented by crisis meetings

  // ---- events ----
  std::vector<EventRecord> log;

  /// Every member above, in the order of the checkpoint file.
  template <class Self>
  static auto fields(Self& s) {
    return std::tie(
        s.day, s.x, s.x_new, s.D, s.cap, s.C, s.c, s.delta, s.delta0, s.input_short, s.x_inp,
        s.alpha, s.binding, s.first_short, s.demand_factor, s.fd_share, s.fd_capped, s.C_want,
        s.metrics, s.recovery_type, s.recovery_rate, s.slot_A, s.slot_n, s.slot_stock,
        s.slot_ordered, s.slot_received, s.slot_distinct, s.slot_limit, s.z0, s.S, s.O, s.y,
        s.cap_share, s.lead, s.base_lead, s.lane_class, s.ring_off, s.ring_len, s.ring_dev,
        s.ring_cnt, s.transit_cnt, s.transit_nz, s.ring_pos, s.out_pos, s.o_out, s.z0_out,
        s.class_out, s.extra_supplier, s.extra_buyer, s.slot_extra, s.out_extra, s.alpha_max,
        s.stockpiles, s.mechanisms, s.cm_ratio, s.cm_cover, s.low_days, s.crisis_surges, s.log);
  }
};
// A member added above but not to its struct's fields() fails here: list it there (it is
// state), or move it to Simulation::Impl with a comment on how it is set up or rebuilt.
static_assert(util::lists_every_member<RunState>(), "RunState::fields() misses a member");
static_assert(util::lists_every_member<RunState::StockpileState>());
static_assert(util::lists_every_member<RunState::MechanismState>());
static_assert(util::lists_every_member<RunState::CrisisSurge>());
static_assert(util::lists_every_member<EventRecord>());
static_assert(util::lists_every_member<RunMetrics>());

// MetricsAccumulator's members are private (not an aggregate to count): its size against theirs
// catches a member added without being listed in its fields() or marked as not state, unless
// it is small enough to fit in the padding after its last int.
struct MetricsAccumulatorMembers {
  PairBaselines base;
  RunMetrics m;
  std::vector<std::int32_t> last_unrecovered;
  int last_day;
};
static_assert(
    sizeof(MetricsAccumulator) == sizeof(MetricsAccumulatorMembers),
    "MetricsAccumulator has a new member: add it to its fields() (or say it is not state)");

/// The state's bytes in a checkpoint, as Simulation::save_checkpoint writes and load_checkpoint
/// reads them (checkpoint.cpp; read_state throws InputError on a truncated stream).
void write_state(std::ostream& out, const RunState& state);
void read_state(std::istream& in, RunState& state);

}  // namespace shortfall::engine
