// The day's country x material aggregates (docs/model.md section 10) in a fixed order of summation:
// the same bits for any number of threads.
#include "engine/engine.hpp"

namespace shortfall {

template <bool kAll>
void Simulation::Impl::country_material(CountryMaterialDay& out) const {
  const std::size_t ncm = world.countries.size() * world.materials.size();
  const std::size_t n = world.num_firms();
  constexpr std::size_t kSeries = kAll ? 7 : 4;  // the last is the use, for inventory_days
  std::vector<double>* series[6] = {&out.production,    &out.output_lost,
                                    &out.shortage,      &out.unmet_final_demand,
                                    &out.order_backlog, &out.inventory_days};
  for (std::size_t q = 0; q < (kAll ? 6 : 4); ++q) series[q]->assign(ncm, 0.0);
  const std::size_t blocks = std::min(kCmMaxBlocks, std::max<std::size_t>(1, n / kCmBlock));
  std::vector<double> use_sum(kAll ? ncm : 0, 0.0);
  auto block_range = [&](std::size_t b) {
    return std::pair{FirmId(b * n / blocks), FirmId((b + 1) * n / blocks)};
  };
  if (blocks == 1) {
    double* dst[7] = {series[0]->data(),
                      series[1]->data(),
                      series[2]->data(),
                      series[3]->data(),
                      kAll ? series[4]->data() : nullptr,
                      kAll ? series[5]->data() : nullptr,
                      use_sum.data()};
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

template <bool kAll>
void Simulation::Impl::cm_accumulate(FirmId ib, FirmId ie, double* const* dst) const {
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

template void Simulation::Impl::country_material<true>(CountryMaterialDay&) const;
template void Simulation::Impl::country_material<false>(CountryMaterialDay&) const;

}  // namespace shortfall
