// Numbers and lists in words, wrapped lines, and facts about a world that scenarios refer to,
// shared by `shortfall info` and `shortfall validate` (input/describe_common.hpp).
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

namespace shortfall::describing {

std::string percent(double share) {
  if (share > 0.0 && share < 0.0005) return "<0.1%";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", 100.0 * share);
  return b;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  return util::join(v, sep);
}

std::size_t count(const std::vector<bool>& v) {
  return std::size_t(std::count(v.begin(), v.end(), true));
}

std::vector<std::string> wrap(const std::vector<std::string>& atoms, const std::string& glue,
                              std::size_t width) {
  std::vector<std::string> lines;
  std::string line;
  for (std::size_t k = 0; k < atoms.size(); ++k) {
    const std::string piece = atoms[k] + (k + 1 < atoms.size() ? glue : "");
    if (!line.empty() && line.size() + 1 + piece.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + piece;
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

void print_wrapped(std::ostream& os, const std::string& label,
                   const std::vector<std::string>& atoms, const std::string& glue,
                   std::size_t width, std::size_t indent) {
  const auto lines = wrap(atoms, glue, width > indent + 20 ? width - indent : 20);
  std::string pad = label;
  pad.resize(std::max(indent, label.size() + 1), ' ');
  for (std::size_t k = 0; k < lines.size(); ++k)
    os << (k ? std::string(indent, ' ') : pad) << lines[k] << "\n";
}

std::vector<double> country_material_use(const World& w) {
  const std::size_t nm = w.materials().size();
  std::vector<double> use(w.countries().size() * nm, 0.0);
  for (LinkId l = 0; l < w.num_links(); ++l)
    use[w.firm_country()[w.link_buyer()[l]] * nm + w.firm_material()[w.link_supplier()[l]]] +=
        w.link_flow()[l];
  return use;
}

std::size_t front_loading_pairs(const World& w, const Event& ev) {
  const std::size_t nm = w.materials().size();
  const auto use = country_material_use(w);
  const FrontLoadingReach reach(w, ev);
  std::size_t n = 0;
  for (CountryId c = 0; c < w.countries().size(); ++c)
    for (MaterialId p = 0; p < nm; ++p) n += reach.applies(c, p) && use[c * nm + p] > 0.0;
  return n;
}

/// Firms picked by an event's selector (sim/engine/engine.hpp resolve_firms).
std::vector<FirmId> selected_firms(const World& w, const Event& ev) {
  std::vector<FirmId> out;
  if (!ev.firm_losses.empty()) {
    for (const auto& [id, loss] : ev.firm_losses)
      if (auto f = w.find_firm(id)) out.push_back(*f);
    return out;
  }
  const Selector& sel = ev.firms;
  const auto cm = country_mask(w, sel.countries, true),
             ex = country_mask(w, sel.except_countries, false);
  const auto mm = material_mask(w, sel.materials, true),
             mx = material_mask(w, sel.except_materials, false);
  auto ok = [&](FirmId i) {
    return cm[w.firm_country()[i]] && !ex[w.firm_country()[i]] && mm[w.firm_material()[i]] &&
           !mx[w.firm_material()[i]];
  };
  if (!sel.firms.empty()) {
    for (const auto& id : sel.firms)
      if (auto f = w.find_firm(id); f && ok(*f)) out.push_back(*f);
  } else {
    for (FirmId i = 0; i < w.num_firms(); ++i)
      if (ok(i)) out.push_back(i);
  }
  return out;
}

/// Links and final-demand destinations an export control, trade cut or transport disruption
/// reaches (sim/engine/engine.hpp recompute_controls: only across borders).
std::pair<std::size_t, std::size_t> reach(const World& w, const Event& ev, bool final_controls) {
  std::size_t links = 0, finals = 0;
  if (ev.type == EventType::kExportControl) {
    const ExportControlReach control(w, ev);
    for (LinkId l = 0; l < w.num_links(); ++l) {
      const FirmId j = w.link_supplier()[l];
      links += control.applies(w.firm_country()[j], w.firm_material()[j],
                               w.firm_country()[w.link_buyer()[l]]);
    }
    if (final_controls)
      for (FirmId j = 0; j < w.num_firms(); ++j)
        for (auto k = w.final_dest_begin()[j]; k < w.final_dest_begin()[j + 1]; ++k)
          finals +=
              control.applies(w.firm_country()[j], w.firm_material()[j], w.final_dest_country()[k]);
  } else if (ev.type == EventType::kTradeCut || ev.type == EventType::kTransportDisruption) {
    const auto a = country_mask(w, ev.side_a, false), b = country_mask(w, ev.side_b, false);
    auto between = [&](CountryId x, CountryId y) {
      return x != y && ((a[x] && b[y]) || (b[x] && a[y]));
    };
    for (LinkId l = 0; l < w.num_links(); ++l)
      links += between(w.firm_country()[w.link_supplier()[l]], w.firm_country()[w.link_buyer()[l]]);
    if (ev.type == EventType::kTradeCut && final_controls)
      for (FirmId j = 0; j < w.num_firms(); ++j)
        for (auto k = w.final_dest_begin()[j]; k < w.final_dest_begin()[j + 1]; ++k)
          finals += between(w.firm_country()[j], w.final_dest_country()[k]);
  }
  return {links, finals};
}

bool has_controls(const Scenario& s) {
  for (const auto& ev : s.events)
    if (ev.type == EventType::kExportControl || ev.type == EventType::kTradeCut) return true;
  return false;
}

bool overproduction(const Scenario& s) {
  if (s.model.alpha_max > 1.0) return true;
  for (const auto& p : s.policies)
    if (p.type == PolicyType::kSurge || (p.type == PolicyType::kCrisisResponse && p.surge))
      return true;
  return false;
}

bool matching(const Scenario& s) {
  if (s.model.substitution.enabled) return true;
  for (const auto& p : s.policies)
    if (p.type == PolicyType::kCrisisResponse && p.match_suppliers) return true;
  return false;
}

const char* rationing_name(Rationing r) {
  switch (r) {
    case Rationing::kProportional:
      return "proportional";
    case Rationing::kFinalDemandLast:
      return "final_demand_last";
    case Rationing::kWaterfill:
      return "waterfill";
    case Rationing::kPriority:
      return "priority";
  }
  return "?";
}

std::string materials_text(const std::vector<std::string>& m) {
  return m.empty() ? std::string("all materials") : join(m);
}

std::optional<detail::YNode> scenario_yaml(const Scenario& s) {
  if (s.text.empty()) return std::nullopt;
  try {
    return detail::parse_yaml(s.text, s.path);
  } catch (const InputError&) {
    return std::nullopt;
  }
}

}  // namespace shortfall::describing
