// The world: countries, materials, firms and supply links (docs/model.md section 1).
//
// A World is built once (from YAML/CSV, by the generator, or in code through WorldBuilder) as
// WorldTables, validated by World's constructor, and then frozen: it has no mutators, and
// simulations only read it, so one World can serve many runs at once. Firms and links are stored
// as flat arrays indexed by dense ids (structure of arrays).
#pragma once

#include <array>
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
  /// Spread of the users' inventory cover across firms (model section 2.1,
  /// `model.inventory_spread`): [low, high] days, 0 < low <= high; the buyers' targets of this
  /// input are spread evenly over the range, then scaled so that their use-weighted mean is the
  /// nominal n. Unset: every buyer holds the nominal n.
  std::optional<std::array<double, 2>> inventory_days_range;
  /// A by-product (model section 3.5, `model.byproduct`): its output is set by a main product
  /// the world does not model, so its makers keep producing their baseline output, within
  /// capacity and inputs, when demand for it falls; what is not ordered is kept by the maker
  /// and not offered. false: output follows demand.
  bool byproduct = false;
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

/// The world as read, before any check: what the loaders, the generator, WorldBuilder and the
/// Python API fill. Constructing a World from it checks it and derives the rest; the World is
/// then immutable (docs/architecture.md).
struct WorldTables {
  // Countries and materials, by dense id.
  std::vector<Country> countries;
  std::vector<Material> materials;

  // Firms (structure of arrays, index = FirmId).
  std::vector<std::string> firm_id;
  std::vector<CountryId> firm_country;
  std::vector<MaterialId> firm_material;
  std::vector<double> final_demand;  ///< C0_i, units of the firm's material per day
  /// Per-firm inventory target days n_i; NaN (or missing): from the input material, then the
  /// scenario.
  std::vector<double> firm_inventory_days;

  // Links j -> i (index = LinkId, in the order given).
  std::vector<FirmId> link_supplier;
  std::vector<FirmId> link_buyer;
  std::vector<double> link_flow;  ///< Z0_ji, units of the supplier's material per day
  /// l_ji >= 1 days; 0 or missing: from the lead-time table by country pair.
  std::vector<std::int32_t> link_lead_time;

  LeadTimes lead_times;

  /// Final demand split by destination country (model section 1), in any order; a firm with
  /// no entry sells all of C0_i to its own country. World checks that a firm's entries sum to
  /// its C0_i (relative 1e-9) and builds the per-firm destination ranges.
  std::vector<FinalDemandShare> final_demand_split;

  std::string source;  ///< file it came from (or "<generated>")

  // Lookups by name while the tables are filled (World has the same, and uses these).
  [[nodiscard]] std::optional<CountryId> find_country(std::string_view code) const;
  [[nodiscard]] std::optional<MaterialId> find_material(std::string_view id) const;
  [[nodiscard]] std::vector<CountryId> resolve_countries(std::string_view code_or_group) const;
  [[nodiscard]] bool is_group(std::string_view name) const;
  [[nodiscard]] bool country_matches(CountryId c, std::string_view name) const;
};

namespace detail {
struct WorldTestAccess;  // tests only (sim/world/world_test_access.hpp)
}

/// A checked world. It is built from WorldTables and has no mutators: the tables and the data
/// derived from them (adjacency, firm index, baseline output, final destinations, hash) cannot
/// get out of step. Copies share the adjacency.
class World {
 public:
  /// An empty world (no countries, firms or links); not a valid input to a simulation.
  World() = default;
  /// Validate the tables (defaulting material names, firm inventory days and link lead times),
  /// derive baseline output, build the adjacency and the hash. Throws InputError naming
  /// `tables.source` and the key.
  explicit World(WorldTables tables);

  /// The tables as checked (with the defaults filled in).
  [[nodiscard]] const WorldTables& tables() const { return t_; }

  [[nodiscard]] const std::vector<Country>& countries() const { return t_.countries; }
  [[nodiscard]] const std::vector<Material>& materials() const { return t_.materials; }
  [[nodiscard]] const std::vector<std::string>& firm_id() const { return t_.firm_id; }
  [[nodiscard]] const std::vector<CountryId>& firm_country() const { return t_.firm_country; }
  [[nodiscard]] const std::vector<MaterialId>& firm_material() const { return t_.firm_material; }
  /// C0_i, units of the firm's material per day.
  [[nodiscard]] const std::vector<double>& final_demand() const { return t_.final_demand; }
  /// Per-firm inventory target days n_i; NaN: from the input material, then the scenario.
  [[nodiscard]] const std::vector<double>& firm_inventory_days() const {
    return t_.firm_inventory_days;
  }
  [[nodiscard]] const std::vector<FirmId>& link_supplier() const { return t_.link_supplier; }
  [[nodiscard]] const std::vector<FirmId>& link_buyer() const { return t_.link_buyer; }
  /// Z0_ji, units of the supplier's material per day.
  [[nodiscard]] const std::vector<double>& link_flow() const { return t_.link_flow; }
  /// l_ji >= 1 days.
  [[nodiscard]] const std::vector<std::int32_t>& link_lead_time() const {
    return t_.link_lead_time;
  }
  [[nodiscard]] const LeadTimes& lead_times() const { return t_.lead_times; }
  /// The final demand split as given (any order); see final_dest_* for the checked ranges.
  [[nodiscard]] const std::vector<FinalDemandShare>& final_demand_split() const {
    return t_.final_demand_split;
  }
  [[nodiscard]] const std::string& source() const { return t_.source; }

  /// x0_i = sum_k Z0_ik + C0_i.
  [[nodiscard]] const std::vector<double>& baseline_output() const { return baseline_output_; }
  /// Destinations of firm i's final demand: entries [final_dest_begin[i], final_dest_begin[i+1])
  /// of final_dest_country / final_dest_amount, in country order. Every firm with C0_i > 0 has
  /// at least one entry (its own country where the world gives no split); size num_firms + 1.
  [[nodiscard]] const std::vector<std::uint32_t>& final_dest_begin() const {
    return final_dest_begin_;
  }
  [[nodiscard]] const std::vector<CountryId>& final_dest_country() const {
    return final_dest_country_;
  }
  /// C0_{i,d}.
  [[nodiscard]] const std::vector<double>& final_dest_amount() const { return final_dest_amount_; }
  /// True where some firm's final demand goes to another country than its own.
  [[nodiscard]] bool has_final_demand_split() const { return has_final_demand_split_; }
  /// Hash of the canonical content.
  [[nodiscard]] const std::string& sha256() const { return sha256_; }

  [[nodiscard]] std::size_t num_firms() const { return t_.firm_id.size(); }
  [[nodiscard]] std::size_t num_links() const { return t_.link_flow.size(); }

  [[nodiscard]] std::optional<CountryId> find_country(std::string_view code) const {
    return t_.find_country(code);
  }
  [[nodiscard]] std::optional<MaterialId> find_material(std::string_view id) const {
    return t_.find_material(id);
  }
  [[nodiscard]] std::optional<FirmId> find_firm(std::string_view id) const;
  /// Countries that are members of the group (or the country itself, or all for "all").
  [[nodiscard]] std::vector<CountryId> resolve_countries(std::string_view code_or_group) const {
    return t_.resolve_countries(code_or_group);
  }
  [[nodiscard]] bool is_group(std::string_view name) const { return t_.is_group(name); }
  /// Whether `name` ("all", a country code or a group) names country c: the one rule every
  /// selection by country (events, policies, trade cuts) follows.
  [[nodiscard]] bool country_matches(CountryId c, std::string_view name) const {
    return t_.country_matches(c, name);
  }
  /// Whether any of `names` names country c.
  [[nodiscard]] bool country_in(CountryId c, const std::vector<std::string>& names) const;
  /// Whether countries a and b are members of a common group (priority class, substitution bias).
  [[nodiscard]] bool share_group(CountryId a, CountryId b) const;

  [[nodiscard]] WorldStats stats() const;
  [[nodiscard]] const detail::Network& network() const { return *network_; }

 private:
  friend struct detail::WorldTestAccess;
  void finalize();
  void build_final_destinations();

  WorldTables t_;
  // Derived by the constructor.
  std::vector<double> baseline_output_;
  std::vector<std::uint32_t> final_dest_begin_;
  std::vector<CountryId> final_dest_country_;
  std::vector<double> final_dest_amount_;
  bool has_final_demand_split_ = false;
  std::string sha256_;
  std::shared_ptr<const detail::Network> network_;
  /// find_firm's hash table of FirmIds by id (sim/world/firm_index.hpp).
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
  /// The tables built so far, to set what the helpers above do not (lead times, material
  /// fields).
  WorldTables& tables() { return tables_; }
  /// Check the tables and return the world (throws InputError).
  World build();

 private:
  WorldTables tables_;
};

/// Load an explicit world (YAML with inline or CSV firms and links). Throws InputError/IoError.
World load_world(const std::string& path);
/// The same for a world named by another input file at `named_at` (a scenario's `world:` key):
/// a world file that cannot be read is an InputError there, naming the file.
World load_world(const std::string& path, const SourceLocation& named_at);

}  // namespace shortfall
