#include "engine/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

namespace shortfall::detail {

Allotment allot_proportional(double x, double demand, double C) {
  if (x >= demand) return allot_all(C);
  const double r = demand > 0.0 ? x / demand : 0.0;
  Allotment a;
  a.share = {r, r, r};
  a.c = C * r;
  return a;
}

Allotment allot_final_demand_last(double x, double demand, double C) {
  if (x >= demand) return allot_all(C);
  const double gap = demand - x;
  if (C >= gap) return allot_all(C - gap);
  const double firm_demand = demand - C;
  const double r = firm_demand > 0.0 ? x / firm_demand : 0.0;
  Allotment a;
  a.share = {r, r, r};
  a.c = 0.0;
  return a;
}

namespace {
/// A customer's ratio O/Z0; a link whose baseline moved to a new supplier (Z0 = 0) is served
/// last, or not at all.
double waterfill_ratio(double order, double z0) {
  return z0 > 0.0 ? order / z0 : (order > 0.0 ? std::numeric_limits<double>::infinity() : 0.0);
}
Allotment waterfill_allotment(double level, double C, double C0) {
  Allotment a;
  a.level = level < 0.0 ? 0.0 : level;
  a.c = C0 > 0.0 ? std::min(C, a.level * C0) : 0.0;
  return a;
}
/// Lists up to this long are kept on the stack, and splits up to this long are ordered by
/// counting ranks.
constexpr std::size_t kStackList = 32;
/// Rounds of splitting at a rising bound before the rest is ordered by chunks.
constexpr int kRounds = 8;
constexpr double kInf = std::numeric_limits<double>::infinity();
/// min(m, r) where `take`, else m: selects, not branches (the condition is data).
inline double min_if(double m, double r, bool take) {
  static constexpr double kAdd[2] = {kInf, 0.0};
  const double c = r + kAdd[take];  // r, or inf
  return c < m ? c : m;
}
/// Items in the walk's order: ascending ratio, then index.
using Item = WaterfillItem;
constexpr auto walk_order = [](const Item& a, const Item& b) {
  return std::tie(a.ratio, a.k) < std::tie(b.ratio, b.k);
};

/// The walk over the items in ascending (ratio, index) order: f(L) = (demand of the items with
/// ratio <= L) + L (weight of the others) increases with L, and the walk stops at the item
/// where it crosses x. Items k < k_final are orders (weight Z0); k_final is final demand.
struct Walk {
  double x, weight, full = 0.0, level = kInf;
  std::span<const double> orders, z0;
  double C, C0;
  std::uint32_t k_final;
  /// The level if none of the items not yet served were served in full: (x - full) / weight.
  double bound() const { return weight > 0.0 ? (x - full) / weight : 0.0; }
  /// Whether the next item, of ratio r, is where f crosses x.
  bool would_cross(double r) const { return full + r * weight > x; }
  /// Whether item k (ratio r) is where f crosses x; if so the level is set, else the item is
  /// served in full.
  bool crosses(double r, std::uint32_t k) {
    if (would_cross(r)) {
      level = bound();
      return true;
    }
    full += k == k_final ? C : orders[k];
    weight -= k == k_final ? C0 : z0[k];
    return false;
  }
  Allotment result() const { return waterfill_allotment(level, C, C0); }
};

/// Orders the split idx[0, m) (ascending indices) by (ratio, index) into items and walks it;
/// true where the walk stops in it.
[[gnu::always_inline]] inline bool walk_split(Walk& w, const double* ratio,
                                              const std::uint32_t* idx, std::size_t m,
                                              Item* items) {
  if (m <= kStackList) {
    // Each item's rank is the number of items before it in that order: branch-free, where a
    // sort of a few dozen items mispredicts about every other comparison.
    std::array<double, kStackList> r;
    for (std::size_t q = 0; q < m; ++q) r[q] = ratio[idx[q]];
    for (std::size_t q = 0; q < m; ++q) {
      std::size_t rank = 0;
      for (std::size_t p = 0; p < q; ++p) rank += r[p] <= r[q];  // ties: lower index first
      for (std::size_t p = q + 1; p < m; ++p) rank += r[p] < r[q];
      items[rank] = {r[q], idx[q]};
    }
  } else {
    for (std::size_t q = 0; q < m; ++q) items[q] = {ratio[idx[q]], idx[q]};
    std::sort(items, items + m, walk_order);
  }
  for (std::size_t q = 0; q < m; ++q)
    if (w.crosses(items[q].ratio, items[q].k)) return true;
  return false;
}
}  // namespace

Allotment allot_waterfill(double x, std::span<const double> orders, std::span<const double> z0,
                          double C, double C0, WaterfillScratch& scratch) {
  double demand = 0.0;
  for (double o : orders) demand += o;
  demand += C;
  if (x >= demand) return allot_all(C);
  return allot_waterfill_short(x, waterfill_weight(z0, C0), orders, z0, C, C0, scratch);
}

Allotment allot_waterfill_short(double x, double weight, std::span<const double> orders,
                                std::span<const double> z0, double C, double C0,
                                WaterfillScratch& scratch) {
  const auto k_final = static_cast<std::uint32_t>(orders.size());
  const std::size_t n = orders.size() + (C0 > 0.0 ? 1 : 0);
  Walk w{x, weight, 0.0, kInf, orders, z0, C, C0, k_final};

  // The walk, in rounds. Every item whose ratio is at most the level the rest would get if
  // none of them were served in full, bound = (x - full) / weight, is served in full (in
  // exact arithmetic full + r weight <= x for r <= bound, whatever comes before it; the bound
  // only rises). One branch-free pass over the items still above the previous bound lists
  // those now at or below it, in index order, and finds the smallest ratio above it; that
  // split is ordered and walked, then the smallest ratio is tested: its item comes next, and
  // where it crosses, so does everything after it (full + r weight rises with r under
  // rounding too), so the level is found. Else the next round. Each split is the next run of
  // the ascending (ratio, index) order (ties at a bound go with it) and every walked item is
  // tested as the sort's walk tests it, so the sums are those of a full sort to the last bit.
  // After a few rounds, or when rounding keeps the smallest item above the bound from
  // crossing, the rest is ordered a chunk at a time, so a list costs O(k log k) at most.
  std::array<double, kStackList> ratio_stack;
  std::array<std::uint32_t, kStackList> idx_stack, live_stack;
  std::array<Item, kStackList> items_stack;
  double* ratio = ratio_stack.data();
  std::uint32_t* idx = idx_stack.data();    // the split
  std::uint32_t* live = live_stack.data();  // the items above the bound, ascending
  auto* items = items_stack.data();
  if (n > kStackList) {
    scratch.ratio.resize(n);
    scratch.index.resize(n);
    scratch.live.resize(n);
    scratch.items.resize(n);
    ratio = scratch.ratio.data();
    idx = scratch.index.data();
    live = scratch.live.data();
    items = scratch.items.data();
  }
  double bound = w.bound();
  std::size_t m = 0, above = 0;
  double smallest = kInf;
  // An item at or below the bound joins the split; one above stays live and counts in the
  // running minimum `least`. NaN counts as above every bound.
  auto classify = [&](std::uint32_t k, double r, double& least) {
    const bool a = !(r <= bound);
    idx[m] = k;
    m += !a;
    live[above] = k;
    above += a;
    least = min_if(least, r, a);
  };
  // The first round's pass computes the ratios.
  for (std::uint32_t k = 0; k < k_final; ++k) {
    ratio[k] = waterfill_ratio(orders[k], z0[k]);
    classify(k, ratio[k], smallest);
  }
  if (n > k_final) {
    ratio[k_final] = C / C0;
    classify(k_final, ratio[k_final], smallest);
  }
  for (int round = 1;; ++round) {
    if (m > 0 && walk_split(w, ratio, idx, m, items)) return w.result();
    if (above == 0) return w.result();  // everyone served in full
    if (w.would_cross(smallest)) return waterfill_allotment(w.bound(), C, C0);
    if (m == 0 || round == kRounds) break;
    // The next round's pass, over the items still above, compacted in place (live[i] is read
    // before live[above <= i] is written).
    bound = w.bound();
    const std::size_t left = above;
    m = above = 0;
    double min0 = kInf, min1 = kInf;  // two chains of minima, for the pipeline
    std::size_t i = 0;
    for (; i + 1 < left; i += 2) {
      const std::uint32_t k0 = live[i], k1 = live[i + 1];
      classify(k0, ratio[k0], min0);
      classify(k1, ratio[k1], min1);
    }
    if (i < left) classify(live[i], ratio[live[i]], min0);
    smallest = std::min(min0, min1);
  }
  // The rest in ascending order, a chunk at a time (nth_element, sort).
  for (std::size_t i = 0; i < above; ++i) items[i] = {ratio[live[i]], live[i]};
  const auto first = items, last = items + above;
  for (std::size_t done = 0, chunk = 16; done < above; done += chunk, chunk *= 4) {
    chunk = std::min(chunk, above - done);
    const auto begin = first + std::ptrdiff_t(done), end = begin + std::ptrdiff_t(chunk);
    if (end != last) std::nth_element(begin, end, last, walk_order);
    std::sort(begin, end, walk_order);
    for (auto it = begin; it != end; ++it)
      if (w.crosses(it->ratio, it->k)) return w.result();
  }
  return w.result();
}

Allotment allot_priority(double x, std::span<const double> orders,
                         std::span<const std::uint8_t> classes, double C,
                         std::span<const PriorityClass> service_order) {
  double demand = C;
  for (double o : orders) demand += o;
  if (x >= demand) return allot_all(C);
  Allotment a;
  a.share = {0.0, 0.0, 0.0};  // a class the order does not name gets nothing
  double remaining = x;
  for (PriorityClass cls : service_order) {
    const auto id = static_cast<std::uint8_t>(cls);
    double need = 0.0;
    if (cls == PriorityClass::kFinal) {
      need = C;
    } else {
      for (std::size_t k = 0; k < orders.size(); ++k)
        if (classes[k] == id) need += orders[k];
    }
    const double share = need <= remaining ? 1.0 : (need > 0.0 ? remaining / need : 0.0);
    if (cls == PriorityClass::kFinal)
      a.c = share == 1.0 ? C : C * share;
    else
      a.share[id] = share;
    remaining = need <= remaining ? remaining - need : 0.0;
  }
  return a;
}

namespace {
double apply(const Allotment& a, std::span<const double> orders, std::span<const double> z0,
             std::span<const std::uint8_t> classes, std::span<double> y) {
  for (std::size_t k = 0; k < orders.size(); ++k)
    y[k] = deliver(a, orders[k], z0.empty() ? 0.0 : z0[k], classes.empty() ? 0 : classes[k]);
  return a.c;
}
}  // namespace

double ration_proportional(double x, double demand, std::span<const double> orders, double C,
                           std::span<double> y) {
  return apply(allot_proportional(x, demand, C), orders, {}, {}, y);
}

double ration_final_demand_last(double x, double demand, std::span<const double> orders, double C,
                                std::span<double> y) {
  return apply(allot_final_demand_last(x, demand, C), orders, {}, {}, y);
}

double ration_waterfill(double x, std::span<const double> orders, std::span<const double> z0,
                        double C, double C0, std::span<double> y, WaterfillScratch& scratch) {
  return apply(allot_waterfill(x, orders, z0, C, C0, scratch), orders, z0, {}, y);
}

double ration_priority(double x, std::span<const double> orders,
                       std::span<const std::uint8_t> classes, double C,
                       std::span<const PriorityClass> service_order, std::span<double> y) {
  return apply(allot_priority(x, orders, classes, C, service_order), orders, {}, classes, y);
}

}  // namespace shortfall::detail
