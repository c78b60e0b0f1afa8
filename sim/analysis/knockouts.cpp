// Chokepoints by simulated knockout (include/shortfall/analyze.hpp; definitions in
// docs/analysis.md). The knockout simulations run one independent task per candidate, each
// writing only its own result, so the results do not depend on the number of threads.
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/analysis_common.hpp"
#include "shortfall/analyze.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"

namespace shortfall {

using analysis_common::kNaN;
using analysis_common::resolve_threads;
using analysis_common::top_k;

// ---- knockouts ----------------------------------------------------------------------------------

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
    ev.exporters = {w.countries()[ko.a].code};
    ev.targets = {w.countries()[ko.b].code};
    ev.materials = {"all"};
    ev.license_share = 0.0;
  } else {
    ev.type = EventType::kCapacityLoss;
    ev.loss = 1.0;
    ev.recovery.type = RecoveryType::kNone;
    if (ko.kind == Knockout::kFirm) {
      ev.firms.firms = {w.firm_id()[ko.a]};
    } else {
      ev.firms.countries = {w.countries()[ko.a].code};
      ev.firms.materials = {w.materials()[ko.b].id};
    }
  }
  sc.events.push_back(std::move(ev));
  RunOptions opt;
  opt.threads = 1;
  opt.days = days;
  Simulation sim(w, sc, opt);
  const std::size_t E = end_product.size(), M = w.materials().size();
  std::vector<std::int32_t> slot(M, -1);
  for (std::size_t e = 0; e < E; ++e) slot[end_product[e]] = std::int32_t(e);
  std::vector<FirmId> firms;
  std::vector<double> base(E, 0.0), lost(E, 0.0);
  for (FirmId i = 0; i < w.num_firms(); ++i) {
    std::int32_t e = slot[w.firm_material()[i]];
    if (e >= 0 && w.final_demand()[i] > 0) {
      firms.push_back(i);
      base[std::size_t(e)] += w.final_demand()[i];
    }
  }
  // Firms removed by the knockout itself (their own final deliveries are not knock-on losses).
  auto removed = [&](FirmId i) {
    if (ko.kind == Knockout::kFirm) return i == ko.a;
    if (ko.kind == Knockout::kCountryMaterial)
      return w.firm_country()[i] == ko.a && w.firm_material()[i] == ko.b;
    return false;
  };
  std::vector<double> lost_other(E, 0.0);
  int simulated = 0;
  while (sim.step()) {
    ++simulated;
    auto c = sim.final_delivered();
    for (FirmId i : firms) {
      const double l = std::max(0.0, w.final_demand()[i] - c[i]);
      lost[std::size_t(slot[w.firm_material()[i]])] += l;
      if (!removed(i)) lost_other[std::size_t(slot[w.firm_material()[i]])] += l;
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
                                const std::vector<MaterialId>& end_product, const Betweenness& btw,
                                const SystemicRisk* risk, const Dependency& dep, int k, int days,
                                int threads) {
  std::vector<Knockout> out;
  if (k <= 0) return out;
  const std::size_t C = w.countries().size(), M = w.materials().size(), E = end_product.size();
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
  for (auto key : top_k(btw.node, kk))
    add(Knockout::kCountryMaterial, std::uint32_t(key / M), std::uint32_t(key % M));
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
  for (auto key : top_k(btw.link, kk))
    add(Knockout::kCountryLink, std::uint32_t(key / C), std::uint32_t(key % C));
  for (auto key : top_k(link_static, kk))
    add(Knockout::kCountryLink, std::uint32_t(key / C), std::uint32_t(key % C));

  for (auto& ko : out) {
    switch (ko.kind) {
      case Knockout::kFirm:
        ko.label = w.firm_id()[ko.a];
        ko.betweenness = btw.firm.empty() ? kNaN : btw.firm[ko.a];
        ko.static_score = firm_static[ko.a];
        break;
      case Knockout::kCountryMaterial:
        ko.label = w.countries()[ko.a].code + " " + w.materials()[ko.b].id;
        ko.betweenness = btw.node[ko.a * M + ko.b];
        ko.static_score = node_static[ko.a * M + ko.b];
        break;
      case Knockout::kCountryLink:
        ko.label = w.countries()[ko.a].code + "->" + w.countries()[ko.b].code;
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

}  // namespace shortfall
