// Economic systemic risk index (include/shortfall/analyze.hpp; definitions in docs/analysis.md).
// The cascades run one independent task per firm, each writing only its own result, so the
// results do not depend on the number of threads.
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "analysis/analysis_common.hpp"
#include "shortfall/analyze.hpp"
#include "world/network.hpp"

namespace shortfall {

using analysis_common::resolve_threads;

// ---- economic systemic risk index ---------------------------------------------------------------
//
// Relative production h_i in [0, 1], 1 at baseline; the failed firm is held at 0. Two channels:
//   supply (downstream): h^d_i = min over input materials p of (sum_j Z0_ji h^d_j) / (sum_j Z0_ji)
//     over the suppliers j of p. Every input is essential (the model's production is Leontief in
//     materials) and suppliers of one material substitute in proportion to baseline flows.
//   demand (upstream):   h^u_i = 1 - sum over buyers k of Z0_ik (1 - h_k) / x0_i, where
//     h_k = min(h^d_k, h^u_k) is what the buyer still produces (and so still buys); sales to
//     final users are kept.
//   production:          h_i = min(h^d_i, h^u_i).
// Diem et al. feed min(h^d, h^u) back into both channels. Here a supplier that produces less
// because it sells less still serves its other customers in full, so a demand loss never acts as
// a supply cut (docs/analysis.md explains why: with every input essential, the feedback takes
// down the whole connected network from almost any firm). Each channel is solved by a worklist
// from h = 1: updates can only lower h, so it converges to the greatest fixed point, the limit
// of the synchronous update.

namespace {

struct CascadeScratch {
  std::vector<double> hd, hu;
  std::vector<char> queued;
  std::vector<FirmId> queue, touched_d, touched_u;
};

constexpr double kCascadeTol = 1e-12;

/// Drain the worklist: `update(i)` returns i's new value, `store` the array it lives in;
/// `push(i)` queues the firms that depend on i.
template <class Update, class Push>
void drain(CascadeScratch& s, std::vector<double>& store, std::vector<FirmId>& touched,
           Update&& update, Push&& push) {
  for (std::size_t head = 0; head < s.queue.size(); ++head) {
    const FirmId i = s.queue[head];
    s.queued[i] = 0;
    const double value = std::max(0.0, update(i));
    if (store[i] - value > kCascadeTol) {
      if (store[i] == 1.0) touched.push_back(i);
      store[i] = value;
      push(i);
    }
    // Drop the consumed part of the queue now and then so it does not grow without bound.
    if (head > 4096 && head * 2 > s.queue.size()) {
      s.queue.erase(s.queue.begin(), s.queue.begin() + std::ptrdiff_t(head + 1));
      head = std::size_t(-1);
    }
  }
  s.queue.clear();
}

void run_cascade(const World& w, const detail::Network& net, FirmId failed, CascadeMode mode,
                 CascadeScratch& s) {
  const std::size_t n = w.num_firms();
  if (s.hd.size() != n) {
    s.hd.assign(n, 1.0);
    s.hu.assign(n, 1.0);
    s.queued.assign(n, 0);
  }
  for (FirmId i : s.touched_d) s.hd[i] = 1.0;
  for (FirmId i : s.touched_u) s.hu[i] = 1.0;
  s.touched_d.clear();
  s.touched_u.clear();
  s.queue.clear();
  auto enqueue = [&](FirmId k) {
    if (!s.queued[k] && k != failed) s.queued[k] = 1, s.queue.push_back(k);
  };
  auto push_customers = [&](FirmId i) {
    for (detail::Lane q = net.out_begin[i]; q < net.out_begin[i + 1]; ++q)
      enqueue(net.lane_buyer[net.out_lane[q]]);
  };
  auto push_suppliers = [&](FirmId i) {
    for (detail::Slot sl = net.slot_begin[i]; sl < net.slot_begin[i + 1]; ++sl)
      for (detail::Lane l = net.slot_lane_begin[sl]; l < net.slot_lane_begin[sl + 1]; ++l)
        enqueue(net.lane_supplier[l]);
  };
  s.hd[failed] = 0.0;
  s.hu[failed] = 0.0;
  s.touched_d.push_back(failed);
  s.touched_u.push_back(failed);

  if (mode != CascadeMode::kUpstream) {
    push_customers(failed);
    drain(
        s, s.hd, s.touched_d,
        [&](FirmId i) {
          double value = 1.0;
          for (detail::Slot sl = net.slot_begin[i]; sl < net.slot_begin[i + 1]; ++sl) {
            double got = 0.0, base = 0.0;
            for (detail::Lane l = net.slot_lane_begin[sl]; l < net.slot_lane_begin[sl + 1]; ++l) {
              const double z = w.link_flow()[net.lane_link[l]];
              got += z * s.hd[net.lane_supplier[l]];
              base += z;
            }
            if (base > 0) value = std::min(value, got / base);
          }
          return value;
        },
        push_customers);
  }
  if (mode != CascadeMode::kDownstream) {
    // Seeds: the suppliers of every firm that produces less (the failed one, and in the
    // combined mode every firm the supply channel reached).
    for (FirmId i : s.touched_d) push_suppliers(i);
    drain(
        s, s.hu, s.touched_u,
        [&](FirmId i) {
          if (!(w.baseline_output()[i] > 0)) return 1.0;
          double lost = 0.0;
          for (detail::Lane q = net.out_begin[i]; q < net.out_begin[i + 1]; ++q) {
            const detail::Lane l = net.out_lane[q];
            const FirmId k = net.lane_buyer[l];
            lost += w.link_flow()[net.lane_link[l]] * (1.0 - std::min(s.hd[k], s.hu[k]));
          }
          return 1.0 - lost / w.baseline_output()[i];
        },
        push_suppliers);
  }
}

/// Loss per material: sum over firms of x0 (1 - min(h^d, h^u)), in a fixed (firm) order.
void material_loss(const World& w, CascadeScratch& s, std::vector<FirmId>& firms,
                   std::vector<double>& loss) {
  firms.assign(s.touched_d.begin(), s.touched_d.end());
  firms.insert(firms.end(), s.touched_u.begin(), s.touched_u.end());
  std::sort(firms.begin(), firms.end());
  firms.erase(std::unique(firms.begin(), firms.end()), firms.end());
  std::fill(loss.begin(), loss.end(), 0.0);
  for (FirmId j : firms)
    loss[w.firm_material()[j]] += w.baseline_output()[j] * (1.0 - std::min(s.hd[j], s.hu[j]));
}

}  // namespace

std::vector<double> cascade(const World& world, FirmId failed, CascadeMode mode) {
  CascadeScratch s;
  run_cascade(world, world.network(), failed, mode, s);
  std::vector<double> h(world.num_firms());
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = std::min(s.hd[i], s.hu[i]);
  return h;
}

SystemicRisk systemic_risk(const World& w, int threads) {
  SystemicRisk r;
  const std::size_t n = w.num_firms(), M = w.materials().size();
  r.materials = M;
  r.esri.assign(n, 0.0);
  r.esri_max.assign(n, 0.0);
  r.esri_downstream.assign(n, 0.0);
  r.esri_upstream.assign(n, 0.0);
  const bool keep_matrix = double(n) * double(M) <= 5e7;
  if (keep_matrix) r.loss_by_material.assign(n * M, 0.0);
  std::vector<double> out(M, 0.0);
  for (FirmId i = 0; i < n; ++i) out[w.firm_material()[i]] += w.baseline_output()[i];
  std::size_t with_output = 0;
  for (double x : out) with_output += x > 0;
  if (n == 0 || with_output == 0) return r;
  const detail::Network& net = w.network();

  struct Local {
    CascadeScratch s;
    std::vector<double> loss;
    std::vector<FirmId> firms;
  };
  tbb::enumerable_thread_specific<Local> locals;
  tbb::task_arena arena(resolve_threads(threads));
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 16), [&](const auto& range) {
      Local& L = locals.local();
      L.loss.resize(M);
      for (std::size_t f = range.begin(); f != range.end(); ++f) {
        for (CascadeMode mode :
             {CascadeMode::kBoth, CascadeMode::kDownstream, CascadeMode::kUpstream}) {
          run_cascade(w, net, FirmId(f), mode, L.s);
          material_loss(w, L.s, L.firms, L.loss);
          double mean = 0.0, worst = 0.0;
          for (std::size_t p = 0; p < M; ++p) {
            if (!(out[p] > 0)) continue;
            const double share = L.loss[p] / out[p];
            mean += share;
            worst = std::max(worst, share);
            if (mode == CascadeMode::kBoth && keep_matrix) r.loss_by_material[f * M + p] = share;
          }
          mean /= double(with_output);
          if (mode == CascadeMode::kBoth) {
            r.esri[f] = mean;
            r.esri_max[f] = worst;
          } else if (mode == CascadeMode::kDownstream) {
            r.esri_downstream[f] = mean;
          } else {
            r.esri_upstream[f] = mean;
          }
        }
      }
    });
  });
  return r;
}

}  // namespace shortfall
