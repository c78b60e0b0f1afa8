#include "world/network.hpp"

#include <algorithm>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <numeric>
#include <tuple>

namespace shortfall::detail {

namespace {
// Edge property: the world's LinkId, so lane order can be mapped back to the input.
struct EdgeProps {
  LinkId link = 0;
};
using CsrGraph =
    boost::compressed_sparse_row_graph<boost::bidirectionalS, boost::no_property, EdgeProps,
                                       boost::no_property, std::uint32_t, std::uint32_t>;
}  // namespace

Network build_network(const World& world) {
  Network net;
  const auto n = static_cast<std::uint32_t>(world.num_firms());
  const auto m = static_cast<std::uint32_t>(world.num_links());
  net.num_firms = n;
  net.num_links = m;

  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges(m);
  std::vector<EdgeProps> props(m);
  for (LinkId l = 0; l < m; ++l) {
    edges[l] = {world.link_supplier()[l], world.link_buyer()[l]};
    props[l].link = l;
  }
  CsrGraph g(boost::edges_are_unsorted_multi_pass, edges.begin(), edges.end(), props.begin(), n);
  edges.clear();
  edges.shrink_to_fit();

  // Buyer side: in-edges of each firm, ordered by (supplier material, supplier, link).
  net.slot_begin.assign(n + 1, 0);
  net.lane_supplier.resize(m);
  net.lane_buyer.resize(m);
  net.lane_link.resize(m);
  net.link_lane.resize(m);
  std::vector<std::tuple<MaterialId, FirmId, LinkId>> ins;
  Lane lane = 0;
  for (FirmId i = 0; i < n; ++i) {
    ins.clear();
    for (auto [e, e_end] = boost::in_edges(i, g); e != e_end; ++e) {
      FirmId j = static_cast<FirmId>(boost::source(*e, g));
      ins.emplace_back(world.firm_material()[j], j, g[*e].link);
    }
    std::sort(ins.begin(), ins.end());
    net.slot_begin[i] = static_cast<Slot>(net.slot_material.size());
    for (std::size_t k = 0; k < ins.size(); ++k) {
      auto [p, j, link] = ins[k];
      if (k == 0 || p != std::get<0>(ins[k - 1])) {
        net.slot_material.push_back(p);
        net.slot_firm.push_back(i);
        net.slot_lane_begin.push_back(lane);
      }
      net.lane_supplier[lane] = j;
      net.lane_buyer[lane] = i;
      net.lane_link[lane] = link;
      net.link_lane[link] = lane;
      ++lane;
    }
  }
  net.slot_begin[n] = static_cast<Slot>(net.slot_material.size());
  net.slot_lane_begin.push_back(lane);

  // Supplier side: out-edges in CSR order (by buyer within a supplier).
  net.out_begin.assign(n + 1, 0);
  net.out_lane.resize(m);
  Lane pos = 0;
  std::vector<std::pair<FirmId, Lane>> outs;
  for (FirmId j = 0; j < n; ++j) {
    net.out_begin[j] = pos;
    outs.clear();
    for (auto [e, e_end] = boost::out_edges(j, g); e != e_end; ++e)
      outs.emplace_back(static_cast<FirmId>(boost::target(*e, g)), net.link_lane[g[*e].link]);
    std::sort(outs.begin(), outs.end());
    for (auto& o : outs) net.out_lane[pos++] = o.second;
  }
  net.out_begin[n] = pos;
  return net;
}

}  // namespace shortfall::detail
