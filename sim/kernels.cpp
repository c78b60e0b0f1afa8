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
  scratch.clear();
  for (std::uint32_t k = 0; k < orders.size(); ++k) {
    scratch.emplace_back(waterfill_ratio(orders[k], z0[k]), k);
    weight += z0[k];
  }
  if (C0 > 0.0) {
    scratch.emplace_back(C / C0, k_final);
    weight += C0;
  }
  auto crosses_item = [&](const std::pair<double, std::uint32_t>& item) {
    return crosses(item.first, item.second);
  };
  // The level is often below every ratio (found at the smallest, without ordering). Else the
  // rest in ascending order, a chunk at a time: the smallest items not yet walked are
  // selected (nth_element, O(k)), sorted and walked; chunks grow fourfold, so a late crossing
  // costs O(k log k) like a sort. Each chunk holds the next items of the sorted order (the pairs
  // are distinct), so the sums are those of a full sort to the last bit.
  const auto first = scratch.begin(), last = scratch.end();
  const auto smallest = std::min_element(first, last);
  if (smallest == last || crosses_item(*smallest)) return waterfill_allotment(level, C, C0);
  std::iter_swap(first, smallest);
  for (std::size_t done = 1, chunk = 16; done < scratch.size(); done += chunk, chunk *= 4) {
    chunk = std::min(chunk, scratch.size() - done);
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
