// Step 3.1 (docs/model.md): the scenario's events that start or end today, final demand after
// export-control caps (section 4) and the caps on links.
#include "engine/engine.hpp"

namespace shortfall {

void Simulation::Impl::apply_events(int t) {
  expect_phase(Phase::kEvents);
  bool controls_changed = false, demand_changed = false, transport_changed = false,
       targets_changed = false;
  for (std::size_t k = 0; k < scenario.events.size(); ++k) {
    const Event& ev = scenario.events[k];
    const bool starts = ev.start == t, ends = ev.end && *ev.end == t;
    if (!starts && !ends) continue;
    EventRecord rec;
    rec.day = t;
    rec.type = std::string(ends ? "end:" : "") + event_type_name(ev.type);
    rec.description = ev.description;
    switch (ev.type) {
      case EventType::kCapacityLoss: {
        const FirmSet& fs = event_firms[k];
        rec.country = join(ev.firms.countries);
        rec.material = join(ev.firms.materials);
        rec.firms = std::int64_t(fs.firms.size());
        rec.quantity = ev.loss;
        if (starts) {
          for (std::size_t q = 0; q < fs.firms.size(); ++q) {
            FirmId i = fs.firms[q];
            double loss = fs.losses.empty() ? ev.loss : fs.losses[q];
            // Losses compound: two 50% losses leave 25% of capacity.
            delta[i] = 1.0 - (1.0 - delta[i]) * (1.0 - loss);
            delta0[i] = delta[i];
            recovery_type[i] = std::uint8_t(ev.recovery.type);
            recovery_rate[i] = ev.recovery.type == RecoveryType::kExponential
                                   ? std::exp2(-1.0 / ev.recovery.days)
                                   : ev.recovery.days;
          }
        }
        if (ends && ev.recovery.type == RecoveryType::kStep)
          for (FirmId i : fs.firms) delta[i] = 0.0;
        break;
      }
      case EventType::kDemandShock:
        rec.country = join(ev.firms.countries);
        rec.material = join(ev.firms.materials);
        rec.firms = std::int64_t(event_firms[k].firms.size());
        rec.quantity = ev.factor;
        demand_changed = true;
        break;
      case EventType::kExportControl:
        rec.country = join(ev.exporters);
        rec.material = join(ev.materials);
        rec.quantity = ev.license_share;
        controls_changed = true;
        break;
      case EventType::kTradeCut:
        rec.country = join(ev.side_a) + "|" + join(ev.side_b);
        rec.material = "all";
        controls_changed = true;
        break;
      case EventType::kTransportDisruption:
        rec.country = join(ev.side_a) + "|" + join(ev.side_b);
        rec.quantity = ev.extra_days;
        transport_changed = true;
        break;
      case EventType::kFrontLoading:
        rec.country = join(ev.targets);
        rec.material = join(ev.materials);
        rec.quantity = ev.stock_days;
        targets_changed = true;
        break;
    }
    log.push_back(std::move(rec));
  }
  if (demand_changed) {
    std::fill(demand_factor.begin(), demand_factor.end(), 1.0);
    for (std::size_t k = 0; k < scenario.events.size(); ++k) {
      const Event& ev = scenario.events[k];
      if (ev.type == EventType::kDemandShock && active(ev, t))
        for (FirmId i : event_firms[k].firms) demand_factor[i] *= ev.factor;
    }
  }
  if (controls_changed) recompute_controls(t);
  if (targets_changed) recompute_stock_targets(t);
  if (demand_changed || (controls_changed && !fd_share.empty())) recompute_final_demand();
  if (transport_changed) {
    lead = base_lead;
    for (const Event& ev : scenario.events)
      if (ev.type == EventType::kTransportDisruption && active(ev, t))
        for (Lane l = 0; l < Lane(z0.size()); ++l)
          if (between_match(ev, l)) lead[l] += ev.extra_days;
  }
}

void Simulation::Impl::recompute_stock_targets(int t) {
  slot_n = slot_n_base;
  for (const Event& ev : scenario.events) {
    if (ev.type != EventType::kFrontLoading || !active(ev, t)) continue;
    const FrontLoadingReach reach(world, ev);
    for (Slot s = 0; s < net.num_slots(); ++s)
      if (reach.applies(world.firm_country()[net.slot_firm[s]], net.slot_material[s]))
        slot_n[s] += ev.stock_days;
  }
}

void Simulation::Impl::recompute_final_demand() {
  const auto& begin = world.final_dest_begin();
  const auto& amount = world.final_dest_amount();
  for (FirmId i = 0; i < world.num_firms(); ++i) {
    const double f = demand_factor[i];
    double claim = world.final_demand()[i] * f;
    for (std::uint32_t k = begin[i]; k < begin[i + 1]; ++k) {
      const double want = amount[k] * f;
      double capped = want;
      if (!fd_share.empty() && !std::isinf(fd_share[k])) {
        capped = std::min(want, fd_share[k] * amount[k]);
        claim -= want - capped;
      }
      if (!fd_capped.empty()) fd_capped[k] = capped;
    }
    C[i] = std::max(0.0, claim);
    C_want[i] = world.final_demand()[i] * f;
  }
}

void Simulation::Impl::recompute_controls(int t) {
  std::fill(cap_share.begin(), cap_share.end(), std::numeric_limits<double>::infinity());
  std::fill(fd_share.begin(), fd_share.end(), std::numeric_limits<double>::infinity());
  for (std::size_t k = 0; k < scenario.events.size(); ++k) {
    const Event& ev = scenario.events[k];
    if (!active(ev, t)) continue;
    std::int64_t matched = 0;
    if (ev.type == EventType::kTradeCut) {
      for (Lane l = 0; l < Lane(z0.size()); ++l)
        if (between_match(ev, l)) cap_share[l] = 0.0, ++matched;
      for (FirmId j = 0; j < FirmId(world.num_firms()) && !fd_share.empty(); ++j)
        for (std::uint32_t k = world.final_dest_begin()[j]; k < world.final_dest_begin()[j + 1];
             ++k)
          if (between_countries(ev, world.firm_country()[j], world.final_dest_country()[k]))
            fd_share[k] = 0.0;
    } else if (ev.type == EventType::kExportControl) {
      const ExportControlReach& reach = control_reach[k];
      for (Lane l = 0; l < Lane(z0.size()); ++l) {
        FirmId j = sup(l), i = buy(l);
        if (reach.applies(world.firm_country()[j], world.firm_material()[j],
                          world.firm_country()[i])) {
          cap_share[l] = std::min(cap_share[l], ev.license_share);
          ++matched;
        }
      }
      // Model 4: exports to final users in the targets, with final_demand_controls.
      for (FirmId j = 0; j < FirmId(world.num_firms()) && !fd_share.empty(); ++j) {
        const CountryId cj = world.firm_country()[j];
        const MaterialId pj = world.firm_material()[j];
        for (std::uint32_t k = world.final_dest_begin()[j]; k < world.final_dest_begin()[j + 1];
             ++k)
          if (reach.applies(cj, pj, world.final_dest_country()[k]))
            fd_share[k] = std::min(fd_share[k], ev.license_share);
      }
    } else {
      continue;
    }
    if (ev.start == t && !log.empty()) {
      for (auto it = log.rbegin(); it != log.rend() && it->day == t; ++it)
        if (it->description == ev.description && it->firms == 0) it->firms = matched;
    }
  }
}

}  // namespace shortfall
