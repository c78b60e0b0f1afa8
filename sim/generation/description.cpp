// Reading a world description for the generator (the method is in generator.cpp, the keys in
// include/shortfall/generator.hpp): countries, firms and linking rules, lead times, materials
// (producer shares, final-use shares, firm counts) and recipes, each checked where it is
// written; and the top-down order of the materials, which names a recipe cycle.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "generation/generator_steps.hpp"
#include "shortfall/error.hpp"
#include "shortfall/world.hpp"
#include "util/yaml_util.hpp"

namespace shortfall::generation {

using detail::YNode;

std::string fmt(double v) {
  std::ostringstream os;
  os.precision(6);
  os << v;
  return os.str();
}

namespace {

std::optional<CountryId> find_country(const Description& d, const std::string& code) {
  for (CountryId c = 0; c < d.countries.size(); ++c)
    if (d.countries[c].code == code) return c;
  return std::nullopt;
}

std::optional<MaterialId> find_material(const Description& d, const std::string& id) {
  for (MaterialId p = 0; p < d.materials.size(); ++p)
    if (d.materials[p].id == id) return p;
  return std::nullopt;
}

/// Countries named by a code, a group, "all", or a list of these.
std::vector<CountryId> resolve(const Description& d, const YNode& n) {
  std::set<CountryId> out;
  for (std::size_t k = 0; const auto& name : n.as_string_list()) {
    bool found = false;
    for (CountryId c = 0; c < d.countries.size(); ++c) {
      const auto& country = d.countries[c];
      if (name == "all" || country.code == name ||
          std::find(country.groups.begin(), country.groups.end(), name) != country.groups.end()) {
        out.insert(c);
        found = true;
      }
    }
    if (!found) {
      YNode at = n.is_seq() ? n.item(k) : n;
      at.fail("expected a country code, a group or 'all', found '" + name + "'");
    }
    ++k;
  }
  return {out.begin(), out.end()};
}

/// The countries, their names and groups (a group may not be named like a country).
void parse_countries(const YNode& root, Description& d) {
  YNode countries = root.at("countries");
  countries.expect_seq();
  if (countries.size() == 0) countries.fail("expected at least one country, found an empty list");
  for (std::size_t k = 0; k < countries.size(); ++k) {
    YNode c = countries.item(k);
    c.check_keys({"code", "name", "groups"});
    Country country;
    country.code = c.at("code").as_string();
    if (country.code.empty() || country.code == "all")
      c.at("code").fail("expected a country code, found " + detail::describe(c.at("code").node));
    if (find_country(d, country.code))
      c.at("code").fail("duplicate country code '" + country.code + "'");
    country.name = c.get("name") ? c.at("name").as_string() : country.code;
    if (auto g = c.get("groups")) country.groups = g->as_string_list();
    d.countries.push_back(std::move(country));
  }
  for (const auto& c : d.countries)
    for (const auto& g : c.groups)
      if (find_country(d, g))
        countries.fail("group '" + g + "' has the same name as a country code");
}

/// Firm counts and sizes, and the linking rules (sourcing slots, home and group bias).
void parse_firms_and_linking(const YNode& root, Description& d) {
  if (auto f = root.get("firms")) {
    f->check_keys(
        {"per_material", "min_per_country", "max_per_country", "pareto_alpha", "max_size_ratio"});
    if (auto v = f->get("per_material")) d.per_material = v->as_int_in(1, 100000000);
    if (auto v = f->get("min_per_country")) d.min_per_country = v->as_int_in(1, 100000000);
    if (auto v = f->get("max_per_country")) d.max_per_country = v->as_int_in(1, 100000000);
    if (d.max_per_country < d.min_per_country)
      f->fail("expected max_per_country >= min_per_country, found " +
              std::to_string(d.max_per_country) + " < " + std::to_string(d.min_per_country));
    if (auto v = f->get("pareto_alpha")) d.pareto_alpha = v->as_double_in(0.1, 100);
    if (auto v = f->get("max_size_ratio")) d.max_size_ratio = v->as_double_in(1, 1e12);
  }
  if (auto l = root.get("linking")) {
    l->check_keys(
        {"sourcing_slots", "max_sourcing_slots", "home_bias", "group_bias", "bias_groups"});
    if (auto v = l->get("sourcing_slots")) d.sourcing_slots = int(v->as_int_in(1, 1000));
    d.max_sourcing_slots = std::max(d.max_sourcing_slots, d.sourcing_slots);
    if (auto v = l->get("max_sourcing_slots")) {
      d.max_sourcing_slots = int(v->as_int_in(1, 1000));
      if (d.max_sourcing_slots < d.sourcing_slots)
        v->fail("expected max_sourcing_slots >= sourcing_slots (" +
                std::to_string(d.sourcing_slots) + "), found " + v->as_string());
    }
    if (auto v = l->get("home_bias")) d.home_bias = v->as_double_in(1e-6, 1e6);
    if (auto v = l->get("group_bias")) d.group_bias = v->as_double_in(1e-6, 1e6);
    if (auto v = l->get("bias_groups")) {
      d.bias_groups = v->as_string_list();
      for (std::size_t k = 0; k < d.bias_groups.size(); ++k) {
        bool known = false;
        for (const auto& c : d.countries)
          known = known ||
                  std::find(c.groups.begin(), c.groups.end(), d.bias_groups[k]) != c.groups.end();
        if (!known)
          (v->is_seq() ? v->item(k) : *v)
              .fail("expected a group named in countries, found '" + d.bias_groups[k] + "'");
      }
    }
  }
}

/// Lead times: domestic, default (international), and pairs that override them in order.
void parse_lead_times(const YNode& root, Description& d) {
  const std::size_t nc = d.countries.size();
  if (auto lt = root.get("lead_times")) {
    lt->check_keys({"domestic", "default", "pairs"});
    if (auto v = lt->get("domestic")) d.domestic = int(v->as_int_in(1, 3650));
    if (auto v = lt->get("default")) d.international = int(v->as_int_in(1, 3650));
  }
  d.lead.assign(nc, std::vector<int>(nc, d.international));
  for (std::size_t c = 0; c < nc; ++c) d.lead[c][c] = d.domestic;
  if (auto lt = root.get("lead_times"); lt && lt->has("pairs")) {
    YNode pairs = lt->at("pairs");
    pairs.expect_seq();
    for (std::size_t k = 0; k < pairs.size(); ++k) {
      YNode p = pairs.item(k);
      p.check_keys({"between", "from", "to", "days"});
      int days = int(p.at("days").as_int_in(1, 3650));
      std::vector<CountryId> a, b;
      bool both_ways = false;
      if (p.has("between")) {
        if (p.has("from") || p.has("to"))
          p.fail("expected either 'between' or 'from'/'to', found both");
        YNode bw = p.at("between");
        if (!bw.is_seq() || bw.size() != 2)
          bw.fail("expected two sides [A, B] (each a country, a group or a list), found " +
                  detail::describe(bw.node));
        a = resolve(d, bw.item(0));
        b = resolve(d, bw.item(1));
        both_ways = true;
      } else {
        a = resolve(d, p.at("from"));
        b = resolve(d, p.at("to"));
      }
      for (CountryId x : a)
        for (CountryId y : b) {
          if (x == y) continue;
          d.lead[x][y] = days;
          if (both_ways) d.lead[y][x] = days;
        }
    }
  }
}

/// Producer shares: fractions of world output; the remainder to remainder_country (else the
/// shares are normalised).
void parse_producer_shares(const YNode& m, const Description& d, std::optional<CountryId> remainder,
                           DescMaterial& mat) {
  const std::size_t nc = d.countries.size();
  YNode prod = m.at("producers");
  prod.expect_map();
  mat.share.assign(nc, 0.0);
  double sum = 0;
  for (auto it = prod.node.begin(); it != prod.node.end(); ++it) {
    std::string code = it->first.as<std::string>();
    YNode v{it->second, prod.file, prod.path + "." + code};
    auto c = find_country(d, code);
    if (!c)
      YNode{it->first, prod.file, v.path}.fail("expected a country code, found '" + code + "'");
    if (mat.share[*c] > 0) v.fail("duplicate producer '" + code + "'");
    double s = v.as_double();
    if (s < 0 || s > 1) v.fail("expected a share in [0, 1], found " + v.as_string());
    mat.share[*c] = s;
    sum += s;
  }
  if (sum > 1 + 1e-6)
    prod.fail("expected producer shares that sum to at most 1, found a sum of " + fmt(sum));
  if (sum < 1 - 1e-9) {
    if (remainder) {
      mat.share[*remainder] += 1 - sum;
    } else if (sum <= 0) {
      prod.fail("expected at least one producer with a share > 0, found none");
    }
  }
  double total = std::accumulate(mat.share.begin(), mat.share.end(), 0.0);
  if (!(total > 0)) prod.fail("expected at least one producer with a share > 0, found none");
  for (auto& s : mat.share) s /= total;  // shares sum to 1 (rounding, or normalised)
}

/// final_use_shares: a country's or a group's share of the material's final demand.
void parse_final_use_shares(const YNode& fu, const Description& d, DescMaterial& mat) {
  const std::size_t nc = d.countries.size();
  if (!mat.world_output && !mat.final_demand)
    fu.fail(
        "expected final_use_shares only on a material with final demand ('world_output' "
        "or 'final_demand'), found neither");
  fu.expect_map();
  mat.final_use.assign(nc, 0.0);
  std::vector<char> named(nc, 0);
  double sum = 0;
  for (auto it = fu.node.begin(); it != fu.node.end(); ++it) {
    const std::string name = it->first.as<std::string>();
    YNode key{it->first, fu.file, fu.path + "." + name};
    YNode v{it->second, fu.file, key.path};
    // A country, or a group whose share is divided equally among its members.
    std::vector<CountryId> members;
    if (auto c = find_country(d, name)) {
      members.push_back(*c);
    } else {
      for (CountryId c = 0; c < nc; ++c) {
        const auto& g = d.countries[c].groups;
        if (std::find(g.begin(), g.end(), name) != g.end()) members.push_back(c);
      }
    }
    if (members.empty()) key.fail("expected a country code or a group, found '" + name + "'");
    const double share = v.as_double();
    if (share < 0 || share > 1) v.fail("expected a share in [0, 1], found " + v.as_string());
    for (CountryId c : members) {
      if (named[c])
        key.fail("country '" + d.countries[c].code +
                 "' is named twice (directly or through a group); expected each country "
                 "once");
      named[c] = 1;
      mat.final_use[c] = share / double(members.size());
    }
    sum += share;
  }
  if (sum > 1 + 1e-9)
    fu.fail(
        "expected final-use shares that sum to at most 1 (the remainder stays in the "
        "producer's own country), found a sum of " +
        fmt(sum));
}

/// A map {COUNTRY: share in [0, 1]} whose countries must make `mat` (`role` names them in
/// messages); calls f(country, share, value node) for each entry and returns the shares' sum.
template <class F>
double producer_shares(const YNode& map, const Description& d, const DescMaterial& mat,
                       const std::string& role, F&& f) {
  map.expect_map();
  double sum = 0;
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    const std::string code = it->first.as<std::string>();
    YNode key{it->first, map.file, map.path + "." + code};
    YNode v{it->second, map.file, key.path};
    auto c = find_country(d, code);
    if (!c) key.fail("expected a " + role + " country code, found '" + code + "'");
    if (mat.share[*c] <= 0)
      key.fail("country '" + code + "' has no producer share of " + mat.id +
               "; expected a producing country");
    const double share = v.as_double();
    if (!(share >= 0 && share <= 1)) v.fail("expected a share in [0, 1], found " + v.as_string());
    f(*c, share, v);
    sum += share;
  }
  return sum;
}

/// final_demand_from: the producer countries that make the material's final demand (sum 1).
void parse_final_demand_from(const YNode& ff, const Description& d, DescMaterial& mat) {
  if (!mat.world_output && !mat.final_demand)
    ff.fail(
        "expected final_demand_from only on a material with final demand ('world_output' "
        "or 'final_demand'), found neither");
  mat.final_from.assign(d.countries.size(), 0.0);
  const double sum =
      producer_shares(ff, d, mat, "producer",
                      [&](CountryId c, double share, const YNode&) { mat.final_from[c] = share; });
  if (std::abs(sum - 1) > 1e-9)
    ff.fail("expected final_demand_from shares that sum to 1, found a sum of " + fmt(sum));
  mat.final_from_node = ff;
}

/// firms: a total split by share, or a count per country.
void parse_firm_counts(const YNode& f, const Description& d, DescMaterial& mat) {
  if (f.is_map()) {
    for (auto it = f.node.begin(); it != f.node.end(); ++it) {
      std::string code = it->first.as<std::string>();
      YNode v{it->second, f.file, f.path + "." + code};
      auto c = find_country(d, code);
      if (!c) v.fail("expected a country code, found '" + code + "'");
      if (mat.share[*c] <= 0) v.fail("country '" + code + "' has no producer share of " + mat.id);
      mat.firms_by_country[*c] = v.as_int_in(1, 100000000);
    }
  } else {
    mat.firms_total = f.as_int_in(1, 100000000);
  }
}

/// `sourcing: {BUYER: {SUPPLIER: share, ...}, ...}`: sourced shares of a buyer country's need
/// taken from a supplier country (step 3). Shares of one buyer sum to at most 1.
void parse_sourcing(const YNode& sr, const Description& d, DescMaterial& mat) {
  sr.expect_map();
  for (auto it = sr.node.begin(); it != sr.node.end(); ++it) {
    const std::string buyer = it->first.as<std::string>();
    YNode key{it->first, sr.file, sr.path + "." + buyer};
    YNode row{it->second, sr.file, key.path};
    auto b = find_country(d, buyer);
    if (!b) key.fail("expected a buyer country code, found '" + buyer + "'");
    const double sum =
        producer_shares(row, d, mat, "supplier", [&](CountryId c, double share, const YNode& v) {
          mat.sourcing.push_back({c, *b, share, v});
        });
    if (sum > 1 + 1e-9)
      row.fail("expected sourcing shares of one buyer country that sum to at most 1, found " +
               std::to_string(sum));
  }
}

/// One material of the list (checked against those before it).
DescMaterial parse_material(const YNode& m, const Description& d,
                            std::optional<CountryId> remainder) {
  // One key list, packed, rather than one key a line:
  // clang-format off
  m.check_keys({"id", "name", "unit", "tier", "world_output", "final_demand", "producers",
                "inventory_days", "requalification_days", "requalification_months", "firms",
                "utilisation", "unit_value", "final_use_shares", "final_demand_from", "sourcing",
                "distinct_parts", "inventory_days_range", "byproduct", "notes"});
  // clang-format on
  DescMaterial mat;
  mat.node = m;
  mat.id = m.at("id").as_string();
  if (mat.id.empty() || mat.id == "all")
    m.at("id").fail("expected a material id, found " + detail::describe(m.at("id").node));
  if (find_material(d, mat.id)) m.at("id").fail("duplicate material id '" + mat.id + "'");
  mat.name = m.get("name") ? m.at("name").as_string() : mat.id;
  mat.unit = m.get("unit") ? m.at("unit").as_string() : "unit";
  mat.tier = m.get("tier") ? m.at("tier").as_string() : "";
  if (m.has("world_output") && m.has("final_demand"))
    m.fail(
        "expected at most one of 'world_output' (final demand = the remainder) and "
        "'final_demand' (output = use + final demand), found both");
  if (auto v = m.get("world_output")) {
    mat.world_output = v->as_double_in(0, kMaxQuantity);
    if (!(*mat.world_output > 0)) v->fail("expected a world output > 0, found " + v->as_string());
    mat.world_output_node = *v;
  }
  if (auto v = m.get("final_demand")) mat.final_demand = v->as_double_in(0, kMaxQuantity);
  if (auto v = m.get("inventory_days")) mat.inventory_days = v->as_double_in(0, 3650);
  if (m.has("requalification_days") && m.has("requalification_months"))
    m.fail("expected at most one of 'requalification_days' and 'requalification_months'");
  if (auto v = m.get("requalification_days")) mat.requalification_days = v->as_double_in(0, 36500);
  if (auto v = m.get("requalification_months"))
    mat.requalification_days = 30.0 * v->as_double_in(0, 1200);

  parse_producer_shares(m, d, remainder, mat);

  if (auto v = m.get("utilisation")) {
    mat.utilisation = v->as_double();
    if (!(*mat.utilisation > 0.0 && *mat.utilisation <= 1.0))
      v->fail("expected a capacity utilisation in (0, 1], found " + v->as_string());
  }
  if (auto v = m.get("unit_value")) {
    mat.unit_value = v->as_double();
    if (!(*mat.unit_value > 0.0)) v->fail("expected a value per unit > 0, found " + v->as_string());
  }
  if (auto fu = m.get("final_use_shares")) parse_final_use_shares(*fu, d, mat);
  if (auto ff = m.get("final_demand_from")) parse_final_demand_from(*ff, d, mat);
  if (auto f = m.get("firms")) parse_firm_counts(*f, d, mat);
  if (auto sr = m.get("sourcing")) parse_sourcing(*sr, d, mat);
  if (auto v = m.get("distinct_parts")) mat.distinct_parts = v->as_bool();
  if (auto v = m.get("byproduct")) mat.byproduct = v->as_bool();
  if (auto v = m.get("inventory_days_range")) mat.inventory_days_range = v->as_positive_range(3650);
  return mat;
}

/// Recipes: a_{q,p} units of p per unit of q.
void parse_recipes(const YNode& root, Description& d) {
  const std::size_t np = d.materials.size();
  d.recipes.assign(np, Recipe{});
  YNode recipes = root.at("recipes");
  recipes.expect_seq();
  for (std::size_t k = 0; k < recipes.size(); ++k) {
    YNode r = recipes.item(k);
    r.check_keys({"output", "inputs", "notes"});
    YNode out = r.at("output");
    auto q = find_material(d, out.as_string());
    if (!q) out.fail("expected a material id, found '" + out.as_string() + "'");
    if (d.recipes[*q].node)
      out.fail("duplicate recipe for '" + out.as_string() + "' (first at line " +
               std::to_string(d.recipes[*q].node->where().line) + ")");
    d.recipes[*q].node = r;
    YNode inputs = r.at("inputs");
    inputs.expect_map();
    if (inputs.size() == 0) inputs.fail("expected at least one input, found an empty map");
    for (auto it = inputs.node.begin(); it != inputs.node.end(); ++it) {
      std::string id = it->first.as<std::string>();
      YNode v{it->second, inputs.file, inputs.path + "." + id};
      auto p = find_material(d, id);
      if (!p)
        YNode{it->first, inputs.file, v.path}.fail("expected a material id, found '" + id + "'");
      if (*p == *q) v.fail("recipe cycle: '" + id + "' is an input of itself");
      for (auto& [pp, a] : d.recipes[*q].inputs)
        if (pp == *p) v.fail("duplicate input '" + id + "'");
      double a = v.as_double();
      if (!(a > 0)) v.fail("expected an input coefficient > 0, found " + v.as_string());
      d.recipes[*q].inputs.emplace_back(*p, a);
    }
  }
}

}  // namespace

Description parse_description(const std::string& path) {
  YNode root = detail::load_yaml_file(path);
  root.expect_map();
  root.check_keys({"name", "notes", "seed", "days_per_year", "remainder_country", "countries",
                   "materials", "recipes", "lead_times", "firms", "linking"});
  Description d;
  d.file = path;
  d.name = root.get("name") ? root.at("name").as_string() : "";
  if (auto s = root.get("seed"))
    d.seed = std::uint64_t(s->as_int_in(0, std::numeric_limits<long long>::max()));
  if (auto s = root.get("days_per_year")) d.days_per_year = s->as_double_in(1, 366);

  parse_countries(root, d);

  std::optional<CountryId> remainder;
  if (auto r = root.get("remainder_country")) {
    remainder = find_country(d, r->as_string());
    if (!remainder) r->fail("expected a country code, found '" + r->as_string() + "'");
  }

  parse_firms_and_linking(root, d);
  parse_lead_times(root, d);

  // Materials.
  YNode materials = root.at("materials");
  materials.expect_seq();
  if (materials.size() == 0) materials.fail("expected at least one material, found an empty list");
  for (std::size_t k = 0; k < materials.size(); ++k) {
    d.materials.push_back(parse_material(materials.item(k), d, remainder));
  }

  parse_recipes(root, d);
  return d;
}

/// Materials ordered so that every user of p comes before p (Kahn on "q uses p"). Throws on a
/// recipe cycle, naming it.
std::vector<MaterialId> top_down_order(const Description& d) {
  const std::size_t np = d.materials.size();
  std::vector<int> users(np, 0);
  for (MaterialId q = 0; q < np; ++q)
    for (auto& [p, a] : d.recipes[q].inputs) ++users[p];
  std::vector<MaterialId> order, ready;
  for (MaterialId p = np; p-- > 0;)
    if (users[p] == 0) ready.push_back(p);
  while (!ready.empty()) {
    MaterialId q = ready.back();
    ready.pop_back();
    order.push_back(q);
    for (auto& [p, a] : d.recipes[q].inputs)
      if (--users[p] == 0) ready.push_back(p);
  }
  if (order.size() == np) return order;
  // A cycle: peel off the materials left over that have no input left over (they only hang
  // below a cycle); every material that remains has an input that remains, so walking along
  // such inputs must come back to a material already seen.
  std::vector<char> left(np, 1);
  for (auto p : order) left[p] = 0;
  for (bool changed = true; changed;) {
    changed = false;
    for (MaterialId p = 0; p < np; ++p) {
      if (!left[p]) continue;
      bool has_left_input = false;
      for (auto& [q, a] : d.recipes[p].inputs) has_left_input = has_left_input || left[q];
      if (!has_left_input) left[p] = 0, changed = true;
    }
  }
  MaterialId start = 0;
  while (!left[start]) ++start;
  std::vector<MaterialId> path;
  std::vector<int> seen(np, -1);
  MaterialId cur = start;
  while (seen[cur] < 0) {
    seen[cur] = int(path.size());
    path.push_back(cur);
    for (auto& [p, a] : d.recipes[cur].inputs)
      if (left[p]) {
        cur = p;
        break;
      }
  }
  std::string text;
  for (std::size_t k = std::size_t(seen[cur]); k < path.size(); ++k)
    text += d.materials[path[k]].id + " -> ";
  text += d.materials[cur].id;
  d.recipes[path.back()].node->fail("recipe cycle: " + text +
                                    " ('a -> b': a uses b; no material may be, directly or "
                                    "through others, an input of itself)");
}

}  // namespace shortfall::generation
