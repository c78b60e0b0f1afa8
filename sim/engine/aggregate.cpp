// The day's country x material aggregates (docs/model.md section 10) in a fixed order of summation:
// the same bits for any number of threads.
#include <algorithm>
#include <array>

#include "engine/engine.hpp"

namespace shortfall {

namespace {

/// Which of country_material's sums a mode computes, in the order of its buffers: production,
/// output lost, shortage, unmet final demand, order backlog, stock, use.
constexpr std::array<bool, 7> cm_sums(bool all, bool cover) {
  std::array<bool, 7> on{};
  for (std::size_t q = 0; q < on.size(); ++q)
    on[q] = cover ? (q == 2 || q == 5 || q == 6) : (all || q < 4);
  return on;
}

}  // namespace

template <bool kAll, bool kCover>
void Simulation::Impl::country_material(CountryMaterialDay& out) const {
  static_assert(!(kAll && kCover));
  constexpr std::array<bool, 7> kOn = cm_sums(kAll, kCover);
  constexpr std::size_t kSeries = std::size_t(std::count(kOn.begin(), kOn.end(), true));
  const std::size_t ncm = world.countries().size() * world.materials().size();
  const std::size_t n = world.num_firms();
  std::vector<double>* series[6] = {&out.production,    &out.output_lost,
                                    &out.shortage,      &out.unmet_final_demand,
                                    &out.order_backlog, &out.inventory_days};
  for (std::size_t q = 0; q < 6; ++q)
    if (kOn[q]) series[q]->assign(ncm, 0.0);
  const std::size_t blocks = std::min(kCmMaxBlocks, std::max<std::size_t>(1, n / kCmBlock));
  std::vector<double> use_sum(kOn[6] ? ncm : 0, 0.0);
  auto total_of = [&](std::size_t q) { return q < 6 ? series[q]->data() : use_sum.data(); };
  // Where slots of one lane are listed (buyer_one_lane), the slots' sums a block of firms at a
  // time (cm_accumulate<.., true>); and where the supplier phase of this day left its flags
  // (slot_short), the headline series leave out the slots of blocks of firms none of which has
  // a slot short today.
  const std::uint8_t* short_firm = !kAll && !kCover && !slot_short.empty() && slot_short_day == day
                                       ? slot_short.data()
                                       : nullptr;
  // The order backlog's sums; on a day the buyer and shipping phases left those of slots of one
  // lane unwritten (slot_sums_left: summed here on demand, through
  // Simulation::country_material), copies with them filled from their lanes.
  const double* ordered = slot_ordered.data();
  const double* received = slot_received.data();
  std::vector<double> ordered_now, received_now;
  if (kAll && slot_sums_left) {
    ordered_now = slot_ordered;
    received_now = slot_received;
    one_lane_sums(ordered_now.data(), received_now.data());
    ordered = ordered_now.data();
    received = received_now.data();
  }
  auto cm_accumulate_by = [&](FirmId ib, FirmId ie, double* const* dst) {
    if (one_slot.empty())
      cm_accumulate<kAll, kCover, false>(ib, ie, dst, nullptr, ordered, received);
    else
      cm_accumulate<kAll, kCover, true>(ib, ie, dst, short_firm, ordered, received);
  };
  auto block_range = [&](std::size_t b) {
    return std::pair{FirmId(b * n / blocks), FirmId((b + 1) * n / blocks)};
  };
  if (blocks == 1) {
    double* dst[7];
    for (std::size_t q = 0; q < 7; ++q) dst[q] = kOn[q] ? total_of(q) : nullptr;
    cm_accumulate_by(0, FirmId(n), dst);
  } else {
    // Per block, the sums it computes one after another (kSeries of them).
    std::vector<double> part(blocks * kSeries * ncm, 0.0);
    auto run_block = [&](std::size_t b) {
      double* dst[7];
      for (std::size_t q = 0, c = 0; q < 7; ++q)
        dst[q] = kOn[q] ? part.data() + (b * kSeries + c++) * ncm : nullptr;
      const auto [ib, ie] = block_range(b);
      cm_accumulate_by(ib, ie, dst);
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
    for (std::size_t q = 0, c = 0; q < 7; ++q) {
      if (!kOn[q]) continue;
      double* total = total_of(q);
      for (std::size_t b = 0; b < blocks; ++b) {
        const double* p = part.data() + (b * kSeries + c) * ncm;
        for (std::size_t k = 0; k < ncm; ++k) total[k] += p[k];
      }
      ++c;
    }
  }
  if constexpr (kOn[6]) {
    double* stock = out.inventory_days.data();
    for (std::size_t k = 0; k < ncm; ++k)
      stock[k] = use_sum[k] > 0.0 ? stock[k] / use_sum[k] : kNaN;
  }
}

template <bool kAll, bool kCover, bool kBySlot>
void Simulation::Impl::cm_accumulate(FirmId ib, FirmId ie, double* const* dst,
                                     const std::uint8_t* short_firm, const double* ordered_sums,
                                     const double* received_sums) const {
  // Every array behind a local restrict pointer, loaded once (not reloaded from `this` after
  // each store into the sums), and max(0, .) of the shortage without a branch (its sign comes
  // and goes with the shock): the same operations in the same order as slot_shortage.
  const std::size_t nm = world.materials().size();
  double* __restrict production = dst[0];
  double* __restrict lost = dst[1];
  double* __restrict shortage = dst[2];
  double* __restrict unmet_final = dst[3];
  double* __restrict backlog = dst[4];
  double* __restrict stock = dst[5];
  double* __restrict use = dst[6];
  const std::uint32_t* __restrict dest_begin = world.final_dest_begin().data();
  const CountryId* __restrict dest_country = world.final_dest_country().data();
  const double* __restrict dest_amount = world.final_dest_amount().data();
  const double* __restrict capped = fd_capped.empty() ? nullptr : fd_capped.data();
  const CountryId* __restrict firm_country = world.firm_country().data();
  const MaterialId* __restrict firm_material = world.firm_material().data();
  const double* __restrict xs = x.data();
  const double* __restrict x0s = x0.data();
  const double* __restrict caps = cap.data();
  const double* __restrict Ds = D.data();
  const double* __restrict Cs = C.data();
  const double* __restrict cs = c.data();
  const double* __restrict factor = demand_factor.data();
  const Slot* __restrict slot_begin = net.slot_begin.data();
  const MaterialId* __restrict slot_material = net.slot_material.data();
  const double* __restrict A = slot_A.data();
  const double* __restrict S = slot_stock.data();
  // What the input shortage reads: A min_l S_l/Z0_l on distinct-part slots (model 3.5).
  const double* __restrict S_short = slot_limit.empty() ? S : slot_limit.data();
  const double* __restrict ordered = ordered_sums;
  const double* __restrict received = received_sums;
  const FirmId* __restrict slot_firm = kBySlot ? net.slot_firm.data() : nullptr;
  double ratio_of[kBySlot ? kSlotBlock : 1];        // kBySlot: each firm's ratio, and the
  std::uint32_t cell_of[kBySlot ? kSlotBlock : 1];  // index of its country's first sum
  for (FirmId i = ib; i < ie; ++i) {
    const CountryId ci = firm_country[i];
    const MaterialId pi = firm_material[i];
    const std::size_t country = ci * nm;
    const std::size_t own = country + pi;
    const double x0i = x0s[i];
    if constexpr (!kCover) {
      const double xi = xs[i];
      production[own] += xi;
      lost[own] += detail::max0_select(x0i - xi);  // (its sign comes and goes, as the shortage's)
      // Unmet final demand, attributed to the destination (model 10).
      const std::uint32_t kb = dest_begin[i], ke = dest_begin[i + 1];
      if (ke == kb + 1 && dest_country[kb] == ci) {
        unmet_final[own] += Cs[i] - cs[i];  // all at home: nothing can be capped
      } else if (ke > kb) {
        const double served = Cs[i] > 0.0 ? cs[i] / Cs[i] : 0.0;
        for (std::uint32_t k = kb; k < ke; ++k) {
          const double want = dest_amount[k] * factor[i];  // final_want(i, k)
          const double claim = capped ? capped[k] : want;
          unmet_final[dest_country[k] * nm + pi] += want - claim * served;
        }
      }
    }
    // slot_shortage(s, i): max(0, A (min(cap, D) / x0) - S), 0 without baseline output (S the
    // stock the input limit reads: slot_limit where parts are distinct).
    const bool made = x0i > 0.0;
    const double ratio = made ? std::min(caps[i], Ds[i]) / x0i : 0.0;
    if constexpr (kBySlot) {
      ratio_of[(i - ib) % kSlotBlock] = ratio;
      cell_of[(i - ib) % kSlotBlock] = std::uint32_t(country);
      if ((i - ib) % kSlotBlock == kSlotBlock - 1 || i + 1 == ie) {
        // The block's slots in one loop: each bin's sum gets the same terms in the same order
        // (slots are numbered firm by firm), without a loop exit per firm.
        const FirmId b = i - (i - ib) % kSlotBlock;
        // None of the block's firms short of an input today (slot_short; only on days that
        // sum the headline series alone): every slot would add +0.0 to its shortage.
        if (short_firm &&
            std::none_of(short_firm + b, short_firm + i + 1, [](std::uint8_t v) { return v != 0; }))
          continue;
        for (Slot s = slot_begin[b]; s < slot_begin[i + 1]; ++s) {
          const FirmId f = slot_firm[s] - b;
          const std::size_t k = cell_of[f] + slot_material[s];
          // Without a test of baseline output: a firm with slots has some (the loader rejects
          // one that buys inputs without it), and where it had none the ratio is +0, A +0 - S
          // <= 0 (A a sum of flows Z0, S >= +0), and max(0, .) +0.0, slot_shortage's 0.
          shortage[k] += detail::max0_select(A[s] * ratio_of[f] - S_short[s]);
          if constexpr (kAll) backlog[k] += ordered[s] - received[s];
          if constexpr (kAll || kCover) {
            stock[k] += S[s];
            use[k] += A[s];
          }
        }
      }
      continue;
    }
    for (Slot s = slot_begin[i]; s < slot_begin[i + 1]; ++s) {
      const std::size_t k = country + slot_material[s];
      shortage[k] += made ? detail::max0_select(A[s] * ratio - S_short[s]) : 0.0;
      if constexpr (kAll) backlog[k] += ordered[s] - received[s];
      if constexpr (kAll || kCover) {
        stock[k] += S[s];
        use[k] += A[s];
      }
    }
  }
}

void Simulation::Impl::phase_metrics(int t) {
  if (!options.metrics) return;
  // On a day the scenario records, every series (the headline four are the same sums in the
  // same order either way), kept for Simulation::country_material; not where nothing reads
  // them (full_series false: run() without a recorder).
  if (all_series_on(t)) {
    country_material<true>(metrics_day);
    metrics_day_full = t;
  } else {
    country_material<false>(metrics_day);
    metrics_day_full = -1;
  }
  metrics.add_day(t, metrics_day);
}

template void Simulation::Impl::country_material<true>(CountryMaterialDay&) const;
template void Simulation::Impl::country_material<false>(CountryMaterialDay&) const;
template void Simulation::Impl::country_material<false, true>(CountryMaterialDay&) const;

}  // namespace shortfall
