// Google Benchmark for the per-supplier rationing kernels (issue 6).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "engine/kernels.hpp"

using namespace shortfall;

namespace {

/// k customers with Z0 in [0.5, 2] and orders O = Z0 r. Spread: r uniform in [0.5, 2]. Shock
/// (what suppliers that run short see in a simulated shock): most customers near baseline (r in
/// [0.95, 1.05]), a fifth whose orders rose (r in [1, 3]).
struct Case {
  std::vector<double> orders, z0, y;
  std::vector<std::uint8_t> cls;
  double demand = 0, weight = 0;
  explicit Case(std::size_t k, bool shock = false) : orders(k), z0(k), y(k), cls(k) {
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(0.5, 2.0), u01(0.0, 1.0), near(0.95, 1.05),
        rose(1.0, 3.0);
    for (std::size_t i = 0; i < k; ++i) {
      z0[i] = u(rng);
      orders[i] = z0[i] * (!shock ? u(rng) : u01(rng) < 0.8 ? near(rng) : rose(rng));
      cls[i] = std::uint8_t(i % 3);
      demand += orders[i];
    }
    weight = detail::waterfill_weight(z0, 1.0);
  }
  /// Waterfill as the engine does it: the supplier's allotment from its kept weight, then
  /// each customer's delivery (the shipping phase's part).
  double waterfill(double x, detail::WaterfillScratch& scratch) {
    const auto a = detail::allot_waterfill_short(x, weight, orders, z0, 1.0, 1.0, scratch);
    for (std::size_t i = 0; i < orders.size(); ++i) y[i] = detail::deliver(a, orders[i], z0[i], 0);
    return a.c;
  }
};

void BM_Proportional(benchmark::State& st) {
  Case c(std::size_t(st.range(0)));
  for (auto _ : st) {
    benchmark::DoNotOptimize(
        detail::ration_proportional(0.7 * c.demand, c.demand, c.orders, 1.0, c.y));
  }
  st.SetItemsProcessed(st.iterations() * st.range(0));
}
void BM_Waterfill(benchmark::State& st) {
  Case c(std::size_t(st.range(0)));
  detail::WaterfillScratch scratch;
  for (auto _ : st) {
    benchmark::DoNotOptimize(c.waterfill(0.7 * c.demand, scratch));
  }
  st.SetItemsProcessed(st.iterations() * st.range(0));
}
void BM_WaterfillShock(benchmark::State& st) {
  Case c(std::size_t(st.range(0)), true);
  detail::WaterfillScratch scratch;
  for (auto _ : st) {
    benchmark::DoNotOptimize(c.waterfill(0.9 * c.demand, scratch));
  }
  st.SetItemsProcessed(st.iterations() * st.range(0));
}
void BM_Priority(benchmark::State& st) {
  Case c(std::size_t(st.range(0)));
  std::vector<PriorityClass> order{PriorityClass::kDomestic, PriorityClass::kGroup,
                                   PriorityClass::kRest, PriorityClass::kFinal};
  for (auto _ : st) {
    benchmark::DoNotOptimize(
        detail::ration_priority(0.7 * c.demand, c.orders, c.cls, 1.0, order, c.y));
  }
  st.SetItemsProcessed(st.iterations() * st.range(0));
}

}  // namespace

BENCHMARK(BM_Proportional)->Arg(5)->Arg(50)->Arg(1000);
BENCHMARK(BM_Waterfill)->Arg(5)->Arg(50)->Arg(1000);
BENCHMARK(BM_WaterfillShock)->Arg(5)->Arg(50)->Arg(1000);
BENCHMARK(BM_Priority)->Arg(5)->Arg(50)->Arg(1000);
