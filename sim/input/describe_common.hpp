// Internal to `shortfall info` and `shortfall validate` (describe_world.cpp,
// describe_scenario.cpp, describe_noop.cpp): numbers and lists in words, wrapped lines, and the
// facts about a world that a scenario refers to (what an event selects or reaches, what a
// policy measures against). The rules follow the engine: sim/engine/engine.hpp and
// sim/policies/policies.cpp.
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "shortfall/scenario.hpp"
#include "shortfall/world.hpp"
#include "util/text.hpp"
#include "util/yaml_util.hpp"
#include "world/selection.hpp"

namespace shortfall::describing {

using util::num;
/// A share as a percentage with one decimal ("<0.1%" for a small share > 0).
std::string percent(double share);
std::string join(const std::vector<std::string>& v, const char* sep = ", ");
using util::plural;

std::size_t count(const std::vector<bool>& v);

/// Lines of at most `width` characters (or one atom, where an atom is longer) made of `atoms`,
/// each but the last followed by `glue` ("," for lists, "" for words), separated by spaces.
/// An atom is never split.
std::vector<std::string> wrap(const std::vector<std::string>& atoms, const std::string& glue,
                              std::size_t width);

/// `label` padded to `indent` columns, then the atoms wrapped with continuation lines indented as
/// far.
void print_wrapped(std::ostream& os, const std::string& label,
                   const std::vector<std::string>& atoms, const std::string& glue,
                   std::size_t width, std::size_t indent = 12);

/// Baseline daily use per (country, material), sum of Z0 over the links into the country's
/// firms (model section 10's baseline_use): what stockpiles and crisis triggers measure against.
std::vector<double> country_material_use(const World& w);

/// Firms picked by an event's selector (sim/engine/engine.hpp resolve_firms).
std::vector<FirmId> selected_firms(const World& w, const Event& ev);

/// The (buyer country, input material) pairs with baseline use that a front-loading event
/// raises the stock target of (sim/engine/events.cpp recompute_stock_targets).
std::size_t front_loading_pairs(const World& w, const Event& ev);

/// Links and final-demand destinations an export control, trade cut or transport disruption
/// reaches (sim/engine/engine.hpp recompute_controls: only across borders).
std::pair<std::size_t, std::size_t> reach(const World& w, const Event& ev, bool final_controls);

/// Can any active control reach final users (model 4)? The engine caps final-demand exports
/// only with final_demand_controls and some export control or trade cut.
bool has_controls(const Scenario& s);
/// Can a firm produce above capacity (alpha_max > 1, or a surge)?
bool overproduction(const Scenario& s);
/// Are new suppliers matched (substitution, or a crisis_response that matches suppliers)?
bool matching(const Scenario& s);

const char* rationing_name(Rationing r);
std::string materials_text(const std::vector<std::string>& m);

/// The scenario's own YAML (for where a key is written and whether it is written at all).
std::optional<detail::YNode> scenario_yaml(const Scenario& s);

}  // namespace shortfall::describing
