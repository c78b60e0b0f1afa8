#include "kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace shortfall::detail {

double update_stocks(std::span<double> stock, std::span<const double> arrivals,
                     std::span<const double> z0, double n_days, double xr) {
  double pool = 0.0, pool0 = 0.0;
  for (std::size_t k = 0; k < stock.size(); ++k) {
    pool += stock[k];
    pool0 += n_days * z0[k];
  }
  const bool single = stock.size() == 1;
  double after = 0.0;
  for (std::size_t k = 0; k < stock.size(); ++k) {
    const double draw = draw_down(z0[k], xr, stock[k], n_days, pool, pool0, single);
    const double s = stock[k] + (arrivals[k] - draw);
    stock[k] = s > 0.0 ? s : 0.0;
    after += stock[k];
  }
  return after;
}

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
/// Lists up to this long are ordered by repeated scans.
constexpr std::size_t kShortList = 32;
/// Longer lists: rounds of splitting at a bound before ordering the rest by chunks.
constexpr int kRounds = 8;
}  // namespace

Allotment allot_waterfill(double x, std::span<const double> orders, std::span<const double> z0,
                          double C, double C0,
                          std::vector<std::pair<double, std::uint32_t>>& scratch) {
  double demand = C;
  for (double o : orders) demand += o;
  if (x >= demand) return allot_all(C);
  // Items: the orders (weight Z0) and, if any, final demand (weight C0, index k = size).
  const auto k_final = static_cast<std::uint32_t>(orders.size());
  const std::size_t n = orders.size() + (C0 > 0.0 ? 1 : 0);
  double weight = 0.0;
  // f(L) = (sum of demand of items with ratio <= L) + L * (weight of items with ratio > L) is
  // increasing; walk the items in ascending order of ratio (ties by index) to the one where f
  // crosses x.
  double level = std::numeric_limits<double>::infinity();
  double full = 0.0;  // demand of items already fully served
  auto crosses = [&](double r, std::uint32_t k) {
    if (full + r * weight > x) {
      level = weight > 0.0 ? (x - full) / weight : 0.0;
      return true;
    }
    full += k == k_final ? C : orders[k];
    weight -= k == k_final ? C0 : z0[k];
    return false;
  };
  if (n <= kShortList) {
    // Short lists (most suppliers; the level is usually crossed at the first or second
    // item): take the smallest remaining (ratio, index) by a scan, as often as needed: the
    // same sequence a sort gives, so the same sums to the last bit. Ratios are >= 0, so their
    // IEEE bits order like unsigned integers (+0 for -0); a taken item's key becomes the
    // largest integer, above every ratio, inf included.
    std::array<std::uint64_t, kShortList> key;
    bool negative = false;
    auto bits = [&](double r) {
      std::uint64_t b;
      r += 0.0;  // -0 -> +0
      std::memcpy(&b, &r, sizeof b);
      negative |= std::int64_t(b) < 0;  // a negative ratio (or NaN with the sign set)
      return b;
    };
    for (std::uint32_t k = 0; k < orders.size(); ++k) {
      key[k] = bits(waterfill_ratio(orders[k], z0[k]));
      weight += z0[k];
    }
    if (C0 > 0.0) {
      key[k_final] = bits(C / C0);
      weight += C0;
    }
    if (!negative) {
      constexpr std::uint64_t kTaken = ~std::uint64_t(0);
      for (std::size_t step = 0; step < n; ++step) {
        std::uint32_t best = 0;
        std::uint64_t best_key = key[0];
        for (std::uint32_t k = 1; k < n; ++k) {
          const bool lower = key[k] < best_key;  // ties: the lower index stays
          best_key = lower ? key[k] : best_key;
          best = lower ? k : best;
        }
        double r;
        std::memcpy(&r, &best_key, sizeof r);
        if (crosses(r, best)) break;
        key[best] = kTaken;
      }
      return waterfill_allotment(level, C, C0);
    }
    weight = 0.0;  // negative inputs: the general path below
  }
  // Long lists, or negative ratios: the items with their ratios.
  scratch.resize(2 * n);
  using Item = std::pair<double, std::uint32_t>;
  Item* cur = scratch.data();
  Item* other = cur + n;
  for (std::uint32_t k = 0; k < orders.size(); ++k) {
    cur[k] = {waterfill_ratio(orders[k], z0[k]), k};
    weight += z0[k];
  }
  if (C0 > 0.0) {
    cur[orders.size()] = {C / C0, k_final};
    weight += C0;
  }
  auto crosses_item = [&](const Item& item) { return crosses(item.first, item.second); };
  // Rounds. Every item whose ratio is at most the level the rest would get if none of them
  // were served in full, bound = (x - full) / weight, is served in full (in exact arithmetic
  // full + r weight <= x for r <= bound, whatever comes before it; the level only rises).
  // One branch-free pass splits those items off, in the order they came; they are sorted and
  // walked, and the next round's bound is higher. When none is at or below the bound, the
  // smallest comes next: in exact arithmetic it crosses (most long lists end there; the pass
  // also tells whether every item would cross, and then the level is the bound itself); when
  // rounding says it does not, it is served and the rounds go on. The walk tests every item
  // as the sort's walk does, and each split holds the next items of the ascending (ratio,
  // index) order (ties at the bound go with it), so the sums are those of a full sort to the
  // last bit. After a few rounds the rest is ordered a chunk at a time, so a list costs
  // O(k log k) at most.
  std::size_t left = n;
  for (int round = 0; round < kRounds && left > 0; ++round) {
    const double bound = weight > 0.0 ? (x - full) / weight : 0.0;
    std::size_t lo = 0, hi = 0;
    bool all_cross = true;
    for (std::size_t k = 0; k < left; ++k) {
      const Item it = cur[k];
      const bool below = it.first <= bound;
      all_cross &= full + it.first * weight > x;
      cur[lo] = it;
      other[hi] = it;
      lo += below;
      hi += !below;
    }
    if (all_cross)  // whichever comes next crosses, at (x - full) / weight: the bound
      return waterfill_allotment(bound, C, C0);
    if (lo == 0) {  // all went to the other side
      std::swap(cur, other);
      Item* smallest = std::min_element(cur, cur + left);
      if (crosses_item(*smallest)) return waterfill_allotment(level, C, C0);
      *smallest = cur[left - 1];
      --left;
      continue;
    }
    std::sort(cur, cur + lo);
    for (std::size_t k = 0; k < lo; ++k)
      if (crosses_item(cur[k])) return waterfill_allotment(level, C, C0);
    std::swap(cur, other);
    left = hi;
  }
  // Still not crossed: the rest in ascending order, a chunk at a time (nth_element, sort).
  const auto first = cur, last = cur + left;
  for (std::size_t done = 0, chunk = 16; done < left; done += chunk, chunk *= 4) {
    chunk = std::min(chunk, left - done);
    const auto begin = first + std::ptrdiff_t(done), end = begin + std::ptrdiff_t(chunk);
    if (end != last) std::nth_element(begin, end, last);
    std::sort(begin, end);
    for (auto it = begin; it != end; ++it)
      if (crosses_item(*it)) return waterfill_allotment(level, C, C0);
  }
  return waterfill_allotment(level, C, C0);
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
                        double C, double C0, std::span<double> y,
                        std::vector<std::pair<double, std::uint32_t>>& scratch) {
  return apply(allot_waterfill(x, orders, z0, C, C0, scratch), orders, z0, {}, y);
}

double ration_priority(double x, std::span<const double> orders,
                       std::span<const std::uint8_t> classes, double C,
                       std::span<const PriorityClass> service_order, std::span<double> y) {
  return apply(allot_priority(x, orders, classes, C, service_order), orders, {}, classes, y);
}

}  // namespace shortfall::detail
