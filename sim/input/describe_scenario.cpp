// What a scenario will do, in words: the plan that `shortfall validate` prints
// (docs/commands.md), and the canonical text of the settings that change a run's results.
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

/// Exact text of a double (for effective_settings).
std::string exact(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

const char* class_name(PriorityClass c) {
  switch (c) {
    case PriorityClass::kDomestic:
      return "domestic";
    case PriorityClass::kGroup:
      return "group";
    case PriorityClass::kRest:
      return "rest";
    case PriorityClass::kFinal:
      return "final";
  }
  return "?";
}

std::string span(int start, const std::optional<int>& end) {
  return "day " + std::to_string(start) + (end ? " to " + std::to_string(*end) : " to the end");
}

std::string trigger_text(const Policy& p) {
  return (p.trigger_cover_days
              ? "inventory cover below " + num(*p.trigger_cover_days) + " days"
              : "input shortage above " + percent(p.trigger_shortage_ratio) + " of use") +
         " for " + plural(std::size_t(p.trigger_days), "day", "days");
}

std::string release_text(const Policy& p) {
  std::vector<std::string> r;
  if (p.release_start) r.push_back("from day " + std::to_string(*p.release_start));
  if (p.release_shortage_ratio)
    r.push_back("when input shortage is above " + percent(*p.release_shortage_ratio) + " of use");
  if (p.release_cover_days)
    r.push_back("when inventory cover falls below " + num(*p.release_cover_days) + " days");
  if (r.empty()) return "opened only by a crisis mechanism";
  return "released " + join(r, " or ");
}

/// The events, each with what it selects or reaches in the world.
void print_events(const Scenario& s, const World& w, std::ostream& os) {
  const bool fdc = s.model.final_demand_controls;
  os << "scenario    " << s.name << ": " << s.days << " days, seed " << s.seed << ", "
     << s.events.size() << " events\n";
  for (const auto& ev : s.events) {
    std::string what;
    switch (ev.type) {
      case EventType::kCapacityLoss:
        what = plural(selected_firms(w, ev).size(), "firm", "firms");
        break;
      case EventType::kDemandShock: {
        std::size_t n = 0, fd = 0;
        for (FirmId i : selected_firms(w, ev)) ++n, fd += w.final_demand()[i] > 0.0;
        what = plural(n, "firm", "firms") + ", " + std::to_string(fd) + " with final demand";
        break;
      }
      case EventType::kFrontLoading:
        what = plural(front_loading_pairs(w, ev), "buyer country and input",
                      "buyer countries and inputs");
        break;
      default: {
        const auto [links, finals] = reach(w, ev, fdc);
        what = plural(links, "link", "links");
        if (ev.type != EventType::kTransportDisruption && fdc)
          what += ", " + plural(finals, "final-demand export", "final-demand exports");
      }
    }
    os << "  " << ev.description << " [" << what << "]\n";
  }
  os << "file        " << s.path << " (world: " << s.world_path << ")\n";
}

/// The model in force (docs/model.md section 0): switches, rationing, overproduction,
/// substitution, and whether the world overrides utilisation and inventory_days.
void print_model(const Scenario& s, const WorldFacts& facts, std::ostream& os) {
  const ModelParams& m = s.model;
  const bool fdc = m.final_demand_controls;
  if (m.is_preset())
    os << "model       preset " << m.preset
       << " (the published model of Inoue & Todo 2019; docs/model.md section 0)\n";
  else
    os << "model       version 2 (docs/model.md section 0); in force:\n";
  auto key = [&](const char* k, const std::string& v) {
    std::string label = std::string("  ") + k;
    label.resize(std::max<std::size_t>(25, label.size() + 1), ' ');
    os << label << v << "\n";
  };
  key("orders", m.orders == Orders::kPlanned ? "planned" : "output_based");
  key("destocking", m.destocking ? "true" : "false");
  if (m.is_preset()) {
    key("utilisation", "1 (fixed by the preset; the materials' own are ignored)");
  } else if (facts.materials_made == 0) {
    key("utilisation", num(m.utilisation));
  } else if (facts.made_on_default == 0) {
    key("utilisation", num(m.utilisation) + " (used by no material: each of the " +
                           std::to_string(facts.materials_made) +
                           " materials made sets its own in the world)");
  } else if (facts.made_on_default == facts.materials_made) {
    key("utilisation", num(m.utilisation) + " (for all " + std::to_string(facts.materials_made) +
                           " materials made: none sets its own)");
  } else {
    key("utilisation", num(m.utilisation) + " (for " + std::to_string(facts.made_on_default) +
                           " of " + std::to_string(facts.materials_made) +
                           " materials made; the others set their own)");
  }
  key("final_demand_controls",
      std::string(fdc ? "true" : "false") +
          (has_controls(s) ? "" : " (no export control or trade cut to apply it to)"));
  if (facts.distinct_materials > 0)
    key("distinct_parts",
        std::string(m.distinct_parts ? "true" : "false") + " (" +
            std::to_string(facts.distinct_materials) + " materials marked in the world" +
            (m.distinct_parts && matching(s) ? "; pooled here, as new suppliers can join" : "") +
            ")");
  if (facts.spread_materials > 0)
    key("inventory_spread", std::string(m.inventory_spread ? "true" : "false") + " (" +
                                std::to_string(facts.spread_materials) +
                                (facts.spread_materials == 1 ? " material" : " materials") +
                                " with an inventory_days_range in the world)");
  if (facts.byproduct_materials > 0)
    key("byproduct", std::string(m.byproduct ? "true" : "false") + " (" +
                         std::to_string(facts.byproduct_materials) +
                         (facts.byproduct_materials == 1 ? " material" : " materials") +
                         " marked byproduct in the world)");
  key("tau", num(m.tau) + " days");
  if (facts.inputs == 0)
    key("inventory_days", num(m.inventory_days));
  else if (facts.inputs_on_default == 0)
    key("inventory_days", num(m.inventory_days) + " (used by no firm: each of the " +
                              std::to_string(facts.inputs) +
                              " firm inputs has its target set in the world)");
  else if (facts.inputs_on_default == facts.inputs)
    key("inventory_days", num(m.inventory_days) + " (for all " + std::to_string(facts.inputs) +
                              " firm inputs: the world sets none)");
  else
    key("inventory_days", num(m.inventory_days) + " (for " +
                              std::to_string(facts.inputs_on_default) + " of " +
                              std::to_string(facts.inputs) +
                              " firm inputs; the others' targets are set in the world)");
  std::string rationing = rationing_name(m.rationing);
  if (m.rationing == Rationing::kPriority) {
    std::vector<std::string> order;
    for (auto c : m.priority) order.push_back(class_name(c));
    rationing += " (served in order: " + join(order) + ")";
  }
  key("rationing", rationing);
  if (overproduction(s))
    key("overproduction", "alpha_max " + num(m.alpha_max) + ", tau_alpha " + num(m.tau_alpha) +
                              " days" + (m.alpha_max > 1.0 ? "" : " (raised by surges only)"));
  else
    key("overproduction", "off (alpha_max 1)");
  if (m.substitution.enabled) {
    const auto& sub = m.substitution;
    key("substitution",
        "on: a buyer receiving under " + percent(sub.threshold) + " of its orders for " +
            (sub.search_days ? num(*sub.search_days) + " days"
                             : std::string("its material's requalification_days (30 if unset)")) +
            " takes on a new supplier (home_bias " + num(sub.home_bias) + ", group_bias " +
            num(sub.group_bias) + ")");
  } else {
    key("substitution", "off");
  }
}

/// Lead times (docs/model.md section 5): the world's rules and the range over its links.
void print_lead_times(const Scenario& s, const World& w, std::ostream& os) {
  int lo = 0, hi = 0;
  for (LinkId l = 0; l < w.num_links(); ++l) {
    const int d = w.link_lead_time()[l];
    lo = l ? std::min(lo, d) : d;
    hi = l ? std::max(hi, d) : d;
  }
  std::string t = "domestic " + plural(std::size_t(w.lead_times().domestic), "day", "days") +
                  ", otherwise " + plural(std::size_t(w.lead_times().international), "day", "days");
  if (!w.lead_times().pairs.empty())
    t += " except " + plural(w.lead_times().pairs.size(), "country pair", "country pairs") +
         " set in the world";
  if (w.num_links()) t += "; links " + std::to_string(lo) + " to " + std::to_string(hi) + " days";
  for (const auto& ev : s.events)
    if (ev.type == EventType::kTransportDisruption) {
      t += "; transport disruptions add days (events)";
      break;
    }
  os << "lead times  " << t << "\n";
}

/// One policy in words (docs/model.md sections 6-9); `use`: country_material_use(w).
std::string policy_text(const Policy& p, const World& w, const std::vector<double>& use) {
  const std::size_t nm = w.materials().size();
  std::string t;
  switch (p.type) {
    case PolicyType::kCrisisResponse: {
      std::vector<std::string> actions;
      if (p.match_suppliers) actions.push_back("match suppliers");
      if (p.surge) actions.push_back("surge to alpha_max " + num(p.surge_alpha_max));
      if (p.release_stockpiles) actions.push_back("release the members' stockpiles");
      t = p.name + ": crisis response of " + join(p.members) + " (" +
          plural(count(country_mask(w, p.members, false)), "country", "countries") + ") on " +
          materials_text(p.materials) + "; a member requests a meeting after " + trigger_text(p) +
          "; meeting " + plural(std::size_t(p.meeting_days), "day", "days") + " later, measures " +
          plural(std::size_t(p.implementation_days), "day", "days") +
          " after it: " + (actions.empty() ? std::string("none") : join(actions));
      break;
    }
    case PolicyType::kStockpile: {
      t = p.name + ": " + p.country + " " + p.material + ", ";
      const auto c = w.find_country(p.country);
      const auto mm = w.find_material(p.material);
      if (p.quantity) {
        t += num(*p.quantity) + " units";
      } else if (c && mm) {
        t += num(*p.days_of_use) + " days of use (" + num(*p.days_of_use * use[*c * nm + *mm]) +
             " " + w.materials()[*mm].unit + ")";
      }
      t += ", " + release_text(p) + ", at most " + percent(p.max_daily_share) + " of it a day";
      break;
    }
    case PolicyType::kSurge: {
      std::size_t n = 0;
      const auto cm = country_mask(w, p.countries, false);
      const auto mm = material_mask(w, p.materials, false);
      for (FirmId i = 0; i < w.num_firms(); ++i)
        n += cm[w.firm_country()[i]] && mm[w.firm_material()[i]];
      t = p.name + ": capacity ceiling alpha_max " + num(p.alpha_max) + " for " +
          join(p.countries) + " on " + join(p.materials) + " (" + plural(n, "firm", "firms") +
          "), " + span(p.start, p.end);
      break;
    }
  }
  return t;
}

/// The policies (docs/model.md sections 6-9), each wrapped in lines of 100 characters.
void print_policies(const Scenario& s, const World& w, std::ostream& os) {
  os << "policies    " << (s.policies.empty() ? "none" : std::to_string(s.policies.size())) << "\n";
  const auto use = country_material_use(w);
  for (const auto& p : s.policies) {
    const std::string t = policy_text(p, w, use);
    std::istringstream in(t);
    std::vector<std::string> ws;
    for (std::string x; in >> x;) ws.push_back(x);
    print_wrapped(os, "  -", ws, "", 100, 4);
  }
}

}  // namespace

WorldFacts world_facts(const World& w) {
  WorldFacts f;
  const std::size_t nm = w.materials().size();
  std::vector<std::uint64_t> inputs;
  inputs.reserve(w.num_links());
  for (LinkId l = 0; l < w.num_links(); ++l)
    inputs.push_back(std::uint64_t(w.link_buyer()[l]) * nm +
                     w.firm_material()[w.link_supplier()[l]]);
  std::sort(inputs.begin(), inputs.end());
  inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
  f.inputs = inputs.size();
  for (std::uint64_t k : inputs) {
    const FirmId i = FirmId(k / nm);
    const MaterialId m = MaterialId(k % nm);
    if (std::isnan(w.firm_inventory_days()[i]) && !w.materials()[m].inventory_days)
      ++f.inputs_on_default;
  }
  std::vector<bool> made(nm, false);
  for (FirmId i = 0; i < w.num_firms(); ++i) made[w.firm_material()[i]] = true;
  for (MaterialId m = 0; m < nm; ++m)
    if (made[m]) {
      ++f.materials_made;
      if (!w.materials()[m].utilisation) ++f.made_on_default;
    }
  for (const auto& p : w.materials()) {
    f.distinct_materials += p.distinct_parts;
    f.spread_materials += p.inventory_days_range.has_value();
    f.byproduct_materials += p.byproduct;
  }
  return f;
}

bool uses_seed(const Scenario& s) {
  return matching(s);
}

std::string effective_settings(const Scenario& s, const WorldFacts& facts) {
  std::ostringstream o;
  const ModelParams& m = s.model;
  o << "days " << s.days << "\n";
  if (matching(s)) o << "seed " << s.seed << "\n";
  o << "orders " << int(m.orders) << " destocking " << m.destocking << " tau " << exact(m.tau)
    << " rationing " << int(m.rationing) << "\n";
  // The preset fixes u0 = 1 and ignores the materials' own (sim/engine/engine.hpp).
  if (m.is_preset() || facts.made_on_default > 0)
    o << "utilisation " << exact(m.is_preset() ? 1.0 : m.utilisation) << "\n";
  if (facts.inputs_on_default > 0) o << "inventory_days " << exact(m.inventory_days) << "\n";
  if (has_controls(s)) o << "final_demand_controls " << m.final_demand_controls << "\n";
  // Distinct parts act only on a world that marks some material, and not where new suppliers
  // can join a buyer (sim/engine/setup.cpp).
  if (facts.distinct_materials > 0 && !matching(s))
    o << "distinct_parts " << m.distinct_parts << "\n";
  if (facts.spread_materials > 0) o << "inventory_spread " << m.inventory_spread << "\n";
  if (facts.byproduct_materials > 0) o << "byproduct " << m.byproduct << "\n";
  if (m.rationing == Rationing::kPriority) {
    o << "priority";
    for (auto c : m.priority) o << " " << int(c);
    o << "\n";
  }
  o << "alpha_max " << exact(m.alpha_max) << "\n";
  if (overproduction(s)) o << "tau_alpha " << exact(m.tau_alpha) << "\n";
  if (matching(s)) {
    const auto& sub = m.substitution;
    o << "matching threshold " << exact(sub.threshold) << " home_bias " << exact(sub.home_bias)
      << " group_bias " << exact(sub.group_bias) << "\n";
  }
  if (m.substitution.enabled)
    o << "substitution search_days "
      << (m.substitution.search_days ? exact(*m.substitution.search_days) : "material") << "\n";
  for (const auto& ev : s.events) {
    if (ev.start >= s.days) continue;  // never applies
    o << "event " << int(ev.type) << " " << ev.start << " " << (ev.end ? *ev.end : -1) << " |";
    for (const auto* v : {&ev.firms.firms, &ev.firms.countries, &ev.firms.materials,
                          &ev.firms.except_countries, &ev.firms.except_materials, &ev.exporters,
                          &ev.targets, &ev.except_targets, &ev.materials, &ev.side_a, &ev.side_b})
      o << join(*v, ",") << "|";
    for (const auto& [f, loss] : ev.firm_losses) o << f << "=" << exact(loss) << ",";
    o << "| loss " << exact(ev.loss) << " recovery " << int(ev.recovery.type) << " "
      << exact(ev.recovery.days) << " factor " << exact(ev.factor) << " share "
      << exact(ev.license_share) << " extra " << ev.extra_days << "\n";
  }
  for (const auto& p : s.policies) {
    o << "policy " << int(p.type) << " |" << join(p.members, ",") << "|" << join(p.countries, ",")
      << "|" << join(p.materials, ",") << "|" << p.country << "|" << p.material << "| trigger "
      << exact(p.trigger_shortage_ratio) << " "
      << (p.trigger_cover_days ? exact(*p.trigger_cover_days) : "-") << " " << p.trigger_days
      << " meeting " << p.meeting_days << " " << p.implementation_days << " actions "
      << p.match_suppliers << p.surge << p.release_stockpiles << " " << exact(p.surge_alpha_max)
      << " stock " << (p.days_of_use ? exact(*p.days_of_use) : "-") << " "
      << (p.quantity ? exact(*p.quantity) : "-") << " release "
      << (p.release_shortage_ratio ? exact(*p.release_shortage_ratio) : "-") << " "
      << (p.release_cover_days ? exact(*p.release_cover_days) : "-") << " "
      << (p.release_start ? std::to_string(*p.release_start) : "-") << " "
      << exact(p.max_daily_share) << " surge " << p.start << " " << (p.end ? *p.end : -1) << " "
      << exact(p.alpha_max) << "\n";
  }
  return o.str();
}

void print_scenario_plan(const Scenario& s, const World& w, const std::string& out,
                         std::ostream& os) {
  const WorldFacts facts = world_facts(w);
  print_events(s, w, os);
  print_model(s, facts, os);
  print_lead_times(s, w, os);
  print_policies(s, w, os);

  os << "seed        " << s.seed
     << (uses_seed(s) ? ": breaks ties between candidate suppliers when buyers switch"
                      : " (no random draws: no substitution or supplier matching, so the seed "
                        "changes nothing)")
     << "\n";
  std::size_t recorded = 0;
  for (int t = 0; t < s.days; ++t) recorded += t % s.record.every == 0 || t == s.days - 1;
  os << "record      " << (s.record.firm_level ? "per-firm and " : "")
     << "country x material daily series, every "
     << (s.record.every == 1 ? std::string("day") : std::to_string(s.record.every) + " days")
     << ": " << recorded << " of " << s.days << " days recorded"
     << (s.record.compression == Compression::kNone      ? ", stored uncompressed"
         : s.record.compression == Compression::kDeflate ? ", deflated by the general encoder"
                                                         : "")
     << (s.record.firm_level && s.record.firm_float32 ? ", per-firm values as float32" : "")
     << "\n";
  if (!out.empty()) os << "output      " << out << "\n";
}

}  // namespace shortfall
