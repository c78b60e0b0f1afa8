// The warnings of `shortfall validate` and `shortfall run` about settings that will do nothing
// (docs/commands.md): events that select or reach nothing, policies that can never trigger or
// act, model keys that nothing uses. The rules follow the engine: sim/engine/engine.hpp
// (selections, controls, inventory targets, capacity) and sim/policies/policies.cpp (triggers,
// stockpiles, random draws).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>

#include "input/describe_common.hpp"
#include "shortfall/describe.hpp"
#include "util/text.hpp"
#include "util/yaml_util.hpp"

namespace shortfall {

using namespace describing;

namespace {

/// Does some crisis mechanism with release_stockpiles cover the stockpile `p`?
bool opened_by_mechanism(const World& w, const Scenario& s, const Policy& p) {
  const auto c = w.find_country(p.country);
  if (!c) return false;
  for (const auto& q : s.policies) {
    if (q.type != PolicyType::kCrisisResponse || !q.release_stockpiles) continue;
    if (!country_mask(w, q.members, false)[*c]) continue;
    if (q.materials.empty() ||
        std::find(q.materials.begin(), q.materials.end(), p.material) != q.materials.end() ||
        std::find(q.materials.begin(), q.materials.end(), "all") != q.materials.end())
      return true;
  }
  return false;
}

/// Collects warnings, each "file:line:column: what" (just "what" without a location).
struct Warnings {
  std::vector<std::string> out;
  void operator()(const SourceLocation& where, const std::string& what) {
    const std::string at = where.str();
    out.push_back(at.empty() ? what : at + ": " + what);
  }
};

/// Events that select no firm or reach no link, or change nothing where they do.
void event_warnings(const Scenario& s, const World& w, Warnings& warn) {
  const bool fdc = s.model.final_demand_controls;
  for (const auto& ev : s.events) {
    if (ev.start >= s.days) continue;  // check_scenario says so
    switch (ev.type) {
      case EventType::kCapacityLoss: {
        const auto f = selected_firms(w, ev);
        bool any_loss = ev.firm_losses.empty() ? ev.loss > 0.0 : false;
        for (const auto& [id, loss] : ev.firm_losses) any_loss = any_loss || loss > 0.0;
        if (f.empty())
          warn(ev.where, "capacity loss selects no firm of the world: it changes nothing (" +
                             ev.description + ")");
        else if (!any_loss)
          warn(ev.where, "capacity loss of 0: it changes nothing (" + ev.description + ")");
        break;
      }
      case EventType::kDemandShock: {
        std::size_t n = 0, fd = 0;
        for (FirmId i : selected_firms(w, ev)) ++n, fd += w.final_demand()[i] > 0.0;
        if (n == 0)
          warn(ev.where, "demand shock selects no firm of the world: it changes nothing (" +
                             ev.description + ")");
        else if (fd == 0)
          warn(ev.where, "demand shock selects " + plural(n, "firm", "firms") +
                             ", none of which sells to final users: it changes nothing (" +
                             ev.description + ")");
        else if (ev.factor == 1.0)
          warn(ev.where, "demand shock with factor 1: it changes nothing (" + ev.description + ")");
        break;
      }
      case EventType::kTradeCut: {
        const auto [links, finals] = reach(w, ev, fdc);
        if (links == 0 && finals == 0)
          warn(ev.where, "trade cut matches no link" +
                             std::string(fdc ? " and no final-demand export" : "") +
                             " between the two sides: it changes nothing (" + ev.description + ")");
        break;
      }
      case EventType::kTransportDisruption: {
        const auto [links, finals] = reach(w, ev, fdc);
        (void)finals;
        if (links == 0)
          warn(ev.where,
               "transport disruption matches no link between the two sides: it "
               "changes nothing (" +
                   ev.description + ")");
        else if (ev.extra_days == 0)
          warn(ev.where,
               "transport disruption of 0 extra days: it changes nothing (" + ev.description + ")");
        break;
      }
      case EventType::kExportControl:
        break;  // check_scenario warns about a control that matches no link
      case EventType::kFrontLoading:
        if (front_loading_pairs(w, ev) == 0)
          warn(ev.where, "front-loading: no buyer in " + join(ev.targets) + " uses " +
                             join(ev.materials) + ": it changes nothing (" + ev.description + ")");
        else if (ev.stock_days == 0.0)
          warn(ev.where,
               "front-loading of 0 extra days: it changes nothing (" + ev.description + ")");
        break;
    }
  }
}

/// Policies that can never trigger or act, stockpiles that never open.
void policy_warnings(const Scenario& s, const World& w, Warnings& warn) {
  const std::size_t nm = w.materials().size();
  const auto use = country_material_use(w);
  for (const auto& p : s.policies) {
    switch (p.type) {
      case PolicyType::kCrisisResponse: {
        const auto members = country_mask(w, p.members, false);
        const auto mats = material_mask(w, p.materials, true);
        bool used = false;
        for (CountryId c = 0; c < w.countries().size() && !used; ++c)
          for (MaterialId m = 0; m < nm && !used; ++m)
            used = members[c] && mats[m] && use[c * nm + m] > 0.0;
        const int earliest = p.trigger_days - 1 + p.meeting_days + p.implementation_days;
        if (!used)
          warn(p.where, p.name + " can never trigger: no member (" + join(p.members) + ") uses " +
                            materials_text(p.materials) + " as an input");
        else if (p.trigger_days > s.days)
          warn(p.where, p.name + " can never trigger: its trigger needs " +
                            plural(std::size_t(p.trigger_days), "day", "days") + ", the run has " +
                            std::to_string(s.days));
        else if (earliest > s.days - 1)
          warn(p.where, p.name + ": its measures take effect on day " + std::to_string(earliest) +
                            " at the earliest (trigger days - 1 + meeting_days + "
                            "implementation_days), after the last simulated day " +
                            std::to_string(s.days - 1) + ": it changes nothing");
        else if (!p.match_suppliers && !p.surge && !p.release_stockpiles)
          warn(p.where, p.name +
                            " has no actions: its requests and meetings are logged, "
                            "nothing else changes");
        if (used && p.release_stockpiles) {
          bool any = false;
          for (const auto& q : s.policies) {
            if (q.type != PolicyType::kStockpile) continue;
            const auto c = w.find_country(q.country);
            const auto m = w.find_material(q.material);
            any = any || (c && m && members[*c] && mats[*m]);
          }
          if (!any)
            warn(p.where, p.name +
                              ": release_stockpiles has no stockpile to open (no stockpile "
                              "policy of a member for " +
                              materials_text(p.materials) + ")");
        }
        break;
      }
      case PolicyType::kStockpile: {
        const auto c = w.find_country(p.country);
        const auto m = w.find_material(p.material);
        if (!c || !m) break;  // check_scenario raises the error
        const double u = use[*c * nm + *m];
        if (!(u > 0.0))
          warn(p.where, p.name + ": no firm in " + p.country + " uses " + p.material +
                            " as an input, so the stockpile has no one to release to: it "
                            "changes nothing");
        else if ((p.quantity && *p.quantity == 0.0) || (p.days_of_use && *p.days_of_use == 0.0))
          warn(p.where, p.name + ": the stockpile is empty: it changes nothing");
        else if (!p.has_release_rule() && !opened_by_mechanism(w, s, p))
          warn(p.where, p.name +
                            ": never opens: it has no release rule of its own and no "
                            "crisis_response with release_stockpiles covers " +
                            p.country + " " + p.material);
        else if (!p.release_shortage_ratio && !p.release_cover_days && p.release_start &&
                 *p.release_start >= s.days && !opened_by_mechanism(w, s, p))
          warn(p.where, p.name + ": opens on day " + std::to_string(*p.release_start) +
                            ", after the last simulated day " + std::to_string(s.days - 1));
        break;
      }
      case PolicyType::kSurge: {
        const auto cm = country_mask(w, p.countries, false);
        const auto mm = material_mask(w, p.materials, false);
        std::size_t n = 0;
        for (FirmId i = 0; i < w.num_firms(); ++i)
          n += cm[w.firm_country()[i]] && mm[w.firm_material()[i]];
        if (n == 0)
          warn(p.where, p.name + ": no firm of " + join(p.countries) + " makes " +
                            join(p.materials) + ": the surge changes nothing");
        else if (p.start >= s.days)
          warn(p.where, p.name + ": starts on day " + std::to_string(p.start) +
                            ", after the last simulated day " + std::to_string(s.days - 1));
        break;
      }
    }
  }
}

/// Model keys written in the scenario that nothing uses.
void model_key_warnings(const Scenario& s, const World& w, Warnings& warn) {
  if (auto root = scenario_yaml(s)) {
    if (auto model = root->get("model"); model && model->is_map()) {
      const WorldFacts f = world_facts(w);
      if (auto k = model->get("inventory_days"); k && f.inputs > 0 && f.inputs_on_default == 0)
        warn(k->where(), num(s.model.inventory_days) + " is used by no firm: each of the world's " +
                             std::to_string(f.inputs) +
                             " firm inputs takes its inventory target from the firm's or the "
                             "material's inventory_days in the world");
      if (auto k = model->get("utilisation");
          k && !s.model.is_preset() && f.materials_made > 0 && f.made_on_default == 0)
        warn(k->where(), num(s.model.utilisation) + " is used by no material: each of the " +
                             std::to_string(f.materials_made) +
                             " materials made sets its own utilisation in the world");
      if (auto k = model->get("tau_alpha"); k && !overproduction(s))
        warn(k->where(),
             "unused: no overproduction (alpha_max 1 and no "
             "surge policy)");
      if (auto k = model->get("priority"); k && s.model.rationing != Rationing::kPriority)
        warn(k->where(), std::string("unused: rationing is ") + rationing_name(s.model.rationing) +
                             ", not priority");
      if (auto k = model->get("final_demand_controls"); k && !has_controls(s))
        warn(k->where(), "unused: no export control or trade cut");
      if (auto k = model->get("byproduct"); k && f.byproduct_materials == 0)
        warn(k->where(), "unused: the world marks no material byproduct");
      if (auto k = model->get("inventory_spread"); k && f.spread_materials == 0)
        warn(k->where(), "unused: the world gives no material an inventory_days_range");
      if (auto k = model->get("distinct_parts"); k && f.distinct_materials == 0)
        warn(k->where(), "unused: the world marks no material distinct_parts");
      else if (k && matching(s))
        warn(k->where(),
             "unused: substitution or a crisis_response that matches suppliers pools every "
             "material (docs/model.md 3.5)");
      if (auto sub = model->get("substitution");
          sub && sub->is_map() && !s.model.substitution.enabled) {
        bool match = matching(s);
        for (const char* key : {"threshold", "home_bias", "group_bias", "search_days"})
          if (auto k = sub->get(key); k && !(match && std::string(key) != "search_days"))
            warn(k->where(), std::string("unused: substitution is off") +
                                 (match ? "" : " and no crisis_response matches suppliers"));
      }
    }
  }
}

}  // namespace

std::vector<std::string> scenario_noop_warnings(const Scenario& s, const World& w) {
  Warnings warn;
  event_warnings(s, w, warn);
  policy_warnings(s, w, warn);
  model_key_warnings(s, w, warn);
  return std::move(warn.out);
}

}  // namespace shortfall
