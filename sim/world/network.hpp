// The compressed adjacency of a world, built once by World's constructor.
//
// Links are renumbered into "lanes": lane order is buyer-major, and within a buyer grouped by
// the supplier's material into input "slots" (one slot per (buyer, input material)), suppliers
// ascending within a slot. Per-link state lives in arrays indexed by lane, so the buyer-side
// phases (inventory, orders) stream through memory; the supplier-side phases (demand,
// rationing) gather through out_lane, the supplier-major permutation. The structure is built
// with boost::compressed_sparse_row_graph (bidirectionalS), whose in-edge lists give the lane
// order and whose out-edge lists give out_lane.
#pragma once

#include <cstdint>
#include <vector>

#include "shortfall/world.hpp"

namespace shortfall::detail {

using Lane = std::uint32_t;
using Slot = std::uint32_t;

struct Network {
  std::uint32_t num_firms = 0;
  std::uint32_t num_links = 0;

  // Buyer side: firm i's input slots are [slot_begin[i], slot_begin[i+1]); slot s covers lanes
  // [slot_lane_begin[s], slot_lane_begin[s+1]). Lanes of firm i are contiguous.
  std::vector<Slot> slot_begin;           // num_firms + 1
  std::vector<Lane> slot_lane_begin;      // num_slots + 1
  std::vector<MaterialId> slot_material;  // num_slots
  std::vector<FirmId> slot_firm;          // num_slots
  std::vector<FirmId> lane_supplier;      // num_links
  std::vector<FirmId> lane_buyer;         // num_links
  std::vector<LinkId> lane_link;          // lane -> world LinkId
  std::vector<Lane> link_lane;            // world LinkId -> lane

  // Supplier side: firm j's customers are out_lane[out_begin[j] .. out_begin[j+1]).
  std::vector<Lane> out_begin;  // num_firms + 1
  std::vector<Lane> out_lane;   // num_links

  [[nodiscard]] std::uint32_t num_slots() const {
    return static_cast<std::uint32_t>(slot_material.size());
  }
};

Network build_network(const World& world);

}  // namespace shortfall::detail
