// The plan of a sweep: its points applied to the base scenario, the runs (points x replicates),
// the recorded days and the sweep's identity; checking every point against the world
// (docs/sweeps.md).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "shortfall/version.hpp"
#include "sweeps/sweep_internal.hpp"
#include "util/sha256.hpp"
#include "util/yaml_util.hpp"

namespace shortfall {

using detail::YNode;
using namespace sweep_detail;

namespace {

struct AppliedPoint {
  std::string text;
  std::vector<std::string> resolved;  ///< per axis
};

AppliedPoint apply_point(const YAML::Node& base, const SweepSpec& spec,
                         const std::vector<AxisValue>& point,
                         const std::vector<std::vector<Segment>>& segs) {
  YAML::Node n = YAML::Clone(base);
  AppliedPoint out;
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    YAML::Node value = load_value(yaml_of(point[a]), spec.axes[a].where);
    out.resolved.push_back(set_in_node(n, segs[a], value, spec.axes[a].path, spec.axes[a].where));
  }
  out.text =
      emit_yaml(n, spec.axes.empty() ? SourceLocation{spec.path, 0, 0, ""} : spec.axes[0].where);
  return out;
}

std::string describe_point(const SweepSpec& spec, const std::vector<AxisValue>& point) {
  std::string s;
  for (std::size_t a = 0; a < spec.axes.size(); ++a)
    s += (s.empty() ? "" : ", ") + spec.axes[a].path + " = " + label_of(point[a]);
  return s;
}

/// Parse a point's scenario; errors are reported at the axis whose path they concern.
Scenario parse_point(const SweepSpec& spec, const AppliedPoint& ap,
                     const std::vector<AxisValue>& point, const SourceLocation& axes_where) {
  try {
    return parse_scenario(ap.text, spec.base_path);
  } catch (const InputError& e) {
    const std::string& kp = e.where().key_path;
    std::size_t best = spec.axes.size(), best_len = 0;
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      const std::string& r = ap.resolved[a];
      bool match = kp == r || (kp.size() > r.size() && kp.compare(0, r.size(), r) == 0 &&
                               (kp[r.size()] == '.' || kp[r.size()] == '['));
      if (match && r.size() >= best_len) best = a, best_len = r.size();
    }
    SourceLocation where = best < spec.axes.size() ? spec.axes[best].where : axes_where;
    throw InputError(where, "the base scenario with " + describe_point(spec, point) +
                                " is invalid: " + (kp.empty() ? "" : kp + ": ") + e.detail());
  }
}

}  // namespace

SweepPlan plan_sweep(const SweepSpec& spec) {
  SweepPlan plan;
  plan.spec = spec;
  plan.points = expand_points(spec);
  std::vector<std::vector<Segment>> segs;
  for (auto& a : spec.axes) segs.push_back(parse_key_path(a.path, a.where));
  const YAML::Node base = YAML::Load(spec.base_text);
  SourceLocation axes_where{spec.path, 0, 0, "axes"};
  try {
    YNode root = detail::parse_yaml(spec.text, spec.path);
    if (auto a = root.get("axes")) axes_where = a->where();
  } catch (const InputError&) {
  }
  plan.point_scenarios.reserve(plan.points.size());
  std::set<int> day_counts;
  for (const auto& pt : plan.points) {
    AppliedPoint ap = apply_point(base, spec, pt, segs);
    Scenario sc = parse_point(spec, ap, pt, axes_where);
    if (plan.world_path.empty()) plan.world_path = sc.world_path;
    if (sc.world_path != plan.world_path)
      throw InputError(axes_where, "every run must use the same world");
    if (sc.seed + std::uint64_t(spec.replicates - 1) > std::uint64_t(kMaxSeed))
      throw InputError(
          axes_where, "the seed plus the replicates exceeds 2^62 with " + describe_point(spec, pt));
    day_counts.insert(sc.days);
    sc.text.clear();  // memory: a large sweep holds many points; run_scenario_text rebuilds it
    plan.point_scenarios.push_back(std::move(sc));
  }
  if (plan.points.empty()) {
    Scenario sc = parse_scenario(spec.base_text, spec.base_path);
    plan.world_path = sc.world_path;
  }
  const Scenario base_sc = parse_scenario(spec.base_text, spec.base_path);
  plan.world_where = base_sc.world_where;
  const int every = spec.record_every > 0 ? spec.record_every : std::max(1, base_sc.record.every);
  plan.spec.record_every = every;
  std::set<int> days;
  for (int d : day_counts)
    for (int t = 0; t < d; ++t)
      if (t % every == 0 || t == d - 1) days.insert(t);
  plan.days.assign(days.begin(), days.end());
  for (std::size_t p = 0; p < plan.points.size(); ++p)
    for (int r = 0; r < spec.replicates; ++r)
      plan.runs.push_back({p, r, plan.point_scenarios[p].seed + std::uint64_t(r)});

  detail::Sha256 h;
  h.update(std::string_view("shortfall sweep 1\n"));
  h.update(std::string_view(kVersion));
  h.update(std::string_view("\n", 1));
  h.update(spec.text);
  h.update(std::string_view("\0", 1));
  h.update(spec.base_text);
  plan.sha256 = h.hex();
  return plan;
}

Scenario SweepPlan::run_scenario(std::size_t run) const {
  const SweepRun& r = runs.at(run);
  Scenario sc = point_scenarios.at(r.point);
  sc.seed = r.seed;
  return sc;
}

std::string SweepPlan::run_scenario_text(std::size_t run) const {
  const SweepRun& r = runs.at(run);
  std::vector<std::vector<Segment>> segs;
  for (auto& a : spec.axes) segs.push_back(parse_key_path(a.path, a.where));
  YAML::Node base = YAML::Load(spec.base_text);
  AppliedPoint ap = apply_point(base, spec, points.at(r.point), segs);
  YAML::Node n = YAML::Load(ap.text);
  n["seed"] = r.seed;
  return emit_yaml(n);
}

std::vector<std::string> validate_sweep(const SweepPlan& plan, const World& world) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (std::size_t p = 0; p < plan.point_scenarios.size(); ++p) {
    try {
      for (auto& w : check_scenario(plan.point_scenarios[p], world))
        if (seen.insert(w).second) out.push_back(w);
    } catch (const InputError& e) {
      SourceLocation where = plan.spec.axes.empty() ? e.where() : plan.spec.axes[0].where;
      throw InputError(where, "the base scenario with " +
                                  describe_point(plan.spec, plan.points[p]) +
                                  " does not fit the world: " + e.what());
    }
  }
  return out;
}

}  // namespace shortfall
