// Generated worlds (docs/model.md section 1, "generated"): from country-level facts, or synthetic
// scale-free test worlds for benchmarks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shortfall/world.hpp"

namespace shortfall {

/// True if the YAML file at `path` is a world description for the generator (it has a
/// `recipes` key) rather than an explicit world.
bool is_world_description(const std::string& path);

/// Generate a world from a description file. Deterministic in the description's seed.
///
/// Description keys (scenarios/worlds/critical-materials.yaml is the worked example):
///   seed, days_per_year (365: the file's quantities are annual, the world's flows daily),
///   remainder_country (gets 1 - sum of listed producer shares; else shares are normalised),
///   countries: [{code, name, groups}],
///   materials: [{id, name, unit, tier, producers: {CODE: share}, inventory_days,
///                requalification_days | requalification_months,
///                world_output (final demand = output - recipe use) | final_demand (output =
///                use + final demand) | neither (output = use),
///                firms: N (split by share) | {CODE: n},
///                utilisation (u0 in (0, 1]), unit_value (currency per unit, > 0): copied to the
///                world's material,
///                final_use_shares: {CODE or group: share} (where the final demand goes: each
///                producing firm's C0_i is split C0_{i,d} = share_d C0_i; a group's share is
///                divided equally among its members; shares sum to at most 1 and the rest
///                stays in the producing firm's own country; only with world_output or
///                final_demand),
///                sourcing: {BUYER: {SUPPLIER: share}} (fixed cells of the country-pair
///                matrix, step 3), final_demand_from: {CODE: share} (the producer countries
///                that make the final demand, sum 1; default: each its output share),
///                distinct_parts: bool (copied to the world's material)}],
///   recipes: [{output, inputs: {material: units per unit of output}}]   (no cycles),
///   firms: {per_material, min_per_country, max_per_country, pareto_alpha, max_size_ratio},
///   linking: {sourcing_slots, max_sourcing_slots, home_bias, group_bias, bias_groups},
///   lead_times: {domestic, default, pairs: [{between: [A, B] | from: A, to: B, days}]}
///     (A, B: a country, a group or a list; later pairs override earlier ones).
/// Bad input raises InputError naming the file, line, column and key path.
World generate_world(const std::string& description_path);

/// Options that override the description (e.g. `shortfall generate --seed`).
struct GenerateOptions {
  std::optional<std::uint64_t> seed;  ///< replaces the description's `seed`
};

/// Material balance of one material in a generated world (annual units of the material):
/// output = intermediate_use + final_demand, intermediate_use = sum_q a_{q,p} output_q.
struct MaterialBalance {
  std::string material;
  double output = 0;            ///< world output used by the generator
  double intermediate_use = 0;  ///< sum over recipes of coefficient x the user's output
  double final_demand = 0;      ///< the remainder, sold to final users
};

/// What the generator did: sizes, balances and the firm-level balance residual.
struct GenerationReport {
  std::uint64_t seed = 0;
  std::size_t countries = 0, materials = 0, firms = 0, links = 0;
  std::vector<MaterialBalance> balances;  ///< one per material, in the description's order
  /// max over firms i and recipe inputs q of |sum_j Z0_{ji} [p(j)=q] - a_{p(i),q} x0_i| /
  /// (a_{p(i),q} x0_i): 0 up to rounding (~1e-15).
  double max_balance_residual = 0;
  double seconds = 0;  ///< wall time of the generation
};

/// Generate with options; fills `report` if given.
World generate_world(const std::string& description_path, const GenerateOptions& options,
                     GenerationReport* report = nullptr);

/// The firm-level material-balance residual of `world` against the recipes of the description:
/// max over firms i and recipe inputs q of p(i) of
///   |sum over suppliers j with p(j) = q of Z0_{ji} - a_{p(i),q} x0_i| / (a_{p(i),q} x0_i),
/// where an input link of a material not in p(i)'s recipe counts as residual 1.
double balance_residual(const World& world, const std::string& description_path);

/// Write a world as explicit YAML + firms.csv + links.csv into `dir` (created if missing).
void write_world(const World& world, const std::string& dir);

/// The binary world of `shortfall convert` (docs/input.md, "Binary worlds"): every table in one
/// HDF5 file, written under a temporary name and renamed. Throws IoError.
void write_binary_world(const World& world, const std::string& path);
/// Read a binary world back: the same World, bit for bit (its content hash is checked against
/// the stored one). load_world() calls it for any file with the HDF5 signature. Throws
/// InputError naming the file and dataset.
World load_binary_world(const std::string& path);
/// Whether `path` starts with the HDF5 signature.
bool is_binary_world(const std::string& path);

struct SyntheticSpec {
  std::uint64_t firms = 1000;
  std::uint64_t links = 5000;
  std::uint32_t materials = 10;
  std::uint32_t countries = 5;
  std::uint64_t seed = 1;
};

/// A scale-free synthetic world satisfying the baseline identity, for benchmarks and stress
/// tests. Deterministic in the seed.
///
/// Materials m0..m{K-1} are ordered: material p buys only from materials q < p (no material
/// cycles), with fixed input coefficients a_{p,q}, so that every firm i of p has
/// sum_j Z0_{ji} [p(j)=q] = a_{p,q} x0_i. The first quarter of the materials are raw (no
/// inputs). Suppliers are drawn with probability proportional to a Pareto fitness, which gives
/// a power-law out-degree; every buyer gets links/(non-raw firms) suppliers (the remainder
/// spread one each), at least one per input material where the link budget allows. Firms of the
/// top material sell only to final users; the others sell a small share to final users.
World generate_synthetic(const SyntheticSpec& spec);

/// The input coefficient a_{p,q} the synthetic generator uses for material p buying q (0 if q is
/// not an input of p); exposed for tests.
double synthetic_coefficient(const SyntheticSpec& spec, std::uint32_t buyer_material,
                             std::uint32_t input_material);

}  // namespace shortfall
