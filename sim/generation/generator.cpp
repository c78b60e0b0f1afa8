// The world generator (docs/model.md section 1, "generated"): from a description with countries,
// materials (world output, producer shares), recipes and lead times to firms and links that
// satisfy the baseline identity by material balance.
//
// Method, one material p at a time, from end products down through the recipes (a topological
// order of "q uses p", so that every user of p is done before p):
//   1. Needs. Every firm i of a material q whose recipe uses p needs r_i = a_{q,p} x_i per day.
//      Intermediate use U_p = sum_i r_i.
//   2. Output. output_p = world output (final_p = output_p - U_p >= 0, the uses outside the
//      modelled network), or U_p + final_demand, or U_p when neither is given.
//   3. Countries. Country c produces O_c = share_c output_p and sells S_c = O_c U_p / output_p
//      of it to firms. The country-pair matrix T_{c,b} (supplier country c, buyer country b) is
//      the biproportional (RAS) fit of the prior share_c * bias(c, b) to row sums S_c and column
//      sums R_b (the needs of buyers in b); bias is the home bias for c = b and the group bias
//      for countries sharing a bias group.
//   4. Buyers to countries. In each buyer country b, every buyer's need is cut into equal
//      sourcing slots, the slots are shuffled and laid end to end on [0, R_b] against the
//      countries' intervals T_{c,b}; overlaps give d_{i,c}, what buyer i gets from c. A buyer of
//      average size (among the buyers of p making the same material) has `sourcing_slots`
//      slots; larger buyers have more, m sqrt(r_i / mean r), up to `max_sourcing_slots`, so big
//      firms source from more countries, as they do.
//   5. Countries to firms. In each supplier country c, the pieces d_{i,c} (all buyer countries)
//      are shuffled and laid end to end against the firms of c, firm j's interval proportional
//      to its Pareto size w_j; overlaps are the links' flows. A buyer gets one contiguous run of
//      firms per country, so no link is duplicated.
//   6. Exactness. Each buyer's flows of p are rescaled to sum to r_i; firm j's output is
//      x_j = (its sales) + C0_j with C0_j = w_j / W_c (O_c - S_c), the final demand.
//   7. Destinations. Where p has `final_use_shares` (country or group -> share f_d of p's final
//      demand, sum <= 1; a group's share divided equally among its members), firm j's final
//      demand is split C0_{j,d} = f_d C0_j, plus (1 - sum f) C0_j to j's own country; the
//      largest part is C0_j minus the others, so the parts add up to C0_j.
// So sum_j Z_{ji} [p(j) = p] = a_{q,p} x_i for every firm (to rounding), x0 = sales + C0 by
// construction, and country c's output of p is share_c output_p.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "util/random.hpp"
#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/world.hpp"
#include "util/yaml_util.hpp"

namespace shortfall {

using detail::YNode;

namespace {

// ---- deterministic random numbers (splitmix64 seeding, xoshiro256**) -------------------------

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

using detail::Rng;
using detail::splitmix64;

/// A stream for one purpose (`what`) of one material, independent of the others.
Rng stream(std::uint64_t seed, const std::string& material, std::uint64_t what) {
  std::uint64_t s = seed;
  std::uint64_t a = splitmix64(s) ^ fnv1a(material);
  std::uint64_t b = splitmix64(a) ^ (what * 0xd1b54a32d192ed03ULL);
  return Rng(b);
}

std::string fmt(double v) {
  std::ostringstream os;
  os.precision(6);
  os << v;
  return os.str();
}

// ---- the description ---------------------------------------------------------------------------

struct DescMaterial {
  std::string id, name, unit, tier;
  std::optional<double> world_output;  // annual
  std::optional<double> final_demand;  // annual
  std::optional<YNode> world_output_node;
  std::vector<double> share;  // by country
  std::optional<double> inventory_days, requalification_days;
  std::optional<double> utilisation, unit_value;  // passed through to the world's material
  /// Share of the material's final demand that goes to final users in each country (by
  /// country; groups already divided among their members); empty: not split. The remainder
  /// 1 - sum stays in each producing firm's own country.
  std::vector<double> final_use;
  std::optional<long long> firms_total;             // overrides firms.per_material
  std::map<CountryId, long long> firms_by_country;  // explicit counts
  YNode node;
};

struct Recipe {
  std::vector<std::pair<MaterialId, double>> inputs;  // a_{q,p} for output q
  std::optional<YNode> node;
};

struct Description {
  std::string file;
  std::string name;
  std::uint64_t seed = 1;
  double days_per_year = 365.0;
  std::vector<Country> countries;
  std::vector<DescMaterial> materials;
  std::vector<Recipe> recipes;  // by output material
  // lead times
  int domestic = 1, international = 1;
  std::vector<std::vector<int>> lead;  // [supplier][buyer]
  // firms
  long long per_material = 50, min_per_country = 1, max_per_country = 1000000;
  double pareto_alpha = 1.3, max_size_ratio = 1000.0;
  // linking
  int sourcing_slots = 3, max_sourcing_slots = 12;
  double home_bias = 2.0, group_bias = 1.0;
  std::vector<std::string> bias_groups;  // empty: every group
};

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

  // Countries.
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
  const std::size_t nc = d.countries.size();

  std::optional<CountryId> remainder;
  if (auto r = root.get("remainder_country")) {
    remainder = find_country(d, r->as_string());
    if (!remainder) r->fail("expected a country code, found '" + r->as_string() + "'");
  }

  // Firms and linking rules.
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

  // Lead times.
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

  // Materials.
  YNode materials = root.at("materials");
  materials.expect_seq();
  if (materials.size() == 0) materials.fail("expected at least one material, found an empty list");
  for (std::size_t k = 0; k < materials.size(); ++k) {
    YNode m = materials.item(k);
    m.check_keys({"id", "name", "unit", "tier", "world_output", "final_demand", "producers",
                  "inventory_days", "requalification_days", "requalification_months", "firms",
                  "utilisation", "unit_value", "final_use_shares", "notes"});
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
    if (auto v = m.get("requalification_days"))
      mat.requalification_days = v->as_double_in(0, 36500);
    if (auto v = m.get("requalification_months"))
      mat.requalification_days = 30.0 * v->as_double_in(0, 1200);

    // Producer shares: fractions of world output; the remainder to remainder_country.
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

    if (auto v = m.get("utilisation")) {
      mat.utilisation = v->as_double();
      if (!(*mat.utilisation > 0.0 && *mat.utilisation <= 1.0))
        v->fail("expected a capacity utilisation in (0, 1], found " + v->as_string());
    }
    if (auto v = m.get("unit_value")) {
      mat.unit_value = v->as_double();
      if (!(*mat.unit_value > 0.0))
        v->fail("expected a value per unit > 0, found " + v->as_string());
    }
    if (auto fu = m.get("final_use_shares")) {
      if (!mat.world_output && !mat.final_demand)
        fu->fail(
            "expected final_use_shares only on a material with final demand ('world_output' "
            "or 'final_demand'), found neither");
      fu->expect_map();
      mat.final_use.assign(nc, 0.0);
      std::vector<char> named(nc, 0);
      double sum = 0;
      for (auto it = fu->node.begin(); it != fu->node.end(); ++it) {
        const std::string name = it->first.as<std::string>();
        YNode key{it->first, fu->file, fu->path + "." + name};
        YNode v{it->second, fu->file, key.path};
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
        fu->fail(
            "expected final-use shares that sum to at most 1 (the remainder stays in the "
            "producer's own country), found a sum of " +
            fmt(sum));
    }

    if (auto f = m.get("firms")) {
      if (f->is_map()) {
        for (auto it = f->node.begin(); it != f->node.end(); ++it) {
          std::string code = it->first.as<std::string>();
          YNode v{it->second, f->file, f->path + "." + code};
          auto c = find_country(d, code);
          if (!c) v.fail("expected a country code, found '" + code + "'");
          if (mat.share[*c] <= 0)
            v.fail("country '" + code + "' has no producer share of " + mat.id);
          mat.firms_by_country[*c] = v.as_int_in(1, 100000000);
        }
      } else {
        mat.firms_total = f->as_int_in(1, 100000000);
      }
    }
    d.materials.push_back(std::move(mat));
  }
  const std::size_t np = d.materials.size();

  // Recipes: a_{q,p} units of p per unit of q.
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

// ---- generation --------------------------------------------------------------------------------

struct GenFirm {
  CountryId country;
  MaterialId material;
  int number;  // 1-based within (country, material)
  double weight;
  double sales = 0;  // per day, to firms
  double final_demand = 0;
  double output = 0;
};

struct Flow {
  std::uint32_t supplier, buyer;
  double amount;
};

/// Lay `a` (consumers) and `b` (producers) end to end on [0, 1], each normalised by its own sum,
/// and call emit(i, j, fraction) for every overlap of a[i] with b[j]. Boundaries are prefix
/// sums divided by the total, so both sides end exactly at 1.
template <typename Emit>
void overlap(const std::vector<double>& a, const std::vector<double>& b, Emit&& emit) {
  if (a.empty() || b.empty()) return;
  double ta = 0, tb = 0;
  for (double v : a) ta += v;
  for (double v : b) tb += v;
  std::size_t i = 0, j = 0;
  double ca = a[0], cb = b[0];  // prefix sums up to and including i, j
  double pos = 0;
  while (i < a.size() && j < b.size()) {
    double ea = i + 1 == a.size() ? 1.0 : ca / ta;
    double eb = j + 1 == b.size() ? 1.0 : cb / tb;
    double end = std::min(ea, eb);
    if (end > pos) emit(i, j, end - pos);
    pos = std::max(pos, end);
    if (ea <= eb) {
      if (++i < a.size()) ca += a[i];
    }
    if (eb <= ea) {
      if (++j < b.size()) cb += b[j];
    }
  }
}

/// Split a firm's final demand C0 > 0 by destination: shares[c] (sum <= 1) of it to country c
/// and the remainder to `home`, the firm's own country. C0_{i,d} = share_d C0 for every
/// destination but the one with the largest share (the first such in country order), which
/// takes C0 minus the others; the others are rounded to multiples of ulp(C0) so that the parts
/// add up to C0 exactly, in any order (World::finalize and the engine add them).
/// Returns (country, amount) in country order; a single entry (home, C0) means no split.
constexpr double kHuge = std::numeric_limits<double>::max();

std::vector<std::pair<CountryId, double>> split_final_demand(const std::vector<double>& shares,
                                                             CountryId home, double c0) {
  std::vector<double> s = shares;
  double named = 0;
  for (double v : s) named += v;
  s[home] += std::max(0.0, 1.0 - named);
  std::vector<std::pair<CountryId, double>> out;
  std::size_t big = 0;
  for (CountryId c = 0; c < s.size(); ++c) {
    if (!(s[c] > 0)) continue;
    if (out.empty() || s[c] > s[out[big].first]) big = out.size();
    out.emplace_back(c, s[c] * c0);
  }
  // Every part but the largest is rounded to a multiple of u = ulp(C0). Then every partial sum
  // is a multiple of u below 2 C0, so it is exact, and so is C0 minus the others: the parts add
  // up to C0 exactly in any order (each part is off its share by at most u/2).
  const double u = std::nextafter(c0, kHuge) - c0;
  double others = 0;
  for (std::size_t k = 0; k < out.size(); ++k)
    if (k != big) others += out[k].second = std::round(out[k].second / u) * u;
  out[big].second = c0 - others;
  return out;
}

struct Generated {
  World world;
  std::vector<MaterialBalance> balances;
};

Generated generate(const Description& d, std::uint64_t seed) {
  const std::size_t nc = d.countries.size(), np = d.materials.size();
  const double per_year = d.days_per_year;
  const auto order = top_down_order(d);

  // Firms of every (material, country), in description order, with Pareto sizes.
  std::vector<GenFirm> firms;
  std::vector<std::vector<std::vector<std::uint32_t>>> firms_of(
      np, std::vector<std::vector<std::uint32_t>>(nc));
  for (MaterialId p = 0; p < np; ++p) {
    const auto& m = d.materials[p];
    Rng rng = stream(seed, m.id, 1);
    const long long total = m.firms_total.value_or(d.per_material);
    for (CountryId c = 0; c < nc; ++c) {
      if (m.share[c] <= 0) continue;
      long long n;
      if (!m.firms_by_country.empty()) {
        auto it = m.firms_by_country.find(c);
        n = it != m.firms_by_country.end() ? it->second : d.min_per_country;
      } else {
        n = std::llround(double(total) * m.share[c]);
        n = std::clamp(n, d.min_per_country, d.max_per_country);
      }
      for (long long k = 0; k < n; ++k) {
        double u = rng.uniform();
        double w = std::min(std::pow(1.0 - u, -1.0 / d.pareto_alpha), d.max_size_ratio);
        firms_of[p][c].push_back(std::uint32_t(firms.size()));
        firms.push_back(GenFirm{c, p, int(k + 1), w});
      }
    }
  }

  std::vector<double> bias(nc * nc, 1.0);
  for (CountryId c = 0; c < nc; ++c)
    for (CountryId b = 0; b < nc; ++b) {
      if (c == b) {
        bias[c * nc + b] = d.home_bias;
        continue;
      }
      bool shared = false;
      for (const auto& g : d.countries[c].groups) {
        const auto& gb = d.countries[b].groups;
        bool relevant =
            d.bias_groups.empty() ||
            std::find(d.bias_groups.begin(), d.bias_groups.end(), g) != d.bias_groups.end();
        shared = shared || (relevant && std::find(gb.begin(), gb.end(), g) != gb.end());
      }
      if (shared) bias[c * nc + b] = d.group_bias;
    }

  std::vector<Flow> flows;
  std::vector<MaterialBalance> balances(np);
  struct Destination {
    std::uint32_t firm;
    CountryId country;
    double amount;
  };
  std::vector<Destination> destinations;  // final demand split by destination
  for (MaterialId p : order) {
    const auto& m = d.materials[p];
    Rng rng = stream(seed, m.id, 2);

    // 1. Needs of the users of p (whose outputs are final: they come earlier in the order).
    struct Buyer {
      std::uint32_t firm;
      double need;
      int slots;
    };
    std::vector<Buyer> buyers;
    for (MaterialId q = 0; q < np; ++q)
      for (auto& [pp, a] : d.recipes[q].inputs) {
        if (pp != p) continue;
        const std::size_t first = buyers.size();
        double sum = 0;
        for (CountryId c = 0; c < nc; ++c)
          for (auto i : firms_of[q][c])
            if (firms[i].output > 0) {
              buyers.push_back(Buyer{i, a * firms[i].output, 0});
              sum += buyers.back().need;
            }
        const double mean = sum / double(std::max<std::size_t>(1, buyers.size() - first));
        for (std::size_t k = first; k < buyers.size(); ++k) {
          double slots = std::round(d.sourcing_slots * std::sqrt(buyers[k].need / mean));
          buyers[k].slots =
              int(std::clamp(slots, double(d.sourcing_slots), double(d.max_sourcing_slots)));
        }
      }
    double use = 0;
    for (auto& b : buyers) use += b.need;

    // 2. Output and final demand (per day).
    double output;
    if (m.world_output) {
      output = *m.world_output / per_year;
      if (use > output * (1 + 1e-9)) {
        std::string users;
        for (MaterialId q = 0; q < np; ++q)
          for (auto& [pp, a] : d.recipes[q].inputs)
            if (pp == p) {
              double out_q = 0;
              for (CountryId c = 0; c < nc; ++c)
                for (auto i : firms_of[q][c]) out_q += firms[i].output;
              users +=
                  (users.empty() ? "" : ", ") + d.materials[q].id + " " + fmt(a * out_q * per_year);
            }
        m.world_output_node->fail("expected a world output of at least the intermediate use " +
                                  fmt(use * per_year) + " (" + users + "), found " +
                                  fmt(*m.world_output) +
                                  "; lower the recipe coefficients or the users' outputs");
      }
      output = std::max(output, use);
    } else {
      output = use + m.final_demand.value_or(0.0) / per_year;
    }
    if (!(output > 0))
      m.node.fail("material '" + m.id +
                  "' has no output: it is no recipe's input and has no "
                  "'world_output' or 'final_demand'");
    const double final_share = (output - use) / output;

    // 3. Country-pair matrix T_{c,b} by RAS.
    std::vector<double> R(nc, 0.0), S(nc, 0.0);
    for (auto& b : buyers) R[firms[b.firm].country] += b.need;
    for (CountryId c = 0; c < nc; ++c) S[c] = m.share[c] * output * (1 - final_share);
    std::vector<double> T(nc * nc, 0.0);
    if (use > 0) {
      for (CountryId c = 0; c < nc; ++c)
        for (CountryId b = 0; b < nc; ++b)
          if (S[c] > 0 && R[b] > 0) T[c * nc + b] = m.share[c] * bias[c * nc + b];
      for (int it = 0; it < 10000; ++it) {
        double worst = 0;
        for (CountryId c = 0; c < nc; ++c) {
          if (S[c] <= 0) continue;
          double s = 0;
          for (CountryId b = 0; b < nc; ++b) s += T[c * nc + b];
          worst = std::max(worst, std::abs(s - S[c]) / S[c]);
          for (CountryId b = 0; b < nc; ++b) T[c * nc + b] *= S[c] / s;
        }
        for (CountryId b = 0; b < nc; ++b) {
          if (R[b] <= 0) continue;
          double s = 0;
          for (CountryId c = 0; c < nc; ++c) s += T[c * nc + b];
          for (CountryId c = 0; c < nc; ++c) T[c * nc + b] *= R[b] / s;
        }
        if (worst < 1e-13) break;
      }
    }

    // 4. Buyers to supplier countries, by shuffled sourcing slots.
    struct Piece {
      std::uint32_t buyer;  // index into buyers
      CountryId country;
      double amount;
    };
    std::vector<Piece> pieces;
    for (CountryId b = 0; b < nc; ++b) {
      if (R[b] <= 0) continue;
      std::vector<std::uint32_t> slot_buyer;
      for (std::uint32_t k = 0; k < buyers.size(); ++k)
        if (firms[buyers[k].firm].country == b)
          for (int s = 0; s < buyers[k].slots; ++s) slot_buyer.push_back(k);
      rng.shuffle(slot_buyer);
      std::vector<double> slot_len(slot_buyer.size());
      for (std::size_t s = 0; s < slot_buyer.size(); ++s)
        slot_len[s] = buyers[slot_buyer[s]].need / buyers[slot_buyer[s]].slots;
      std::vector<double> country_len;
      std::vector<CountryId> country_of;
      for (CountryId c = 0; c < nc; ++c)
        if (T[c * nc + b] > 0) {
          country_len.push_back(T[c * nc + b]);
          country_of.push_back(c);
        }
      std::vector<Piece> local;
      overlap(slot_len, country_len, [&](std::size_t s, std::size_t k, double frac) {
        double amount = frac * R[b];
        if (amount > 1e-9 * slot_len[s])
          local.push_back(Piece{slot_buyer[s], country_of[k], amount});
      });
      // Merge the slots of one buyer that landed in the same country (stable: the sum of
      // equal keys is taken in layout order on every standard library).
      std::stable_sort(local.begin(), local.end(), [](const Piece& x, const Piece& y) {
        return x.buyer != y.buyer ? x.buyer < y.buyer : x.country < y.country;
      });
      for (auto& pc : local) {
        if (!pieces.empty() && pieces.back().buyer == pc.buyer &&
            pieces.back().country == pc.country)
          pieces.back().amount += pc.amount;
        else
          pieces.push_back(pc);
      }
    }

    // 5. Supplier countries to firms, by size.
    std::vector<Flow> local_flows;  // buyer = index into buyers for now
    for (CountryId c = 0; c < nc; ++c) {
      std::vector<Piece> mine;
      for (auto& pc : pieces)
        if (pc.country == c) mine.push_back(pc);
      if (mine.empty()) continue;
      rng.shuffle(mine);
      std::vector<double> piece_len(mine.size()), firm_len;
      double total = 0;
      for (std::size_t k = 0; k < mine.size(); ++k) total += piece_len[k] = mine[k].amount;
      const auto& supplier_firms = firms_of[p][c];
      for (auto j : supplier_firms) firm_len.push_back(firms[j].weight);
      overlap(piece_len, firm_len, [&](std::size_t k, std::size_t j, double frac) {
        double amount = frac * total;
        if (amount > 1e-9 * piece_len[k])
          local_flows.push_back(Flow{supplier_firms[j], mine[k].buyer, amount});
      });
    }

    // 6. Each buyer's flows of p sum to its need a_{q,p} x_i.
    std::sort(local_flows.begin(), local_flows.end(), [](const Flow& x, const Flow& y) {
      return x.buyer != y.buyer ? x.buyer < y.buyer : x.supplier < y.supplier;
    });
    for (std::size_t k = 0; k < local_flows.size();) {
      std::size_t e = k;
      double sum = 0;
      while (e < local_flows.size() && local_flows[e].buyer == local_flows[k].buyer)
        sum += local_flows[e++].amount;
      const Buyer& b = buyers[local_flows[k].buyer];
      const double scale = b.need / sum;
      for (; k < e; ++k) {
        Flow f = local_flows[k];
        f.amount *= scale;
        f.buyer = b.firm;
        firms[f.supplier].sales += f.amount;
        flows.push_back(f);
      }
    }

    // Outputs of p's firms: sales + final demand, the country's final share by size.
    double produced = 0, final_total = 0;
    for (CountryId c = 0; c < nc; ++c) {
      double weights = 0;
      for (auto j : firms_of[p][c]) weights += firms[j].weight;
      const double final_c = m.share[c] * output * final_share;
      for (auto j : firms_of[p][c]) {
        firms[j].final_demand = final_c * firms[j].weight / weights;
        firms[j].output = firms[j].sales + firms[j].final_demand;
        produced += firms[j].output;
        final_total += firms[j].final_demand;
        if (m.final_use.empty() || !(firms[j].final_demand > 0)) continue;
        auto split = split_final_demand(m.final_use, c, firms[j].final_demand);
        if (split.size() == 1 && split[0].first == c) continue;  // all at home: no split
        for (const auto& [dest, amount] : split) destinations.push_back({j, dest, amount});
      }
    }
    balances[p] =
        MaterialBalance{m.id, produced * per_year, use * per_year, final_total * per_year};
  }

  // Build the world: firms with output > 0, links sorted by (buyer, supplier).
  WorldBuilder builder;
  for (const auto& c : d.countries) builder.country(c.code, c.groups, c.name);
  for (const auto& m : d.materials) {
    MaterialId id = builder.material(m.id, m.inventory_days, m.unit);
    Material& mat = builder.world().materials[id];
    mat.name = m.name;
    mat.tier = m.tier;
    mat.requalification_days = m.requalification_days;
    mat.utilisation = m.utilisation;
    mat.unit_value = m.unit_value;
  }
  std::vector<std::uint32_t> new_id(firms.size(), std::numeric_limits<std::uint32_t>::max());
  for (std::uint32_t i = 0; i < firms.size(); ++i) {
    const auto& f = firms[i];
    if (!(f.output > 0)) continue;
    new_id[i] = builder.firm(d.materials[f.material].id + "." + d.countries[f.country].code + "." +
                                 std::to_string(f.number),
                             f.country, f.material, f.final_demand);
  }
  std::sort(flows.begin(), flows.end(), [](const Flow& x, const Flow& y) {
    return x.buyer != y.buyer ? x.buyer < y.buyer : x.supplier < y.supplier;
  });
  for (const auto& f : flows) {
    auto s = new_id[f.supplier], b = new_id[f.buyer];
    builder.link(s, b, f.amount, d.lead[firms[f.supplier].country][firms[f.buyer].country]);
  }
  for (const auto& e : destinations) builder.final_demand_to(new_id[e.firm], e.country, e.amount);
  World& w = builder.world();
  w.source = d.file;
  w.lead_times.domestic = d.domestic;
  w.lead_times.international = d.international;
  for (CountryId a = 0; a < nc; ++a)
    for (CountryId b = 0; b < nc; ++b) {
      int expected = a == b ? d.domestic : d.international;
      if (d.lead[a][b] != expected) w.lead_times.pairs[{a, b}] = d.lead[a][b];
    }
  return Generated{builder.build(), std::move(balances)};
}

/// Recipes indexed by the world's material ids (matched by material id).
std::vector<std::vector<std::pair<MaterialId, double>>> world_recipes(const Description& d,
                                                                      const World& w) {
  std::vector<std::vector<std::pair<MaterialId, double>>> out(w.materials.size());
  for (MaterialId q = 0; q < d.materials.size(); ++q) {
    auto wq = w.find_material(d.materials[q].id);
    if (!wq) continue;
    for (auto& [p, a] : d.recipes[q].inputs) {
      auto wp = w.find_material(d.materials[p].id);
      if (wp) out[*wq].emplace_back(*wp, a);
    }
  }
  return out;
}

double residual(const World& w,
                const std::vector<std::vector<std::pair<MaterialId, double>>>& recipes) {
  const std::size_t n = w.num_firms();
  std::vector<std::size_t> begin(n + 1, 0);
  for (FirmId i = 0; i < n; ++i) begin[i + 1] = begin[i] + recipes[w.firm_material[i]].size();
  std::vector<double> got(begin[n], 0.0);
  double worst = 0;
  for (LinkId l = 0; l < w.num_links(); ++l) {
    FirmId i = w.link_buyer[l];
    MaterialId q = w.firm_material[w.link_supplier[l]];
    const auto& r = recipes[w.firm_material[i]];
    std::size_t k = 0;
    while (k < r.size() && r[k].first != q) ++k;
    if (k == r.size()) {
      worst = 1.0;  // an input that is not in the recipe
      continue;
    }
    got[begin[i] + k] += w.link_flow[l];
  }
  for (FirmId i = 0; i < n; ++i) {
    const auto& r = recipes[w.firm_material[i]];
    for (std::size_t k = 0; k < r.size(); ++k) {
      double want = r[k].second * w.baseline_output[i];
      if (want <= 0) continue;
      worst = std::max(worst, std::abs(got[begin[i] + k] - want) / want);
    }
  }
  return worst;
}

}  // namespace

bool is_world_description(const std::string& path) {
  try {
    YAML::Node root = YAML::LoadFile(path);
    return root.IsMap() && root["recipes"].IsDefined();
  } catch (const YAML::Exception&) {
    return false;
  }
}

World generate_world(const std::string& description_path) {
  return generate_world(description_path, GenerateOptions{}, nullptr);
}

World generate_world(const std::string& description_path, const GenerateOptions& options,
                     GenerationReport* report) {
  const auto t0 = std::chrono::steady_clock::now();
  Description d = parse_description(description_path);
  const std::uint64_t seed = options.seed.value_or(d.seed);
  Generated g = generate(d, seed);
  if (report) {
    report->seed = seed;
    report->countries = g.world.countries.size();
    report->materials = g.world.materials.size();
    report->firms = g.world.num_firms();
    report->links = g.world.num_links();
    report->balances = std::move(g.balances);
    report->max_balance_residual = residual(g.world, world_recipes(d, g.world));
    report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return std::move(g.world);
}

double balance_residual(const World& world, const std::string& description_path) {
  Description d = parse_description(description_path);
  return residual(world, world_recipes(d, world));
}

}  // namespace shortfall
