// Unit tests of the per-phase kernels (sim/engine/kernels.hpp) against docs/model.md section 3.
// Every expected number below is worked out by hand from the model's formulas; the comments
// state the math.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/kernels.hpp"
#include "engine/max0_cases.hpp"

namespace sd = shortfall::detail;
using shortfall::PriorityClass;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}

// ---- step 2: inventory draw-down -------------------------------------------------------------
// S_ji <- max(0, S_ji + y_ji(t-1) - S_ji [x_i(t-1)/x0_i] A_ip / S_ip),  S_ip pooled, before.

TEST(Max0Select, SameBitsAsStdMaxForEveryKindOfValue) {
  // The form this binary was built with: MAXSD by default (the AVX form, in every build:
  // engine/test_kernels_avx.cpp).
  shortfall::test::expect_max0_select_is_std_max();
}

// Step 2 over one slot's links, composed as the engine's buyer loop composes the kernels it
// calls (sim/engine/buyers.cpp): pooled stocks first, then per link draw_down and
// stock_after_day. Returns the pooled stock after the update.
template <std::size_t N>
double step2(std::array<double, N>& stock, const std::array<double, N>& arrivals,
             const std::array<double, N>& z0, double n_days, double xr) {
  double pool = 0.0, pool0 = 0.0;
  for (std::size_t k = 0; k < N; ++k) {
    pool += stock[k];
    pool0 += n_days * z0[k];
  }
  double after = 0.0;
  for (std::size_t k = 0; k < N; ++k) {
    const double draw = sd::draw_down(z0[k], xr, stock[k], n_days, pool, pool0, N == 1);
    stock[k] =
        sd::stock_after_day(stock[k], arrivals[k], draw, [](double v) { return std::max(0.0, v); });
    after += stock[k];
  }
  return after;
}

TEST(StepTwo, TwoSuppliersDrawInProportionToStock) {
  // Z0 = {2, 6}: A = 8. n = 10 (baseline stocks 20, 60, unused here except by the kernel's
  // exact-at-baseline form). Stocks S = {30, 10}: pooled 40. Yesterday x/x0 = 0.5, so the
  // firm consumed 0.5 * 8 = 4 units, drawn in proportion to stock: 4 * 30/40 = 3 and
  // 4 * 10/40 = 1. Arrivals {1, 3}. New stocks: 30 + 1 - 3 = 28, 10 + 3 - 1 = 12; pooled 40.
  std::array<double, 2> stock{30, 10};
  std::array<double, 2> arrivals{1, 3};
  std::array<double, 2> z0{2, 6};
  double pooled = step2(stock, arrivals, z0, 10.0, 0.5);
  EXPECT_NEAR(stock[0], 28.0, 1e-12);
  EXPECT_NEAR(stock[1], 12.0, 1e-12);
  EXPECT_NEAR(pooled, 40.0, 1e-12);
}

TEST(StepTwo, DrawDoesNotDependOnWhichSupplierDelivered) {
  // Same pooled stock as above but held the other way round: S = {10, 30}. Draw 4 * 10/40 = 1
  // from the first, 4 * 30/40 = 3 from the second: the draw follows the stock, not Z0.
  std::array<double, 2> stock{10, 30};
  std::array<double, 2> arrivals{0, 0};
  std::array<double, 2> z0{2, 6};
  step2(stock, arrivals, z0, 10.0, 0.5);
  EXPECT_NEAR(stock[0], 9.0, 1e-12);
  EXPECT_NEAR(stock[1], 27.0, 1e-12);
}

TEST(StepTwo, FloorAtZero) {
  // S = {1, 3} (pooled 4), Z0 = {2, 6} (A = 8), x/x0 = 1: consumption 8 > pooled 4, drawn as
  // 8 * 1/4 = 2 and 8 * 3/4 = 6. Arrivals {0.5, 0}: 1 + 0.5 - 2 = -0.5 -> 0, 3 - 6 -> 0.
  std::array<double, 2> stock{1, 3};
  std::array<double, 2> arrivals{0.5, 0};
  std::array<double, 2> z0{2, 6};
  double pooled = step2(stock, arrivals, z0, 10.0, 1.0);
  EXPECT_EQ(stock[0], 0.0);
  EXPECT_EQ(stock[1], 0.0);
  EXPECT_EQ(pooled, 0.0);
}

TEST(StepTwo, NoConsumptionTermWhenPooledStockIsZero) {
  // S_ip = 0: no consumption term; arrivals just land. {0,0} + {1,2} = {1,2}.
  std::array<double, 2> stock{0, 0};
  std::array<double, 2> arrivals{1, 2};
  std::array<double, 2> z0{2, 6};
  double pooled = step2(stock, arrivals, z0, 10.0, 1.0);
  EXPECT_EQ(stock[0], 1.0);
  EXPECT_EQ(stock[1], 2.0);
  EXPECT_EQ(pooled, 3.0);
}

TEST(StepTwo, ExactAtBaseline) {
  // At baseline S = n Z0, arrivals = Z0, x/x0 = 1: draw = Z0, so S is unchanged to the last bit
  // (non-dyadic flows and n chosen on purpose).
  const double n = 7.3;
  std::array<double, 3> z0{0.1, 0.7, 1.0 / 3.0};
  std::array<double, 3> stock{n * z0[0], n * z0[1], n * z0[2]};
  const std::array<double, 3> before = stock;
  for (int day = 0; day < 100; ++day) step2(stock, z0, z0, n, 1.0);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(stock[k], before[k]) << k;
}

// ---- step 3: orders ----------------------------------------------------------------------------
// O = max(0, Z0 xr + (1/tau)((n + l - 1) Z0 xr - S - T)),   xr = x_i(t-1)/x0_i.

TEST(OrderFor, CoreFormula) {
  // l = 1, T = 0: O = Z0 xr + (n Z0 xr - S)/tau.
  // Z0 = 4, xr = 0.5, n = 10, S = 12, tau = 4: O = 2 + (20 - 12)/4 = 4.
  EXPECT_DOUBLE_EQ(sd::order_for(4, 0.5, 0.5, false, 10, 12, 1, 0, 0, 1.0 / 4), 4.0);
  // Stock below target raises the order: S = 0: O = 2 + 20/4 = 7.
  EXPECT_DOUBLE_EQ(sd::order_for(4, 0.5, 0.5, false, 10, 0, 1, 0, 0, 1.0 / 4), 7.0);
  // Stock far above target: 2 + (20 - 40)/4 = -3 -> max(0, .) = 0.
  EXPECT_EQ(sd::order_for(4, 0.5, 0.5, false, 10, 40, 1, 0, 0, 1.0 / 4), 0.0);
}

TEST(OrderFor, WithLeadTimeCountsGoodsInTransit) {
  // l = 3, T = 1 shipment of nominal Z0 = 4 plus a deviation of +1: T = 5.
  // O = 2 + ((10 + 3 - 1) * 4 * 0.5 - 12 - 5)/4 = 2 + (24 - 17)/4 = 3.75.
  EXPECT_DOUBLE_EQ(sd::order_for(4, 0.5, 0.5, false, 10, 12, 3, 1, 1, 1.0 / 4), 3.75);
  // A full pipeline (T = (l-1) Z0 xr = 4) and stock at target (S = n Z0 xr = 20): O = Z0 xr = 2.
  EXPECT_DOUBLE_EQ(sd::order_for(4, 0.5, 0.5, false, 10, 20, 3, 1, 0, 1.0 / 4), 2.0);
}

TEST(OrderFor, ExactlyZ0AtBaselineForAnyLeadTime) {
  // S = n Z0, T = (l-1) Z0, xr = 1: both gaps are 0 and O = Z0 to the last bit.
  for (double z0 : {0.1, 0.7, 1.0 / 3.0, 1234.5678})
    for (int l : {1, 2, 5, 14, 60}) {
      const double n = 7.3;
      EXPECT_EQ(sd::order_for(z0, 1.0, 1.0, false, n, n * z0, l, double(l - 1), 0.0, 1.0 / 6), z0)
          << z0 << " " << l;
    }
}

// ---- step 5: production ------------------------------------------------------------------------
// x = min(x_cap, x_inp, D); binding 0 demand, 1 capacity, 2 inputs; ties: demand first.

TEST(Produce, MinimumAndBinding) {
  EXPECT_EQ(sd::produce(5, 7, 6), std::make_pair(5.0, std::uint8_t(1)));     // capacity binds
  EXPECT_EQ(sd::produce(5, 3, 6), std::make_pair(3.0, std::uint8_t(2)));     // inputs bind
  EXPECT_EQ(sd::produce(5, 7, 2), std::make_pair(2.0, std::uint8_t(0)));     // demand binds
  EXPECT_EQ(sd::produce(5, kInf, 6), std::make_pair(5.0, std::uint8_t(1)));  // no inputs
}

TEST(Produce, TiesGoToDemandThenCapacity) {
  EXPECT_EQ(sd::produce(5, 5, 5), std::make_pair(5.0, std::uint8_t(0)));  // all equal: demand
  EXPECT_EQ(sd::produce(5, 7, 5), std::make_pair(5.0, std::uint8_t(0)));  // cap = D: demand
  EXPECT_EQ(sd::produce(7, 5, 5), std::make_pair(5.0, std::uint8_t(0)));  // inp = D: demand
  EXPECT_EQ(sd::produce(5, 5, 6), std::make_pair(5.0, std::uint8_t(1)));  // cap = inp: capacity
}

// ---- step 6: rationing -------------------------------------------------------------------------

TEST(RationProportional, EveryoneGetsTheSameFillRatio) {
  // D = 2 + 3 + C 5 = 10, x = 6: ratio 0.6. y = {1.2, 1.8}, c = 3; sum 6 = x.
  std::array<double, 2> orders{2, 3}, y{};
  double c = sd::ration_proportional(6, 10, orders, 5, y);
  EXPECT_DOUBLE_EQ(y[0], 1.2);
  EXPECT_DOUBLE_EQ(y[1], 1.8);
  EXPECT_DOUBLE_EQ(c, 3.0);
}

TEST(RationProportional, ZeroOutputServesNothing) {
  std::array<double, 2> orders{2, 3}, y{9, 9};
  double c = sd::ration_proportional(0, 10, orders, 5, y);
  EXPECT_EQ(y[0], 0.0);
  EXPECT_EQ(y[1], 0.0);
  EXPECT_EQ(c, 0.0);
}

TEST(RationFinalDemandLast, FinalUsersAbsorbTheShortfall) {
  // D = 10 (orders 2 + 3, C = 5), x = 7: gap D - x = 3 <= C, so c = C - 3 = 2 and every order is
  // served in full.
  std::array<double, 2> orders{2, 3}, y{};
  double c = sd::ration_final_demand_last(7, 10, orders, 5, y);
  EXPECT_DOUBLE_EQ(c, 2.0);
  EXPECT_EQ(y[0], 2.0);
  EXPECT_EQ(y[1], 3.0);
  // Boundary gap = C (x = 5): c = 0, orders still in full.
  c = sd::ration_final_demand_last(5, 10, orders, 5, y);
  EXPECT_EQ(c, 0.0);
  EXPECT_EQ(y[0], 2.0);
  EXPECT_EQ(y[1], 3.0);
}

TEST(RationFinalDemandLast, WhenFinalDemandIsNotEnoughOrdersShareTheRest) {
  // x = 3: gap 7 > C = 5, so c = 0 and y = O x / (D - C) = {2, 3} * 3/5 = {1.2, 1.8}.
  std::array<double, 2> orders{2, 3}, y{};
  double c = sd::ration_final_demand_last(3, 10, orders, 5, y);
  EXPECT_EQ(c, 0.0);
  EXPECT_DOUBLE_EQ(y[0], 1.2);
  EXPECT_DOUBLE_EQ(y[1], 1.8);
}

TEST(RationWaterfill, BuyerWhoseOrderRoseMostIsCutFirst) {
  // Three buyers with Z0 = {10, 20, 30} ordering O = {10, 30, 60}: O/Z0 = {1, 1.5, 2}; final
  // demand C = C0 = 40 (ratio 1). D = 140, x = 120.
  // y_k = min(O_k, L Z0_k), c = min(C, L C0); f(L) = sum y + c.
  //   0 <= L <= 1:   f = 100 L                         (f(1) = 100 < 120)
  //   1 <= L <= 1.5: f = 10 + 40 + 20 L + 30 L = 50 + 50 L  (f(1.5) = 125 > 120)
  // so 50 + 50 L = 120, L = 1.4: y = {10, 28, 42}, c = 40. Buyer 3 (ratio 2) gets 42/60 = 70%,
  // buyer 2 (ratio 1.5) 28/30 = 93%, buyer 1 and final users everything.
  std::array<double, 3> orders{10, 30, 60}, z0{10, 20, 30}, y{};
  sd::WaterfillScratch scratch;
  double c = sd::ration_waterfill(120, orders, z0, 40, 40, y, scratch);
  EXPECT_DOUBLE_EQ(y[0], 10.0);
  EXPECT_DOUBLE_EQ(y[1], 28.0);
  EXPECT_DOUBLE_EQ(y[2], 42.0);
  EXPECT_DOUBLE_EQ(c, 40.0);
}

TEST(RationWaterfill, LevelInTheUpperSegment) {
  // Same items, x = 130 > f(1.5) = 125: for 1.5 <= L <= 2, f = 10 + 40 + 30 + 30 L = 80 + 30 L,
  // L = 50/30 = 5/3: y = {10, 30, 50}, c = 40.
  std::array<double, 3> orders{10, 30, 60}, z0{10, 20, 30}, y{};
  sd::WaterfillScratch scratch;
  double c = sd::ration_waterfill(130, orders, z0, 40, 40, y, scratch);
  EXPECT_DOUBLE_EQ(y[0], 10.0);
  EXPECT_DOUBLE_EQ(y[1], 30.0);
  EXPECT_NEAR(y[2], 50.0, 1e-12);
  EXPECT_DOUBLE_EQ(c, 40.0);
}

TEST(RationWaterfill, LevelBelowEveryRatioCutsAllInProportionToZ0) {
  // x = 50 < f(1) = 100: L = 50/100 = 0.5, y = 0.5 Z0 = {5, 10, 15}, c = 0.5 C0 = 20.
  std::array<double, 3> orders{10, 30, 60}, z0{10, 20, 30}, y{};
  sd::WaterfillScratch scratch;
  double c = sd::ration_waterfill(50, orders, z0, 40, 40, y, scratch);
  EXPECT_DOUBLE_EQ(y[0], 5.0);
  EXPECT_DOUBLE_EQ(y[1], 10.0);
  EXPECT_DOUBLE_EQ(y[2], 15.0);
  EXPECT_DOUBLE_EQ(c, 20.0);
}

TEST(RationWaterfill, NoFinalDemand) {
  // Orders only: Z0 = {1, 1}, O = {1, 3} (ratios 1, 3), x = 2: f(L) = L + L for L <= 1 (f = 2 at
  // L = 1) so L = 1: y = {1, 1}, c = 0.
  std::array<double, 2> orders{1, 3}, z0{1, 1}, y{};
  sd::WaterfillScratch scratch;
  double c = sd::ration_waterfill(2, orders, z0, 0, 0, y, scratch);
  EXPECT_DOUBLE_EQ(y[0], 1.0);
  EXPECT_DOUBLE_EQ(y[1], 1.0);
  EXPECT_EQ(c, 0.0);
}

TEST(RationPriority, DefaultOrderDomesticGroupRestFinal) {
  // Orders by class: domestic 3, group 4, rest 5 and 2; C = 6. D = 20.
  // x = 10: domestic 3 (left 7), group 4 (left 3), rest needs 7 > 3: share 3/7 ->
  // {15/7, 6/7}; final 0.
  std::array<double, 4> orders{3, 4, 5, 2}, y{};
  std::array<std::uint8_t, 4> cls{0, 1, 2, 2};
  std::array<PriorityClass, 4> order{PriorityClass::kDomestic, PriorityClass::kGroup,
                                     PriorityClass::kRest, PriorityClass::kFinal};
  double c = sd::ration_priority(10, orders, cls, 6, order, y);
  EXPECT_EQ(y[0], 3.0);
  EXPECT_EQ(y[1], 4.0);
  EXPECT_DOUBLE_EQ(y[2], 15.0 / 7.0);
  EXPECT_DOUBLE_EQ(y[3], 6.0 / 7.0);
  EXPECT_EQ(c, 0.0);
  // x = 16: domestic, group and rest in full (14), final users get the last 2.
  c = sd::ration_priority(16, orders, cls, 6, order, y);
  EXPECT_EQ(y[0], 3.0);
  EXPECT_EQ(y[1], 4.0);
  EXPECT_EQ(y[2], 5.0);
  EXPECT_EQ(y[3], 2.0);
  EXPECT_DOUBLE_EQ(c, 2.0);
}

TEST(RationPriority, CustomOrderFinalDemandFirst) {
  // Service order final, rest, group, domestic; x = 10: final 6 (left 4), rest needs 7 > 4:
  // share 4/7 -> {20/7, 8/7}; group and domestic get nothing.
  std::array<double, 4> orders{3, 4, 5, 2}, y{};
  std::array<std::uint8_t, 4> cls{0, 1, 2, 2};
  std::array<PriorityClass, 4> order{PriorityClass::kFinal, PriorityClass::kRest,
                                     PriorityClass::kGroup, PriorityClass::kDomestic};
  double c = sd::ration_priority(10, orders, cls, 6, order, y);
  EXPECT_EQ(c, 6.0);
  EXPECT_DOUBLE_EQ(y[2], 20.0 / 7.0);
  EXPECT_DOUBLE_EQ(y[3], 8.0 / 7.0);
  EXPECT_EQ(y[1], 0.0);
  EXPECT_EQ(y[0], 0.0);
}

TEST(Rationing, OutputAtOrAboveDemandServesEverything) {
  // x >= D: every rule gives y = O and c = C.
  std::array<double, 3> orders{10, 30, 60}, z0{10, 20, 30};
  std::array<std::uint8_t, 3> cls{0, 1, 2};
  std::array<PriorityClass, 4> order{PriorityClass::kDomestic, PriorityClass::kGroup,
                                     PriorityClass::kRest, PriorityClass::kFinal};
  sd::WaterfillScratch scratch;
  const double C = 40, D = 140;
  for (double x : {D, D + 1}) {
    std::array<double, 3> y{};
    EXPECT_EQ(sd::ration_proportional(x, D, orders, C, y), C);
    EXPECT_EQ(y, orders);
    y = {};
    EXPECT_EQ(sd::ration_final_demand_last(x, D, orders, C, y), C);
    EXPECT_EQ(y, orders);
    y = {};
    EXPECT_EQ(sd::ration_waterfill(x, orders, z0, C, C, y, scratch), C);
    EXPECT_EQ(y, orders);
    y = {};
    EXPECT_EQ(sd::ration_priority(x, orders, cls, C, order, y), C);
    EXPECT_EQ(y, orders);
  }
}

TEST(Rationing, EveryRuleHandsOutExactlyX) {
  // Whatever the rule, sum y + c = x when x < D (nothing is lost or created).
  std::array<double, 3> orders{10, 30, 60}, z0{10, 20, 30};
  std::array<std::uint8_t, 3> cls{0, 2, 1};
  std::array<PriorityClass, 4> order{PriorityClass::kDomestic, PriorityClass::kGroup,
                                     PriorityClass::kRest, PriorityClass::kFinal};
  sd::WaterfillScratch scratch;
  const double C = 40, D = 140;
  for (double x : {0.0, 1.0, 37.5, 99.0, 125.0, 139.0}) {
    auto total = [](const std::array<double, 3>& y, double c) { return y[0] + y[1] + y[2] + c; };
    std::array<double, 3> y{};
    EXPECT_NEAR(total(y, sd::ration_proportional(x, D, orders, C, y)), x, 1e-12) << x;
    EXPECT_NEAR(total(y, sd::ration_final_demand_last(x, D, orders, C, y)), x, 1e-12) << x;
    EXPECT_NEAR(total(y, sd::ration_waterfill(x, orders, z0, C, C, y, scratch)), x, 1e-12) << x;
    EXPECT_NEAR(total(y, sd::ration_priority(x, orders, cls, C, order, y)), x, 1e-12) << x;
  }
}

namespace {
// The waterfill level by the definition: every item sorted by (ratio, index), then the scan
// for the segment where f(L) crosses x.
double waterfill_reference(double x, const std::vector<double>& o, const std::vector<double>& z,
                           double C, double C0) {
  std::vector<std::pair<double, std::uint32_t>> items;
  double weight = 0.0;
  for (std::uint32_t k = 0; k < o.size(); ++k) {
    items.emplace_back(z[k] > 0.0 ? o[k] / z[k] : (o[k] > 0.0 ? kInf : 0.0), k);
    weight += z[k];
  }
  const auto kf = std::uint32_t(o.size());
  if (C0 > 0.0) {
    items.emplace_back(C / C0, kf);
    weight += C0;
  }
  std::sort(items.begin(), items.end());
  double full = 0.0, level = kInf;
  for (auto [r, k] : items) {
    if (full + r * weight > x) {
      level = weight > 0.0 ? (x - full) / weight : 0.0;
      break;
    }
    full += k == kf ? C : o[k];
    weight -= k == kf ? C0 : z[k];
  }
  return level < 0.0 ? 0.0 : level;
}
bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}
/// Deterministic uniform numbers in [0, 1) (a 64-bit LCG), so the tests' lists do not depend on
/// the standard library's distributions.
struct Uniform {
  std::uint64_t state;
  double operator()() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return double(state >> 11) * 0x1.0p-53;
  }
};
}  // namespace

// The kernel orders only the items up to the crossing (rounds split off the items below a
// rising bound, ranked or sorted, then chunks selected by nth_element and sorted) and must
// find the level of the full sort to the last bit, whatever the list length and wherever the
// crossing falls.
TEST(Waterfill, LevelEqualsFullSortReferenceBitForBit) {
  Uniform next{777};
  sd::WaterfillScratch scratch;
  int crossings_past_first = 0;
  for (std::size_t n : {1u, 2u, 5u, 17u, 40u, 255u, 256u, 700u}) {
    for (int rep = 0; rep < 40; ++rep) {
      std::vector<double> o(n), z(n);
      double demand = 0.0;
      for (std::size_t k = 0; k < n; ++k) {
        z[k] = next() < 0.05 ? 0.0 : 1.0 + 9.0 * next();
        o[k] = z[k] * (next() < 0.3 ? 1.0 : 0.2 + 2.0 * next());  // some at baseline: ties
        demand += o[k];
      }
      const double C = 5.0 * next(), C0 = rep % 3 == 0 ? 0.0 : 4.0;
      const double x = (demand + C) * next();  // anywhere from nothing to almost everything
      const double want = waterfill_reference(x, o, z, C, C0);
      const auto a = sd::allot_waterfill(x, o, z, C, C0, scratch);
      EXPECT_TRUE(same_bits(a.level, want))
          << "n=" << n << " rep=" << rep << " level " << a.level << " vs " << want;
      double min_ratio = INFINITY;
      for (std::size_t k = 0; k < n; ++k) {
        if (z[k] > 0.0) min_ratio = std::min(min_ratio, o[k] / z[k]);
      }
      if (want > min_ratio && want < INFINITY) ++crossings_past_first;
    }
  }
  EXPECT_GT(crossings_past_first, 50);  // the ordering was exercised, not only the shortcut
}

// Every list length from 1 to 80 (on the stack up to 32, in the scratch beyond) and, for the
// longer lists, a first split of more than 32 items (sorted, not ranked): 70% of the customers at
// ratios in [0.1, 0.5] and the rest in [2, 3], with x such that the cheap ones are served in full
// and the others share at level 1, L = (x - sum of the cheap orders) / (sum of the others' Z0) = 1.
// The supplier-side entry point, given the weight, agrees with the full one and with the full sort
// to the last bit.
TEST(Waterfill, EveryListLengthAndLargeSplitsMatchTheFullSort) {
  Uniform next{2024};
  sd::WaterfillScratch scratch;
  for (std::size_t n = 1; n <= 80; ++n) {
    for (int rep = 0; rep < 8; ++rep) {
      std::vector<double> o(n), z(n);
      double cheap = 0.0, dear_weight = 0.0;
      for (std::size_t k = 0; k < n; ++k) {
        z[k] = 1.0 + next();
        const bool is_cheap = next() < 0.7;
        o[k] = z[k] * (is_cheap ? 0.1 + 0.4 * next() : 2.0 + next());
        (is_cheap ? cheap : dear_weight) += is_cheap ? o[k] : z[k];
      }
      if (dear_weight == 0.0) continue;  // all cheap: everyone served in full
      const double x = cheap + dear_weight;
      const double want = waterfill_reference(x, o, z, 0.0, 0.0);
      EXPECT_NEAR(want, 1.0, 1e-12) << "n=" << n;
      const auto full = sd::allot_waterfill(x, o, z, 0.0, 0.0, scratch);
      const auto supplier =
          sd::allot_waterfill_short(x, sd::waterfill_weight(z, 0.0), o, z, 0.0, 0.0, scratch);
      EXPECT_TRUE(same_bits(full.level, want)) << "n=" << n << " rep=" << rep;
      EXPECT_TRUE(same_bits(supplier.level, want)) << "n=" << n << " rep=" << rep;
    }
  }
}

// Whether a supplier runs short is decided on the demand of step 4: its orders summed in
// order, then final demand. With orders {1, 1e16} and C = 1 that sum is 1e16 ((1 + 1e16)
// rounds to 1e16 and so does + 1), while C + 1 + 1e16 would be 1e16 + 2: x = 1e16 serves
// everyone in full (no level, c = C), and the next double below rations.
TEST(Waterfill, RunsShortOnStepFourDemand) {
  const std::vector<double> o = {1.0, 1e16}, z = {1.0, 1e16};
  sd::WaterfillScratch scratch;
  const auto all = sd::allot_waterfill(1e16, o, z, 1.0, 1.0, scratch);
  EXPECT_EQ(all.level, kInf);
  EXPECT_EQ(all.c, 1.0);
  const auto cut = sd::allot_waterfill(std::nextafter(1e16, 0.0), o, z, 1.0, 1.0, scratch);
  EXPECT_LT(cut.level, 1.0);
}

// Long lists in shuffled order whose ratios grow geometrically (base^p for the p-th smallest)
// while their Z0 shrink or grow geometrically (e^(a p)): where the cheap customers carry the
// weight (a < 0), each round's bound (x - full) / weight passes few items, so some lists use
// up all the rounds and the chunked ordering finishes them (four of the six pairs with a < 0
// do, counted with an instrumented kernel), and with ratios up to 1.5^299 some rounds end
// where rounding keeps the smallest from crossing. Same bits as the full sort for all.
TEST(Waterfill, GeometricRatiosAndWeightsTakeManyRoundsAndStillMatch) {
  sd::WaterfillScratch scratch;
  const std::size_t n = 300;
  for (double base : {1.01, 1.1, 1.5}) {
    for (double a : {-0.2, -0.05, 0.05}) {
      std::vector<double> o(n), z(n);
      double demand = 0.0;
      for (std::size_t k = 0; k < n; ++k) {
        const double p = double(k * 7919 % n);  // 7919 is prime: a permutation of 0..n-1
        z[k] = std::exp(a * p);
        o[k] = z[k] * std::pow(base, p);
        demand += o[k];
      }
      for (double share : {0.05, 0.2, 0.5, 0.8, 0.95, 0.999}) {
        const double x = share * demand;
        const double want = waterfill_reference(x, o, z, 0.0, 0.0);
        EXPECT_TRUE(same_bits(sd::allot_waterfill(x, o, z, 0.0, 0.0, scratch).level, want))
            << "base " << base << " a " << a << " share " << share;
      }
    }
  }
}

// Ties at a bound: 40 customers with Z0 = 1, the even ones at baseline (O = 1, ratio 1), the
// odd ones doubled (O = 2, ratio 2); no final demand. f(L) = L * 40 for L <= 1, then
// 20 + 20 L for 1 <= L <= 2.
//   x = 30: f(1) = 40 > 30, so L = 30 / 40 = 0.75 (below every ratio; no item under the first
//     bound 0.75, the smallest one crosses);
//   x = 40: the first bound is 40 / 40 = 1, exactly the ratio of twenty items: they are all
//     served (f(1) = 40 does not exceed x; crossing needs f > x), and the level is found at
//     the first doubled one: (40 - 20) / 20 = 1;
//   x = 50: the twenty at baseline are served in full, then 20 + 20 L = 50 at L = 1.5.
TEST(Waterfill, TiesAtTheBoundGiveTheAnalyticLevel) {
  std::vector<double> o(40), z(40, 1.0);
  for (std::size_t k = 0; k < 40; ++k) o[k] = k % 2 == 0 ? 1.0 : 2.0;
  sd::WaterfillScratch scratch;
  EXPECT_EQ(sd::allot_waterfill(30.0, o, z, 0.0, 0.0, scratch).level, 0.75);
  EXPECT_EQ(sd::allot_waterfill(50.0, o, z, 0.0, 0.0, scratch).level, 1.5);
  EXPECT_EQ(sd::allot_waterfill(40.0, o, z, 0.0, 0.0, scratch).level, 1.0);
}

// Ties inside one split, with different weights: 16 customers at ratio exactly 1 with
// Z0 = O = 1..16 (sum 136) and 8 at ratio 3 with Z0 = 1. x = 152: the first bound is 152 / 144,
// so the split is the 16 tied customers; all are served in full and the level is
// (152 - 136) / 8 = 2 (sums of integers: exact in any order). Each tied customer must be
// walked once: one taken twice or left out changes the sums.
TEST(Waterfill, TiedRatiosWithDifferentWeightsAreEachWalkedOnce) {
  std::vector<double> o, z;
  for (int k = 1; k <= 16; ++k) {
    o.push_back(k);
    z.push_back(k);
    if (k % 2 == 0) {  // interleaved with the dearer ones
      o.push_back(3.0);
      z.push_back(1.0);
    }
  }
  sd::WaterfillScratch scratch;
  const auto a = sd::allot_waterfill(152.0, o, z, 0.0, 0.0, scratch);
  EXPECT_EQ(a.level, 2.0);
  EXPECT_TRUE(same_bits(a.level, waterfill_reference(152.0, o, z, 0.0, 0.0)));
}

// In exact arithmetic, when no item lies at or below a round's bound (x - full) / weight, the
// smallest one crosses: full + r weight > x for r > bound. In floating point it may not (the
// sum can round back to x), and then the kernel must serve that item in full and go on, as
// the sorted walk does. Lists with every ratio at r or the next double above it, weights of
// different sizes and x = r sum Z0 (so that the level is r to within rounding) put the rounds
// on such edges: same bits as the full sort.
TEST(Waterfill, RatiosWithinAnUlpMatchTheFullSort) {
  Uniform next{99};
  sd::WaterfillScratch scratch;
  int rationed = 0;
  for (int rep = 0; rep < 400; ++rep) {
    const std::size_t n = 33 + std::size_t(next() * 100);
    const double r0 = 0.5 + next();
    std::vector<double> o(n), z(n);
    double demand = 0.0, weight = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      z[k] = std::ldexp(1.0, int(next() * 8)) * (1.0 + std::floor(next() * 4) / 4);
      o[k] = (next() < 0.3 ? std::nextafter(r0, kInf) : r0) * z[k];
      demand += o[k];
      weight += z[k];
    }
    const double x = r0 * weight;
    if (!(x < demand)) continue;  // everyone served in full: no rationing
    ++rationed;
    const double want = waterfill_reference(x, o, z, 0.0, 0.0);
    EXPECT_TRUE(same_bits(sd::allot_waterfill(x, o, z, 0.0, 0.0, scratch).level, want))
        << "rep " << rep;
  }
  EXPECT_GT(rationed, 100);
}
