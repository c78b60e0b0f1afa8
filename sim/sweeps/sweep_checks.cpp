// Silent no-ops in sweeps (docs/sweeps.md): an axis whose values give the same runs, and
// replicates whose seeds give the same runs, reported by `shortfall sweep` (and --dry-run)
// before any run starts.
//
// An axis changes nothing when, at every point of the sweep, setting it to another of its
// values leaves the point's effective settings (effective_settings: everything that can change
// a run's results on this world) as they were. Replicates change nothing when no run draws
// random numbers (uses_seed).
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <variant>

#include "shortfall/describe.hpp"
#include "shortfall/sweep.hpp"
#include "util/yaml_util.hpp"

namespace shortfall {

namespace {

std::string yaml_text(const AxisValue& v) {
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) {
    char b[64];
    for (int p = 1; p <= 17; ++p) {
      std::snprintf(b, sizeof b, "%.*g", p, *d);
      if (std::strtod(b, nullptr) == *d) break;
    }
    return b;
  }
  return std::get<std::string>(v);
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

/// Why an axis of this key path can change nothing (the common cases; else a general reason).
std::string reason(const std::string& path, const Scenario& base, const WorldFacts& f) {
  if (path == "model.inventory_days" && f.inputs_on_default == 0)
    return "every one of the world's " + std::to_string(f.inputs) +
           " firm inputs takes its inventory target from the firm's or the material's "
           "inventory_days in the world, so model.inventory_days is used by no firm";
  if (path == "model.utilisation")
    return base.model.is_preset() ? std::string("the preset fixes utilisation at 1")
                                  : "every material made sets its own utilisation in the world, so "
                                    "model.utilisation is used by none";
  if (path == "model.tau_alpha") return "no run overproduces (alpha_max 1 and no surge)";
  if (starts_with(path, "model.substitution")) return "substitution is off";
  if (path == "model.priority" || starts_with(path, "model.priority["))
    return "rationing is not priority";
  if (path == "model.final_demand_controls") return "no run has an export control or trade cut";
  if (path == "seed") return "no run draws random numbers (no substitution or supplier matching)";
  if (starts_with(path, "record"))
    return "a sweep records what its own `record` says; the runs' results never depend on it";
  if (path == "name" || path == "description") return "names and descriptions are not used";
  return "every run's effective settings (docs/model.md) are the same for each of its values";
}

}  // namespace

std::vector<std::string> sweep_noop_warnings(const SweepPlan& plan, const World& w) {
  std::vector<std::string> out;
  const SweepSpec& spec = plan.spec;
  const std::size_t np = plan.points.size();
  if (np == 0) return out;
  const WorldFacts facts = world_facts(w);
  std::vector<std::string> settings(np);
  for (std::size_t p = 0; p < np; ++p)
    settings[p] = effective_settings(plan.point_scenarios[p], facts);
  std::vector<std::string> texts(np);
  auto point_text = [&](std::size_t p) -> const std::string& {
    if (texts[p].empty()) texts[p] = plan.run_scenario_text(p * std::size_t(spec.replicates));
    return texts[p];
  };

  std::size_t idle_axes = 0;
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    const SweepAxis& axis = spec.axes[a];
    const std::string ref = yaml_text(plan.points[0][a]);
    std::string alt;
    for (std::size_t p = 0; p < np && alt.empty(); ++p)
      if (yaml_text(plan.points[p][a]) != ref) alt = yaml_text(plan.points[p][a]);
    if (alt.empty()) continue;  // one value only: a constant, not a varied parameter
    bool changes = false;
    for (std::size_t p = 0; p < np && !changes; ++p) {
      const std::string other = yaml_text(plan.points[p][a]) == ref ? alt : ref;
      try {
        const Scenario sc = parse_scenario(
            set_key_path(point_text(p), axis.path, other, axis.where), spec.base_path);
        changes = effective_settings(sc, facts) != settings[p];
      } catch (const InputError&) {
        changes = true;  // another value is not even valid there: it matters
      }
    }
    if (changes) continue;
    ++idle_axes;
    out.push_back(axis.where.str() + ": axis " + axis.name + " (" + axis.path +
                  ") changes nothing: " + reason(axis.path, plan.point_scenarios[0], facts) +
                  "; at each of the " + std::to_string(np) +
                  " points any of its values gives the same run");
  }

  bool seeded = false;
  for (const auto& sc : plan.point_scenarios) seeded = seeded || uses_seed(sc);
  const bool idle_replicates = spec.replicates > 1 && !seeded;
  if (idle_replicates) {
    SourceLocation where{spec.path, 0, 0, "replicates"};
    try {
      if (auto r = detail::parse_yaml(spec.text, spec.path).get("replicates")) where = r->where();
    } catch (const InputError&) {
    }
    out.push_back(where.str() + ": the " + std::to_string(spec.replicates) +
                  " replicates of each point differ only in their seed, and no run draws random "
                  "numbers (the seed only breaks ties between candidate suppliers, with "
                  "model.substitution or a crisis_response that matches suppliers): each "
                  "point's replicates will be identical");
  }
  if (!spec.axes.empty() && idle_axes == spec.axes.size() &&
      (spec.replicates == 1 || idle_replicates) && plan.num_runs() > 1)
    out.push_back(SourceLocation{spec.path, 0, 0, ""}.str() + ": all " +
                  std::to_string(plan.num_runs()) + " runs of the sweep will be identical");
  return out;
}

}  // namespace shortfall
