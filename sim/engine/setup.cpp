// Setting up a simulation: the state at day 0 from the world and the scenario (docs/model.md
// sections 1-2), and the firms each event selects.
#include "engine/engine.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace shortfall {

Simulation::Impl::Impl(const World& w, const Scenario& s, RunOptions opt)
    : world(w),
      net(w.network()),
      scenario(s),
      total_days(opt.days > 0 ? opt.days : s.days),
      threads(opt.threads > 0 ? opt.threads : default_threads(w)),
      arena(threads),
      inv_tau(1.0 / s.model.tau),
      cancel(opt.cancel),
      options(opt),
      profile(opt.profile),
      x0(w.baseline_output()) {
  init_firms();
  init_lanes_and_slots();
  const std::vector<std::int32_t> max_lead = init_events();
  init_rationing();
  init_pipeline(max_lead);
  // base_lead is read only to undo a transport disruption (events.cpp): without one, lead
  // stays base_lead all run, and the copy goes (4 bytes a link of the run's peak memory).
  transport_events = std::any_of(s.events.begin(), s.events.end(), [](const Event& ev) {
    return ev.type == EventType::kTransportDisruption;
  });
  if (!transport_events) std::vector<std::int32_t>().swap(base_lead);
  // Likewise lead itself where every lead time is 1 for the whole run, lanes added later
  // included (lead_of; another 4 bytes a link).
  lead_all_one = unit_lead && !transport_events;
  if (lead_all_one) std::vector<std::int32_t>().swap(lead);
  scratch.resize(std::size_t(threads) + 1);
  init_policies();
  // What the loops over listed slots may leave out (engine.hpp: gather_orders, slot_short).
  const Rationing rationing = s.model.rationing;
  gather_orders =
      !one_slot.empty() && cap_share.empty() &&
      (rationing == Rationing::kProportional || rationing == Rationing::kFinalDemandLast);
  if (!one_slot.empty() && opt.metrics && !policies_on) slot_short.assign(w.num_firms(), 0);
}

/// Firms at baseline (model section 2): x = x0, capacity x0 / u0 (3.5), final demand C0.
void Simulation::Impl::init_firms() {
  const World& w = world;
  const Scenario& s = scenario;
  const RunOptions& opt = options;
  const std::size_t n = w.num_firms();
  planned_orders = s.model.orders == Orders::kPlanned;
  destocking = s.model.destocking;
  cap_base.resize(n);
  for (FirmId i = 0; i < n; ++i) {
    const auto& own = w.materials()[w.firm_material()[i]].utilisation;
    const double u0 = own && !s.model.is_preset() ? *own : s.model.utilisation;
    cap_base[i] = x0[i] / u0;  // x0 itself where u0 = 1
  }
  // By-products (model 3.5): their makers produce at least x0 while capacity and inputs allow.
  floor_x.clear();
  if (s.model.byproduct)
    for (FirmId i = 0; i < n; ++i)
      if (w.materials()[w.firm_material()[i]].byproduct) {
        if (floor_x.empty()) floor_x.assign(n, 0.0);
        floor_x[i] = x0[i];
      }
  x = x0;
  x_new = x0;
  D = x0;
  cap = cap_base;
  C = w.final_demand();
  C_want = w.final_demand();
  if (opt.metrics) metrics = MetricsAccumulator(w);
  c = w.final_demand();
  delta.assign(n, 0.0);
  delta0.assign(n, 0.0);
  alpha.assign(n, 1.0);
  input_short.assign(n, 0.0);
  binding.assign(n, kBindDemand);
  first_short.assign(n, -1);
  demand_factor.assign(n, 1.0);
  recovery_type.assign(n, std::uint8_t(RecoveryType::kNone));
  recovery_rate.assign(n, 0.0);
}

/// Lanes (one per link, buyer-major) and slots (one per buyer and input material) at baseline:
/// Z0, lead times, priority classes, stocks S = n Z0 (section 2), orders and deliveries Z0.
void Simulation::Impl::init_lanes_and_slots() {
  const World& w = world;
  const std::size_t m = w.num_links();
  z0.resize(m);
  base_lead.resize(m);
  lane_class.resize(m);
  for (Lane l = 0; l < m; ++l) {
    LinkId link = net.lane_link[l];
    z0[l] = w.link_flow()[link];
    base_lead[l] = w.link_lead_time()[link];
    CountryId cs = w.firm_country()[net.lane_supplier[l]], cb = w.firm_country()[net.lane_buyer[l]];
    PriorityClass cls = PriorityClass::kRest;
    if (cs == cb) {
      cls = PriorityClass::kDomestic;
    } else if (w.share_group(cs, cb)) {
      cls = PriorityClass::kGroup;
    }
    lane_class[l] = static_cast<std::uint8_t>(cls);
  }
  lead = base_lead;
  const Slot ns = net.num_slots();
  slot_A.assign(ns, 0.0);
  slot_n.assign(ns, 0.0);
  slot_stock.assign(ns, 0.0);
  slot_ordered.assign(ns, 0.0);
  slot_received.assign(ns, 0.0);
  S.resize(m);
  for (Slot s = 0; s < ns; ++s) {
    FirmId i = net.slot_firm[s];
    double nd = w.firm_inventory_days()[i];
    if (std::isnan(nd)) nd = w.materials()[net.slot_material[s]].inventory_days.value_or(kNaN);
    if (std::isnan(nd)) nd = scenario.model.inventory_days;
    if (!(nd > 0.0))
      throw InputError(SourceLocation{w.source(), 0, 0, "inventory_days"},
                       "expected inventory days > 0 for firm '" + w.firm_id()[i] + "' input '" +
                           w.materials()[net.slot_material[s]].id + "', found " +
                           std::to_string(nd));
    slot_n[s] = nd;
    double a = 0.0, pool = 0.0;
    for (Lane l = net.slot_lane_begin[s]; l < net.slot_lane_begin[s + 1]; ++l) {
      a += z0[l];
      S[l] = nd * z0[l];  // S_ji = n_i Z0_ji (the same expression the kernels use)
      pool += S[l];
    }
    slot_A[s] = a;
    slot_stock[s] = pool;
    slot_ordered[s] = a;
    slot_received[s] = a;
  }
  spread_inventory_targets();
  if (std::any_of(scenario.events.begin(), scenario.events.end(),
                  [](const Event& ev) { return ev.type == EventType::kFrontLoading; }))
    slot_n_base = slot_n;  // kept only where a front-loading event will recompute slot_n
  O = z0;
  y = z0;
  // Distinct parts (model 3.5): where the switch is on and no new supplier can join a slot
  // (section 7 and crisis matching pool what they add, so they turn it off).
  if (scenario.model.distinct_parts && !links_can_be_added()) {
    std::vector<std::uint8_t> flag(ns, 0);
    bool any = false;
    for (Slot s = 0; s < ns; ++s)
      if (w.materials()[net.slot_material[s]].distinct_parts &&
          net.slot_lane_begin[s + 1] - net.slot_lane_begin[s] > 1) {
        flag[s] = 1;
        any = true;
      }
    if (any) {
      slot_distinct = std::move(flag);
      slot_limit = slot_stock;
    }
  }
}

/// Spread of inventory cover across firms (docs/model.md 2.1), where the switch is on and the
/// world gives the input material an `inventory_days_range` [lo, hi]: within each (buyer
/// country, input material), the K buyers without their own `inventory_days` are ranked by a
/// hash of (firm, material) and the one of rank r gets n = lo + (hi - lo) (r + 1/2) / K; the
/// group's targets are then scaled so that its use-weighted mean, sum n A / sum A (the
/// country's aggregate cover at baseline), is the nominal n. Stocks S = n Z0 follow.
void Simulation::Impl::spread_inventory_targets() {
  const World& w = world;
  if (!scenario.model.inventory_spread) return;
  const std::size_t nm = w.materials().size();
  bool any = false;
  for (const auto& p : w.materials()) any = any || p.inventory_days_range.has_value();
  if (!any) return;
  std::vector<std::vector<Slot>> groups(w.countries().size() * nm);
  for (Slot s = 0; s < net.num_slots(); ++s) {
    const FirmId i = net.slot_firm[s];
    const MaterialId p = net.slot_material[s];
    if (w.materials()[p].inventory_days_range && std::isnan(w.firm_inventory_days()[i]))
      groups[std::size_t(w.firm_country()[i]) * nm + p].push_back(s);
  }
  auto mix = [](std::uint64_t z) {  // splitmix64's finaliser: an order unrelated to firm size
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  std::vector<std::pair<std::uint64_t, Slot>> order;
  for (const auto& g : groups) {
    const std::size_t k = g.size();
    if (k < 2) continue;
    const MaterialId p = net.slot_material[g[0]];
    const auto [lo, hi] = *w.materials()[p].inventory_days_range;
    order.clear();
    for (Slot s : g)
      order.emplace_back(mix(std::uint64_t(net.slot_firm[s]) * 0x9e3779b97f4a7c15ULL + p), s);
    std::sort(order.begin(), order.end());
    const double nominal = slot_n[g[0]];  // the same for every slot of the group
    double sum_a = 0.0, sum_na = 0.0;
    for (std::size_t r = 0; r < k; ++r) {
      const Slot s = order[r].second;
      slot_n[s] = lo + (hi - lo) * (double(r) + 0.5) / double(k);
      sum_a += slot_A[s];
      sum_na += slot_n[s] * slot_A[s];
    }
    const double f = nominal * sum_a / sum_na;
    for (Slot s : g) {
      slot_n[s] *= f;
      double pool = 0.0;
      for (Lane l = net.slot_lane_begin[s]; l < net.slot_lane_begin[s + 1]; ++l) {
        S[l] = slot_n[s] * z0[l];
        pool += S[l];
      }
      slot_stock[s] = pool;
    }
  }
}

/// Resolves each event's selection once; export controls' caps. Returns, per lane, the longest
/// lead time any transport disruption can impose (the in-transit rings' lengths).
std::vector<std::int32_t> Simulation::Impl::init_events() {
  const World& w = world;
  const Scenario& s = scenario;
  const std::size_t m = w.num_links();
  std::vector<std::int32_t> max_lead = base_lead;
  bool any_control = false;
  for (const auto& ev : scenario.events) {
    event_firms.push_back(resolve_firms(ev));
    control_reach.push_back(ev.type == EventType::kExportControl ? ExportControlReach(w, ev)
                                                                 : ExportControlReach{});
    if (ev.type == EventType::kExportControl || ev.type == EventType::kTradeCut) any_control = true;
    if (ev.type == EventType::kTransportDisruption) {
      for (Lane l = 0; l < m; ++l)
        if (between_match(ev, l)) max_lead[l] += ev.extra_days;
    }
  }
  if (any_control) cap_share.assign(m, std::numeric_limits<double>::infinity());
  if (any_control && s.model.final_demand_controls)
    fd_share.assign(w.final_dest_country().size(), std::numeric_limits<double>::infinity());
  if (!fd_share.empty() || w.has_final_demand_split()) fd_capped = w.final_dest_amount();
  return max_lead;
}

/// What the rationing rule of the scenario keeps per supplier and by out-position.
void Simulation::Impl::init_rationing() {
  const Scenario& s = scenario;
  const std::size_t n = world.num_firms(), m = world.num_links();
  out_pos.resize(m);
  for (Lane k = 0; k < m; ++k) out_pos[net.out_lane[k]] = k;
  o_out.resize(m);
  for (Lane l = 0; l < m; ++l) o_out[out_pos[l]] = z0[l];
  rule.assign(n, 1.0);
  if (s.model.rationing == Rationing::kPriority) allot.resize(n);
  if (s.model.rationing == Rationing::kWaterfill) {
    z0_out.resize(m);
    for (Lane l = 0; l < m; ++l) z0_out[out_pos[l]] = z0[l];
    wf_weight.resize(n);
    refresh_weights();
  }
  if (s.model.rationing == Rationing::kPriority) {
    class_out.resize(m);
    for (Lane l = 0; l < m; ++l) class_out[out_pos[l]] = lane_class[l];
  }
}

/// The in-transit pipeline (model section 5): none where every lead time is 1; rings of each
/// lane's longest lead time otherwise, holding the shipments of the days before day 0.
void Simulation::Impl::init_pipeline(const std::vector<std::int32_t>& max_lead) {
  const World& w = world;
  const std::size_t m = w.num_links();
  unit_lead = w.lead_times().domestic == 1 && w.lead_times().international == 1 &&
              std::all_of(max_lead.begin(), max_lead.end(), [](auto v) { return v == 1; }) &&
              std::all_of(w.lead_times().pairs.begin(), w.lead_times().pairs.end(),
                          [](const auto& kv) { return kv.second == 1; });
  fixed_lead = !unit_lead && max_lead == base_lead;
  ring_off.resize(unit_lead ? 0 : m);
  ring_len.resize(unit_lead ? 0 : m);
  std::uint64_t total = 0;
  for (Lane l = 0; l < (unit_lead ? 0 : m); ++l) {
    ring_off[l] = static_cast<std::uint32_t>(total);
    ring_len[l] = max_lead[l];
    total += std::uint64_t(max_lead[l]);
    if (total >= std::numeric_limits<std::uint32_t>::max())
      throw InputError(SourceLocation{scenario.path, 0, 0, "events"},
                       "lead times too long: the in-transit pipeline would exceed 2^32 slots");
  }
  ring_dev.assign(total, 0.0);
  ring_cnt.assign(total, 0);
  // Initial pipeline: one shipment of Z0 from each of the l days before day 0, arriving on
  // days 0 .. l-1.
  for (Lane l = 0; l < (unit_lead ? 0 : m); ++l)
    for (int d = 0; d < lead[l]; ++d) ring_cnt[ring_off[l] + d % ring_len[l]] = 1;
  if (unit_lead) {
    list_one_lane_slots();
  } else {
    transit_cnt = lead;
    transit_nz.assign(m, 0);
    ring_pos.assign(m, 0);
  }
}

bool Simulation::Impl::links_can_be_added() const {
  return scenario.model.substitution.enabled ||
         std::any_of(scenario.policies.begin(), scenario.policies.end(), [](const Policy& p) {
           return p.type == PolicyType::kCrisisResponse && p.match_suppliers;
         });
}

/// one_slot and multi_slot (engine.hpp) where some slot holds a single lane; left empty where
/// none does, so that worlds without such slots keep the loops over each firm's slots, and
/// where links can be added during the run (the engine's general loops then run, which read
/// no list).
void Simulation::Impl::list_one_lane_slots() {
  if (links_can_be_added()) return;
  const detail::Network& nt = net;
  auto lanes = [&](Slot s) { return nt.slot_lane_begin[s + 1] - nt.slot_lane_begin[s]; };
  std::size_t ones = 0;
  for (Slot s = 0; s < nt.num_slots(); ++s) ones += lanes(s) == 1;
  if (ones == 0) return;
  one_begin.assign(nt.num_firms + 1, 0);
  multi_begin.assign(nt.num_firms + 1, 0);
  one_slot.reserve(ones);
  multi_slot.reserve(nt.num_slots() - ones);
  for (FirmId i = 0; i < nt.num_firms; ++i) {
    one_begin[i] = std::uint32_t(one_slot.size());
    multi_begin[i] = std::uint32_t(multi_slot.size());
    for (Slot s = nt.slot_begin[i]; s < nt.slot_begin[i + 1]; ++s)
      (lanes(s) == 1 ? one_slot : multi_slot).push_back(s);
  }
  one_begin[nt.num_firms] = std::uint32_t(one_slot.size());
  multi_begin[nt.num_firms] = std::uint32_t(multi_slot.size());
  rationing_bits.assign((nt.num_firms + 63) / 64, 0);
}

int Simulation::Impl::default_threads(const World& w) {
  const auto hw = std::max(1u, std::thread::hardware_concurrency());
  return int(std::min<std::size_t>(hw, 1 + w.num_links() / 100000));
}

FirmSet Simulation::Impl::resolve_firms(const Event& ev) const {
  FirmSet fs;
  if (ev.type != EventType::kCapacityLoss && ev.type != EventType::kDemandShock) return fs;
  if (!ev.firm_losses.empty()) {
    for (const auto& [id, loss] : ev.firm_losses) {
      auto f = world.find_firm(id);
      if (!f) throw InputError(ev.where, "unknown firm '" + id + "' in firms_csv");
      fs.firms.push_back(*f);
      fs.losses.push_back(loss);
    }
    return fs;
  }
  const Selector& sel = ev.firms;
  auto cmask = country_mask(world, sel.countries, true);
  auto exc = country_mask(world, sel.except_countries, false);
  auto mmask = material_mask(world, sel.materials, true);
  auto mexc = material_mask(world, sel.except_materials, false);
  if (!sel.firms.empty()) {
    for (const auto& id : sel.firms) {
      auto f = world.find_firm(id);
      if (!f) throw InputError(ev.where, "unknown firm '" + id + "' in 'firms'");
      if (firm_selected(sel, cmask, exc, mmask, mexc, *f)) fs.firms.push_back(*f);
    }
  } else {
    for (FirmId i = 0; i < world.num_firms(); ++i)
      if (firm_selected(sel, cmask, exc, mmask, mexc, i)) fs.firms.push_back(i);
  }
  return fs;
}

}  // namespace shortfall
