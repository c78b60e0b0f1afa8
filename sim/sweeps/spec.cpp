// The sweep file (docs/sweeps.md): its options, its axes (values, ranges, steps, types and
// coordinate names), each checked against the base scenario, and the size of the sweep.
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sweeps/sweep_internal.hpp"
#include "util/yaml_util.hpp"

namespace shortfall {

using detail::YNode;
using namespace sweep_detail;

namespace {

/// The values of an axis as written, before their kind is settled.
struct AxisValues {
  std::optional<AxisKind> forced;                 ///< the axis's `type`
  std::optional<YNode> name_node;                 ///< the axis's `name`
  std::vector<std::pair<std::string, bool>> raw;  // YAML text, scalar written plain
  bool range = false;  ///< a continuous range (drawn by random or latin_hypercube sampling)
};

/// `sampling`, `samples`, `seed`, `replicates`, `metrics` and `record` of the sweep file.
void parse_options(YNode& root, SweepSpec& spec) {
  if (auto s = root.get("sampling")) {
    std::string v = s->as_string();
    if (v == "grid")
      spec.sampling = Sampling::kGrid;
    else if (v == "random")
      spec.sampling = Sampling::kRandom;
    else if (v == "latin_hypercube" || v == "lhs")
      spec.sampling = Sampling::kLatinHypercube;
    else
      s->fail("unknown sampling '" + v + "'; expected grid, random or latin_hypercube");
  }
  if (auto s = root.get("samples")) {
    if (spec.sampling == Sampling::kGrid)
      s->fail("'samples' is for random or latin_hypercube sampling; a grid runs every point");
    spec.samples = std::size_t(s->as_int_in(1, (long long)kMaxRuns));
  } else if (spec.sampling != Sampling::kGrid) {
    root.fail("missing key 'samples' (the number of points to draw)");
  }
  if (auto s = root.get("seed")) spec.sample_seed = std::uint64_t(s->as_int_in(0, kMaxSeed));
  if (auto s = root.get("replicates")) spec.replicates = int(s->as_int_in(1, 1'000'000));
  if (auto m = root.get("metrics"))
    m->fail(
        "sweeps no longer take `metrics:` options (shortage_threshold is gone): every run "
        "keeps the run metrics of docs/model.md section 10, as `shortfall run` writes them; "
        "remove the key");
  if (auto r = root.get("record")) {
    r->check_keys({"level", "every"});
    if (auto l = r->get("level")) {
      std::string v = l->as_string();
      if (v != "country_material")
        l->fail(
            "sweeps record country x material series only; expected 'country_material', found '" +
            v + "'");
    }
    if (auto e = r->get("every")) spec.record_every = int(e->as_int_in(1, 36500));
  }
}

/// The values of a list: `axis: [a, b]` or `values: [a, b]`.
void collect(const YNode& list, AxisValues& av) {
  list.expect_seq();
  if (list.size() == 0) list.fail("expected at least one value");
  for (std::size_t i = 0; i < list.size(); ++i) {
    YAML::Node v = list.node[i];
    bool plain_scalar = v.IsScalar() && v.Tag() != "!";
    av.raw.emplace_back(v.IsScalar() && plain_scalar ? v.Scalar() : flow_yaml(v), plain_scalar);
  }
}

/// The values of `range: [low, high]` with `steps` or `step`; without them, a continuous range.
void range_values(const YNode& val, Sampling sampling, SweepAxis& ax, AxisValues& av) {
  std::string lo_text, hi_text;
  double lo = 0, hi = 0;
  YNode r = val.at("range");
  if (!r.is_seq() || r.size() != 2)
    r.fail("expected [low, high], found " + detail::describe(r.node));
  lo = r.item(0).as_double();
  hi = r.item(1).as_double();
  lo_text = r.item(0).node.Scalar();
  hi_text = r.item(1).node.Scalar();
  if (hi < lo) r.fail("expected low <= high, found [" + lo_text + ", " + hi_text + "]");
  if (av.forced == AxisKind::kText) val.at("type").fail("a range is numeric; expected int or real");
  std::int64_t li = 0, hi_i = 0;
  constexpr std::int64_t kMaxWhole = std::int64_t(1) << 53;  // exact as a double
  const bool ints_written = parse_int(lo_text, li) && parse_int(hi_text, hi_i) &&
                            li >= -kMaxWhole && li <= kMaxWhole && hi_i >= -kMaxWhole &&
                            hi_i <= kMaxWhole;
  if (av.forced == AxisKind::kInt && !ints_written) r.fail("an int range needs whole-number ends");
  if (val.has("steps") && val.has("step"))
    val.at("step").fail("expected 'steps' or 'step', not both");
  if (auto st = val.get("steps")) {
    const long long n = st->as_int_in(1, 10'000'000);
    if (n == 1 && lo != hi) st->fail("one step needs low == high; use steps >= 2");
    const bool ints =
        av.forced != AxisKind::kReal && ints_written && (n == 1 || (hi_i - li) % (n - 1) == 0);
    if (av.forced == AxisKind::kInt && !ints)
      st->fail("the steps of [" + lo_text + ", " + hi_text + "] are not whole numbers");
    for (long long i = 0; i < n; ++i) {
      if (ints) {
        av.raw.emplace_back(std::to_string(n == 1 ? li : li + (hi_i - li) / (n - 1) * i), true);
      } else {
        double v = i == n - 1 ? hi : round15(lo + (hi - lo) * double(i) / double(n - 1));
        av.raw.emplace_back(format_double(v), true);
      }
    }
    if (!ints && !av.forced) av.forced = AxisKind::kReal;
  } else if (auto st = val.get("step")) {
    const double s = st->as_double();
    if (!(s > 0)) st->fail("expected a step > 0");
    std::int64_t si = 0;
    const bool ints = av.forced != AxisKind::kReal && ints_written &&
                      parse_int(st->node.Scalar(), si) && si <= (std::int64_t(1) << 53);
    if (av.forced == AxisKind::kInt && !ints) st->fail("an int axis needs a whole-number step");
    const double count = std::floor((hi - lo) / s * (1 + 1e-12)) + 1;
    if (count > 1e6) st->fail("too many steps (more than 1,000,000)");
    for (long long i = 0; i < (long long)count; ++i)
      av.raw.emplace_back(
          ints ? std::to_string(li + si * i) : format_double(round15(lo + s * double(i))), true);
    if (!ints && !av.forced) av.forced = AxisKind::kReal;
  } else {
    if (sampling == Sampling::kGrid)
      r.fail(
          "a grid needs 'steps' (or 'step') for a range; without them a range is sampled "
          "by random or latin_hypercube sampling");
    av.range = true;
    ax.continuous = true;
    ax.lo = lo;
    ax.hi = hi;
    ax.kind = av.forced ? *av.forced : (ints_written ? AxisKind::kInt : AxisKind::kReal);
  }
}

/// An axis given as a map: `values` or `range` (with `steps` or `step`), `type` and `name`.
void map_values(const YNode& val, Sampling sampling, SweepAxis& ax, AxisValues& av) {
  val.check_keys({"values", "range", "steps", "step", "type", "name"});
  if (auto t = val.get("type")) {
    std::string v = t->as_string();
    if (v == "int" || v == "integer")
      av.forced = AxisKind::kInt;
    else if (v == "real" || v == "float")
      av.forced = AxisKind::kReal;
    else if (v == "text" || v == "string")
      av.forced = AxisKind::kText;
    else
      t->fail("unknown axis type '" + v + "'; expected int, real or text");
  }
  av.name_node = val.get("name");
  if (val.has("values") == val.has("range"))
    val.fail("expected either 'values' or 'range' for axis '" + ax.path + "'");
  if (auto v = val.get("values")) {
    if (val.has("steps") || val.has("step"))
      val.at(val.has("steps") ? "steps" : "step").fail("'steps' goes with 'range', not 'values'");
    collect(*v, av);
  } else {
    range_values(val, sampling, ax, av);
  }
}

/// The axis's kind (from its values, or its `type`) and its values as normalised text.
void settle_values(const YNode& val, const AxisValues& av, SweepAxis& ax) {
  bool all_int = true, all_num = true;
  for (auto& [t, plain] : av.raw) {
    std::int64_t i = 0;
    double d = 0;
    all_int = all_int && plain && parse_int(t, i);
    all_num = all_num && plain && parse_real(t, d);
  }
  AxisKind kind = all_int ? AxisKind::kInt : all_num ? AxisKind::kReal : AxisKind::kText;
  if (av.forced) {
    if (*av.forced == AxisKind::kInt && !all_int)
      val.fail("axis type int, but not every value is a whole number");
    if (*av.forced == AxisKind::kReal && !all_num)
      val.fail("axis type real, but not every value is a number");
    kind = *av.forced;
  }
  ax.kind = kind;
  for (auto& [t, plain] : av.raw) {
    if (kind == AxisKind::kText && plain) {
      ax.values.push_back(flow_yaml(YAML::Node(t)));
    } else {
      ax.values.push_back(t);
    }
  }
  // Normalise numbers so the emitted YAML and the coordinate agree.
  for (auto& t : ax.values) {
    if (kind == AxisKind::kInt) {
      std::int64_t i = 0;
      parse_int(t, i);
      t = std::to_string(i);
    } else if (kind == AxisKind::kReal) {
      double d = 0;
      parse_real(t, d);
      t = format_double(d);
    }
  }
}

/// One axis of the sweep file (key path `key_node`, values `value_node`), checked against the
/// base scenario.
SweepAxis parse_axis(const YAML::Node& key_node, const YAML::Node& value_node,
                     const std::string& path, Sampling sampling, const YAML::Node& base_yaml,
                     std::set<std::string>& paths) {
  SweepAxis ax;
  if (!key_node.IsScalar())
    YNode{key_node, path, "axes"}.fail("expected a key path, found " + detail::describe(key_node));
  ax.path = key_node.Scalar();
  YNode key{key_node, path, "axes." + ax.path};
  YNode val{value_node, path, "axes." + ax.path};
  ax.where = key.where();
  if (!paths.insert(ax.path).second) key.fail("axis '" + ax.path + "' given twice");
  auto segs = parse_key_path(ax.path, ax.where);
  if (!segs[0].select && (segs[0].text == "world"))
    key.fail("the world cannot be varied in a sweep (it is loaded once for all runs)");
  AxisValues av;
  if (val.is_seq()) {
    collect(val, av);
  } else if (val.is_map()) {
    map_values(val, sampling, ax, av);
  } else {
    // A single value: fixed for every run.
    YAML::Node v = val.node;
    bool plain = v.IsScalar() && v.Tag() != "!";
    av.raw.emplace_back(plain ? v.Scalar() : flow_yaml(v), plain);
  }
  if (!av.range) settle_values(val, av, ax);
  if (av.name_node) {
    ax.name = av.name_node->as_string();
    if (sanitize(ax.name) != ax.name)
      av.name_node->fail("expected a name of letters, digits and '_', found '" + ax.name + "'");
    if (reserved_names().count(ax.name))
      av.name_node->fail("'" + ax.name + "' is a name used by the output; choose another");
  }
  // Check the path against the base scenario now (structure only; values by plan_sweep).
  {
    YAML::Node n = YAML::Clone(base_yaml);
    YAML::Node v = load_value(ax.values.empty() ? format_double(ax.lo) : ax.values[0], ax.where);
    set_in_node(n, segs, v, ax.path, ax.where);
  }
  return ax;
}

/// Coordinate names: the last key, unless taken; then the whole path.
void name_axes(SweepSpec& spec) {
  std::set<std::string> taken;
  std::map<std::string, int> count;
  auto last_name = [](const SweepAxis& a) {
    auto segs = parse_key_path(a.path, a.where);
    return sanitize(segs.back().text);
  };
  for (auto& a : spec.axes)
    if (!a.name.empty()) taken.insert(a.name);
  for (auto& a : spec.axes)
    if (a.name.empty()) ++count[last_name(a)];
  for (auto& a : spec.axes) {
    if (!a.name.empty()) continue;
    std::string n = last_name(a);
    if (count[n] > 1 || reserved_names().count(n) || taken.count(n)) n = sanitize(a.path);
    if (reserved_names().count(n)) n = n + "_axis";
    std::string base_n = n;
    for (int k = 2; taken.count(n); ++k) n = base_n + "_" + std::to_string(k);
    a.name = n;
    taken.insert(n);
  }
  for (std::size_t i = 0; i < spec.axes.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (spec.axes[i].name == spec.axes[j].name)
        throw InputError(spec.axes[i].where, "coordinate name '" + spec.axes[i].name +
                                                 "' is used by two axes; give one a 'name'");
}

/// At most kMaxRuns runs.
void check_size(const SweepSpec& spec, YNode& root, const YNode& axes_node) {
  if (spec.sampling == Sampling::kGrid) {
    double n = 1;
    for (auto& a : spec.axes) n *= double(a.values.size());
    if (n * spec.replicates > double(kMaxRuns))
      axes_node.fail("the grid has " + format_double(n) + " points x " +
                     std::to_string(spec.replicates) + " replicates; at most " +
                     std::to_string(kMaxRuns) + " runs");
  } else if (double(spec.samples) * spec.replicates > double(kMaxRuns)) {
    root.at("samples").fail("too many runs (samples x replicates > " + std::to_string(kMaxRuns) +
                            ")");
  }
}

}  // namespace

SweepSpec load_sweep(const std::string& path) {
  return parse_sweep(detail::read_file(path), path);
}

SweepSpec parse_sweep(const std::string& text, const std::string& path) {
  YNode root = detail::parse_yaml(text, path);
  root.expect_map();
  root.check_keys({"name", "description", "base", "axes", "sampling", "samples", "seed",
                   "replicates", "record", "metrics"});
  SweepSpec spec;
  spec.path = path;
  spec.text = text;
  spec.name =
      root.get("name") ? root.at("name").as_string() : std::filesystem::path(path).stem().string();
  YNode base = root.at("base");
  spec.base_path = detail::resolve_path(path, base.as_string());
  try {
    spec.base_text = detail::read_file(spec.base_path);
  } catch (const IoError& e) {
    base.fail(
        std::string("cannot read the base scenario (paths are relative to the sweep file): ") +
        e.what());
  }
  const Scenario base_sc = parse_scenario(spec.base_text, spec.base_path);
  parse_options(root, spec);
  if (base_sc.seed + std::uint64_t(spec.replicates - 1) > std::uint64_t(kMaxSeed))
    root.at("replicates").fail("the base seed plus the replicates exceeds 2^62");

  // Axes.
  YNode axes_node = root.at("axes");
  if (!axes_node.node.IsNull()) axes_node.expect_map();
  std::set<std::string> paths;
  const YAML::Node base_yaml = YAML::Load(spec.base_text);
  for (auto it = axes_node.node.begin(); axes_node.is_map() && it != axes_node.node.end(); ++it)
    spec.axes.push_back(parse_axis(it->first, it->second, path, spec.sampling, base_yaml, paths));
  name_axes(spec);
  check_size(spec, root, axes_node);
  return spec;
}

}  // namespace shortfall
