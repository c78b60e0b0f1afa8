// The values of a sweep's axes and the points of a sweep: every point of a grid, or points drawn
// by random or latin_hypercube sampling (docs/sweeps.md).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <variant>
#include <vector>

#include "sweeps/sweep_internal.hpp"
#include "util/random.hpp"

namespace shortfall {
namespace sweep_detail {

AxisValue value_of(const SweepAxis& a, const std::string& text) {
  switch (a.kind) {
    case AxisKind::kInt: {
      std::int64_t v = 0;
      parse_int(text, v);
      return v;
    }
    case AxisKind::kReal: {
      double v = 0;
      parse_real(text, v);
      return v;
    }
    case AxisKind::kText:
      return text;
  }
  return text;
}

/// Map u in [0, 1) to a value of the axis.
AxisValue value_at(const SweepAxis& a, double u) {
  if (a.continuous) {
    if (a.kind == AxisKind::kInt) {
      const double width = a.hi - a.lo + 1;
      double v = a.lo + std::floor(u * width);
      return std::int64_t(std::min(v, a.hi));
    }
    return std::min(a.lo + u * (a.hi - a.lo), a.hi);
  }
  std::size_t k = std::min(a.values.size() - 1, std::size_t(u * double(a.values.size())));
  return value_of(a, a.values[k]);
}

std::string yaml_of(const AxisValue& v) {
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return format_double(*d);
  return std::get<std::string>(v);
}

std::string label_of(const AxisValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) {
    try {
      YAML::Node n = YAML::Load(*s);
      if (n.IsScalar()) return n.Scalar();
    } catch (const YAML::Exception&) {
    }
    return *s;
  }
  return yaml_of(v);
}

}  // namespace sweep_detail

using namespace sweep_detail;

std::vector<std::vector<AxisValue>> expand_points(const SweepSpec& spec) {
  const std::size_t na = spec.axes.size();
  std::vector<std::vector<AxisValue>> points;
  if (spec.sampling == Sampling::kGrid) {
    std::size_t n = 1;
    for (auto& a : spec.axes) n *= a.values.size();
    points.reserve(n);
    std::vector<std::size_t> idx(na, 0);
    for (std::size_t p = 0; p < n; ++p) {
      std::vector<AxisValue> pt;
      for (std::size_t a = 0; a < na; ++a)
        pt.push_back(value_of(spec.axes[a], spec.axes[a].values[idx[a]]));
      points.push_back(std::move(pt));
      for (std::size_t a = na; a-- > 0;) {  // last axis fastest
        if (++idx[a] < spec.axes[a].values.size()) break;
        idx[a] = 0;
      }
    }
    return points;
  }
  const std::size_t n = spec.samples;
  detail::Rng rng(spec.sample_seed);
  std::vector<std::vector<double>> u(na, std::vector<double>(n));
  if (spec.sampling == Sampling::kRandom) {
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t a = 0; a < na; ++a) u[a][p] = rng.uniform();
  } else {
    for (std::size_t a = 0; a < na; ++a) {
      std::vector<std::size_t> perm(n);
      std::iota(perm.begin(), perm.end(), 0);
      for (std::size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[rng.below_exact(i)]);
      for (std::size_t p = 0; p < n; ++p) {
        double v = (double(perm[p]) + rng.uniform()) / double(n);
        // Stay inside the stratum despite rounding.
        const double lo = double(perm[p]) / double(n);
        const double hi = std::nextafter(double(perm[p] + 1) / double(n), 0.0);
        u[a][p] = std::clamp(v, lo, hi);
      }
    }
  }
  points.reserve(n);
  for (std::size_t p = 0; p < n; ++p) {
    std::vector<AxisValue> pt;
    for (std::size_t a = 0; a < na; ++a) pt.push_back(value_at(spec.axes[a], u[a][p]));
    points.push_back(std::move(pt));
  }
  return points;
}

}  // namespace shortfall
