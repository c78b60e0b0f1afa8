// Policies and adaptive behaviour (docs/model.md sections 6-9): overproduction ceilings and surges,
// new suppliers, crisis-response mechanisms and stockpiles. Everything here runs serially at
// the start or the end of a day (policy_day_start / policy_day_end), in a fixed order over
// firms and slots, so new links and releases are the same for any number of threads. Random
// tie-breaks are keyed on (seed, buyer, material, day, candidate), never on scheduling.
#include "engine/engine.hpp"
#include "util/random.hpp"

namespace shortfall {

namespace {

/// A draw from the scenario seed for one (buyer, material, day, candidate).
std::uint64_t keyed_draw(std::uint64_t seed, FirmId buyer, MaterialId material, int day,
                         FirmId candidate) {
  std::uint64_t h = detail::mix64(seed);
  h = detail::mix64(h ^ buyer);
  h = detail::mix64(h ^ (std::uint64_t(material) << 32 | std::uint32_t(day)));
  return detail::mix64(h ^ candidate);
}

}  // namespace

void Simulation::Impl::init_policies() {
  const std::size_t n = world.num_firms(), nc = world.countries().size(),
                    nm = world.materials().size();
  alpha_max.assign(n, scenario.model.alpha_max);
  overproduction = scenario.model.alpha_max > 1.0;
  const bool matching = links_can_be_added();
  bool surges = false;
  for (const auto& p : scenario.policies) {
    if (p.type == PolicyType::kSurge) surges = true;
    if (p.type == PolicyType::kCrisisResponse && p.surge) overproduction = true;
  }
  overproduction = overproduction || surges;

  // Baseline daily use of each material in each country, sum A_ip over its firms (model 10):
  // the denominator of shortage ratios (model 8, 9) and of a stockpile's days_of_use.
  cm_use.assign(nc * nm, 0.0);
  for (Slot s = 0; s < net.num_slots(); ++s)
    cm_use[world.firm_country()[net.slot_firm[s]] * nm + net.slot_material[s]] += slot_A[s];
  cm_ratio.assign(nc * nm, 0.0);
  cm_cover.assign(nc * nm, kNaN);

  if (matching) {
    x_inp.assign(n, std::numeric_limits<double>::infinity());  // spare capacity (model 7)
    slot_extra.resize(net.num_slots());
    out_extra.resize(n);
    producers.assign(nm, {});
    for (FirmId i = 0; i < n; ++i) producers[world.firm_material()[i]].push_back(i);
  }
  if (scenario.model.substitution.enabled) low_days.assign(net.num_slots(), 0);

  for (std::size_t k = 0; k < scenario.policies.size(); ++k) {
    const Policy& p = scenario.policies[k];
    if (p.type == PolicyType::kStockpile) {
      StockpileState st;
      st.policy = k;
      st.country = *world.find_country(p.country);
      st.material = *world.find_material(p.material);
      st.initial =
          p.quantity ? *p.quantity : *p.days_of_use * cm_use[st.country * nm + st.material];
      st.level = st.initial;
      st.rate = p.max_daily_share * st.initial;
      stockpiles.push_back(st);
    } else if (p.type == PolicyType::kCrisisResponse) {
      MechanismState m;
      m.policy = k;
      m.member.assign(nc, false);
      for (CountryId c = 0; c < nc; ++c) m.member[c] = world.country_in(c, p.members);
      m.above_days.assign(nc * nm, 0);
      m.request_day.assign(nc * nm, -1);
      m.meeting_day.assign(nc * nm, -1);
      m.implementation_day.assign(nc * nm, -1);
      mechanisms.push_back(std::move(m));
    }
  }
  policies_on =
      scenario.model.substitution.enabled || surges || !stockpiles.empty() || !mechanisms.empty();
}

// Ceilings: the model's alpha_max, raised by active surge policies and implemented crisis
// surges for the firms they name.
void Simulation::Impl::policy_day_start(int t) {
  bool changed = false;
  for (const auto& p : scenario.policies)
    if (p.type == PolicyType::kSurge && (p.start == t || (p.end && *p.end == t))) changed = true;
  if (!changed) return;
  recompute_alpha_max(t);
  for (const auto& p : scenario.policies) {
    if (p.type != PolicyType::kSurge) continue;
    if (p.start == t || (p.end && *p.end == t)) {
      EventRecord rec;
      rec.day = t;
      rec.type = p.start == t ? "surge" : "end:surge";
      rec.description = p.name + ": capacity ceiling alpha_max " + std::to_string(p.alpha_max);
      rec.country = join(p.countries);
      rec.material = join(p.materials);
      rec.quantity = p.alpha_max;
      log.push_back(std::move(rec));
    }
  }
}

void Simulation::Impl::recompute_alpha_max(int t) {
  std::fill(alpha_max.begin(), alpha_max.end(), scenario.model.alpha_max);
  for (const auto& p : scenario.policies) {
    if (p.type != PolicyType::kSurge || t < p.start || (p.end && t >= *p.end)) continue;
    auto mats = material_mask(world, p.materials, false);
    for (FirmId i = 0; i < world.num_firms(); ++i)
      if (mats[world.firm_material()[i]] && world.country_in(world.firm_country()[i], p.countries))
        alpha_max[i] = std::max(alpha_max[i], p.alpha_max);
  }
  for (const auto& cs : crisis_surges)
    for (FirmId i = 0; i < world.num_firms(); ++i)
      if (world.firm_material()[i] == cs.material && cs.member[world.firm_country()[i]])
        alpha_max[i] = std::max(alpha_max[i], cs.alpha_max);
}

double Simulation::Impl::control_share(FirmId supplier, FirmId buyer, int t) const {
  const CountryId a = world.firm_country()[supplier], b = world.firm_country()[buyer];
  double share = std::numeric_limits<double>::infinity();
  if (a == b) return share;
  const MaterialId p = world.firm_material()[supplier];
  for (std::size_t k = 0; k < scenario.events.size(); ++k) {
    const Event& ev = scenario.events[k];
    if (!active(ev, t)) continue;
    if (ev.type == EventType::kTradeCut) {
      if (between_countries(ev, a, b)) share = 0.0;
    } else if (ev.type == EventType::kExportControl) {
      if (control_reach[k].applies(a, p, b)) share = std::min(share, ev.license_share);
    }
  }
  return share;
}

bool Simulation::Impl::blocked(FirmId supplier, FirmId buyer, int t) const {
  return control_share(supplier, buyer, t) == 0.0;
}

// Section 7: buyer i takes on a new supplier k of material p (slot s). The new link's baseline
// flow is min(sigma_k, W), W = sum_j Z0_ji (1 - y_ji / O_ji) the baseline flow the current
// suppliers are failing to deliver; the same amount is taken off their baselines in proportion
// to each one's share of W, so A_ip is unchanged.
void Simulation::Impl::switch_supplier(Slot s, int t, const std::vector<bool>* allowed,
                                       std::vector<double>& spare, const char* why) {
  const FirmId i = net.slot_firm[s];
  const MaterialId p = net.slot_material[s];
  const CountryId ci = world.firm_country()[i];
  double failing = 0.0;
  std::vector<FirmId> linked;
  for_slot_lanes(s, [&](Lane l) {
    linked.push_back(sup(l));
    if (O[l] > 0.0) failing += z0[l] * (1.0 - y[l] / O[l]);
  });
  if (!(failing > 0.0)) return;
  std::sort(linked.begin(), linked.end());
  const auto& sub = scenario.model.substitution;
  FirmId best = 0;
  double best_score = 0.0;
  std::uint64_t best_draw = 0;
  bool found = false;
  for (FirmId k : producers[p]) {
    if (k == i || spare[k] <= 0.0) continue;
    const CountryId ck = world.firm_country()[k];
    if (allowed && !(*allowed)[ck]) continue;
    if (std::binary_search(linked.begin(), linked.end(), k)) continue;
    if (blocked(k, i, t)) continue;
    double bias = 1.0;
    if (ck == ci) {
      bias = sub.home_bias;
    } else if (world.share_group(ck, ci)) {
      bias = std::max(bias, sub.group_bias);
    }
    const double score = spare[k] * bias;
    const std::uint64_t d = keyed_draw(scenario.seed, i, p, t, k);
    if (!found || score > best_score || (score == best_score && d < best_draw)) {
      best = k;
      best_score = score;
      best_draw = d;
      found = true;
    }
  }
  if (!found) return;
  const double amount = std::min(spare[best], failing);
  spare[best] -= amount;

  // Take `amount` off the failing suppliers' baselines; shipments in transit keep their size.
  for_slot_lanes(s, [&](Lane l) {
    if (!(O[l] > 0.0)) return;
    const double share = z0[l] * (1.0 - y[l] / O[l]) / failing;
    const double old_z0 = z0[l];
    const double new_z0 = std::max(0.0, old_z0 - amount * share);
    for (int q = 0; q < (unit_lead ? 0 : ring_len[l]); ++q) {
      const std::uint32_t k = ring_off[l] + std::uint32_t(q);
      pipeline().add_deviation(l, k, double(ring_cnt[k]) * (old_z0 - new_z0));
    }
    z0[l] = new_z0;
    if (!z0_out.empty()) z0_out[out_pos[l]] = new_z0;
    if (!wf_weight.empty()) refresh_weight(sup(l));
  });

  // The new lane: no stock and nothing in transit yet.
  const Lane lane = Lane(z0.size());
  extra_supplier.push_back(best);
  extra_buyer.push_back(i);
  z0.push_back(amount);
  S.push_back(0.0);
  O.push_back(0.0);
  y.push_back(0.0);
  const CountryId ck = world.firm_country()[best];
  int base = world.lead_times().between(ck, ci);
  int now = base, longest = base;
  for (const Event& ev : scenario.events)
    if (ev.type == EventType::kTransportDisruption && between_match(ev, lane)) {
      longest += ev.extra_days;
      if (active(ev, t)) now += ev.extra_days;
    }
  if (transport_events) base_lead.push_back(base);
  if (!lead_all_one) lead.push_back(now);
  PriorityClass cls = ck == ci ? PriorityClass::kDomestic : PriorityClass::kRest;
  if (cls == PriorityClass::kRest && world.share_group(ck, ci)) cls = PriorityClass::kGroup;
  lane_class.push_back(std::uint8_t(cls));
  if (!cap_share.empty()) cap_share.push_back(control_share(best, i, t));
  if (!unit_lead) {
    if (ring_dev.size() + std::size_t(longest) >= std::numeric_limits<std::uint32_t>::max())
      throw std::runtime_error("in-transit pipeline exceeds 2^32 slots");
    ring_off.push_back(std::uint32_t(ring_dev.size()));
    ring_len.push_back(longest);
    ring_dev.resize(ring_dev.size() + std::size_t(longest), 0.0);
    ring_cnt.resize(ring_cnt.size() + std::size_t(longest), 0);
    transit_cnt.push_back(0);
    transit_nz.push_back(0);
    ring_pos.push_back((t + 1) % longest);  // lanes are added at the end of day t
  }
  out_pos.push_back(lane);
  o_out.push_back(0.0);
  if (!z0_out.empty()) z0_out.push_back(amount);
  if (!class_out.empty()) class_out.push_back(lane_class.back());
  slot_extra[s].push_back(lane);
  out_extra[best].push_back(lane);
  if (!wf_weight.empty()) refresh_weight(best);

  EventRecord rec;
  rec.day = t;
  rec.type = why;
  rec.description = world.firm_id()[i] + " (" + world.countries()[ci].code +
                    ") takes on supplier " + world.firm_id()[best] + " (" +
                    world.countries()[ck].code + ") for " + world.materials()[p].id;
  rec.country = world.countries()[ci].code;
  rec.material = world.materials()[p].id;
  rec.firms = 2;
  rec.quantity = amount;
  log.push_back(std::move(rec));
}

void Simulation::Impl::policy_day_end(int t) {
  // The fixed order of docs/model.md section 3: shortage ratios, crisis mechanisms (section 8),
  // stockpile releases (9), new suppliers (7). Crisis matches and new suppliers draw on the same
  // usable spare capacity, taken once today when first needed.
  policy_ratios_today();
  std::vector<double> spare;
  crisis_mechanisms(t, spare);
  release_stockpiles(t);
  new_suppliers(t, spare);
}

/// Today's input shortage ratio and inventory cover per country and material (as recorded in
/// country_material), for the triggers of sections 8 and 9.
void Simulation::Impl::policy_ratios_today() {
  if (mechanisms.empty() && stockpiles.empty()) return;
  const std::size_t nc = world.countries().size(), nm = world.materials().size();
  CountryMaterialDay today;
  country_material<false, true>(today);  // the shortage and the cover alone
  for (std::size_t k = 0; k < nc * nm; ++k) {
    cm_ratio[k] = cm_use[k] > 0.0 ? today.shortage[k] / cm_use[k] : 0.0;
    cm_cover[k] = today.inventory_days[k];
  }
}

/// Usable spare capacity (model 7): sigma_k = max(0, min(x^cap_k, x^inp_k) - x_k), filled into
/// `spare` the first time it is needed today; capacity idle for lack of inputs does not count.
std::vector<double>& Simulation::Impl::usable_spare(std::vector<double>& spare) const {
  if (spare.empty()) {
    spare.resize(world.num_firms());
    for (FirmId k = 0; k < world.num_firms(); ++k)
      spare[k] = std::max(0.0, std::min(cap[k], x_inp[k]) - x[k]);
  }
  return spare;
}

/// What slot s received today of what it ordered (1 where it ordered nothing).
double Simulation::Impl::slot_fill(Slot s) const {
  return slot_ordered[s] > 0.0 ? slot_received[s] / slot_ordered[s] : 1.0;
}

/// Section 8: crisis-response mechanisms. Requests are per (member country, material); the
/// measures of a day are taken once per material, however many members asked for them.
void Simulation::Impl::crisis_mechanisms(int t, std::vector<double>& spare) {
  const std::size_t nc = world.countries().size(), nm = world.materials().size();
  const double theta = scenario.model.substitution.threshold;
  for (auto& m : mechanisms) {
    const Policy& p = scenario.policies[m.policy];
    std::vector<bool> acted(nm, false);
    std::vector<bool> watched = material_mask(world, p.materials, true);
    for (CountryId cc = 0; cc < nc; ++cc) {
      if (!m.member[cc]) continue;
      for (MaterialId mm = 0; mm < nm; ++mm) {
        if (!watched[mm]) continue;
        const std::size_t k = cc * nm + mm;
        // The trigger (section 8): input shortage over baseline use above the ratio, or
        // inventory cover below the days (never where the member does not use the material).
        const bool alarm = p.trigger_cover_days ? cm_cover[k] < *p.trigger_cover_days
                                                : cm_ratio[k] > p.trigger_shortage_ratio;
        m.above_days[k] = alarm ? m.above_days[k] + 1 : 0;
        if (m.request_day[k] < 0 && m.above_days[k] >= p.trigger_days) {
          m.request_day[k] = t;
          m.meeting_day[k] = t + p.meeting_days;
          m.implementation_day[k] = t + p.meeting_days + p.implementation_days;
          const std::string why =
              p.trigger_cover_days
                  ? "inventory cover " + std::to_string(cm_cover[k]) + " days"
                  : "input shortage " + std::to_string(100.0 * cm_ratio[k]) + "% of daily use";
          EventRecord rec{t,
                          "crisis_request",
                          p.name + ": " + world.countries()[cc].code + " requests a meeting on " +
                              world.materials()[mm].id + " (" + why + ")",
                          world.countries()[cc].code,
                          world.materials()[mm].id,
                          0,
                          p.trigger_cover_days ? cm_cover[k] : cm_ratio[k]};
          log.push_back(std::move(rec));
        }
        if (m.meeting_day[k] == t) {
          log.push_back(EventRecord{t, "crisis_meeting",
                                    p.name + ": emergency meeting on " + world.materials()[mm].id +
                                        " requested by " + world.countries()[cc].code,
                                    world.countries()[cc].code, world.materials()[mm].id, 0,
                                    double(p.meeting_days)});
        }
        if (m.implementation_day[k] != t) continue;
        log.push_back(
            EventRecord{t, "crisis_implementation",
                        p.name + ": measures on " + world.materials()[mm].id + " take effect",
                        world.countries()[cc].code, world.materials()[mm].id, 0, 0.0});
        if (acted[mm]) continue;
        acted[mm] = true;
        if (p.surge) {
          crisis_surges.push_back(CrisisSurge{m.member, mm, p.surge_alpha_max});
          recompute_alpha_max(t);
        }
        if (p.release_stockpiles)
          for (auto& st : stockpiles)
            if (st.material == mm && m.member[st.country] && !st.released) {
              st.released = true;
              st.to_target = p.trigger_cover_days.has_value();
            }
        if (p.match_suppliers) {
          auto& sp = usable_spare(spare);
          for (Slot s = 0; s < net.num_slots(); ++s)
            if (net.slot_material[s] == mm && m.member[world.firm_country()[net.slot_firm[s]]] &&
                slot_fill(s) < theta)
              switch_supplier(s, t, &m.member, sp, "crisis_match");
        }
      }
    }
  }
}

/// Section 9: an open stockpile releases min(level, rate, the buyers' total gap to their
/// baseline stock targets n A_ip) a day to the domestic buyers of its material, in proportion
/// to their input shortage today (to their gap where none is short, or where a cover trigger
/// opened it), into their pooled stock (each supplier's stock in proportion to its baseline
/// flow). Nothing is released into full warehouses, and a stockpile with no rule of its own
/// opens only through a crisis mechanism.
void Simulation::Impl::release_stockpiles(int t) {
  const std::size_t nm = world.materials().size();
  for (auto& st : stockpiles) {
    const Policy& p = scenario.policies[st.policy];
    const std::size_t k = st.country * nm + st.material;
    if (!st.released) {
      if (p.release_start && t >= *p.release_start) st.released = true;
      if (p.release_shortage_ratio && cm_ratio[k] > *p.release_shortage_ratio) st.released = true;
      if (p.release_cover_days && cm_cover[k] < *p.release_cover_days)
        st.released = st.to_target = true;
    }
    if (!st.released || st.level <= 0.0) continue;
    std::vector<Slot> users;
    double gap_total = 0.0, short_total = 0.0;
    for (Slot s = 0; s < net.num_slots(); ++s)
      if (net.slot_material[s] == st.material &&
          world.firm_country()[net.slot_firm[s]] == st.country) {
        users.push_back(s);
        gap_total += std::max(0.0, slot_n[s] * slot_A[s] - slot_stock[s]);
        short_total += slot_shortage(s, net.slot_firm[s]);
      }
    if (!(gap_total > 0.0)) continue;
    const bool by_shortage = !st.to_target && short_total > 0.0;
    const double need = by_shortage ? short_total : gap_total;
    auto gap_of = [&](Slot s) {
      return by_shortage ? slot_shortage(s, net.slot_firm[s])
                         : std::max(0.0, slot_n[s] * slot_A[s] - slot_stock[s]);
    };
    const double amount = std::min({st.level, st.rate, gap_total});
    std::int64_t firms = 0;
    for (Slot s : users) {
      const double gap = gap_of(s);
      if (!(gap > 0.0)) continue;
      const double give = amount * gap / need;
      double base = 0.0;
      for_slot_lanes(s, [&](Lane l) { base += z0[l]; });
      for_slot_lanes(s, [&](Lane l) { S[l] += base > 0.0 ? give * z0[l] / base : 0.0; });
      ++firms;
    }
    st.level -= amount;
    log.push_back(EventRecord{
        t, "stockpile_release", p.name + ": released to " + std::to_string(firms) + " buyers",
        world.countries()[st.country].code, world.materials()[st.material].id, firms, amount});
  }
}

/// Section 7: buyers short for T_search consecutive days take on a new supplier.
void Simulation::Impl::new_suppliers(int t, std::vector<double>& spare) {
  const double theta = scenario.model.substitution.threshold;
  if (scenario.model.substitution.enabled) {
    const auto& sub = scenario.model.substitution;
    for (Slot s = 0; s < net.num_slots(); ++s) {
      if (slot_fill(s) >= theta) {
        low_days[s] = 0;
        continue;
      }
      if (low_days[s] < std::numeric_limits<std::uint16_t>::max()) ++low_days[s];
      const double search =
          sub.search_days
              ? *sub.search_days
              : world.materials()[net.slot_material[s]].requalification_days.value_or(30.0);
      if (double(low_days[s]) >= search) {
        switch_supplier(s, t, nullptr, usable_spare(spare), "supplier_switch");
        low_days[s] = 0;
      }
    }
  }
}

}  // namespace shortfall
