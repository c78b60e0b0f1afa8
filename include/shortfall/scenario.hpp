// A scenario: which world, how long, the model parameters, and the events (docs/model.md 3-5).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shortfall/error.hpp"
#include "shortfall/world.hpp"

namespace shortfall {

enum class Rationing { kProportional, kFinalDemandLast, kWaterfill, kPriority };
/// Classes for `priority` rationing. Served in the configured order.
enum class PriorityClass : std::uint8_t { kDomestic = 0, kGroup = 1, kRest = 2, kFinal = 3 };

/// New suppliers (docs/model.md section 7).
struct SubstitutionParams {
  bool enabled = false;
  double threshold = 0.9;  ///< theta: fulfilment ratio below which a buyer searches
  /// T_search in days; unset: the material's requalification_days (30 if the world has none).
  std::optional<double> search_days;
  double home_bias = 2.0;   ///< weight of a domestic candidate's spare capacity
  double group_bias = 1.5;  ///< weight of a candidate in a group shared with the buyer
};

/// How a buyer sets its stock target (model section 3.3).
enum class Orders {
  kPlanned,      ///< from planned output x̂ = min(x^cap(t), D(t-1)) (version 2 default)
  kOutputBased,  ///< from last output x(t-1) (Inoue & Todo 2019)
};

/// The model's parameters and switches (model section 0). Defaults are model version 2;
/// apply_preset("inoue_todo_2019") gives the published model.
struct ModelParams {
  /// "" (version 2) or "inoue_todo_2019" (the published model: see apply_preset).
  std::string preset;
  Orders orders = Orders::kPlanned;
  bool destocking = false;            ///< may the restock term of an order be negative
  double utilisation = 0.85;          ///< baseline capacity utilisation u0 (section 3.5)
  bool final_demand_controls = true;  ///< export controls also cap exports to final users
  /// Honour the world's `distinct_parts` materials (section 3.5): a buyer makes no more than
  /// its scarcest supplier's part allows. false (and under the preset): every input is pooled.
  bool distinct_parts = true;
  /// Honour the world's `inventory_days_range` materials (section 2.1): the buyers' stock
  /// targets of such an input spread over the range around the nominal n. false (and under the
  /// preset): every buyer holds the nominal n.
  bool inventory_spread = true;
  /// Honour the world's `byproduct` materials (section 3.5): their makers produce at least their
  /// baseline output, within capacity and inputs. false (and under the preset): output follows
  /// demand.
  bool byproduct = true;
  double tau = 6.0;          ///< order adjustment time (days)
  double alpha_max = 1.0;    ///< overproduction ceiling (ARIO, section 6); 1 = off
  double tau_alpha = 365.0;  ///< overproduction adjustment time (days)
  SubstitutionParams substitution;
  double inventory_days = 15.0;  ///< n where neither the firm nor its input material says
  Rationing rationing = Rationing::kProportional;
  std::vector<PriorityClass> priority = {PriorityClass::kDomestic, PriorityClass::kGroup,
                                         PriorityClass::kRest, PriorityClass::kFinal};

  /// Sets the switches of a preset: "inoue_todo_2019" fixes orders = output_based,
  /// destocking = true, utilisation = 1 (and the world's material utilisations are ignored).
  /// Returns false for an unknown name.
  bool apply_preset(const std::string& name);
  /// The model with the published simulator's switches (Inoue & Todo 2019).
  static ModelParams inoue_todo_2019() {
    ModelParams m;
    m.apply_preset("inoue_todo_2019");
    return m;
  }
  [[nodiscard]] bool is_preset() const { return !preset.empty(); }
};

inline bool ModelParams::apply_preset(const std::string& name) {
  if (name != "inoue_todo_2019") return false;
  preset = name;
  orders = Orders::kOutputBased;
  destocking = true;
  utilisation = 1.0;
  distinct_parts = false;
  inventory_spread = false;
  byproduct = false;
  return true;
}

/// A set of firms named by the same keys in every event: `firms`, `country`/`countries`,
/// `material`/`materials` (codes or groups or "all"), `except` (countries or groups to leave
/// out), `except_materials`. Unset lists mean "all".
struct Selector {
  std::vector<std::string> firms;
  std::vector<std::string> countries;
  std::vector<std::string> materials;
  std::vector<std::string> except_countries;
  std::vector<std::string> except_materials;
  [[nodiscard]] bool empty() const {
    return firms.empty() && countries.empty() && materials.empty();
  }
};

enum class EventType {
  kCapacityLoss,
  kExportControl,
  kTradeCut,
  kDemandShock,
  kTransportDisruption,
  kFrontLoading
};
enum class RecoveryType { kNone, kLinear, kExponential, kStep };

/// The event type as written in scenarios ("capacity_loss", ...).
[[nodiscard]] const char* event_type_name(EventType t);

struct Recovery {
  RecoveryType type = RecoveryType::kNone;
  double days = 0;  ///< linear: R; exponential: half-life h
};

struct Event {
  EventType type = EventType::kCapacityLoss;
  int start = 0;
  std::optional<int> end;   ///< first day on which the event no longer applies
  std::string description;  ///< one line for the event log
  SourceLocation where;     ///< where it was defined (for warnings)

  // capacity_loss / demand_shock: the affected firms.
  Selector firms;
  double loss = 0.0;                                        ///< capacity_loss: delta in [0,1]
  std::vector<std::pair<std::string, double>> firm_losses;  ///< from firms_csv (firm id, loss)
  Recovery recovery;
  double factor = 1.0;  ///< demand_shock: C = C0 * factor

  // export_control: exporter countries, materials, target countries; front_loading: the
  // buyer countries (targets, except_targets) and their input materials.
  std::vector<std::string> exporters, targets, except_targets, materials;
  double license_share = 0.0;  ///< k in [0,1]
  double stock_days = 0.0;     ///< front_loading: days added to the buyers' stock target n

  // trade_cut / transport_disruption: two sides of country sets (both directions).
  std::vector<std::string> side_a, side_b;
  int extra_days = 0;  ///< transport_disruption
};

enum class PolicyType { kCrisisResponse, kStockpile, kSurge };

/// A policy (docs/model.md sections 6, 8, 9). Fields apply by type.
struct Policy {
  PolicyType type = PolicyType::kSurge;
  std::string name;
  SourceLocation where;

  // crisis_response
  std::vector<std::string> members;
  /// Trigger (section 8): a member's input shortage over baseline use above this ratio, or,
  /// where trigger_cover_days is set, its inventory cover of the material below that many days;
  /// for trigger_days consecutive days.
  double trigger_shortage_ratio = 0.1;
  std::optional<double> trigger_cover_days;
  int trigger_days = 3;
  int meeting_days = 15;
  int implementation_days = 7;
  bool match_suppliers = false, surge = false, release_stockpiles = false;
  double surge_alpha_max = 1.15;

  // stockpile
  std::string country, material;
  std::optional<double> days_of_use, quantity;
  std::optional<double> release_shortage_ratio;  ///< release when the ratio passes this
  std::optional<double> release_cover_days;      ///< or when cover falls below this many days
  std::optional<int> release_start;              ///< or release from this day
  /// No rule of its own (none of the three above): opens only through a crisis mechanism.
  [[nodiscard]] bool has_release_rule() const {
    return release_shortage_ratio || release_cover_days || release_start;
  }
  double max_daily_share = 0.05;  ///< of the initial quantity per day

  // surge
  std::vector<std::string> countries, materials;
  int start = 0;
  std::optional<int> end;
  double alpha_max = 1.0;
};

/// How the run file's series chunks are stored (docs/output.md, "Storage").
enum class Compression {
  kDeflate,  ///< shuffle + deflate, the streams made by a general encoder at level 1
  kFast,     ///< the same filters, the streams made by the encoder for day-by-day series: about
             ///< the same size, faster (the default)
  kNone,     ///< stored as they are
};

/// What the recorder writes (docs/model.md section 10).
struct RecordConfig {
  bool firm_level = true;  ///< per-firm daily series
  int every = 1;           ///< record every k-th day (and the last day)
  /// Series chunks shuffled and deflated, the streams made by the encoder for day-by-day
  /// series (kFast) or by a general one (kDeflate: libdeflate or zlib at level 1, slower,
  /// about the same size), or stored as they are (kNone; docs/output.md).
  Compression compression = Compression::kFast;
  /// Per-firm series (not `binding`) stored as float32 instead of float64: half the bytes and
  /// about half the recording time; each value is the float64 value rounded to nearest
  /// (relative error at most 2^-24; docs/output.md "Storage").
  bool firm_float32 = false;
};

struct Scenario {
  std::string name;
  std::string path;            ///< the scenario file ("" if built in code)
  std::string text;            ///< the YAML text, stored in the output
  std::string world_path;      ///< resolved relative to the scenario file
  SourceLocation world_where;  ///< the `world:` key's value (for a world that cannot be read)
  int days = 365;
  std::uint64_t seed = 1;
  ModelParams model;
  std::vector<Event> events;
  std::vector<Policy> policies;
  RecordConfig record;
};

/// Parse a scenario file (does not load the world). Throws InputError/IoError.
Scenario load_scenario(const std::string& path);
/// Parse scenario YAML text; `path` is used for messages and to resolve the world path.
Scenario parse_scenario(const std::string& yaml_text, const std::string& path);

/// Check a scenario against its world (unknown countries, materials or firms in events, empty
/// selections as warnings). Throws InputError; returns warnings.
std::vector<std::string> check_scenario(const Scenario& scenario, const World& world);

}  // namespace shortfall
