// What a world holds and what a scenario will do, in words: `shortfall info` and
// `shortfall validate` (docs/commands.md), and the warnings about settings that will do
// nothing. The rules for "does nothing" follow the engine: sim/engine/engine.hpp (selections, controls,
// inventory targets, capacity) and sim/policies/policies.cpp (triggers, stockpiles, random draws).
#include "util/text.hpp"
#include "shortfall/describe.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>

#include "util/yaml_util.hpp"

namespace shortfall {

namespace {

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

/// Exact text of a double (for effective_settings).
std::string exact(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

std::string percent(double share) {
  if (share > 0.0 && share < 0.0005) return "<0.1%";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", 100.0 * share);
  return b;
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  return util::join(v, sep);
}
using util::plural;

/// Countries named by codes, groups or "all"; an empty list means all where `empty_all`.
std::vector<bool> country_mask(const World& w, const std::vector<std::string>& names,
                               bool empty_all) {
  std::vector<bool> m(w.countries.size(), empty_all && names.empty());
  for (const auto& n : names)
    for (CountryId c : w.resolve_countries(n)) m[c] = true;
  return m;
}

std::vector<bool> material_mask(const World& w, const std::vector<std::string>& names,
                                bool empty_all) {
  std::vector<bool> m(w.materials.size(), empty_all && names.empty());
  for (const auto& n : names)
    for (MaterialId p = 0; p < w.materials.size(); ++p)
      if (n == "all" || n == w.materials[p].id) m[p] = true;
  return m;
}

std::size_t count(const std::vector<bool>& v) {
  return std::size_t(std::count(v.begin(), v.end(), true));
}

// ---- wrapping and tables -------------------------------------------------------------------

/// Lines of at most `width` characters (or one atom, where an atom is longer) made of `atoms`,
/// each but the last followed by `glue` ("," for lists, "" for words), separated by spaces.
/// An atom is never split.
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

/// `label` padded to `indent` columns, then the atoms wrapped with continuation lines indented as
/// far.
void print_wrapped(std::ostream& os, const std::string& label,
                   const std::vector<std::string>& atoms, const std::string& glue,
                   std::size_t width, std::size_t indent = 12) {
  const auto lines = wrap(atoms, glue, width > indent + 20 ? width - indent : 20);
  std::string pad = label;
  pad.resize(std::max(indent, label.size() + 1), ' ');
  for (std::size_t k = 0; k < lines.size(); ++k)
    os << (k ? std::string(indent, ' ') : pad) << lines[k] << "\n";
}

/// A table cell: atoms that may be wrapped between (never inside), as wrap() joins them, after
/// an optional `head` on a line of its own (the wrapped atoms then indented by `indent`).
struct Cell {
  std::vector<std::string> atoms;
  std::string glue;
  std::string head;
  std::size_t indent = 0;
  [[nodiscard]] std::size_t length() const {
    std::size_t n = 0;
    for (std::size_t k = 0; k < atoms.size(); ++k)
      n += atoms[k].size() + (k + 1 < atoms.size() ? glue.size() + 1 : 0);
    return std::max(head.size(), atoms.empty() ? 0 : n + indent);
  }
  [[nodiscard]] std::size_t longest_atom() const {
    std::size_t n = head.size();
    for (std::size_t k = 0; k < atoms.size(); ++k)
      n = std::max(n, indent + atoms[k].size() + (k + 1 < atoms.size() ? glue.size() : 0));
    return n;
  }
  [[nodiscard]] std::vector<std::string> lines(std::size_t width) const {
    if (head.empty()) return wrap(atoms, glue, width);
    std::vector<std::string> out{head};
    if (atoms.empty()) return out;
    for (auto& l : wrap(atoms, glue, width - std::min(width, indent)))
      out.push_back(std::string(indent, ' ') + l);
    return out;
  }
};
Cell one(std::string s) {
  Cell c;
  c.atoms.push_back(std::move(s));
  return c;
}
Cell words(const std::string& s) {
  Cell c;
  std::istringstream in(s);
  for (std::string w; in >> w;) c.atoms.push_back(w);
  if (c.atoms.empty()) c.atoms.push_back("");
  return c;
}
Cell items(std::vector<std::string> v) {
  if (v.empty()) v.push_back("-");
  Cell c;
  c.atoms = std::move(v);
  c.glue = ",";
  return c;
}

struct Column {
  std::string head;
  std::size_t cap = 1000;  ///< wrap cells longer than this (at atom boundaries)
  bool right = false;
};

/// Columns as wide as their content (up to their cap, never narrower than an atom), two spaces
/// apart; cells longer than the column wrap onto continuation lines of the same row.
void print_table(std::ostream& os, const std::vector<Column>& cols,
                 const std::vector<std::vector<Cell>>& rows) {
  std::vector<std::size_t> width(cols.size());
  for (std::size_t c = 0; c < cols.size(); ++c) {
    std::size_t full = cols[c].head.size(), atom = cols[c].head.size();
    for (const auto& r : rows) {
      full = std::max(full, r[c].length());
      atom = std::max(atom, r[c].longest_atom());
    }
    width[c] = std::max(atom, std::min(full, cols[c].cap));
  }
  auto line = [&](const std::vector<std::string>& texts) {
    std::string s = " ";
    for (std::size_t c = 0; c < cols.size(); ++c) {
      const std::string& t = texts[c];
      const std::size_t fill = width[c] - std::min(width[c], t.size());
      s.push_back(' ');
      if (cols[c].right) s.append(fill, ' ');
      s.append(t);
      if (!cols[c].right) s.append(fill, ' ');
      if (c + 1 < cols.size()) s.push_back(' ');
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    os << s << "\n";
  };
  std::vector<std::string> heads;
  for (const auto& c : cols) heads.push_back(c.head);
  line(heads);
  for (const auto& r : rows) {
    std::vector<std::vector<std::string>> lines(cols.size());
    std::size_t height = 1;
    for (std::size_t c = 0; c < cols.size(); ++c) {
      lines[c] = r[c].lines(width[c]);
      height = std::max(height, lines[c].size());
    }
    for (std::size_t h = 0; h < height; ++h) {
      std::vector<std::string> texts;
      for (std::size_t c = 0; c < cols.size(); ++c)
        texts.push_back(h < lines[c].size() ? lines[c][h] : "");
      line(texts);
    }
  }
}

// ---- facts about a world that scenarios refer to -----------------------------------------

std::vector<std::size_t> firms_per_country(const World& w) {
  std::vector<std::size_t> n(w.countries.size(), 0);
  for (FirmId i = 0; i < w.num_firms(); ++i) ++n[w.firm_country[i]];
  return n;
}

/// Baseline daily use per (country, material), sum of Z0 over the links into the country's
/// firms (model section 10's baseline_use): what stockpiles and crisis triggers measure against.
std::vector<double> country_material_use(const World& w) {
  const std::size_t nm = w.materials.size();
  std::vector<double> use(w.countries.size() * nm, 0.0);
  for (LinkId l = 0; l < w.num_links(); ++l)
    use[w.firm_country[w.link_buyer[l]] * nm + w.firm_material[w.link_supplier[l]]] +=
        w.link_flow[l];
  return use;
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
    return cm[w.firm_country[i]] && !ex[w.firm_country[i]] && mm[w.firm_material[i]] &&
           !mx[w.firm_material[i]];
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
    const auto exp = country_mask(w, ev.exporters, false), tgt = country_mask(w, ev.targets, false),
               exc = country_mask(w, ev.except_targets, false);
    const auto mats = material_mask(w, ev.materials, false);
    for (LinkId l = 0; l < w.num_links(); ++l) {
      const FirmId j = w.link_supplier[l];
      const CountryId cj = w.firm_country[j], ci = w.firm_country[w.link_buyer[l]];
      links += cj != ci && exp[cj] && mats[w.firm_material[j]] && tgt[ci] && !exc[ci];
    }
    if (final_controls)
      for (FirmId j = 0; j < w.num_firms(); ++j) {
        const CountryId cj = w.firm_country[j];
        if (!exp[cj] || !mats[w.firm_material[j]]) continue;
        for (auto k = w.final_dest_begin[j]; k < w.final_dest_begin[j + 1]; ++k) {
          const CountryId d = w.final_dest_country[k];
          finals += d != cj && tgt[d] && !exc[d];
        }
      }
  } else if (ev.type == EventType::kTradeCut || ev.type == EventType::kTransportDisruption) {
    const auto a = country_mask(w, ev.side_a, false), b = country_mask(w, ev.side_b, false);
    auto between = [&](CountryId x, CountryId y) {
      return x != y && ((a[x] && b[y]) || (b[x] && a[y]));
    };
    for (LinkId l = 0; l < w.num_links(); ++l)
      links += between(w.firm_country[w.link_supplier[l]], w.firm_country[w.link_buyer[l]]);
    if (ev.type == EventType::kTradeCut && final_controls)
      for (FirmId j = 0; j < w.num_firms(); ++j)
        for (auto k = w.final_dest_begin[j]; k < w.final_dest_begin[j + 1]; ++k)
          finals += between(w.firm_country[j], w.final_dest_country[k]);
  }
  return {links, finals};
}

/// Can any active control reach final users (model 4)? The engine caps final-demand exports
/// only with final_demand_controls and some export control or trade cut.
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

std::string materials_text(const std::vector<std::string>& m) {
  return m.empty() ? std::string("all materials") : join(m);
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

/// The scenario's own YAML (for where a key is written and whether it is written at all).
std::optional<detail::YNode> scenario_yaml(const Scenario& s) {
  if (s.text.empty()) return std::nullopt;
  try {
    return detail::parse_yaml(s.text, s.path);
  } catch (const InputError&) {
    return std::nullopt;
  }
}

}  // namespace

// ---- shortfall info ------------------------------------------------------------------------

std::vector<std::pair<std::string, std::vector<CountryId>>> world_groups(const World& w) {
  std::map<std::string, std::vector<CountryId>> g;
  for (CountryId c = 0; c < w.countries.size(); ++c)
    for (const auto& name : w.countries[c].groups) {
      auto& members = g[name];
      if (members.empty() || members.back() != c) members.push_back(c);
    }
  return {g.begin(), g.end()};
}

std::vector<std::pair<CountryId, double>> producer_shares(const World& w, MaterialId m) {
  std::vector<double> out(w.countries.size(), 0.0);
  double total = 0.0;
  for (FirmId i = 0; i < w.num_firms(); ++i)
    if (w.firm_material[i] == m) {
      out[w.firm_country[i]] += w.baseline_output[i];
      total += w.baseline_output[i];
    }
  std::vector<std::pair<CountryId, double>> shares;
  std::vector<bool> has(w.countries.size(), false);
  for (FirmId i = 0; i < w.num_firms(); ++i)
    if (w.firm_material[i] == m) has[w.firm_country[i]] = true;
  for (CountryId c = 0; c < w.countries.size(); ++c)
    if (has[c]) shares.emplace_back(c, total > 0.0 ? out[c] / total : 0.0);
  std::stable_sort(shares.begin(), shares.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return shares;
}

void print_world_ids(const World& w, std::ostream& os, std::size_t width) {
  os << "ids         countries (their groups), groups (number of members), materials (tier, "
        "unit);\n            tables: shortfall info WORLD --list countries|groups|materials\n";
  std::vector<std::string> cs;
  for (const auto& c : w.countries)
    cs.push_back(c.groups.empty() ? c.code : c.code + " (" + join(c.groups) + ")");
  print_wrapped(os, "  countries", cs, ",", width, 14);
  std::vector<std::string> gs;
  for (const auto& [name, members] : world_groups(w))
    gs.push_back(name + " (" + std::to_string(members.size()) + ")");
  if (gs.empty()) gs.push_back("none");
  print_wrapped(os, "  groups", gs, ",", width, 14);
  std::vector<std::string> ms;
  for (const auto& m : w.materials) {
    std::vector<std::string> about;
    if (!m.tier.empty()) about.push_back(m.tier);
    if (!m.unit.empty()) about.push_back(m.unit);
    ms.push_back(about.empty() ? m.id : m.id + " (" + join(about) + ")");
  }
  print_wrapped(os, "  materials", ms, ",", width, 14);
}

void print_world_table(const World& w, WorldTable what, std::ostream& os) {
  std::vector<std::vector<Cell>> rows;
  switch (what) {
    case WorldTable::kCountries: {
      const auto firms = firms_per_country(w);
      os << "countries of " << w.source << " (" << w.countries.size() << ")\n";
      for (CountryId c = 0; c < w.countries.size(); ++c) {
        const Country& k = w.countries[c];
        rows.push_back({one(k.code), one(std::to_string(firms[c])), items(k.groups),
                        words(k.name.empty() ? "-" : k.name)});
      }
      print_table(os, {{"country"}, {"firms", 1000, true}, {"groups", 32}, {"name", 48}}, rows);
      return;
    }
    case WorldTable::kGroups: {
      const auto groups = world_groups(w);
      os << "groups of " << w.source << " (" << groups.size() << ")\n";
      if (groups.empty()) {
        os << "  none: no country belongs to a group\n";
        return;
      }
      for (const auto& [name, members] : groups) {
        std::vector<std::string> codes;
        for (CountryId c : members) codes.push_back(w.countries[c].code);
        rows.push_back({one(name), one(std::to_string(members.size())), items(codes)});
      }
      print_table(os, {{"group"}, {"members", 1000, true}, {"countries", 72}}, rows);
      return;
    }
    case WorldTable::kMaterials: {
      std::vector<std::size_t> firms(w.materials.size(), 0);
      for (FirmId i = 0; i < w.num_firms(); ++i) ++firms[w.firm_material[i]];
      os << "materials of " << w.source << " (" << w.materials.size()
         << ")\n  producers: each country's share of the world's baseline output of the "
            "material, largest first\n";
      for (MaterialId m = 0; m < w.materials.size(); ++m) {
        const Material& k = w.materials[m];
        std::vector<std::string> producers;
        for (const auto& [c, share] : producer_shares(w, m))
          producers.push_back(w.countries[c].code + " " + percent(share));
        // The id, and under it the name (where it says more than the id).
        Cell id = words(k.name.empty() || k.name == k.id ? "" : k.name);
        if (id.atoms.size() == 1 && id.atoms[0].empty()) id.atoms.clear();
        id.head = k.id;
        id.indent = 2;
        rows.push_back({id, one(k.tier.empty() ? "-" : k.tier),
                        words(k.unit.empty() ? "-" : k.unit), one(std::to_string(firms[m])),
                        items(producers)});
      }
      print_table(os,
                  {{"material (name)", 26},
                   {"tier"},
                   {"unit", 12},
                   {"firms", 1000, true},
                   {"producers", 44}},
                  rows);
      return;
    }
  }
}

// ---- shortfall validate --------------------------------------------------------------------

WorldFacts world_facts(const World& w) {
  WorldFacts f;
  const std::size_t nm = w.materials.size();
  std::vector<std::uint64_t> inputs;
  inputs.reserve(w.num_links());
  for (LinkId l = 0; l < w.num_links(); ++l)
    inputs.push_back(std::uint64_t(w.link_buyer[l]) * nm + w.firm_material[w.link_supplier[l]]);
  std::sort(inputs.begin(), inputs.end());
  inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
  f.inputs = inputs.size();
  for (std::uint64_t k : inputs) {
    const FirmId i = FirmId(k / nm);
    const MaterialId m = MaterialId(k % nm);
    if (std::isnan(w.firm_inventory_days[i]) && !w.materials[m].inventory_days)
      ++f.inputs_on_default;
  }
  std::vector<bool> made(nm, false);
  for (FirmId i = 0; i < w.num_firms(); ++i) made[w.firm_material[i]] = true;
  for (MaterialId m = 0; m < nm; ++m)
    if (made[m]) {
      ++f.materials_made;
      if (!w.materials[m].utilisation) ++f.made_on_default;
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
  const ModelParams& m = s.model;
  const WorldFacts facts = world_facts(w);
  const bool fdc = m.final_demand_controls;
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
        for (FirmId i : selected_firms(w, ev)) ++n, fd += w.final_demand[i] > 0.0;
        what = plural(n, "firm", "firms") + ", " + std::to_string(fd) + " with final demand";
        break;
      }
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

  // The model in force (docs/model.md section 0).
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

  // Lead times (docs/model.md section 5).
  {
    int lo = 0, hi = 0;
    for (LinkId l = 0; l < w.num_links(); ++l) {
      const int d = w.link_lead_time[l];
      lo = l ? std::min(lo, d) : d;
      hi = l ? std::max(hi, d) : d;
    }
    std::string t = "domestic " + plural(std::size_t(w.lead_times.domestic), "day", "days") +
                    ", otherwise " + plural(std::size_t(w.lead_times.international), "day", "days");
    if (!w.lead_times.pairs.empty())
      t += " except " + plural(w.lead_times.pairs.size(), "country pair", "country pairs") +
           " set in the world";
    if (w.num_links()) t += "; links " + std::to_string(lo) + " to " + std::to_string(hi) + " days";
    for (const auto& ev : s.events)
      if (ev.type == EventType::kTransportDisruption) {
        t += "; transport disruptions add days (events)";
        break;
      }
    os << "lead times  " << t << "\n";
  }

  // Policies (docs/model.md sections 6-9).
  os << "policies    " << (s.policies.empty() ? "none" : std::to_string(s.policies.size())) << "\n";
  const auto use = country_material_use(w);
  const std::size_t nm = w.materials.size();
  for (const auto& p : s.policies) {
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
            "; meeting " + plural(std::size_t(p.meeting_days), "day", "days") +
            " later, measures " + plural(std::size_t(p.implementation_days), "day", "days") +
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
               " " + w.materials[*mm].unit + ")";
        }
        t += ", " + release_text(p) + ", at most " + percent(p.max_daily_share) + " of it a day";
        break;
      }
      case PolicyType::kSurge: {
        std::size_t n = 0;
        const auto cm = country_mask(w, p.countries, false);
        const auto mm = material_mask(w, p.materials, false);
        for (FirmId i = 0; i < w.num_firms(); ++i)
          n += cm[w.firm_country[i]] && mm[w.firm_material[i]];
        t = p.name + ": capacity ceiling alpha_max " + num(p.alpha_max) + " for " +
            join(p.countries) + " on " + join(p.materials) + " (" + plural(n, "firm", "firms") +
            "), " + span(p.start, p.end);
        break;
      }
    }
    std::istringstream in(t);
    std::vector<std::string> ws;
    for (std::string x; in >> x;) ws.push_back(x);
    print_wrapped(os, "  -", ws, "", 100, 4);
  }

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
     << ": " << recorded << " of " << s.days << " days recorded\n";
  if (!out.empty()) os << "output      " << out << "\n";
}

std::vector<std::string> scenario_noop_warnings(const Scenario& s, const World& w) {
  std::vector<std::string> out;
  const bool fdc = s.model.final_demand_controls;
  const std::size_t nm = w.materials.size();
  const auto use = country_material_use(w);
  auto warn = [&](const SourceLocation& where, const std::string& what) {
    const std::string at = where.str();
    out.push_back(at.empty() ? what : at + ": " + what);
  };

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
        for (FirmId i : selected_firms(w, ev)) ++n, fd += w.final_demand[i] > 0.0;
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
    }
  }

  for (const auto& p : s.policies) {
    switch (p.type) {
      case PolicyType::kCrisisResponse: {
        const auto members = country_mask(w, p.members, false);
        const auto mats = material_mask(w, p.materials, true);
        bool used = false;
        for (CountryId c = 0; c < w.countries.size() && !used; ++c)
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
          n += cm[w.firm_country[i]] && mm[w.firm_material[i]];
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

  // Model keys written in the scenario that nothing uses.
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
  return out;
}

}  // namespace shortfall
