// The in-transit pipeline of every lane (docs/model.md section 5) as rings behind restrict
// pointers: the one implementation of a lane's arrivals, pipeline totals and shipments.
#pragma once

#include <cassert>
#include <cmath>
#include <cstdint>

#include "world/network.hpp"

namespace shortfall::engine {

using detail::Lane;

/// Used by the fast and the general loops and the policies (Simulation::Impl::pipeline()).
struct Pipeline {
  const std::uint32_t* __restrict off;
  const std::int32_t* __restrict len;
  std::int32_t* __restrict pos;
  std::uint16_t* __restrict cnt;
  double* __restrict dev;
  std::int32_t* __restrict n_transit;  // shipments in the pipeline
  std::uint16_t* __restrict n_dev;     // ring slots whose deviation is not 0
  const std::int32_t* __restrict lead;
  /// Today's arrivals on lane l (nominal size z each plus their deviations); empties the slot.
  double arrive(Lane l, double z) const {
    const std::uint32_t today = off[l] + std::uint32_t(pos[l]);
    const double a = double(cnt[today]) * z + take_deviation(l, today);
    n_transit[l] -= cnt[today];
    cnt[today] = 0;
    return a;
  }
  /// arrive() where the ring is full (see fixed_lead): one shipment in every slot, before and
  /// after the day, so the counts stay as they are. The same value as arrive's (1.0 z = z).
  /// A ring without deviations (95% of the default world's lane-days) is not read: its slots
  /// are +0.0 (never -0.0: opposite deviations sum to +0.0), so that is z + 0.0.
  double arrive_full(Lane l, double z) const {
    if (n_dev[l] == 0) return z + 0.0;
    return z + take_deviation(l, off[l] + std::uint32_t(pos[l]));
  }
  /// Asks for lane l's ring slot of today where it holds deviations (else for slot 0; no branch).
  void prefetch_today(Lane l) const {
    __builtin_prefetch(dev + ((off[l] + pos[l]) & -std::uint32_t(n_dev[l] != 0)), 1, 0);
  }
  /// Empties ring slot k of lane l of its deviation and returns it.
  double take_deviation(Lane l, std::uint32_t k) const {
    const double d = dev[k];
    n_dev[l] = std::uint16_t(n_dev[l] - (d != 0.0));  // no branch: d's sign is hard to predict
    dev[k] = 0.0;
    return d;
  }
  /// The ring position after p in a ring of n slots: p + 1, or 0 past the end, without a
  /// branch (each lane wraps on a day of its own, which a branch mispredicted).
  static std::int32_t next_pos(std::int32_t p, std::int32_t n) {
    return (p + 1) & -std::int32_t(p + 1 != n);
  }
  /// ship() where the ring is full: the lead time is the ring's length, so today's shipment
  /// takes the slot that today's arrivals left (+0.0), and the counts stay as they are; a
  /// nominal shipment (y - z = 0) leaves the slot's line alone.
  void ship_full(Lane l, double y, double z) const {
    const std::int32_t p = pos[l];
    pos[l] = next_pos(p, len[l]);
    const std::uint32_t k = off[l] + std::uint32_t(p);
    assert(dev[k] == 0.0 && !std::signbit(dev[k]));
    const double d = y - z;
    if (d != 0.0) {
      dev[k] = d;  // = 0.0 + d
      n_dev[l] = std::uint16_t(n_dev[l] + 1);
    }
  }
  /// The deviations still in transit, summed in slot order (0, without a loop, where none).
  [[nodiscard]] double deviation_in_transit(Lane l) const {
    double d = 0.0;
    if (n_dev[l] > 0)
      for (std::int32_t q = 0; q < len[l]; ++q) d += dev[off[l] + std::uint32_t(q)];
    return d;
  }
  void add_deviation(Lane l, std::uint32_t k, double d) const {
    if (d == 0.0) return;  // adding 0 changes neither the slot nor whether it is 0
    const bool was = dev[k] != 0.0;
    dev[k] += d;
    n_dev[l] = std::uint16_t(n_dev[l] + (dev[k] != 0.0) - was);
  }
  /// Today's shipment y on lane l (baseline z) arrives on day t + lead: slot (t + lead) mod
  /// len, lead <= len. Moves the lane's position on to tomorrow.
  void ship(Lane l, double y, double z) const {
    const std::int32_t n = len[l], p = pos[l];
    const std::int32_t ahead = p + lead[l] >= n ? p + lead[l] - n : p + lead[l];
    const std::uint32_t slot = off[l] + std::uint32_t(ahead);
    pos[l] = next_pos(p, n);
    cnt[slot] += 1;
    n_transit[l] += 1;
    add_deviation(l, slot, y - z);
  }
};

}  // namespace shortfall::engine
