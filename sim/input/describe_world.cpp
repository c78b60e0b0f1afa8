// What a world holds, in words: the ids and tables of `shortfall info` (docs/commands.md).
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
  c.glue.push_back(',');  // not `= ","`: GCC 12 warns falsely there (-Wrestrict, PR 105651)
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

std::vector<std::size_t> firms_per_country(const World& w) {
  std::vector<std::size_t> n(w.countries().size(), 0);
  for (FirmId i = 0; i < w.num_firms(); ++i) ++n[w.firm_country()[i]];
  return n;
}

}  // namespace

std::vector<std::pair<std::string, std::vector<CountryId>>> world_groups(const World& w) {
  std::map<std::string, std::vector<CountryId>> g;
  for (CountryId c = 0; c < w.countries().size(); ++c)
    for (const auto& name : w.countries()[c].groups) {
      auto& members = g[name];
      if (members.empty() || members.back() != c) members.push_back(c);
    }
  return {g.begin(), g.end()};
}

std::vector<std::pair<CountryId, double>> producer_shares(const World& w, MaterialId m) {
  std::vector<double> out(w.countries().size(), 0.0);
  double total = 0.0;
  for (FirmId i = 0; i < w.num_firms(); ++i)
    if (w.firm_material()[i] == m) {
      out[w.firm_country()[i]] += w.baseline_output()[i];
      total += w.baseline_output()[i];
    }
  std::vector<std::pair<CountryId, double>> shares;
  std::vector<bool> has(w.countries().size(), false);
  for (FirmId i = 0; i < w.num_firms(); ++i)
    if (w.firm_material()[i] == m) has[w.firm_country()[i]] = true;
  for (CountryId c = 0; c < w.countries().size(); ++c)
    if (has[c]) shares.emplace_back(c, total > 0.0 ? out[c] / total : 0.0);
  std::stable_sort(shares.begin(), shares.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return shares;
}

void print_world_ids(const World& w, std::ostream& os, std::size_t width) {
  os << "ids         countries (their groups), groups (number of members), materials (tier, "
        "unit);\n            tables: shortfall info WORLD --list countries|groups|materials\n";
  std::vector<std::string> cs;
  for (const auto& c : w.countries())
    cs.push_back(c.groups.empty() ? c.code : c.code + " (" + join(c.groups) + ")");
  print_wrapped(os, "  countries", cs, ",", width, 14);
  std::vector<std::string> gs;
  for (const auto& [name, members] : world_groups(w))
    gs.push_back(name + " (" + std::to_string(members.size()) + ")");
  if (gs.empty()) gs.push_back("none");
  print_wrapped(os, "  groups", gs, ",", width, 14);
  std::vector<std::string> ms;
  for (const auto& m : w.materials()) {
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
      os << "countries of " << w.source() << " (" << w.countries().size() << ")\n";
      for (CountryId c = 0; c < w.countries().size(); ++c) {
        const Country& k = w.countries()[c];
        rows.push_back({one(k.code), one(std::to_string(firms[c])), items(k.groups),
                        words(k.name.empty() ? "-" : k.name)});
      }
      print_table(os, {{"country"}, {"firms", 1000, true}, {"groups", 32}, {"name", 48}}, rows);
      return;
    }
    case WorldTable::kGroups: {
      const auto groups = world_groups(w);
      os << "groups of " << w.source() << " (" << groups.size() << ")\n";
      if (groups.empty()) {
        os << "  none: no country belongs to a group\n";
        return;
      }
      for (const auto& [name, members] : groups) {
        std::vector<std::string> codes;
        for (CountryId c : members) codes.push_back(w.countries()[c].code);
        rows.push_back({one(name), one(std::to_string(members.size())), items(codes)});
      }
      print_table(os, {{"group"}, {"members", 1000, true}, {"countries", 72}}, rows);
      return;
    }
    case WorldTable::kMaterials: {
      std::vector<std::size_t> firms(w.materials().size(), 0);
      for (FirmId i = 0; i < w.num_firms(); ++i) ++firms[w.firm_material()[i]];
      os << "materials of " << w.source() << " (" << w.materials().size()
         << ")\n  producers: each country's share of the world's baseline output of the "
            "material, largest first\n";
      for (MaterialId m = 0; m < w.materials().size(); ++m) {
        const Material& k = w.materials()[m];
        std::vector<std::string> producers;
        for (const auto& [c, share] : producer_shares(w, m))
          producers.push_back(w.countries()[c].code + " " + percent(share));
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

}  // namespace shortfall
