// Step 3.6's shipping and step 3.7 (docs/model.md), per buyer: each lane's delivery from its
// supplier's rule, the in-transit pipeline, and recovery of capacity.
#include "engine/engine.hpp"

namespace shortfall {

// Inlined into the shipping loops: a call per firm (most firms have a handful of lanes) cost
// 3-7% of the shipping phase (day against day by the day's parity, peer-like 100k world).
[[gnu::always_inline]] inline void Simulation::Impl::end_of_day(FirmId i, int t, double worst_fill,
                                                                bool short_today) {
  input_short[i] = 1.0 - worst_fill;
  // Without a branch (t where the mask is all ones, first where it is zero): which firms run
  // short changes from day to day, and the branch had mispredicted on about one firm in four
  // that did (peer-like world). GCC turns a select into a branch on first < 0.
  const std::int32_t first = first_short[i];
  first_short[i] = first + ((t - first) & -std::int32_t(short_today & (first < 0)));
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

template <Simulation::Impl::Transit kTransit, Simulation::Impl::RuleKind kKind>
void Simulation::Impl::ship_lanes(FirmId ib, FirmId ie, int t) {
  const Lane* __restrict lane_begin = net.slot_lane_begin.data();
  const FirmId* __restrict supplier = net.lane_supplier.data();
  const double* __restrict r = rule.data();
  const double* __restrict O_wanted = O.data();  // O_ji as wanted (model 3.3), by lane
  const double* __restrict share = cap_share.empty() ? nullptr : cap_share.data();
  const double* __restrict zz = z0.data();
  double* __restrict yy = y.data();
  const Pipeline pipe = pipeline();
  const Slot* __restrict slot_begin = net.slot_begin.data();
  const double* __restrict slot_sum = slot_ordered.data();
  double* __restrict slot_got = slot_received.data();
  const Lane last = lane_begin[slot_begin[ie]];
  // One lane: its delivery y_ji (model 3.6), written and put in transit; the slot's sum and
  // the firm's shortfall flag are the caller's.
  bool any_short = false;
  auto ship_lane = [&](Lane l) __attribute__((always_inline)) {
    // A gather from the suppliers' rules: ask for the line a few lanes ahead.
    if (l + kPrefetch < last) {
      if constexpr (kKind == RuleKind::kClasses)
        __builtin_prefetch(allot.data() + supplier[l + kPrefetch], 0, 0);
      else
        __builtin_prefetch(r + supplier[l + kPrefetch], 0, 0);
      // and the ring slot today's shipment goes to (full rings: the one of today's arrivals).
      if constexpr (kTransit == Transit::kFullRings) pipe.prefetch_today(l + kPrefetch);
    }
    const double o = O_wanted[l];
    const double sv = share ? serve(o, share[l], zz[l]) : o;
    double yl;
    if constexpr (kKind == RuleKind::kShare)
      yl = deliver_share(r[supplier[l]], sv);
    else if constexpr (kKind == RuleKind::kLevel)
      yl = deliver_level(r[supplier[l]], sv, zz[l]);
    else
      yl = detail::deliver(allot[supplier[l]], sv, zz[l], lane_class[l]);
    yy[l] = yl;
    any_short |= yl < o;
    if constexpr (kTransit == Transit::kFullRings)
      pipe.ship_full(l, yl, zz[l]);
    else if constexpr (kTransit == Transit::kRings)
      pipe.ship(l, yl, zz[l]);
    return yl;
  };
  for (FirmId i = ib; i < ie; ++i) {
    double worst_fill = 1.0;
    any_short = false;
    for (Slot s = slot_begin[i]; s < slot_begin[i + 1]; ++s) {
      double received = 0.0;
      const Lane lb = lane_begin[s], le = lane_begin[s + 1];
      if (le - lb == 1) {
        // A slot of one lane (88% of the slots on the peer-like world) without the loop: the
        // slot's sum is 0.0 + its delivery. 0.89-0.98 of the shipping phase there, day
        // against day.
        received = 0.0 + ship_lane(lb);
      } else {
        for (Lane l = lb; l < le; ++l) received += ship_lane(l);
      }
      slot_got[s] = received;
      // Received in full: the fill is >= 1 >= worst_fill, so min leaves worst_fill (without
      // the division, whose latency held the loop up).
      const double ordered = slot_sum[s];
      if (ordered > 0.0 && !(received >= ordered))
        worst_fill = std::min(worst_fill, received / ordered);
    }
    end_of_day(i, t, worst_fill, any_short);
  }
}

template <Simulation::Impl::RuleKind kKind, bool kFew>
void Simulation::Impl::ship_one_lane(FirmId ib, FirmId ie, int t) {
  const Lane* __restrict lane_begin = net.slot_lane_begin.data();
  const FirmId* __restrict slot_firm = net.slot_firm.data();
  const FirmId* __restrict supplier = net.lane_supplier.data();
  const double* __restrict r = rule.data();
  const double* __restrict O_wanted = O.data();
  const double* __restrict share = cap_share.empty() ? nullptr : cap_share.data();
  const double* __restrict zz = z0.data();
  double* __restrict yy = y.data();
  const double* __restrict slot_sum = slot_ordered.data();
  double* __restrict slot_got = slot_received.data();
  const bool keep_sums = !slot_sums_left;
  const Slot* __restrict ones = one_slot.data();
  const Slot* __restrict several = multi_slot.data();
  const std::uint32_t ones_end = one_begin[ie], multi_end = multi_begin[ie];
  // kFew: see the declaration (engine.hpp).
  const std::uint64_t* __restrict rationing = rationing_bits.data();
  const double in_full = rule_in_full();
  auto rule_of = [&](FirmId j) __attribute__((always_inline)) {
    return kFew ? rule_at(rationing, r, j, in_full) : r + j;
  };
  // Lane l's delivery y_ji (model 3.6), as ship_lanes's, under the rule at `code` (share and
  // level kinds).
  auto deliver_by = [&](Lane l, const double* code) __attribute__((always_inline)) {
    const double sv = share ? serve(O_wanted[l], share[l], zz[l]) : O_wanted[l];
    if constexpr (kKind == RuleKind::kShare)
      return deliver_share(*code, sv);
    else if constexpr (kKind == RuleKind::kLevel)
      return deliver_level(*code, sv, zz[l]);
    else
      return detail::deliver(allot[supplier[l]], sv, zz[l], lane_class[l]);
  };
  auto deliver_lane = [&](Lane l) __attribute__((always_inline)) {
    return deliver_by(l, kKind == RuleKind::kClasses ? nullptr : rule_of(supplier[l]));
  };
  auto prefetch_rule = [&](Lane l) __attribute__((always_inline)) {
    if constexpr (kKind == RuleKind::kClasses)
      __builtin_prefetch(allot.data() + supplier[l], 0, 0);
    else
      __builtin_prefetch(rule_of(supplier[l]), 0, 0);
  };
  double worst_of[kSlotBlock];  // the lowest fill of the firm's slots (ship_lanes's worst_fill)
  std::uint8_t short_of[kSlotBlock];  // a lane of the firm got less than it ordered
  // The slot's fill into its firm's lowest (the minimum of the same values: the same bits in
  // any order; received never -0.0). A slot of one lane's sums are 0.0 + its lane's O and y,
  // what the buyer and ship_one write into slot_ordered and slot_received where they keep them.
  auto fill = [&](double ordered, double received, FirmId f) __attribute__((always_inline)) {
    if (ordered > 0.0 && !(received >= ordered))
      worst_of[f] = std::min(worst_of[f], received / ordered);
  };
  // The slots of one lane that got less than they ordered (y < O: the only ones whose fill can
  // lower the lowest), listed without a branch and filled after their loop: fill's branch,
  // taken on the slots short today, scattered through the network, had mispredicted there.
  std::uint32_t short_k[2 * kShortChunk];
  std::uint32_t rationed_k[kFew ? kShortChunk : 1];
  for (FirmId b = ib; b < ie; b += kSlotBlock) {
    const FirmId e = std::min<FirmId>(ie, b + kSlotBlock);
    std::fill(worst_of, worst_of + (e - b), 1.0);
    std::fill(short_of, short_of + (e - b), std::uint8_t(0));
    for (std::uint32_t k0 = one_begin[b], ke = one_begin[e]; k0 < ke; k0 += kShortChunk) {
      const std::uint32_t k1 = std::min<std::uint32_t>(ke, k0 + kShortChunk);
      std::uint32_t n_short = 0, n_rationed = 0;
      auto ship_one = [&](std::uint32_t k, Slot s, Lane l, double yl)
          __attribute__((always_inline)) {
        yy[l] = yl;
        const bool short_lane = yl < O_wanted[l];
        short_of[slot_firm[s] - b] |= short_lane;
        if (keep_sums) slot_got[s] = 0.0 + yl;
        short_k[n_short] = k;
        n_short += short_lane;
      };
      for (std::uint32_t k = k0; k < k1; ++k) {
        const Slot s = ones[k];
        const Lane l = lane_begin[s];
        if constexpr (kFew) {
          const FirmId j = supplier[l];
          rationed_k[n_rationed] = k;
          n_rationed += rations(rationing, j);
          ship_one(k, s, l, deliver_by(l, &in_full));
        } else {
          prefetch_rule(lane_begin[ones[k + kPrefetch < ones_end ? k + kPrefetch : k]]);
          ship_one(k, s, l, deliver_lane(l));
        }
      }
      if constexpr (kFew) {
        for (std::uint32_t q = 0; q < n_rationed; ++q) {
          const std::uint32_t ahead =
              rationed_k[q + kMultiAhead < n_rationed ? q + kMultiAhead : q];
          __builtin_prefetch(r + supplier[lane_begin[ones[ahead]]], 0, 0);
          const std::uint32_t k = rationed_k[q];
          const Slot s = ones[k];
          const Lane l = lane_begin[s];
          ship_one(k, s, l, deliver_by(l, r + supplier[l]));
        }
      }
      for (std::uint32_t q = 0; q < n_short; ++q) {
        const Slot s = ones[short_k[q]];
        fill(0.0 + O_wanted[lane_begin[s]], 0.0 + yy[lane_begin[s]], slot_firm[s] - b);
      }
    }
    for (std::uint32_t k = multi_begin[b], ke = multi_begin[e]; k < ke; ++k) {
      const Slot s = several[k];
      const Lane ahead = lane_begin[several[k + kMultiAhead < multi_end ? k + kMultiAhead : k]];
      prefetch_rule(ahead);
      prefetch_rule(ahead + 1);
      const FirmId f = slot_firm[s] - b;
      double received = 0.0;
      for (Lane l = lane_begin[s]; l < lane_begin[s + 1]; ++l) {
        const double yl = deliver_lane(l);
        yy[l] = yl;
        short_of[f] |= yl < O_wanted[l];
        received += yl;
      }
      slot_got[s] = received;
      fill(slot_sum[s], received, f);
    }
    for (FirmId i = b; i < e; ++i) end_of_day(i, t, worst_of[i - b], short_of[i - b] != 0);
  }
}

template <Simulation::Impl::RuleKind kKind>
void Simulation::Impl::ship_by_lead(FirmId ib, FirmId ie, int t) {
  if (unit_lead && !one_slot.empty() && kKind != RuleKind::kClasses && few_rationers)
    ship_one_lane<kKind, true>(ib, ie, t);
  else if (unit_lead && !one_slot.empty())
    ship_one_lane<kKind, false>(ib, ie, t);
  else if (unit_lead)
    ship_lanes<Transit::kUnitLead, kKind>(ib, ie, t);
  else if (fixed_lead)
    ship_lanes<Transit::kFullRings, kKind>(ib, ie, t);
  else
    ship_lanes<Transit::kRings, kKind>(ib, ie, t);
}

void Simulation::Impl::ship_range(FirmId ib, FirmId ie, int t) {
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

}  // namespace shortfall
