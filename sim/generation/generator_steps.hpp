// Internal to the generator (generator.cpp, description.cpp): the description as read, and the
// steps that turn it into a world. The method is in generator.cpp's header comment.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "shortfall/generator.hpp"
#include "shortfall/world.hpp"
#include "util/yaml_util.hpp"

namespace shortfall::generation {

/// `v` with 6 significant digits (for messages).
std::string fmt(double v);

// ---- the description (description.cpp) --------------------------------------------------------

struct DescMaterial {
  std::string id, name, unit, tier;
  std::optional<double> world_output;  // annual
  std::optional<double> final_demand;  // annual
  std::optional<detail::YNode> world_output_node;
  std::vector<double> share;  // by country
  std::optional<double> inventory_days, requalification_days;
  std::optional<double> utilisation, unit_value;  // passed through to the world's material
  /// Share of the material's final demand that goes to final users in each country (by
  /// country; groups already divided among their members); empty: not split. The remainder
  /// 1 - sum stays in each producing firm's own country.
  std::vector<double> final_use;
  /// `final_demand_from: {CODE: share}`: the producer countries that make the material's final
  /// demand (by country, sum 1); empty: each country makes its output share of it (step 3).
  std::vector<double> final_from;
  std::optional<detail::YNode> final_from_node;
  std::optional<long long> firms_total;             // overrides firms.per_material
  std::map<CountryId, long long> firms_by_country;  // explicit counts
  /// Sourced sourcing concentration (`sourcing:`): fixed shares of a buyer country's need of
  /// this material taken from a supplier country, as (supplier, buyer, share); step 3 keeps
  /// these cells of T at share x R_b and fits the others to what is left.
  struct FixedShare {
    CountryId supplier, buyer;
    double share;
    detail::YNode node;
  };
  std::vector<FixedShare> sourcing;
  /// `distinct_parts: true`: each supplier link carries a distinct part (docs/model.md 3.5).
  bool distinct_parts = false;
  /// `byproduct: true`: output set by an unmodelled main product (copied to the world's material).
  bool byproduct = false;
  /// `inventory_days_range: [low, high]` (copied to the world's material, model section 2.1).
  std::optional<std::array<double, 2>> inventory_days_range;
  detail::YNode node;
};

struct Recipe {
  std::vector<std::pair<MaterialId, double>> inputs;  // a_{q,p} for output q
  std::optional<detail::YNode> node;
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

/// Read and check a description file; bad input raises InputError at the key.
Description parse_description(const std::string& path);

/// Materials ordered so that every user of p comes before p (Kahn on "q uses p"). Throws on a
/// recipe cycle, naming it.
std::vector<MaterialId> top_down_order(const Description& d);

// ---- generation (generator.cpp) ---------------------------------------------------------------

struct Generated {
  World world;
  std::vector<MaterialBalance> balances;
};

/// Steps 1-7 for every material, then the world.
Generated generate(const Description& d, std::uint64_t seed);

/// Recipes indexed by the world's material ids (matched by material id).
std::vector<std::vector<std::pair<MaterialId, double>>> world_recipes(const Description& d,
                                                                      const World& w);

/// The firm-level material-balance residual (shortfall/generator.hpp balance_residual).
double residual(const World& w,
                const std::vector<std::vector<std::pair<MaterialId, double>>>& recipes);

}  // namespace shortfall::generation
