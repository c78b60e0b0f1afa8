// Graph measures (include/shortfall/analyze.hpp; definitions in docs/analysis.md): the
// (country, material) graph, dependency (total requirements), pass-through frequency and
// betweenness. Graph algorithms come from Boost.Graph (compressed_sparse_row_graph, Brandes
// betweenness, depth-first search); Boost stays private to this file.
#include <algorithm>
#include <boost/graph/betweenness_centrality.hpp>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <cmath>
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

#include "analysis/analysis_common.hpp"
#include "shortfall/analyze.hpp"

namespace shortfall {

namespace {

using analysis_common::kNaN;

using Csr =
    boost::compressed_sparse_row_graph<boost::directedS, boost::no_property, boost::no_property,
                                       boost::no_property, std::uint32_t, std::uint32_t>;

/// A CSR graph over `n` vertices from (source, target) pairs, self-loops and duplicates removed.
Csr simple_graph(std::size_t n, std::vector<std::pair<std::uint32_t, std::uint32_t>> edges) {
  edges.erase(
      std::remove_if(edges.begin(), edges.end(), [](const auto& e) { return e.first == e.second; }),
      edges.end());
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  return Csr(boost::edges_are_sorted, edges.begin(), edges.end(), static_cast<std::uint32_t>(n));
}

}  // namespace

// ---- the (country, material) graph --------------------------------------------------------------

AggregateGraph aggregate_graph(const World& w) {
  AggregateGraph g;
  const std::size_t C = w.countries().size(), M = w.materials().size();
  g.node_of.assign(C * M, -1);
  std::vector<char> present(C * M, 0);
  for (FirmId i = 0; i < w.num_firms(); ++i)
    present[w.firm_country()[i] * M + w.firm_material()[i]] = 1;
  for (std::size_t key = 0; key < C * M; ++key) {
    if (!present[key]) continue;
    g.node_of[key] = std::int32_t(g.node_country.size());
    g.node_country.push_back(CountryId(key / M));
    g.node_material.push_back(MaterialId(key % M));
  }
  g.node_output.assign(g.num_nodes(), 0.0);
  auto node = [&](FirmId i) {
    return std::uint32_t(g.node_of[w.firm_country()[i] * M + w.firm_material()[i]]);
  };
  for (FirmId i = 0; i < w.num_firms(); ++i) g.node_output[node(i)] += w.baseline_output()[i];
  struct E {
    std::uint32_t u, v;
    LinkId link;
  };
  std::vector<E> edges;
  edges.reserve(w.num_links());
  for (LinkId l = 0; l < w.num_links(); ++l)
    if (w.link_flow()[l] > 0)
      edges.push_back({node(w.link_supplier()[l]), node(w.link_buyer()[l]), l});
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
    g.edge_flow.back() += w.link_flow()[edges[k].link];
  }
  return g;
}

std::vector<MaterialId> end_products(const World& w) {
  const std::size_t M = w.materials().size();
  std::vector<char> bought(M, 0), has_inputs(M, 0);
  for (LinkId l = 0; l < w.num_links(); ++l) {
    bought[w.firm_material()[w.link_supplier()[l]]] = 1;
    has_inputs[w.firm_material()[w.link_buyer()[l]]] = 1;
  }
  std::vector<MaterialId> out;
  for (MaterialId p = 0; p < M; ++p)
    if (w.materials()[p].tier == "end" || (!bought[p] && has_inputs[p])) out.push_back(p);
  return out;
}

// ---- dependency: total requirements -------------------------------------------------------------
//
// A_uv = Z_uv / X_v (units of u per unit of v's output). The total input requirements are
// T = A + A^2 + ... = L - I with L = (I - A)^-1, computed for the end-product columns only by
// T <- A (I + T) from T = 0: exact after (longest path) steps on an acyclic graph, geometric
// convergence otherwise (the spectral radius of A is below 1 when every node sells some output
// to final users, directly or downstream).

Dependency dependency(const World& w, const AggregateGraph& g) {
  Dependency dep;
  const std::size_t C = w.countries().size(), M = w.materials().size(), N = g.num_nodes();
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

// ---- pass-through frequency ---------------------------------------------------------------------
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
  const std::size_t C = w.countries().size(), M = w.materials().size(), N = g.num_nodes();
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
  boost::depth_first_search(csr, boost::visitor(vis).color_map(boost::make_iterator_property_map(
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

// ---- betweenness --------------------------------------------------------------------------------

Betweenness betweenness(const World& w, const AggregateGraph& g, std::size_t max_firms) {
  Betweenness b;
  const std::size_t C = w.countries().size(), M = w.materials().size(), N = g.num_nodes();
  const std::size_t n = w.num_firms();
  if (n <= max_firms && n > 0) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
    edges.reserve(w.num_links());
    for (LinkId l = 0; l < w.num_links(); ++l)
      edges.emplace_back(w.link_supplier()[l], w.link_buyer()[l]);
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
      csr, boost::centrality_map(
               boost::make_iterator_property_map(vc.begin(), boost::get(boost::vertex_index, csr)))
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
}  // namespace shortfall
