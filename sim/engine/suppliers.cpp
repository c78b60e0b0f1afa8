// Steps 3.4-3.6 (docs/model.md), per supplier: demand, production, and the rationing rule of the
// day.
#include <atomic>

#include "engine/engine.hpp"

namespace shortfall {

void Simulation::Impl::supplier_range(FirmId jb, FirmId je) {
  expect_phase(Phase::kSuppliers);
  if (one_slot.empty())
    supplier_loop<false, false>(jb, je);
  else if (gather_orders)
    supplier_loop<true, true>(jb, je);
  else
    supplier_loop<true, false>(jb, je);
}

void Simulation::Impl::mark_rationing(FirmId jb, FirmId j, std::uint64_t bits) {
  // The word of supplier j, whose bits from max(jb, its first) to j are this range's: a word
  // may be shared with the ranges of other threads, so each range sets its own bits alone,
  // with atomic operations where the word is not all its own.
  const FirmId w0 = j & ~FirmId(63);
  const unsigned from = std::max(w0, jb) - w0, to = j - w0 + 1;
  const std::uint64_t mine = (to == 64 ? ~std::uint64_t(0) : (std::uint64_t(1) << to) - 1) &
                             ~((std::uint64_t(1) << from) - 1);
  std::atomic_ref<std::uint64_t> word(rationing_bits[w0 >> 6]);
  if (mine == ~std::uint64_t(0)) {
    word.store(bits, std::memory_order_relaxed);
  } else {
    word.fetch_and(~mine, std::memory_order_relaxed);
    word.fetch_or(bits, std::memory_order_relaxed);
  }
}

// Step 4: D_j = sum_i O_ji + C_j (summed in the order that defined x0_j). The first kListHead
// customers without a branch on the list's length: most suppliers of a scale-free world have 0-4
// customers, a different number from one to the next, so the loop's exit mispredicted on most
// suppliers. Past the list a position is still read (the next suppliers', within the array) but
// +0.0 added instead, which leaves the sum as it is (served orders are >= +0, never -0 or NaN,
// so the running sum is never -0): the same additions, in the same order, the same bits.
// kGather (gather_orders): each customer's order read from O through net.out_lane, the value
// the buyer would have scattered into o_out (no cap: served = O).
template <bool kGather>
[[gnu::always_inline]] inline double Simulation::Impl::supplier_demand(FirmId j) const {
  const Lane* __restrict out_begin = net.out_begin.data();
  const double* __restrict O_served = o_out.data();  // served orders, by out-position
  const double* __restrict O_wanted = O.data();
  const Lane* __restrict out_lane = net.out_lane.data();
  const Lane last_pos = o_out.empty() ? 0 : Lane(o_out.size() - 1);
  auto served = [&](Lane k) __attribute__((always_inline)) {
    if constexpr (kGather) {
      __builtin_prefetch(O_wanted + out_lane[std::min(k + kGatherAhead, last_pos)], 0, 0);
      return O_wanted[out_lane[k]];
    } else {
      return O_served[k];
    }
  };
  double orders = 0.0;
  const Lane kb = out_begin[j], ke = out_begin[j + 1];
  if (!o_out.empty())
    for (Lane q = 0; q < kListHead; ++q)
      orders += keep_or_zero(served(std::min(kb + q, last_pos)), kb + q < ke);
  for (Lane k = kb + kListHead; k < ke; ++k) orders += served(k);
  if (!out_extra.empty())
    for (Lane l : out_extra[j]) orders += O_served[l];
  return orders + C[j];  // C_j after export caps (model 3.4)
}

// Where slots of one lane are listed (kByBlock; buyer_one_lane: suppliers drawn regardless of
// sector, so a firm's count of slots changes from one firm to the next and the loop's exit
// mispredicted), a block of firms at a time: their demand and capacity first, then step 5's
// input limits, min over each firm's slots of S_p x0 / A_p, in one loop over the block's slots,
// then production and rationing. The minimum of the same values in any order is the same
// (every one >= +0, never -0; a NaN never replaces the +inf it starts from).
//
// That loop divides only where the quotient can lower production. With m = min(capacity, the
// demand produce() takes), x = min(m, limit): a slot whose S x0 / A is >= m leaves x (and so
// `binding`) as it is, whatever the other slots give. P = S x0 (the product the quotient
// divides) > fl(m A) gives P >= the next double after fl(m A), which is > m A exactly (m A lies
// within half a step of fl(m A)); so P / A > m, and its rounding >= m (m is a double, rounding
// is monotone): such a slot is left out exactly. Not where x_inp is kept (policies read the
// limit itself, model 7): there m is +inf, and P > inf is false.
//
// And where slot_short is kept, each firm's flag: some slot's input shortage is above 0 today,
// fl(A r) > S with r = min(cap, D) / x0 as cm_accumulate computes both (a NaN sets it too).
template <bool kByBlock, bool kGather>
void Simulation::Impl::supplier_loop(FirmId jb, FirmId je) {
  static_assert(kByBlock || !kGather);
  const Lane* __restrict out_begin = net.out_begin.data();
  const Slot* __restrict slot_begin = net.slot_begin.data();
  const double* __restrict xx0 = x0.data();
  const double* __restrict cb = cap_base.data();
  double* __restrict xin = x_inp.empty() ? nullptr : x_inp.data();
  const double* __restrict al = alpha.data();
  const double* __restrict de = delta.data();
  // The pooled stock, or each slot's scarcest part where some input has distinct parts (3.5).
  const double* __restrict stock = slot_limit.empty() ? slot_stock.data() : slot_limit.data();
  const double* __restrict use = slot_A.data();
  double* __restrict DD = D.data();
  double* __restrict cp = cap.data();
  double* __restrict xn = x_new.data();
  std::uint8_t* __restrict bind = binding.data();
  double* __restrict rr = rule.data();
  const double* __restrict C_claim = C.data();  // C_j after export caps (model 3.4)
  double* __restrict c_final = c.data();        // c_j: what final users get (3.6)
  const double* __restrict zo = z0_out.empty() ? nullptr : z0_out.data();
  const double* __restrict fl = floor_x.empty() ? nullptr : floor_x.data();  // by-products
  // Step 5's demand: a by-product's maker produces at least x0 (3.5); what is not ordered is
  // not shipped.
  auto wanted = [&](FirmId j, double demand) __attribute__((always_inline)) {
    return fl ? std::max(demand, fl[j]) : demand;
  };
  std::uint8_t* __restrict short_firm = slot_short.empty() ? nullptr : slot_short.data();
  Scratch& sc = thread_scratch();
  const double in_full = rule_in_full();
  std::uint64_t rationed = 0;  // rationing_bits of the word of j, so far
  // Step 5's production from the input limit, then step 6: everyone served in full (r = 1
  // gives y = O exactly), or one rule for all, applied by the shipping phase.
  auto produce = [&](FirmId j, double demand, double capacity, double input_limit)
      __attribute__((always_inline)) {
    // Waterfill reads the Z0 of the customers of each supplier that runs short, from z0_out
    // (in the orders' order, but only where rationing is needed, so the hardware does not
    // stream it): ask for the first and last line a few suppliers ahead.
    if (zo && j + kSuppliersAhead < je) {
      const Lane b = out_begin[j + kSuppliersAhead], e = out_begin[j + kSuppliersAhead + 1];
      __builtin_prefetch(zo + b, 0, 0);
      __builtin_prefetch(zo + (e > b ? e - 1 : b), 0, 0);
    }
    auto [xj, b] = detail::produce(capacity, input_limit, wanted(j, demand));
    xn[j] = xj;
    bind[j] = b;
    if (xj >= demand) {
      rr[j] = in_full;
      if (!allot.empty()) allot[j] = detail::allot_all(C_claim[j]);
      c_final[j] = C_claim[j];
    } else {
      const auto [code, to_final] = ration(j, xj, demand, sc);
      rr[j] = code;
      c_final[j] = to_final;
      // rationing_bits: set where the rule may differ from in_full (a share that rounds to 1
      // reads the array, which holds the same value).
      if constexpr (kByBlock) rationed |= std::uint64_t(1) << (j & 63);
    }
    if (kByBlock && (j & 63) == 63) {
      mark_rationing(jb, j, rationed);
      rationed = 0;
    }
  };
  if constexpr (!kByBlock) {
    for (FirmId j = jb; j < je; ++j) {
      const double demand = supplier_demand<false>(j);
      DD[j] = demand;
      const double capacity = al[j] * (1.0 - de[j]) * cb[j];  // = capacity_today(j)
      cp[j] = capacity;
      double input_limit = std::numeric_limits<double>::infinity();
      for (Slot s = slot_begin[j]; s < slot_begin[j + 1]; ++s)
        input_limit = std::min(input_limit, stock[s] * xx0[j] / use[s]);
      if (xin) xin[j] = input_limit;
      produce(j, demand, capacity, input_limit);
    }
    return;
  }
  double limit_of[kSlotBlock], m_of[kSlotBlock], r_of[kSlotBlock];
  std::uint8_t short_of[kSlotBlock];
  const FirmId* __restrict slot_firm = net.slot_firm.data();
  for (FirmId b = jb; b < je; b += kSlotBlock) {
    const FirmId e = std::min<FirmId>(je, b + kSlotBlock);
    for (FirmId j = b; j < e; ++j) {
      const double demand = supplier_demand<kGather>(j);
      DD[j] = demand;
      const double capacity = al[j] * (1.0 - de[j]) * cb[j];
      cp[j] = capacity;
      limit_of[j - b] = std::numeric_limits<double>::infinity();
      m_of[j - b] =
          xin ? std::numeric_limits<double>::infinity() : std::min(capacity, wanted(j, demand));
      r_of[j - b] = xx0[j] > 0.0 ? std::min(capacity, demand) / xx0[j] : 0.0;
      short_of[j - b] = 0;
    }
    for (Slot s = slot_begin[b]; s < slot_begin[e]; ++s) {
      const FirmId f = slot_firm[s] - b;
      if (short_firm) short_of[f] |= !(use[s] * r_of[f] <= stock[s]);
      const double P = stock[s] * xx0[f + b];
      if (P > m_of[f] * use[s]) continue;  // the quotient is >= m (above)
      limit_of[f] = std::min(limit_of[f], P / use[s]);
    }
    for (FirmId j = b; j < e; ++j) {
      if (xin) xin[j] = limit_of[j - b];
      if (short_firm) short_firm[j] = short_of[j - b];
      produce(j, DD[j], cp[j], limit_of[j - b]);
    }
  }
  if (jb < je && ((je - 1) & 63) != 63) mark_rationing(jb, je - 1, rationed);
}

std::pair<double, double> Simulation::Impl::ration(FirmId j, double xj, double demand,
                                                   Scratch& sc) {
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
                                        customers(j, z0_out, sc.z0), C[j], world.final_demand()[j],
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

}  // namespace shortfall
