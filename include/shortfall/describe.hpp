// What a world holds and what a scenario or a sweep will do, in words (docs/commands.md):
// the ids and tables of `shortfall info`, the plan that `shortfall validate` prints, and the
// warnings about settings that will do nothing (an event that selects no firm, a policy that can
// never trigger, a model key every firm overrides, a sweep axis or replicates that change
// nothing).
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "shortfall/scenario.hpp"
#include "shortfall/world.hpp"

namespace shortfall {

struct SweepPlan;

// ---- shortfall info ------------------------------------------------------------------------

/// The groups of the world, sorted by name, with their member countries (in world order).
std::vector<std::pair<std::string, std::vector<CountryId>>> world_groups(const World& w);

/// Each country's share of the world's baseline output x0 of material m (sum over its firms),
/// largest first (ties: world order); countries without firms of m are left out.
std::vector<std::pair<CountryId, double>> producer_shares(const World& w, MaterialId m);

/// The compact overview of `shortfall info`: countries with their groups, groups with their
/// member counts and materials with tier and unit, in lines of at most `width` characters.
void print_world_ids(const World& w, std::ostream& os, std::size_t width = 100);

enum class WorldTable { kCountries, kGroups, kMaterials };
/// The full tables of `shortfall info --list`: countries (code, firms, groups, name), groups
/// (members), materials (tier, unit, firms, producers by share of baseline output, name).
void print_world_table(const World& w, WorldTable what, std::ostream& os);

// ---- shortfall validate --------------------------------------------------------------------

/// Everything the run of `s` on `w` will do: model switches in force, rationing, lead times,
/// events with what they select, policies with their triggers, recording and `out`.
void print_scenario_plan(const Scenario& s, const World& w, const std::string& out,
                         std::ostream& os);

/// Settings of `s` that will do nothing on `w` (each "file:line:column: key: what and why"):
/// events that select no firm or no link, policies that can never trigger or act, stockpiles
/// nobody can draw on, model keys that every firm or material of the world overrides.
/// Complements check_scenario's warnings (never repeats them).
std::vector<std::string> scenario_noop_warnings(const Scenario& s, const World& w);

/// Facts of a world that decide whether a scenario key is used (computed once per world).
struct WorldFacts {
  std::size_t inputs = 0;               ///< (firm, input material) pairs
  std::size_t inputs_on_default = 0;    ///< ... whose inventory target is model.inventory_days
  std::size_t materials_made = 0;       ///< materials some firm makes
  std::size_t made_on_default = 0;      ///< ... without a utilisation of their own
  std::size_t distinct_materials = 0;   ///< materials marked distinct_parts (model 3.5)
  std::size_t spread_materials = 0;     ///< materials with an inventory_days_range (model 2.1)
  std::size_t byproduct_materials = 0;  ///< materials marked byproduct (model 3.5)
};
WorldFacts world_facts(const World& w);

/// A canonical text of everything in `s` that can change a run's results on a world with
/// `facts`: two scenarios with the same text give the same results, to the last bit. Left out:
/// names, descriptions, recording, the seed where nothing draws random numbers, and model keys
/// that nothing uses (model.inventory_days where every input has its own target, tau_alpha
/// without overproduction, substitution parameters with substitution off, ...).
std::string effective_settings(const Scenario& s, const WorldFacts& facts);

/// True if a run of `s` draws random numbers (model.substitution or a crisis_response with
/// match_suppliers: the seed breaks ties between candidate suppliers).
bool uses_seed(const Scenario& s);

// ---- shortfall sweep -----------------------------------------------------------------------

/// Axes of the sweep that change nothing (at every point, any of the axis's values gives the
/// same effective settings) and replicates that change nothing (no run draws random numbers),
/// each "file:line:column: what and why". Reported before the runs start.
std::vector<std::string> sweep_noop_warnings(const SweepPlan& plan, const World& w);

}  // namespace shortfall
