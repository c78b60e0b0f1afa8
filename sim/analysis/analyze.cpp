// Network analytics (include/shortfall/analyze.hpp; definitions in docs/analysis.md).
//
// Graph algorithms come from Boost.Graph (compressed_sparse_row_graph, Brandes betweenness,
// depth-first search); Boost stays private to this file. Parallel parts (the systemic risk
// cascades and the knockout simulations) run one independent task per firm or candidate, each
// writing only its own result, so the results do not depend on the number of threads.
#include "util/atomic_file.hpp"
#include "shortfall/analyze.hpp"
#include "output/h5_writer.hpp"

#include <hdf5.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <boost/graph/betweenness_centrality.hpp>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numeric>
#include <string>
#include <ostream>
#include <thread>
#include <tuple>
#include <vector>

#include "world/network.hpp"
#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/version.hpp"
#include "util/yaml_util.hpp"

namespace shortfall {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Csr = boost::compressed_sparse_row_graph<boost::directedS, boost::no_property,
                                               boost::no_property, boost::no_property,
                                               std::uint32_t, std::uint32_t>;

/// A CSR graph over `n` vertices from (source, target) pairs, self-loops and duplicates removed.
Csr simple_graph(std::size_t n, std::vector<std::pair<std::uint32_t, std::uint32_t>> edges) {
  edges.erase(std::remove_if(edges.begin(), edges.end(),
                             [](const auto& e) { return e.first == e.second; }),
              edges.end());
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  return Csr(boost::edges_are_sorted, edges.begin(), edges.end(), static_cast<std::uint32_t>(n));
}

int resolve_threads(int threads) {
  return threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
}

/// Indices of the `k` largest finite positive scores, largest first, ties by index.
std::vector<std::size_t> top_k(const std::vector<double>& score, std::size_t k) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < score.size(); ++i)
    if (std::isfinite(score[i]) && score[i] > 0) idx.push_back(i);
  auto cmp = [&](std::size_t a, std::size_t b) {
    return score[a] > score[b] || (score[a] == score[b] && a < b);
  };
  if (idx.size() > k) {
    std::partial_sort(idx.begin(), idx.begin() + std::ptrdiff_t(k), idx.end(), cmp);
    idx.resize(k);
  } else {
    std::sort(idx.begin(), idx.end(), cmp);
  }
  return idx;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

// ---- the (country, material) graph -------------------------------------------------------------

AggregateGraph aggregate_graph(const World& w) {
  AggregateGraph g;
  const std::size_t C = w.countries.size(), M = w.materials.size();
  g.node_of.assign(C * M, -1);
  std::vector<char> present(C * M, 0);
  for (FirmId i = 0; i < w.num_firms(); ++i) present[w.firm_country[i] * M + w.firm_material[i]] = 1;
  for (std::size_t key = 0; key < C * M; ++key) {
    if (!present[key]) continue;
    g.node_of[key] = std::int32_t(g.node_country.size());
    g.node_country.push_back(CountryId(key / M));
    g.node_material.push_back(MaterialId(key % M));
  }
  g.node_output.assign(g.num_nodes(), 0.0);
  auto node = [&](FirmId i) {
    return std::uint32_t(g.node_of[w.firm_country[i] * M + w.firm_material[i]]);
  };
  for (FirmId i = 0; i < w.num_firms(); ++i) g.node_output[node(i)] += w.baseline_output[i];
  struct E {
    std::uint32_t u, v;
    LinkId link;
  };
  std::vector<E> edges;
  edges.reserve(w.num_links());
  for (LinkId l = 0; l < w.num_links(); ++l)
    if (w.link_flow[l] > 0) edges.push_back({node(w.link_supplier[l]), node(w.link_buyer[l]), l});
  // Sorted by (u, v, link) so that the sums are taken in a fixed order.
  std::sort(edges.begin(), edges.end(), [](const E& a, const E& b) {
    return std::tie(a.u, a.v, a.link) < std::tie(b.u, b.v, b.link);
  });
  for (std::size_t k = 0; k < edges.size(); ++k) {
    if (k == 0 || edges[k].u != edges[k - 1].u || edges[k].v != edges[k - 1].v) {
      g.edge_from.push_back(edges[k].u);
      g.edge_to.push_back(edges[k].v);
      g.edge_flow.push_back(0.0);
    }
    g.edge_flow.back() += w.link_flow[edges[k].link];
  }
  return g;
}

std::vector<MaterialId> end_products(const World& w) {
  const std::size_t M = w.materials.size();
  std::vector<char> bought(M, 0), has_inputs(M, 0);
  for (LinkId l = 0; l < w.num_links(); ++l) {
    bought[w.firm_material[w.link_supplier[l]]] = 1;
    has_inputs[w.firm_material[w.link_buyer[l]]] = 1;
  }
  std::vector<MaterialId> out;
  for (MaterialId p = 0; p < M; ++p)
    if (w.materials[p].tier == "end" || (!bought[p] && has_inputs[p])) out.push_back(p);
  return out;
}

// ---- dependency: total requirements ------------------------------------------------------------
//
// A_uv = Z_uv / X_v (units of u per unit of v's output). The total input requirements are
// T = A + A^2 + ... = L - I with L = (I - A)^-1, computed for the end-product columns only by
// T <- A (I + T) from T = 0: exact after (longest path) steps on an acyclic graph, geometric
// convergence otherwise (the spectral radius of A is below 1 when every node sells some output
// to final users, directly or downstream).

Dependency dependency(const World& w, const AggregateGraph& g) {
  Dependency dep;
  const std::size_t C = w.countries.size(), M = w.materials.size(), N = g.num_nodes();
  dep.countries = C;
  dep.materials = M;
  dep.end_product = end_products(w);
  const std::size_t E = dep.end_product.size();
  dep.share.assign(C * E * M * C, kNaN);
  dep.requirement.assign(C * E * M, kNaN);
  dep.hhi.assign(C * E * M, kNaN);
  dep.world_share.assign(E * M * C, kNaN);
  dep.world_requirement.assign(E * M, kNaN);
  dep.world_hhi.assign(E * M, kNaN);

  // Columns: end-product nodes (d, e).
  std::vector<std::uint32_t> col_node;
  std::vector<std::pair<std::size_t, std::size_t>> col_de;
  for (std::size_t d = 0; d < C; ++d)
    for (std::size_t e = 0; e < E; ++e) {
      std::int32_t v = g.node_of[d * M + dep.end_product[e]];
      if (v >= 0 && g.node_output[std::size_t(v)] > 0) {
        col_node.push_back(std::uint32_t(v));
        col_de.emplace_back(d, e);
      }
    }
  const std::size_t K = col_node.size();
  std::vector<double> a(g.edge_flow.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    double x = g.node_output[g.edge_to[k]];
    a[k] = x > 0 ? g.edge_flow[k] / x : 0.0;
  }
  std::vector<double> T(N * K, 0.0), Tn(N * K, 0.0), Y(N * K, 0.0);
  const int max_iter = 100000;
  int it = 0;
  for (; it < max_iter; ++it) {
    Y = T;
    for (std::size_t j = 0; j < K; ++j) Y[col_node[j] * K + j] += 1.0;
    std::fill(Tn.begin(), Tn.end(), 0.0);
    for (std::size_t k = 0; k < a.size(); ++k) {
      const double* y = &Y[std::size_t(g.edge_to[k]) * K];
      double* t = &Tn[std::size_t(g.edge_from[k]) * K];
      for (std::size_t j = 0; j < K; ++j) t[j] += a[k] * y[j];
    }
    double change = 0.0;
    for (std::size_t q = 0; q < N * K; ++q)
      change = std::max(change, std::abs(Tn[q] - T[q]) / std::max(1.0, std::abs(Tn[q])));
    T.swap(Tn);
    if (change <= 1e-14) break;
  }
  dep.iterations = it + 1;

  // Shares per (producer country d, end product e, material p) over origin countries c.
  std::vector<double> world_req(E * M * C, 0.0), world_out(E, 0.0);
  for (std::size_t j = 0; j < K; ++j) {
    auto [d, e] = col_de[j];
    const double x = g.node_output[col_node[j]];
    world_out[e] += x;
    for (std::size_t u = 0; u < N; ++u) {
      const double t = T[u * K + j];
      if (t <= 0) continue;
      const std::size_t c = g.node_country[u], p = g.node_material[u];
      double& s = dep.share[dep.at(d, e, p, c)];
      s = std::isnan(s) ? t : s + t;
      world_req[(e * M + p) * C + c] += x * t;
    }
    for (std::size_t p = 0; p < M; ++p) {
      double total = 0.0;
      for (std::size_t c = 0; c < C; ++c) {
        double s = dep.share[dep.at(d, e, p, c)];
        if (!std::isnan(s)) total += s;
      }
      if (total <= 0) continue;
      double h = 0.0;
      for (std::size_t c = 0; c < C; ++c) {
        double& s = dep.share[dep.at(d, e, p, c)];
        s = std::isnan(s) ? 0.0 : s / total;
        h += s * s;
      }
      dep.requirement[dep.at(d, e, p)] = total;
      dep.hhi[dep.at(d, e, p)] = h;
    }
  }
  for (std::size_t e = 0; e < E; ++e)
    for (std::size_t p = 0; p < M; ++p) {
      double total = 0.0;
      for (std::size_t c = 0; c < C; ++c) total += world_req[(e * M + p) * C + c];
      if (total <= 0 || world_out[e] <= 0) continue;
      double h = 0.0;
      for (std::size_t c = 0; c < C; ++c) {
        double s = world_req[(e * M + p) * C + c] / total;
        dep.world_share[(e * M + p) * C + c] = s;
        h += s * s;
      }
      dep.world_requirement[e * M + p] = total / world_out[e];
      dep.world_hhi[e * M + p] = h;
    }
  return dep;
}

// ---- pass-through frequency ----------------------------------------------------------------------
//
// On the binary (country, material) graph (an edge u -> v where Z_uv > 0, self-loops left out),
// a supply path is a directed path from a raw node (no inputs from another node) to an
// end-product node. Paths are counted by dynamic programming in topological order; edges that
// close a cycle (back edges of a depth-first search from the nodes in id order) are left out so
// that the count is finite.

namespace {
struct BackEdgeRecorder : boost::default_dfs_visitor {
  std::vector<std::uint32_t>* back;
  std::vector<std::uint32_t>* finish;
  void back_edge(boost::graph_traits<Csr>::edge_descriptor e, const Csr& g) const {
    back->push_back(std::uint32_t(boost::get(boost::edge_index, g, e)));
  }
  void finish_vertex(std::uint32_t v, const Csr&) const { finish->push_back(v); }
};
}  // namespace

PassThrough pass_through(const World& w, const AggregateGraph& g) {
  PassThrough pt;
  const std::size_t C = w.countries.size(), M = w.materials.size(), N = g.num_nodes();
  pt.countries = C;
  pt.end_product = end_products(w);
  const std::size_t E = pt.end_product.size();
  pt.frequency.assign(C * E * C, kNaN);
  pt.origin.assign(C * E * C, kNaN);
  pt.path_count.assign(C * E, kNaN);
  pt.world_frequency.assign(E * C, kNaN);
  pt.world_origin.assign(E * C, kNaN);

  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  for (std::size_t k = 0; k < g.edge_from.size(); ++k)
    edges.emplace_back(g.edge_from[k], g.edge_to[k]);
  Csr csr = simple_graph(N, edges);
  std::vector<char> raw(N, 1);
  for (auto [e, e_end] = boost::edges(csr); e != e_end; ++e) raw[boost::target(*e, csr)] = 0;

  std::vector<std::uint32_t> back, finish;
  BackEdgeRecorder vis;
  vis.back = &back;
  vis.finish = &finish;
  std::vector<boost::default_color_type> color(N);
  boost::depth_first_search(
      csr, boost::visitor(vis).color_map(boost::make_iterator_property_map(
               color.begin(), boost::get(boost::vertex_index, csr))));
  pt.dropped_cycle_edges = back.size();
  std::vector<char> dropped(boost::num_edges(csr), 0);
  for (auto b : back) dropped[b] = 1;
  // In-edges of the acyclic part, and a topological order (reverse DFS finish order).
  std::vector<std::vector<std::uint32_t>> preds(N);
  for (auto [e, e_end] = boost::edges(csr); e != e_end; ++e)
    if (!dropped[boost::get(boost::edge_index, csr, *e)])
      preds[boost::target(*e, csr)].push_back(std::uint32_t(boost::source(*e, csr)));
  std::vector<std::uint32_t> order(finish.rbegin(), finish.rend());

  // f(v): paths from raw nodes to v. h_k(v): those with no interior node in country k.
  // o_k(v): those starting in country k.
  std::vector<double> f(N, 0.0);
  for (auto v : order) {
    double s = raw[v] ? 1.0 : 0.0;
    for (auto u : preds[v]) s += f[u];
    f[v] = s;
  }
  for (std::size_t d = 0; d < C; ++d)
    for (std::size_t e = 0; e < E; ++e) {
      std::int32_t v = g.node_of[d * M + pt.end_product[e]];
      if (v >= 0) pt.path_count[d * E + e] = f[std::size_t(v)];
    }
  std::vector<double> h(N), o(N);
  std::vector<double> world_paths(E, 0.0);
  for (std::size_t d = 0; d < C; ++d)
    for (std::size_t e = 0; e < E; ++e) {
      double n = pt.path_count[d * E + e];
      if (n > 0) world_paths[e] += n;
    }
  for (std::size_t k = 0; k < C; ++k) {
    for (auto v : order) {
      double sh = raw[v] ? 1.0 : 0.0;
      double so = (raw[v] && g.node_country[v] == k) ? 1.0 : 0.0;
      for (auto u : preds[v]) {
        sh += g.node_country[u] != k ? h[u] : (raw[u] ? 1.0 : 0.0);
        so += o[u];
      }
      h[v] = sh;
      o[v] = so;
    }
    for (std::size_t e = 0; e < E; ++e) {
      double through = 0.0, from = 0.0;
      for (std::size_t d = 0; d < C; ++d) {
        std::int32_t v = g.node_of[d * M + pt.end_product[e]];
        if (v < 0) continue;
        const double n = f[std::size_t(v)];
        if (!(n > 0)) continue;
        const double via = n - h[std::size_t(v)];
        pt.frequency[(d * E + e) * C + k] = via / n;
        pt.origin[(d * E + e) * C + k] = o[std::size_t(v)] / n;
        through += via;
        from += o[std::size_t(v)];
      }
      if (world_paths[e] > 0) {
        pt.world_frequency[e * C + k] = through / world_paths[e];
        pt.world_origin[e * C + k] = from / world_paths[e];
      }
    }
  }
  return pt;
}

// ---- betweenness ---------------------------------------------------------------------------------

Betweenness betweenness(const World& w, const AggregateGraph& g, std::size_t max_firms) {
  Betweenness b;
  const std::size_t C = w.countries.size(), M = w.materials.size(), N = g.num_nodes();
  const std::size_t n = w.num_firms();
  if (n <= max_firms && n > 0) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
    edges.reserve(w.num_links());
    for (LinkId l = 0; l < w.num_links(); ++l)
      edges.emplace_back(w.link_supplier[l], w.link_buyer[l]);
    Csr csr = simple_graph(n, std::move(edges));
    b.firm.assign(n, 0.0);
    boost::brandes_betweenness_centrality(
        csr, boost::centrality_map(boost::make_iterator_property_map(
                 b.firm.begin(), boost::get(boost::vertex_index, csr))));
    const double norm = n > 2 ? double(n - 1) * double(n - 2) : 1.0;
    for (auto& x : b.firm) x /= norm;
  }
  b.node.assign(C * M, kNaN);
  b.link.assign(C * C, 0.0);
  for (std::size_t c = 0; c < C; ++c) b.link[c * C + c] = kNaN;
  if (N == 0) return b;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  for (std::size_t k = 0; k < g.edge_from.size(); ++k)
    edges.emplace_back(g.edge_from[k], g.edge_to[k]);
  Csr csr = simple_graph(N, std::move(edges));
  std::vector<double> vc(N, 0.0), ec(boost::num_edges(csr), 0.0);
  boost::brandes_betweenness_centrality(
      csr, boost::centrality_map(boost::make_iterator_property_map(
                                     vc.begin(), boost::get(boost::vertex_index, csr)))
               .edge_centrality_map(boost::make_iterator_property_map(
                   ec.begin(), boost::get(boost::edge_index, csr))));
  const double vnorm = N > 2 ? double(N - 1) * double(N - 2) : 1.0;
  const double enorm = N > 1 ? double(N) * double(N - 1) : 1.0;
  for (std::size_t v = 0; v < N; ++v)
    b.node[g.node_country[v] * M + g.node_material[v]] = vc[v] / vnorm;
  for (auto [e, e_end] = boost::edges(csr); e != e_end; ++e) {
    const std::size_t c = g.node_country[boost::source(*e, csr)];
    const std::size_t d = g.node_country[boost::target(*e, csr)];
    if (c != d) b.link[c * C + d] += ec[boost::get(boost::edge_index, csr, *e)] / enorm;
  }
  return b;
}

// ---- economic systemic risk index ------------------------------------------------------------
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
              const double z = w.link_flow[net.lane_link[l]];
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
          if (!(w.baseline_output[i] > 0)) return 1.0;
          double lost = 0.0;
          for (detail::Lane q = net.out_begin[i]; q < net.out_begin[i + 1]; ++q) {
            const detail::Lane l = net.out_lane[q];
            const FirmId k = net.lane_buyer[l];
            lost += w.link_flow[net.lane_link[l]] * (1.0 - std::min(s.hd[k], s.hu[k]));
          }
          return 1.0 - lost / w.baseline_output[i];
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
    loss[w.firm_material[j]] += w.baseline_output[j] * (1.0 - std::min(s.hd[j], s.hu[j]));
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
  const std::size_t n = w.num_firms(), M = w.materials.size();
  r.materials = M;
  r.esri.assign(n, 0.0);
  r.esri_max.assign(n, 0.0);
  r.esri_downstream.assign(n, 0.0);
  r.esri_upstream.assign(n, 0.0);
  const bool keep_matrix = double(n) * double(M) <= 5e7;
  if (keep_matrix) r.loss_by_material.assign(n * M, 0.0);
  std::vector<double> out(M, 0.0);
  for (FirmId i = 0; i < n; ++i) out[w.firm_material[i]] += w.baseline_output[i];
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
        for (CascadeMode mode : {CascadeMode::kBoth, CascadeMode::kDownstream, CascadeMode::kUpstream}) {
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

// ---- knockouts -----------------------------------------------------------------------------------

void simulate_knockout(const World& w, const ModelParams& model,
                       const std::vector<MaterialId>& end_product, int days, Knockout& ko) {
  Scenario sc;
  sc.name = "knockout " + ko.label;
  sc.days = days;
  sc.model = model;
  sc.record.firm_level = false;
  Event ev;
  ev.start = 0;
  ev.description = "knockout of " + ko.label;
  if (ko.kind == Knockout::kCountryLink) {
    ev.type = EventType::kExportControl;
    ev.exporters = {w.countries[ko.a].code};
    ev.targets = {w.countries[ko.b].code};
    ev.materials = {"all"};
    ev.license_share = 0.0;
  } else {
    ev.type = EventType::kCapacityLoss;
    ev.loss = 1.0;
    ev.recovery.type = RecoveryType::kNone;
    if (ko.kind == Knockout::kFirm) {
      ev.firms.firms = {w.firm_id[ko.a]};
    } else {
      ev.firms.countries = {w.countries[ko.a].code};
      ev.firms.materials = {w.materials[ko.b].id};
    }
  }
  sc.events.push_back(std::move(ev));
  RunOptions opt;
  opt.threads = 1;
  opt.days = days;
  Simulation sim(w, sc, opt);
  const std::size_t E = end_product.size(), M = w.materials.size();
  std::vector<std::int32_t> slot(M, -1);
  for (std::size_t e = 0; e < E; ++e) slot[end_product[e]] = std::int32_t(e);
  std::vector<FirmId> firms;
  std::vector<double> base(E, 0.0), lost(E, 0.0);
  for (FirmId i = 0; i < w.num_firms(); ++i) {
    std::int32_t e = slot[w.firm_material[i]];
    if (e >= 0 && w.final_demand[i] > 0) {
      firms.push_back(i);
      base[std::size_t(e)] += w.final_demand[i];
    }
  }
  // Firms removed by the knockout itself (their own final deliveries are not knock-on losses).
  auto removed = [&](FirmId i) {
    if (ko.kind == Knockout::kFirm) return i == ko.a;
    if (ko.kind == Knockout::kCountryMaterial)
      return w.firm_country[i] == ko.a && w.firm_material[i] == ko.b;
    return false;
  };
  std::vector<double> lost_other(E, 0.0);
  int simulated = 0;
  while (sim.step()) {
    ++simulated;
    auto c = sim.final_delivered();
    for (FirmId i : firms) {
      const double l = std::max(0.0, w.final_demand[i] - c[i]);
      lost[std::size_t(slot[w.firm_material[i]])] += l;
      if (!removed(i)) lost_other[std::size_t(slot[w.firm_material[i]])] += l;
    }
  }
  ko.lost_share.assign(E, kNaN);
  ko.knock_on_share.assign(E, kNaN);
  ko.worst = 0.0;
  ko.mean = 0.0;
  ko.knock_on_worst = 0.0;
  std::size_t counted = 0;
  for (std::size_t e = 0; e < E; ++e) {
    if (!(base[e] > 0) || simulated == 0) continue;
    const double s = lost[e] / (base[e] * simulated);
    const double k = lost_other[e] / (base[e] * simulated);
    ko.lost_share[e] = s;
    ko.knock_on_share[e] = k;
    ko.worst = std::max(ko.worst, s);
    ko.knock_on_worst = std::max(ko.knock_on_worst, k);
    ko.mean += s;
    ++counted;
  }
  if (counted) ko.mean /= double(counted);
}

std::vector<Knockout> knockouts(const World& w, const AggregateGraph& g, const ModelParams& model,
                                const std::vector<MaterialId>& end_product,
                                const Betweenness& btw, const SystemicRisk* risk,
                                const Dependency& dep, int k, int days, int threads) {
  std::vector<Knockout> out;
  if (k <= 0) return out;
  const std::size_t C = w.countries.size(), M = w.materials.size(), E = end_product.size();
  const std::size_t kk = std::size_t(k);
  auto add = [&](Knockout::Kind kind, std::uint32_t a, std::uint32_t b) {
    for (const auto& o : out)
      if (o.kind == kind && o.a == a && o.b == b) return;
    Knockout ko;
    ko.kind = kind;
    ko.a = a;
    ko.b = b;
    out.push_back(std::move(ko));
  };
  // Firms: betweenness, then ESRI.
  std::vector<double> firm_static(w.num_firms(), 0.0);
  if (risk && risk->esri.size() == w.num_firms()) firm_static = risk->esri;
  if (!btw.firm.empty())
    for (auto i : top_k(btw.firm, kk)) add(Knockout::kFirm, std::uint32_t(i), 0);
  for (auto i : top_k(firm_static, kk)) add(Knockout::kFirm, std::uint32_t(i), 0);
  // (country, material): betweenness, then the largest world dependency share of any end
  // product on that country for that material.
  std::vector<double> node_static(C * M, 0.0);
  for (std::size_t e = 0; e < E && e < dep.end_product.size(); ++e)
    for (std::size_t p = 0; p < M; ++p)
      for (std::size_t c = 0; c < C; ++c) {
        double s = dep.world_share[(e * M + p) * C + c];
        if (std::isfinite(s)) node_static[c * M + p] = std::max(node_static[c * M + p], s);
      }
  for (auto key : top_k(btw.node, kk)) add(Knockout::kCountryMaterial, std::uint32_t(key / M), std::uint32_t(key % M));
  for (auto key : top_k(node_static, kk))
    add(Knockout::kCountryMaterial, std::uint32_t(key / M), std::uint32_t(key % M));
  // Country links c -> d: betweenness, then the largest share of any material that d's buyers
  // get from c.
  std::vector<double> intake(C * M, 0.0), from(C * C * M, 0.0), link_static(C * C, 0.0);
  for (std::size_t q = 0; q < g.edge_from.size(); ++q) {
    const std::size_t c = g.node_country[g.edge_from[q]], p = g.node_material[g.edge_from[q]];
    const std::size_t d = g.node_country[g.edge_to[q]];
    intake[d * M + p] += g.edge_flow[q];
    from[(c * C + d) * M + p] += g.edge_flow[q];
  }
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t d = 0; d < C; ++d) {
      if (c == d) continue;
      for (std::size_t p = 0; p < M; ++p)
        if (intake[d * M + p] > 0)
          link_static[c * C + d] =
              std::max(link_static[c * C + d], from[(c * C + d) * M + p] / intake[d * M + p]);
    }
  for (auto key : top_k(btw.link, kk)) add(Knockout::kCountryLink, std::uint32_t(key / C), std::uint32_t(key % C));
  for (auto key : top_k(link_static, kk))
    add(Knockout::kCountryLink, std::uint32_t(key / C), std::uint32_t(key % C));

  for (auto& ko : out) {
    switch (ko.kind) {
      case Knockout::kFirm:
        ko.label = w.firm_id[ko.a];
        ko.betweenness = btw.firm.empty() ? kNaN : btw.firm[ko.a];
        ko.static_score = firm_static[ko.a];
        break;
      case Knockout::kCountryMaterial:
        ko.label = w.countries[ko.a].code + " " + w.materials[ko.b].id;
        ko.betweenness = btw.node[ko.a * M + ko.b];
        ko.static_score = node_static[ko.a * M + ko.b];
        break;
      case Knockout::kCountryLink:
        ko.label = w.countries[ko.a].code + "->" + w.countries[ko.b].code;
        ko.betweenness = btw.link[ko.a * C + ko.b];
        ko.static_score = link_static[ko.a * C + ko.b];
        break;
    }
  }
  tbb::task_arena arena(resolve_threads(threads));
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, out.size(), 1), [&](const auto& range) {
      for (std::size_t q = range.begin(); q != range.end(); ++q)
        simulate_knockout(w, model, end_product, days, out[q]);
    });
  });
  // Ranked by the loss passed on to others: removing a final producer always loses its own
  // deliveries, which says nothing about the network.
  std::stable_sort(out.begin(), out.end(), [](const Knockout& a, const Knockout& b) {
    if (a.knock_on_worst != b.knock_on_worst) return a.knock_on_worst > b.knock_on_worst;
    return a.worst > b.worst;
  });
  return out;
}

// ---- all together --------------------------------------------------------------------------------

Analysis analyze(const World& world, const ModelParams& model, const AnalyzeOptions& opt) {
  Analysis a;
  using Clock = std::chrono::steady_clock;
  auto t = Clock::now();
  a.graph = aggregate_graph(world);
  a.seconds.emplace_back("graph", seconds_since(t));
  t = Clock::now();
  a.dep = dependency(world, a.graph);
  a.seconds.emplace_back("dependency", seconds_since(t));
  t = Clock::now();
  a.pass = pass_through(world, a.graph);
  a.seconds.emplace_back("pass_through", seconds_since(t));
  t = Clock::now();
  a.btw = betweenness(world, a.graph, opt.max_betweenness_firms);
  a.seconds.emplace_back("betweenness", seconds_since(t));
  if (a.btw.firm.empty() && world.num_firms() > 0)
    a.notes.push_back("firm betweenness skipped: " + std::to_string(world.num_firms()) +
                      " firms > --max-betweenness-firms " +
                      std::to_string(opt.max_betweenness_firms));
  const bool esri = opt.esri && world.num_firms() <= opt.max_esri_firms;
  if (opt.esri && !esri)
    a.notes.push_back("ESRI skipped: " + std::to_string(world.num_firms()) +
                      " firms > --max-esri-firms " + std::to_string(opt.max_esri_firms));
  if (esri) {
    t = Clock::now();
    a.risk = systemic_risk(world, opt.threads);
    a.seconds.emplace_back("esri", seconds_since(t));
  }
  if (opt.simulate_top > 0) {
    t = Clock::now();
    a.knockout_days = opt.knockout_days;
    a.knock = knockouts(world, a.graph, model, a.dep.end_product, a.btw,
                        esri ? &a.risk : nullptr, a.dep, opt.simulate_top,
                        opt.knockout_days, opt.threads);
    a.seconds.emplace_back("knockouts", seconds_since(t));
  }
  return a;
}

AnalysisInput load_analysis_input(const std::string& path) {
  AnalysisInput in;
  bool scenario = false;
  if (!is_world_description(path)) {
    detail::YNode root = detail::load_yaml_file(path);
    scenario = root.is_map() && root.has("world") && !root.has("countries");
  }
  if (scenario) {
    in.scenario = load_scenario(path);
    in.world = load_world(in.scenario.world_path, in.scenario.world_where);
    in.from_scenario = true;
  } else {
    in.world = load_world(path);
  }
  return in;
}

// ---- HDF5 ----------------------------------------------------------------------------------------

namespace {

/// The analysis file's writer: the common one (output/h5_writer.hpp), with timestamps, and the
/// analysis's datasets.
class H5 : public detail::H5Writer {
 public:
  explicit H5(std::string path) : H5Writer(std::move(path), "the analysis", /*track_times=*/true) {}

  void attr_double(hid_t obj, const char* name, double value) const {
    attr_scalar<double>(obj, name, H5T_IEEE_F64LE, value);
  }
  /// A 1-d string dataset; a dimension scale named `name` if `scale`.
  detail::H5Handle strings(hid_t g, const char* name, const std::vector<std::string>& values,
                           bool scale) const {
    if (scale) return scale_strings(g, name, values, {});
    return H5Writer::strings(g, name, values, {});
  }
  detail::H5Handle ints(hid_t g, const char* name, const std::vector<int>& values,
                        bool scale) const {
    detail::H5Handle d = H5Writer::ints(g, name, values, {values.size()}, {});
    return scale ? make_scale(std::move(d), name) : std::move(d);
  }
  /// An n-d double dataset over `scales` (its shape theirs), NaN where not written; in chunks
  /// of at most ~64k values, deflated, where larger than 4096 values.
  void doubles(hid_t g, const char* name, const std::vector<double>& data,
               std::initializer_list<hid_t> scales, const std::string& units,
               const std::string& long_name) const {
    std::vector<hsize_t> dims;
    for (hid_t s : scales) {
      detail::H5Handle sp(H5Dget_space(s), H5Sclose);
      hsize_t n = 0;
      H5Sget_simple_extent_dims(sp, &n, nullptr);
      dims.push_back(n);
    }
    hsize_t total = 1;
    for (auto n : dims) total *= n;
    if (total != data.size()) fail(std::string(name) + ": size mismatch");
    detail::H5Layout layout{.nan_fill = true};
    if (total > 4096) {
      std::vector<hsize_t> chunk(dims);
      // Chunks of at most ~64k values along the leading dimensions.
      hsize_t c = total;
      for (std::size_t k = 0; k < chunk.size() && c > 65536; ++k) {
        hsize_t shrink = std::min<hsize_t>(chunk[k], (c + 65535) / 65536);
        chunk[k] = std::max<hsize_t>(1, chunk[k] / shrink);
        c = 1;
        for (auto x : chunk) c *= x;
      }
      layout.chunk = chunk;
      layout.deflate = 1;
    }
    H5Writer::doubles(g, name, data, dims, layout,
                      {.scales = scales, .units = units, .long_name = long_name});
  }
  void attach_strings(hid_t g, const char* name, const std::vector<std::string>& values,
                      hid_t scale) const {
    H5Writer::strings(g, name, values, {}, {.scales = {scale}});
  }
};

std::vector<std::string> codes(const World& w) {
  std::vector<std::string> v;
  for (auto& c : w.countries) v.push_back(c.code);
  return v;
}
std::vector<std::string> names(const World& w) {
  std::vector<std::string> v;
  for (auto& c : w.countries) v.push_back(c.name);
  return v;
}
std::vector<std::string> material_ids(const World& w, const std::vector<MaterialId>& ids) {
  std::vector<std::string> v;
  for (auto p : ids) v.push_back(w.materials[p].id);
  return v;
}
std::vector<MaterialId> all_materials(const World& w) {
  std::vector<MaterialId> v(w.materials.size());
  std::iota(v.begin(), v.end(), MaterialId(0));
  return v;
}

}  // namespace

void write_analysis(const Analysis& a, const World& w, const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  namespace fs = std::filesystem;
  fs::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  H5 h(tmp);
  detail::H5Handle file = detail::h5_create_file(tmp, {.v18_format = false, .root_times = true});
  h.check(file.get(), "create " + tmp + " (" + std::strerror(errno) + ")");
  std::vector<detail::H5Handle> open;  // closed at the end (and on failure)
  try {
    const auto E = a.dep.end_product;
    const std::size_t C = w.countries.size(), M = w.materials.size();
    h.attr_string(file, "world_sha256", w.sha256);
    h.attr_string(file, "world_source", w.source);
    h.attr_string(file, "program_version", kVersion);
    h.attr_string(file, "scenario_name", a.scenario_name);
    h.attr_string(file, "definitions", "docs/analysis.md");
    std::string notes;
    for (const auto& n : a.notes) notes += (notes.empty() ? "" : "; ") + n;
    h.attr_string(file, "notes", notes);
    auto keep = [&](detail::H5Handle d) {
      open.push_back(std::move(d));
      return open.back().get();
    };
    auto grp = [&](const char* name) { return keep(h.group(file, name)); };

    // dependency
    {
      hid_t g = grp("dependency");
      hid_t pc = keep(h.strings(g, "producer_country", codes(w), true));
      hid_t ep = keep(h.strings(g, "end_product", material_ids(w, E), true));
      hid_t mt = keep(h.strings(g, "material", material_ids(w, all_materials(w)), true));
      hid_t oc = keep(h.strings(g, "origin_country", codes(w), true));
      h.attach_strings(g, "country_name", names(w), oc);
      h.doubles(g, "share", a.dep.share, {pc, ep, mt, oc}, "1",
                "share of the total requirement of the material, per unit of the end product "
                "made in producer_country, that is produced in origin_country");
      h.doubles(g, "requirement", a.dep.requirement, {pc, ep, mt},
                "units of the material per unit of the end product",
                "total (direct and indirect) requirement: column of L - I");
      h.doubles(g, "hhi", a.dep.hhi, {pc, ep, mt}, "1",
                "Herfindahl-Hirschman index of share over origin countries");
      h.doubles(g, "world_share", a.dep.world_share, {ep, mt, oc}, "1",
                "share over origin countries for all producers of the end product, weighted by "
                "their output");
      h.doubles(g, "world_requirement", a.dep.world_requirement, {ep, mt},
                "units of the material per unit of the end product",
                "total requirement per unit of world output of the end product");
      h.doubles(g, "world_hhi", a.dep.world_hhi, {ep, mt}, "1",
                "Herfindahl-Hirschman index of world_share");
      h.attr_double(g, "iterations", a.dep.iterations);
    }
    // pass_through
    {
      hid_t g = grp("pass_through");
      hid_t pc = keep(h.strings(g, "producer_country", codes(w), true));
      hid_t ep = keep(h.strings(g, "end_product", material_ids(w, a.pass.end_product), true));
      hid_t cc = keep(h.strings(g, "country", codes(w), true));
      h.attach_strings(g, "country_name", names(w), cc);
      h.doubles(g, "frequency", a.pass.frequency, {pc, ep, cc}, "1",
                "share of supply paths from raw-material nodes to the end-product producer that "
                "have an interior node in the country");
      h.doubles(g, "origin_frequency", a.pass.origin, {pc, ep, cc}, "1",
                "share of those paths that start in the country");
      h.doubles(g, "path_count", a.pass.path_count, {pc, ep}, "paths",
                "number of supply paths from raw-material nodes to the producer");
      h.doubles(g, "world_frequency", a.pass.world_frequency, {ep, cc}, "1",
                "frequency over the paths to all producers of the end product");
      h.doubles(g, "world_origin_frequency", a.pass.world_origin, {ep, cc}, "1",
                "origin frequency over the paths to all producers of the end product");
      h.attr_double(g, "dropped_cycle_edges", double(a.pass.dropped_cycle_edges));
    }
    // chokepoints
    {
      hid_t g = grp("chokepoints");
      hid_t cc = keep(h.strings(g, "country", codes(w), true));
      hid_t mt = keep(h.strings(g, "material", material_ids(w, all_materials(w)), true));
      h.attach_strings(g, "country_name", names(w), cc);
      h.doubles(g, "node_betweenness", a.btw.node, {cc, mt}, "1",
                "betweenness of the (country, material) node, normalised by (N-1)(N-2)");
      hid_t sc = keep(h.strings(g, "supplier_country", codes(w), true));
      hid_t bc = keep(h.strings(g, "buyer_country", codes(w), true));
      h.doubles(g, "link_betweenness", a.btw.link, {sc, bc}, "1",
                "sum of the edge betweenness of (country, material) edges from supplier to "
                "buyer country, normalised by N(N-1)");
      hid_t fm = keep(h.strings(g, "firm", w.firm_id, true));
      std::vector<std::string> fc(w.num_firms()), fmat(w.num_firms());
      for (FirmId i = 0; i < w.num_firms(); ++i) {
        fc[i] = w.countries[w.firm_country[i]].code;
        fmat[i] = w.materials[w.firm_material[i]].id;
      }
      h.attach_strings(g, "firm_country", fc, fm);
      h.attach_strings(g, "firm_material", fmat, fm);
      std::vector<double> fb = a.btw.firm;
      if (fb.empty()) fb.assign(w.num_firms(), kNaN);
      h.doubles(g, "firm_betweenness", fb, {fm}, "1",
                "betweenness of the firm, normalised by (n-1)(n-2); NaN: not computed");
      const std::size_t K = a.knock.size();
      std::vector<int> index(K);
      std::iota(index.begin(), index.end(), 0);
      hid_t cand = keep(h.ints(g, "candidate", index, true));
      hid_t kep = keep(h.strings(g, "end_product", material_ids(w, E), true));
      std::vector<std::string> kind(K), label(K);
      std::vector<double> btw(K), stat(K), worst(K), mean(K), kworst(K);
      std::vector<double> lost(K * E.size(), kNaN), knock_on(K * E.size(), kNaN);
      static const char* kinds[] = {"firm", "country_material", "country_link"};
      for (std::size_t q = 0; q < K; ++q) {
        const auto& ko = a.knock[q];
        kind[q] = kinds[ko.kind];
        label[q] = ko.label;
        btw[q] = ko.betweenness;
        stat[q] = ko.static_score;
        worst[q] = ko.worst;
        mean[q] = ko.mean;
        kworst[q] = ko.knock_on_worst;
        for (std::size_t e = 0; e < E.size() && e < ko.lost_share.size(); ++e) {
          lost[q * E.size() + e] = ko.lost_share[e];
          knock_on[q * E.size() + e] = ko.knock_on_share[e];
        }
      }
      h.attach_strings(g, "kind", kind, cand);
      h.attach_strings(g, "label", label, cand);
      h.doubles(g, "betweenness", btw, {cand}, "1", "betweenness of the candidate");
      h.doubles(g, "static_score", stat, {cand}, "1",
                "firm: ESRI; country_material: max world dependency share; country_link: max "
                "share of a material the importer gets from the exporter");
      h.doubles(g, "lost_share", lost, {cand, kep}, "1",
                "final deliveries of the end product lost over the run / baseline final demand "
                "over the run");
      h.doubles(g, "knock_on_share", knock_on, {cand, kep}, "1",
                "lost_share counting only the final deliveries of firms not removed themselves");
      h.doubles(g, "worst_lost_share", worst, {cand}, "1", "max over end products of lost_share");
      h.doubles(g, "worst_knock_on_share", kworst, {cand}, "1",
                "max over end products of knock_on_share (candidates are in this order)");
      h.doubles(g, "mean_lost_share", mean, {cand}, "1", "mean over end products of lost_share");
      h.attr_double(g, "knockout_days", a.knockout_days);
    }
    // esri
    if (!a.risk.esri.empty()) {
      hid_t g = grp("esri");
      hid_t fm = keep(h.strings(g, "firm", w.firm_id, true));
      h.doubles(g, "esri", a.risk.esri, {fm}, "1",
                "mean over materials of the share of the material's world output lost when the "
                "firm stops (downstream and upstream cascade)");
      h.doubles(g, "esri_max", a.risk.esri_max, {fm}, "1", "max over materials of that share");
      h.doubles(g, "esri_downstream", a.risk.esri_downstream, {fm}, "1",
                "ESRI with the downstream cascade only");
      h.doubles(g, "esri_upstream", a.risk.esri_upstream, {fm}, "1",
                "ESRI with the upstream cascade only");
      if (!a.risk.loss_by_material.empty()) {
        hid_t mt = keep(h.strings(g, "material", material_ids(w, all_materials(w)), true));
        h.doubles(g, "loss_by_material", a.risk.loss_by_material, {fm, mt}, "1",
                  "share of the material's world output lost when the firm stops");
      }
    }
    (void)C;
    (void)M;
    open.clear();
    if (H5Fclose(file.release()) < 0) h.fail("closing the file");
  } catch (...) {
    open.clear();
    file.reset();
    std::remove(tmp.c_str());
    throw;
  }
  util::publish_file(tmp, path, "the analysis");
}

// ---- terminal tables
// -----------------------------------------------------------------------------

namespace {
std::string pct(double x) {
  char b[32];
  if (!std::isfinite(x)) return "-";
  std::snprintf(b, sizeof b, "%.1f%%", 100.0 * x);
  return b;
}
std::string num(double x, const char* fmt = "%.3g") {
  char b[32];
  if (!std::isfinite(x)) return "-";
  std::snprintf(b, sizeof b, fmt, x);
  return b;
}

/// Display width of UTF-8 text: one column per code point (continuation bytes not counted).
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

/// Text split into lines of at most `cap` columns, broken after ", " or at a space, the lines
/// after the first indented by two; a word longer than `cap` stays whole (the column widens).
std::vector<std::string> wrap_cell(const std::string& s, std::size_t cap) {
  if (width(s) <= cap) return {s};
  std::vector<std::string> words;  // each with the separator that follows it
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == ' ') {
      words.push_back(s.substr(from, i + 1 - from));
      from = i + 1;
    }
  words.push_back(s.substr(from));
  std::vector<std::string> lines(1);
  for (const auto& w : words) {
    std::string trimmed = lines.back() + w;
    while (!trimmed.empty() && trimmed.back() == ' ') trimmed.pop_back();
    if (!lines.back().empty() && width(trimmed) > cap) lines.emplace_back();
    lines.back() += w;
  }
  for (std::size_t k = 0; k < lines.size(); ++k) {
    while (!lines[k].empty() && lines[k].back() == ' ') lines[k].pop_back();
    if (k) lines[k] = "  " + lines[k];  // a hanging indent marks the continued cell
  }
  return lines;
}

/// A terminal table: each column as wide as its widest cell or header (UTF-8 aware), numbers
/// and their headers right-aligned, text and its headers left-aligned, two spaces between
/// columns; text longer than its column's cap (long country names) wraps onto more lines
/// instead of being cut.
class TextTable {
 public:
  struct Column {
    std::string header;
    bool right = false;   ///< right-aligned (numbers)
    std::size_t cap = 0;  ///< wrap text longer than this (0: never)
  };
  explicit TextTable(std::vector<Column> cols) : cols_(std::move(cols)) {}
  void add(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void print(std::ostream& os, const std::string& indent = "  ") const {
    const std::size_t n = cols_.size();
    std::vector<std::vector<std::vector<std::string>>> cells;  // row, column, line
    std::vector<std::size_t> w(n);
    for (std::size_t c = 0; c < n; ++c) w[c] = width(cols_[c].header);
    for (const auto& r : rows_) {
      cells.emplace_back();
      for (std::size_t c = 0; c < n; ++c) {
        const std::string& v = c < r.size() ? r[c] : std::string();
        cells.back().push_back(cols_[c].cap ? wrap_cell(v, cols_[c].cap)
                                            : std::vector<std::string>{v});
        for (const auto& l : cells.back().back()) w[c] = std::max(w[c], width(l));
      }
    }
    auto line = [&](auto&& cell_of) {
      std::string out = indent;
      for (std::size_t c = 0; c < n; ++c) {
        const std::string v = cell_of(c);
        const std::string pad(w[c] - width(v), ' ');
        const bool last = c + 1 == n;
        if (c) out += "  ";
        out += cols_[c].right ? pad + v : (last ? v : v + pad);
      }
      while (out.size() > indent.size() && out.back() == ' ') out.pop_back();
      os << out << "\n";
    };
    line([&](std::size_t c) { return cols_[c].header; });
    for (const auto& r : cells) {
      std::size_t depth = 0;
      for (const auto& col : r) depth = std::max(depth, col.size());
      for (std::size_t k = 0; k < depth; ++k)
        line([&](std::size_t c) { return k < r[c].size() ? r[c][k] : std::string(); });
    }
  }

 private:
  std::vector<Column> cols_;
  std::vector<std::vector<std::string>> rows_;
};

constexpr std::size_t kNameCap = 30;  // country names, firm ids: wrapped beyond this
}  // namespace

void print_analysis(const Analysis& a, const World& w, std::ostream& os, int top_rows) {
  const std::size_t top = std::size_t(std::max(0, top_rows));
  const std::size_t C = w.countries.size(), M = w.materials.size();
  const auto& E = a.dep.end_product;
  for (const auto& n : a.notes) os << "Note: " << n << "\n";
  os << "End products: ";
  for (std::size_t e = 0; e < E.size(); ++e) os << (e ? ", " : "") << w.materials[E[e]].id;
  if (E.empty()) os << "none (no material of tier 'end', and every material is bought as input)";
  os << "\n\n";
  const auto cname = [&](std::size_t c) { return w.countries[c].name; };
  const auto mid = [&](std::size_t p) { return w.materials[p].id; };

  // Dependency, world level.
  {
    struct R {
      std::size_t e, p;
      double hhi;
    };
    std::vector<R> rows;
    for (std::size_t e = 0; e < E.size(); ++e)
      for (std::size_t p = 0; p < M; ++p) {
        double h = a.dep.world_hhi[e * M + p];
        if (std::isfinite(h)) rows.push_back({e, p, h});
      }
    std::stable_sort(rows.begin(), rows.end(),
                     [](const R& x, const R& y) { return x.hhi > y.hhi; });
    os << "Dependency (world): upstream materials of each end product by concentration of origin\n"
          "  (share of the total direct+indirect requirement produced in each country; HHI 1 = one "
          "country)\n";
    TextTable t({{"end product"},
                 {"upstream material"},
                 {"HHI", true},
                 {"largest origin", false, kNameCap + 7},
                 {"second", false, kNameCap + 7}});
    for (std::size_t r = 0; r < std::min(top, rows.size()); ++r) {
      const auto& x = rows[r];
      std::vector<std::pair<double, std::size_t>> o;
      for (std::size_t c = 0; c < C; ++c)
        o.emplace_back(a.dep.world_share[(x.e * M + x.p) * C + c], c);
      std::stable_sort(o.begin(), o.end(), [](auto& u, auto& v) { return u.first > v.first; });
      std::string first = o.empty() ? "-" : cname(o[0].second) + " " + pct(o[0].first);
      std::string second =
          o.size() < 2 || !(o[1].first > 0) ? "-" : cname(o[1].second) + " " + pct(o[1].first);
      t.add({mid(E[x.e]), mid(x.p), num(x.hhi, "%.3f"), first, second});
    }
    t.print(os);
    if (rows.size() > top) os << "  ... " << rows.size() - top << " more in dependency/world_hhi\n";
    os << "\n";
  }
  // Dependency, by producer country: the largest single foreign origin.
  {
    struct R {
      std::size_t d, e, p, c;
      double share, hhi;
    };
    std::vector<R> rows;
    for (std::size_t d = 0; d < C; ++d)
      for (std::size_t e = 0; e < E.size(); ++e)
        for (std::size_t p = 0; p < M; ++p) {
          double h = a.dep.hhi[a.dep.at(d, e, p)];
          if (!std::isfinite(h)) continue;
          R best{d, e, p, C, 0.0, h};
          for (std::size_t c = 0; c < C; ++c) {
            double s = a.dep.share[a.dep.at(d, e, p, c)];
            if (c != d && s > best.share) best.share = s, best.c = c;
          }
          if (best.c < C) rows.push_back(best);
        }
    std::stable_sort(rows.begin(), rows.end(), [](const R& x, const R& y) {
      return x.share > y.share || (x.share == y.share && x.hhi > y.hhi);
    });
    os << "Dependency (by producer country): the largest single foreign origin\n";
    TextTable t({{"producer", false, kNameCap},
                 {"end product"},
                 {"upstream material"},
                 {"foreign origin", false, kNameCap},
                 {"share", true},
                 {"HHI", true}});
    for (std::size_t r = 0; r < std::min(top, rows.size()); ++r) {
      const auto& x = rows[r];
      t.add({cname(x.d), mid(E[x.e]), mid(x.p), cname(x.c), pct(x.share), num(x.hhi, "%.3f")});
    }
    t.print(os);
    if (rows.size() > top) os << "  ... " << rows.size() - top << " more in dependency/share\n";
    os << "\n";
  }
  // Pass-through.
  {
    struct R {
      std::size_t e, k;
      double f, o;
    };
    std::vector<R> rows;
    const std::size_t PE = a.pass.end_product.size();
    for (std::size_t e = 0; e < PE; ++e)
      for (std::size_t k = 0; k < C; ++k) {
        double f = a.pass.world_frequency[e * C + k];
        if (std::isfinite(f) && f > 0) rows.push_back({e, k, f, a.pass.world_origin[e * C + k]});
      }
    std::stable_sort(rows.begin(), rows.end(), [](const R& x, const R& y) { return x.f > y.f; });
    os << "Pass-through frequency: share of supply paths (raw-material producer -> ... -> "
          "end-product "
          "producer, on the country x material graph) passing through a country\n";
    TextTable t(
        {{"end product"}, {"country", false, kNameCap}, {"pass-through", true}, {"origin", true}});
    for (std::size_t r = 0; r < std::min(top, rows.size()); ++r) {
      const auto& x = rows[r];
      t.add({mid(a.pass.end_product[x.e]), cname(x.k), pct(x.f), pct(x.o)});
    }
    t.print(os);
    if (a.pass.dropped_cycle_edges)
      os << "  (" << a.pass.dropped_cycle_edges << " edges closing cycles were left out)\n";
    os << "\n";
  }
  // Betweenness.
  {
    if (!a.btw.firm.empty()) {
      os << "Chokepoints by betweenness: firms\n";
      TextTable t({{"firm"}, {"country"}, {"material"}, {"betweenness", true}});
      for (auto i : top_k(a.btw.firm, top))
        t.add({w.firm_id[i], w.countries[w.firm_country[i]].code, mid(w.firm_material[i]),
               num(a.btw.firm[i], "%.4g")});
      t.print(os);
    } else {
      os << "Chokepoints by betweenness: firms skipped (more firms than the limit)\n";
    }
    os << "\nChokepoints by betweenness: (country, material)\n";
    {
      TextTable t({{"country", false, kNameCap}, {"material"}, {"betweenness", true}});
      for (auto key : top_k(a.btw.node, top))
        t.add({cname(key / M), mid(key % M), num(a.btw.node[key], "%.4g")});
      t.print(os);
    }
    os << "\nChokepoints by betweenness: country-to-country links (supplier -> buyer)\n";
    {
      TextTable t({{"from", false, kNameCap}, {"to", false, kNameCap}, {"betweenness", true}});
      for (auto key : top_k(a.btw.link, top))
        t.add({cname(key / C), cname(key % C), num(a.btw.link[key], "%.4g")});
      t.print(os);
    }
    os << "\n";
  }
  // Knockouts.
  if (!a.knock.empty()) {
    os << "Chokepoints by simulated knockout (" << a.knock.size() << " candidates, "
       << a.knockout_days
       << " days each; lost = final deliveries lost / baseline final demand, per end product)\n";
    os << "  (knock-on: deliveries lost by firms other than the removed ones; ranked by it)\n";
    TextTable t({{"kind"},
                 {"removed", false, kNameCap},
                 {"knock-on", true},
                 {"total", true},
                 {"worst-hit product"},
                 {"mean", true},
                 {"betweenness", true},
                 {"static", true}});
    static const char* kinds[] = {"firm", "country+material", "country link"};
    for (std::size_t r = 0; r < std::min(top, a.knock.size()); ++r) {
      const auto& ko = a.knock[r];
      std::size_t we = 0;
      for (std::size_t e = 1; e < ko.knock_on_share.size(); ++e)
        if (ko.knock_on_share[e] > ko.knock_on_share[we] || !std::isfinite(ko.knock_on_share[we]))
          we = e;
      std::string prod =
          ko.knock_on_share.empty() || !(ko.knock_on_worst > 0) ? "-" : w.materials[E[we]].id;
      t.add({kinds[ko.kind], ko.label, pct(ko.knock_on_worst), pct(ko.worst), prod, pct(ko.mean),
             num(ko.betweenness, "%.4g"), num(ko.static_score, "%.3g")});
    }
    t.print(os);
    os << "\n";
  }
  // ESRI.
  if (!a.risk.esri.empty()) {
    os << "Economic systemic risk index (ESRI): mean over materials of the share of world output "
          "lost if the firm stops\n";
    TextTable t({{"firm"},
                 {"country"},
                 {"material"},
                 {"ESRI", true},
                 {"max", true},
                 {"worst-hit material"},
                 {"downstream", true},
                 {"upstream", true}});
    for (auto i : top_k(a.risk.esri, top)) {
      std::string worst = "-";
      if (!a.risk.loss_by_material.empty()) {
        std::size_t wp = 0;
        for (std::size_t p = 1; p < M; ++p)
          if (a.risk.loss_by_material[i * M + p] > a.risk.loss_by_material[i * M + wp]) wp = p;
        worst = w.materials[wp].id;
      }
      t.add({w.firm_id[i], w.countries[w.firm_country[i]].code, mid(w.firm_material[i]),
             pct(a.risk.esri[i]), pct(a.risk.esri_max[i]), worst, pct(a.risk.esri_downstream[i]),
             pct(a.risk.esri_upstream[i])});
    }
    t.print(os);
    os << "\n";
  }
}

}  // namespace shortfall
