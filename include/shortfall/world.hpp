// The world: countries, materials, firms and supply links (docs/model.md section 1).
//
// A World is built once (from YAML/CSV, by the generator, or in code through WorldBuilder),
// validated, and then frozen: simulations only read it, so one World can serve many runs at
// once. Firms and links are stored as flat arrays indexed by dense ids (structure of arrays).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shortfall/error.hpp"

namespace shortfall {

/// The largest quantity an input may give (a flow, a final demand, a destination amount, a
/// stockpile quantity, a generator's world output) and the largest value per unit. Every
/// product the model forms from two of them and its factors (inventory days <= 3650, a demand
/// shock <= 1e6, surge alpha <= 100, sums over < 2^32 links, 36500 days) stays below 1e230, far
/// from the largest double (1.8e308): a run never overflows into inf or NaN (docs/input.md).
inline constexpr double kMaxQuantity = 1e100;

namespace detail {
struct Network;  // compressed adjacency built from the links (sim/world/network.hpp)
}

using FirmId = std::uint32_t;
using LinkId = std::uint32_t;
using CountryId = std::uint32_t;
using MaterialId = std::uint32_t;

struct Country {
  std::string code;                 ///< "JPN"
  std::string name;                 ///< "Japan"
  std::vector<std::string> groups;  ///< "ipef", "msp", ...
};

struct Material {
  std::string id;    ///< "gallium"
  std::string name;  ///< human-readable; defaults to id
  std::string unit;  ///< "t"
  std::string tier;  ///< raw, processed, component, end (informational)
  /// Inventory target in days held by users of this material (n); unset: the scenario default.
  std::optional<double> inventory_days;
  /// Days to qualify a new supplier of this material (section 7); unset: not known.
  std::optional<double> requalification_days;
  /// Baseline capacity utilisation u0 in (0, 1] of the firms making this material (model
  /// section 3.5); unset: the scenario's `model.utilisation`. Ignored under the preset.
  std::optional<double> utilisation;
  /// Value of one unit (currency per unit, e.g. USD per tonne); unset: not known. Only values
  /// may be summed across materials (model section 10).
  std::optional<double> unit_value;
  /// Each supplier link of this material carries a distinct part that no other supplier's
  /// replaces (model section 3.5, `model.distinct_parts`): a buyer makes no more than its
  /// scarcest part allows. false: the suppliers' goods are pooled.
  bool distinct_parts = false;
};

/// One destination of a firm's final demand (model section 1): C0_{i,d} = amount.
struct FinalDemandShare {
  FirmId firm = 0;
  CountryId country = 0;
  double amount = 0.0;  ///< units of the firm's material per day
};

/// Lead times in days by country pair (docs/model.md section 5).
struct LeadTimes {
  int domestic = 1;
  int international = 1;                                 ///< "default" in YAML
  std::map<std::pair<CountryId, CountryId>, int> pairs;  ///< (supplier, buyer) overrides
  [[nodiscard]] int between(CountryId supplier, CountryId buyer) const;
};

/// Summary statistics printed by `shortfall info` and `validate`.
struct WorldStats {
  std::size_t countries = 0, materials = 0, firms = 0, links = 0;
  std::size_t firms_with_final_demand = 0, raw_firms = 0;  ///< raw: no input links
  double mean_in_degree = 0, max_in_degree = 0, max_out_degree = 0;
  /// Largest |x0 - (sales to firms + final demand)| / x0 over firms: 0 up to rounding.
  double max_balance_residual = 0;
  int max_lead_time = 1;
};

class World {
 public:
  // Countries and materials, by dense id.
  std::vector<Country> countries;
  std::vector<Material> materials;

  // Firms (structure of arrays, index = FirmId).
  std::vector<std::string> firm_id;
  std::vector<CountryId> firm_country;
  std::vector<MaterialId> firm_material;
  std::vector<double> final_demand;  ///< C0_i, units of the firm's material per day
  /// Per-firm inventory target days n_i; NaN: from the input material, then the scenario.
  std::vector<double> firm_inventory_days;

  // Links j -> i (index = LinkId, in the order given).
  std::vector<FirmId> link_supplier;
  std::vector<FirmId> link_buyer;
  std::vector<double> link_flow;             ///< Z0_ji, units of the supplier's material per day
  std::vector<std::int32_t> link_lead_time;  ///< l_ji >= 1 days

  LeadTimes lead_times;

  /// Final demand split by destination country (model section 1), in any order; a firm with
  /// no entry sells all of C0_i to its own country. finalize() checks that a firm's entries
  /// sum to its C0_i (relative 1e-9) and builds the per-firm ranges below.
  std::vector<FinalDemandShare> final_demand_split;

  // Derived by finalize().
  std::vector<double> baseline_output;  ///< x0_i = sum_k Z0_ik + C0_i
  /// Destinations of firm i's final demand: entries [final_dest_begin[i], final_dest_begin[i+1])
  /// of final_dest_country / final_dest_amount, in country order. Every firm with C0_i > 0 has
  /// at least one entry (its own country where the world gives no split); size num_firms + 1.
  std::vector<std::uint32_t> final_dest_begin;
  std::vector<CountryId> final_dest_country;
  std::vector<double> final_dest_amount;  ///< C0_{i,d}
  /// True where some firm's final demand goes to another country than its own.
  bool has_final_demand_split = false;

  std::string source;  ///< file it came from (or "<generated>")
  std::string sha256;  ///< hash of the canonical content

  [[nodiscard]] std::size_t num_firms() const { return firm_id.size(); }
  [[nodiscard]] std::size_t num_links() const { return link_flow.size(); }

  [[nodiscard]] std::optional<CountryId> find_country(std::string_view code) const;
  [[nodiscard]] std::optional<MaterialId> find_material(std::string_view id) const;
  [[nodiscard]] std::optional<FirmId> find_firm(std::string_view id) const;
  /// Countries that are members of the group (or the country itself, or all for "all").
  [[nodiscard]] std::vector<CountryId> resolve_countries(std::string_view code_or_group) const;
  [[nodiscard]] bool is_group(std::string_view name) const;
  /// Whether `name` ("all", a country code or a group) names country c: the one rule every
  /// selection by country (events, policies, trade cuts) follows.
  [[nodiscard]] bool country_matches(CountryId c, std::string_view name) const;
  /// Whether any of `names` names country c.
  [[nodiscard]] bool country_in(CountryId c, const std::vector<std::string>& names) const;
  /// Whether countries a and b are members of a common group (priority class, substitution bias).
  [[nodiscard]] bool share_group(CountryId a, CountryId b) const;

  [[nodiscard]] WorldStats stats() const;
  [[nodiscard]] const detail::Network& network() const { return *network_; }

  /// Validate, derive baseline output, build the adjacency and the hash. Throws InputError.
  void finalize();

 private:
  void build_final_destinations();
  std::shared_ptr<const detail::Network> network_;
  /// find_firm's hash table of FirmIds by id (sim/world/firm_index.hpp), built by finalize().
  std::vector<std::uint64_t> firm_slots_;
};

/// Convenience for building small worlds in code (tests, examples, the generator).
class WorldBuilder {
 public:
  CountryId country(std::string code, std::vector<std::string> groups = {}, std::string name = "");
  MaterialId material(std::string id, std::optional<double> inventory_days = std::nullopt,
                      std::string unit = "unit");
  FirmId firm(std::string id, CountryId country, MaterialId material, double final_demand = 0.0,
              std::optional<double> inventory_days = std::nullopt);
  LinkId link(FirmId supplier, FirmId buyer, double flow, int lead_time = 0 /*0: by country*/);
  /// C0_{firm,country} = amount: a part of the firm's final demand sold to final users there.
  void final_demand_to(FirmId firm, CountryId country, double amount);
  World& world() { return world_; }
  /// Finalize and return the world.
  World build();

 private:
  World world_;
};

/// Load an explicit world (YAML with inline or CSV firms and links). Throws InputError/IoError.
World load_world(const std::string& path);
/// The same for a world named by another input file at `named_at` (a scenario's `world:` key):
/// a world file that cannot be read is an InputError there, naming the file.
World load_world(const std::string& path, const SourceLocation& named_at);

}  // namespace shortfall
