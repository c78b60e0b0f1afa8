// The per-firm kernels of one day (docs/model.md section 3), as pure functions over small arrays so
// that unit tests can check each formula against the model's math. The engine
// (simulation.cpp) calls the same functions, or inlines the identical arithmetic in its hot
// loops where noted.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "shortfall/scenario.hpp"

namespace shortfall::detail {

/// Step 2, the draw of yesterday's production on one supplier's stock:
///   draw_ji = S_ji [x_i(t-1)/x0_i] A_ip / S_ip
/// with S_ip the pooled stock of material p before the update (no draw where S_ip = 0).
/// Evaluated in a form that is the same quantity but exact to the last bit at baseline:
///   draw_ji = Z0_ji xr (S_ji / S0_ji) (S0_ip / S_ip),   S0 = n Z0 (baseline stocks),
/// and, for a single supplier (S_ji = S_ip), draw = Z0 xr. `pool0` is S0_ip = n A_ip.
inline double draw_down(double z0, double xr, double stock, double n_days, double pool,
                        double pool0, bool single_supplier) {
  if (!(pool > 0.0)) return 0.0;  // no consumption term where the pooled stock is 0
  if (single_supplier) return z0 * xr;
  if (z0 > 0.0) return z0 * xr * (stock / (n_days * z0)) * (pool0 / pool);
  return xr * stock * (pool0 / n_days) / pool;
}

/// Step 2 for one link: today's arrivals land and the draw (draw_down) is taken,
///   S_ji <- max(0, S_ji + (arrival_ji - draw_ji)),
/// with max0 one of the engine's forms of max(0, .) (std::max, or max0_select without a branch).
template <class Max0>
inline double stock_after_day(double stock, double arrival, double draw, Max0 max0) {
  return max0(stock + (arrival - draw));
}

/// Step 3 with lead times (model sections 3.3 and 5), for one link:
///   R = (n + l - 1) Z0 xh - S - T, clipped at 0 where `clip` (destocking: false),
///   O = max(0, Z0 xr + R / tau),
/// with xr = x(t-1)/x0 and xh = x̂/x0 (the planned output's ratio; xr itself under the preset).
/// R is evaluated as (n Z0 xh - S) + ((l-1) Z0 xh - T) so that O is exactly Z0 at baseline.
/// `transit_count` shipments of nominal size Z0 plus `transit_dev` make up T.
template <class Max0>
inline double order_for(double z0, double xr, double xh, bool clip, double n_days, double stock,
                        int lead_time, double transit_count, double transit_dev, double inv_tau,
                        Max0 max0) {
  double stock_gap = (n_days * z0) * xh - stock;
  double pipeline_gap = (double(lead_time - 1) * z0) * xh - (transit_count * z0 + transit_dev);
  double restock = stock_gap + pipeline_gap;
  if (clip) restock = max0(restock);
  double o = z0 * xr + restock * inv_tau;
  return max0(o);
}
/// The same with std::max(0.0, .) (= (o > 0 ? o : 0)).
inline double order_for(double z0, double xr, double xh, bool clip, double n_days, double stock,
                        int lead_time, double transit_count, double transit_dev, double inv_tau) {
  return order_for(z0, xr, xh, clip, n_days, stock, lead_time, transit_count, transit_dev, inv_tau,
                   [](double o) { return std::max(0.0, o); });
}

/// max(0, v) with the same result as std::max(0.0, v) for every v (0 for NaN, +0 for -0) but
/// as a select (MAXSD on x86-64) instead of a branch: it pays where the sign is hard to
/// predict, such as orders and stocks along pipelines where shortages come and go.
inline double max0_select(double v) {
#if defined(__x86_64__)
  // MAXSD keeps its destination where it is greater, else takes the source (also for NaN and
  // -0). In assembly because compilers treat the intrinsic as a plain max whose NaN and -0
  // results they may fold or reorder differently. Where the compiler emits AVX (-march=native
  // on most machines), the instruction's AVX form: the legacy one among AVX code made the buyer
  // loop about 40 times slower on an Intel Xeon (docs/performance.md, Built for the machine).
#if defined(__AVX__)
  __asm__("vmaxsd %1, %0, %0" : "+x"(v) : "x"(0.0));  // v = v > 0 ? v : 0, as MAXSD's
#else
  __asm__("maxsd %1, %0" : "+x"(v) : "x"(0.0));
#endif
  return v;
#else
  return std::max(0.0, v);
#endif
}

/// Step 5: x = min(cap, x_inp, D). Returns x and which constraint binds (demand first on ties,
/// then capacity).
inline std::pair<double, std::uint8_t> produce(double capacity, double input_limit, double demand) {
  const double x = std::min(capacity, std::min(input_limit, demand));
  const std::uint8_t b = x == demand ? 0 : x == capacity ? 1 : 2;
  return {x, b};
}

// Step 6, rationing: divide production x among orders and final demand C when x < D. A rule
// decides an Allotment for the supplier, the same few numbers for all its customers; each
// customer's delivery then follows from its own order, Z0 and class (deliver), so the engine
// can apply it from the buyer's side. When x >= D every order and the final demand are served
// in full.

/// What one supplier gives: y = min(O share[class], L Z0) and c to final users.
struct Allotment {
  std::array<double, 3> share{1.0, 1.0, 1.0};  ///< by PriorityClass of the buyer (not kFinal)
  double level = std::numeric_limits<double>::infinity();  ///< waterfill level L; inf: none
  double c = 0.0;                                          ///< final deliveries
};

/// A customer's delivery under an allotment: O share (exactly O where the share is 1), capped
/// at L Z0 under waterfill.
inline double deliver(const Allotment& a, double order, double z0, std::uint8_t cls) {
  const double y = order * a.share[cls];
  return a.level < std::numeric_limits<double>::infinity() ? std::min(y, a.level * z0) : y;
}

/// Everyone in full.
inline Allotment allot_all(double C) {
  Allotment a;
  a.c = C;
  return a;
}
/// y = O x / D, c = C x / D.
Allotment allot_proportional(double x, double demand, double C);
/// Final users absorb the shortfall first: c = max(0, C - (D - x)); if C < D - x then c = 0 and
/// y = O x / (D - C).
Allotment allot_final_demand_last(double x, double demand, double C);
/// An item of a waterfill list: its ratio O/Z0 and its index (final demand last).
struct WaterfillItem {
  double ratio;
  std::uint32_t k;
};
/// Buffers for waterfill's longer customer lists, reused between calls (one per thread).
struct WaterfillScratch {
  std::vector<double> ratio;
  std::vector<std::uint32_t> index, live;
  std::vector<WaterfillItem> items;
};
/// Waterfill's total weight: the customers' Z0 summed in order, then C0 where C0 > 0. A caller
/// that keeps it between days must sum in this order, so that the level has the same bits.
inline double waterfill_weight(std::span<const double> z0, double C0) {
  double w = 0.0;
  for (double z : z0) w += z;
  return C0 > 0.0 ? w + C0 : w;
}
/// y = min(O, L Z0), c = min(C, L C0), L the largest level with sum y + c <= x; computed as the
/// walk over the ratios O/Z0 in ascending order (ties by index) gives it, to the last bit,
/// ordering only what the walk reaches (O(k log k) at most). D = (sum of orders) + C, summed
/// in that order as the engine's step 4 does; x >= D serves everyone in full.
Allotment allot_waterfill(double x, std::span<const double> orders, std::span<const double> z0,
                          double C, double C0, WaterfillScratch& scratch);
/// The same for a supplier known to run short (x < D), with its weight from waterfill_weight.
Allotment allot_waterfill_short(double x, double weight, std::span<const double> orders,
                                std::span<const double> z0, double C, double C0,
                                WaterfillScratch& scratch);
/// Classes served in `service_order`, each in full before the next, proportionally within the
/// class that runs short. classes[k] is the class of order k; final demand is class kFinal.
Allotment allot_priority(double x, std::span<const double> orders,
                         std::span<const std::uint8_t> classes, double C,
                         std::span<const PriorityClass> service_order);

// The same rules writing each order's delivery y (same length as orders); each returns c.
double ration_proportional(double x, double demand, std::span<const double> orders, double C,
                           std::span<double> y);
double ration_final_demand_last(double x, double demand, std::span<const double> orders, double C,
                                std::span<double> y);
double ration_waterfill(double x, std::span<const double> orders, std::span<const double> z0,
                        double C, double C0, std::span<double> y, WaterfillScratch& scratch);
double ration_priority(double x, std::span<const double> orders,
                       std::span<const std::uint8_t> classes, double C,
                       std::span<const PriorityClass> service_order, std::span<double> y);

}  // namespace shortfall::detail
