// Steps 3.2-3.3 (docs/model.md), per buyer: arrivals and the draw-down of stocks (inventory), then
// orders.
#include "engine/engine.hpp"

namespace shortfall {

void Simulation::Impl::buyer_range(FirmId ib, FirmId ie) {
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
void Simulation::Impl::buyer_by_lead(FirmId ib, FirmId ie) {
  if (unit_lead && !one_slot.empty() && gather_orders)
    buyer_one_lane<kClip, false>(ib, ie);
  else if (unit_lead && !one_slot.empty())
    buyer_one_lane<kClip, true>(ib, ie);
  else if (unit_lead)
    buyer_lanes<Transit::kUnitLead, kClip>(ib, ie);
  else if (fixed_lead)
    buyer_lanes<Transit::kFullRings, kClip>(ib, ie);
  else
    buyer_lanes<Transit::kRings, kClip>(ib, ie);
}

template <Simulation::Impl::Transit kTransit, bool kClip>
void Simulation::Impl::buyer_lanes(FirmId ib, FirmId ie) {
  constexpr bool kUnitLead = kTransit == Transit::kUnitLead;
  const Lane* __restrict lane_begin = net.slot_lane_begin.data();
  const double* __restrict zz = z0.data();
  const double* __restrict yy = y.data();
  const Lane* __restrict pos = out_pos.data();
  double* __restrict SS = S.data();
  double* __restrict O_wanted = O.data();      // O_ji as wanted (model 3.3), by lane
  double* __restrict O_served = o_out.data();  // min(O_ji, k Z0) (section 4), by out-position
  const double* __restrict share = cap_share.empty() ? nullptr : cap_share.data();
  const Pipeline pipe = pipeline();
  const double itau = inv_tau;
  const Slot* __restrict slot_begin = net.slot_begin.data();
  // Look-ahead stays within this range's lanes: past it, another thread's buyers change the rings.
  const Lane last = lane_begin[slot_begin[ie]];
  const double* __restrict slot_days = slot_n.data();
  double* __restrict stock_after = slot_stock.data();
  const double* __restrict use = slot_A.data();
  double* __restrict slot_sum = slot_ordered.data();
  const std::uint8_t* __restrict distinct = slot_distinct.empty() ? nullptr : slot_distinct.data();
  double* __restrict limit = slot_limit.empty() ? nullptr : slot_limit.data();
  for (FirmId i = ib; i < ie; ++i) {
    const double xr = output_ratio(i), xh = planned_ratio(i);
    for (Slot s = slot_begin[i]; s < slot_begin[i + 1]; ++s) {
      const Lane lb = lane_begin[s], le = lane_begin[s + 1];
      const double n_days = slot_days[s];
      if (kUnitLead && le - lb == 1) {
        // A slot of one lane: the loops below for that one lane, straight, with the same
        // operations in the same order (the sums over the slot's lanes are 0.0 + that lane's
        // term). Not taken since buyer_one_lane takes every such slot at lead time 1; kept
        // because without it GCC 12 compiles the loops below into slower code: the synthetic
        // 100k world's buyer phase 3.08-3.16 against 2.72-2.76 ms a day (session 24).
        const Lane l = lb;
        __builtin_prefetch(O_served + pos[l + kPrefetch < last ? l + kPrefetch : l], 1, 0);
        const double z = zz[l];
        const double arrival = yy[l];
        const double pool = 0.0 + SS[l], pool0 = 0.0 + n_days * z;
        const double draw = detail::draw_down(z, xr, SS[l], n_days, pool, pool0, true);
        const double stock = detail::stock_after_day(SS[l], arrival, draw, detail::max0_select);
        SS[l] = stock;
        double restock = (n_days * z) * xh - stock;
        if constexpr (kClip) restock = detail::max0_select(restock);
        const double o = detail::max0_select(z * xr + restock * itau);  // (NaN -> 0)
        O_wanted[l] = o;
        const double served = share ? serve(o, share[l], z) : o;
        O_served[pos[l]] = served;
        stock_after[s] = 0.0 + stock;
        slot_sum[s] = 0.0 + o;
        // A slot of one lane is never a distinct one (setup), so its limit is its stock.
        if (limit) limit[s] = 0.0 + stock;
        continue;
      }
      double pool = 0.0, pool0 = 0.0;
      for (Lane l = lb; l < le; ++l) {
        pool += SS[l];
        pool0 += n_days * zz[l];
      }
      // Distinct parts (model 3.5): each lane is drawn as a single supplier's, Z0 xr.
      const bool own_part = distinct && distinct[s];
      const bool single = le - lb == 1 || own_part;
      double after = 0.0, ordered = 0.0, scarcest = std::numeric_limits<double>::infinity();
      // draw_down's pool0 / pool, divided once for the slot (the same quotient for each lane).
      const double pool_ratio = pool0 / pool;
      for (Lane l = lb; l < le; ++l) {
        // The scattered write below misses the cache; ask for its line a few lanes ahead.
        const Lane ahead = l + kPrefetch < last ? l + kPrefetch : l;
        __builtin_prefetch(O_served + pos[ahead], 1, 0);
        // Likewise the ring slot of today's arrivals (each lane's ring is its own cache line).
        if constexpr (!kUnitLead) pipe.prefetch_today(ahead);
        const double z = zz[l];
        double arrival, o;
        if constexpr (kUnitLead) {
          arrival = yy[l];  // shipped yesterday, nothing else in transit
        } else {
          // Arrivals due today (shipments of earlier days), then the rest of the pipeline.
          arrival = kTransit == Transit::kFullRings ? pipe.arrive_full(l, z) : pipe.arrive(l, z);
        }
        // Step 2.
        const double draw = pool > 0.0 && !single && z > 0.0
                                ? z * xr * (SS[l] / (n_days * z)) * pool_ratio  // draw_down's
                                : detail::draw_down(z, xr, SS[l], n_days, pool, pool0, single);
        const double stock = detail::stock_after_day(SS[l], arrival, draw, detail::max0_select);
        SS[l] = stock;
        after += stock;
        if (own_part) scarcest = std::min(scarcest, stock / z);
        // Step 3.
        if constexpr (kUnitLead) {
          double restock = (n_days * z) * xh - stock;
          if constexpr (kClip) restock = detail::max0_select(restock);
          o = detail::max0_select(z * xr + restock * itau);  // (NaN -> 0)
        } else {
          // (A full ring holds one shipment a day of lead time, less the one just arrived.)
          const std::int32_t shipments =
              kTransit == Transit::kFullRings ? pipe.lead[l] - 1 : pipe.n_transit[l];
          o = detail::order_for(z, xr, xh, kClip, n_days, stock, pipe.lead[l], shipments,
                                pipe.deviation_in_transit(l), itau, detail::max0_select);
        }
        O_wanted[l] = o;
        const double served = share ? serve(o, share[l], z) : o;
        O_served[pos[l]] = served;
        ordered += o;
      }
      stock_after[s] = after;
      slot_sum[s] = ordered;
      if (limit) limit[s] = own_part ? use[s] * scarcest : after;
    }
  }
}

template <bool kClip, bool kScatter>
void Simulation::Impl::buyer_one_lane(FirmId ib, FirmId ie) {
  const Lane* __restrict lane_begin = net.slot_lane_begin.data();
  const FirmId* __restrict slot_firm = net.slot_firm.data();
  const double* __restrict zz = z0.data();
  const double* __restrict yy = y.data();
  const Lane* __restrict pos = out_pos.data();
  double* __restrict SS = S.data();
  double* __restrict O_wanted = O.data();
  double* __restrict O_served = o_out.data();
  const double* __restrict share = cap_share.empty() ? nullptr : cap_share.data();
  const double itau = inv_tau;
  const double* __restrict slot_days = slot_n.data();
  double* __restrict stock_after = slot_stock.data();
  const double* __restrict use = slot_A.data();
  double* __restrict slot_sum = slot_ordered.data();
  const bool keep_sums = !slot_sums_left;
  const std::uint8_t* __restrict distinct = slot_distinct.empty() ? nullptr : slot_distinct.data();
  double* __restrict limit = slot_limit.empty() ? nullptr : slot_limit.data();
  const Slot* __restrict ones = one_slot.data();
  const Slot* __restrict several = multi_slot.data();
  const std::uint32_t ones_end = one_begin[ie], multi_end = multi_begin[ie];
  double xr_of[kSlotBlock], xh_of[kSlotBlock];  // x/x0 and x^/x0 of the block's firms
  for (FirmId b = ib; b < ie; b += kSlotBlock) {
    const FirmId e = std::min<FirmId>(ie, b + kSlotBlock);
    for (FirmId i = b; i < e; ++i) {
      xr_of[i - b] = output_ratio(i);
      xh_of[i - b] = planned_ratio(i);
    }
    // The block's slots of one lane: buyer_lanes's operations for one lane, in the same order
    // (the sums over the slot's lanes are 0.0 + that lane's term).
    for (std::uint32_t k = one_begin[b], ke = one_begin[e]; k < ke; ++k) {
      const Slot s = ones[k];
      const Lane l = lane_begin[s];
      // The scattered write below misses the cache; ask for its line a few slots ahead.
      if constexpr (kScatter) {
        const std::uint32_t ahead = k + kPrefetch < ones_end ? k + kPrefetch : k;
        __builtin_prefetch(O_served + pos[lane_begin[ones[ahead]]], 1, 0);
      }
      const double xr = xr_of[slot_firm[s] - b], xh = xh_of[slot_firm[s] - b];
      const double n_days = slot_days[s];
      const double z = zz[l];
      const double pool = 0.0 + SS[l], pool0 = 0.0 + n_days * z;
      const double draw = detail::draw_down(z, xr, SS[l], n_days, pool, pool0, true);
      const double stock = detail::stock_after_day(SS[l], yy[l], draw, detail::max0_select);
      SS[l] = stock;
      double restock = (n_days * z) * xh - stock;
      if constexpr (kClip) restock = detail::max0_select(restock);
      const double o = detail::max0_select(z * xr + restock * itau);  // (NaN -> 0)
      O_wanted[l] = o;
      if constexpr (kScatter) O_served[pos[l]] = share ? serve(o, share[l], z) : o;
      stock_after[s] = 0.0 + stock;
      if (keep_sums) slot_sum[s] = 0.0 + o;
      // A slot of one lane is never a distinct one (setup), so its limit is its stock.
      if (limit) limit[s] = 0.0 + stock;
    }
    // Then its slots of several lanes: buyer_lanes's loop at lead time 1, on the lanes [lb, lb +
    // lanes). A slot of two (most of them) gets lanes as a constant, so that its loops are
    // straight code: their exits, at a count that changes from one slot to the next, had
    // mispredicted on about every such slot.
    auto several_lanes = [&](Slot s, FirmId f, Lane lb, auto lanes) __attribute__((always_inline)) {
      const Lane le = lb + lanes;
      const double xr = xr_of[f], xh = xh_of[f];
      const double n_days = slot_days[s];
      double pool = 0.0, pool0 = 0.0;
      for (Lane l = lb; l < le; ++l) {
        pool += SS[l];
        pool0 += n_days * zz[l];
      }
      const bool own_part = distinct && distinct[s];
      const bool single = le - lb == 1 || own_part;
      double after = 0.0, ordered = 0.0, scarcest = std::numeric_limits<double>::infinity();
      const double pool_ratio = pool0 / pool;
      for (Lane l = lb; l < le; ++l) {
        const double z = zz[l];
        const double draw = pool > 0.0 && !single && z > 0.0
                                ? z * xr * (SS[l] / (n_days * z)) * pool_ratio
                                : detail::draw_down(z, xr, SS[l], n_days, pool, pool0, single);
        const double stock = detail::stock_after_day(SS[l], yy[l], draw, detail::max0_select);
        SS[l] = stock;
        after += stock;
        if (own_part) scarcest = std::min(scarcest, stock / z);
        double restock = (n_days * z) * xh - stock;
        if constexpr (kClip) restock = detail::max0_select(restock);
        const double o = detail::max0_select(z * xr + restock * itau);  // (NaN -> 0)
        O_wanted[l] = o;
        if constexpr (kScatter) O_served[pos[l]] = share ? serve(o, share[l], z) : o;
        ordered += o;
      }
      stock_after[s] = after;
      slot_sum[s] = ordered;
      if (limit) limit[s] = own_part ? use[s] * scarcest : after;
    };
    for (std::uint32_t k = multi_begin[b], ke = multi_begin[e]; k < ke; ++k) {
      const Slot s = several[k];
      if constexpr (kScatter) {
        const Lane ahead = lane_begin[several[k + kMultiAhead < multi_end ? k + kMultiAhead : k]];
        __builtin_prefetch(O_served + pos[ahead], 1, 0);
        __builtin_prefetch(O_served + pos[ahead + 1], 1, 0);
      }
      const Lane lb = lane_begin[s], lanes = lane_begin[s + 1] - lb;
      if (lanes == 2)
        several_lanes(s, slot_firm[s] - b, lb, std::integral_constant<Lane, 2>{});
      else
        several_lanes(s, slot_firm[s] - b, lb, lanes);
    }
  }
}

void Simulation::Impl::buyer_any(FirmId i, double xr, double xh) {
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
      const double stock = detail::stock_after_day(S[l], arrival, draw, detail::max0_select);
      S[l] = stock;
      after += stock;
      // Step 3.
      const double o = detail::order_for(z0[l], xr, xh, !destocking, n_days, stock, lead_of(l),
                                         in_transit, in_transit_dev, inv_tau);
      O[l] = o;
      o_out[out_pos[l]] = served_order(l, o);
      ordered += o;
    });
    slot_stock[s] = after;
    slot_ordered[s] = ordered;
  }
}

}  // namespace shortfall
