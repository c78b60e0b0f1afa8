// Reading a sweep file back (its coordinates and run metrics) and `shortfall compare`'s
// summaries of the runs grouped by coordinates (docs/sweeps.md).
#include <hdf5.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>
#include <sstream>

#include "sweeps/sweep_internal.hpp"
#include "util/h5_reader.hpp"

namespace shortfall {

using namespace sweep_detail;

std::string SweepCoordinate::label(std::size_t run) const {
  if (kind == AxisKind::kText) return texts.at(run);
  return format_double(numbers.at(run));
}

const SweepCoordinate* SweepOutput::find(const std::string& name) const {
  for (auto& c : coords)
    if (c.name == name) return &c;
  return nullptr;
}

namespace {

/// A sweep file read with the program's HDF5 reader: a missing or mistyped piece is an
/// InputError naming the file and the dataset or attribute.
class Reader {
 public:
  explicit Reader(const std::string& path) : rd_(path, "a shortfall sweep output") {}
  std::string attr(const char* name) const {
    if (!rd_.has_attr(name)) rd_.bad(name, "missing from a shortfall sweep output");
    return rd_.attr_text(name);
  }
  std::vector<std::string> texts(const std::string& name) const { return rd_.texts(name); }
  template <class T>
  std::vector<T> values(const std::string& name, std::size_t expect) const {
    return rd_.flat<T>(name, expect);
  }
  std::size_t runs() const { return rd_.array<std::int32_t>("run").size(); }
  SweepCoordinate coordinate(const std::string& name, std::size_t runs) const {
    SweepCoordinate c;
    c.name = name;
    c.key_path = rd_.attr_text(name, "key_path");
    const H5T_class_t cls = rd_.type_class(name);
    if (cls == H5T_STRING) {
      c.kind = AxisKind::kText;
      c.texts = rd_.texts(name, runs);
    } else {
      c.kind = cls == H5T_FLOAT ? AxisKind::kReal : AxisKind::kInt;
      c.numbers = rd_.array<double>(name, runs);
    }
    return c;
  }

 private:
  detail::H5Reader rd_;
};

Spread spread(const std::vector<double>& v) {
  Spread s;
  s.n = v.size();
  if (v.empty()) {
    s.mean = s.std = s.min = s.max = kNaN;
    return s;
  }
  double sum = 0;
  s.min = v[0];
  s.max = v[0];
  for (double x : v) sum += x, s.min = std::min(s.min, x), s.max = std::max(s.max, x);
  s.mean = sum / double(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.std = v.size() > 1 ? std::sqrt(ss / double(v.size() - 1)) : 0.0;
  return s;
}

}  // namespace

SweepOutput read_sweep_output(const std::string& path) {
  Reader rd(path);
  SweepOutput out;
  std::string axes = rd.attr("axes");
  out.name = rd.attr("sweep_name");
  out.sweep_text = rd.attr("sweep");
  out.runs = rd.runs();
  out.country = rd.texts("summary/country");
  out.material = rd.texts("summary/material");
  out.material_unit = rd.texts("summary/material_unit");
  out.countries = out.country.size();
  out.materials = out.material.size();
  std::istringstream is(axes);
  std::string name;
  while (is >> name) out.coords.push_back(rd.coordinate(name, out.runs));
  for (const char* c : {"replicate", "seed", "point"})
    out.coords.push_back(rd.coordinate(c, out.runs));
  // The `summary` group: (run, country, material), one RunMetrics per run.
  const std::size_t ncm = out.countries * out.materials, n = out.runs * ncm;
  out.metrics.resize(out.runs);
  for (auto& m : out.metrics) m.countries = out.countries, m.materials = out.materials;
  for (const MetricInfo& mi : kMetrics) {
    const std::string dset = std::string("summary/") + mi.name;
    if (mi.real) {
      const std::vector<double> v = rd.values<double>(dset, n);
      for (std::size_t r = 0; r < out.runs; ++r)
        (out.metrics[r].*mi.real)
            .assign(v.begin() + std::ptrdiff_t(r * ncm), v.begin() + std::ptrdiff_t((r + 1) * ncm));
    } else {
      const std::vector<std::int32_t> v = rd.values<std::int32_t>(dset, n);
      for (std::size_t r = 0; r < out.runs; ++r)
        (out.metrics[r].*mi.whole)
            .assign(v.begin() + std::ptrdiff_t(r * ncm), v.begin() + std::ptrdiff_t((r + 1) * ncm));
    }
  }
  return out;
}

std::vector<CompareRow> compare_sweep(const SweepOutput& out, const std::vector<std::string>& by,
                                      const std::string& country_filter,
                                      const std::string& material_filter) {
  std::vector<const SweepCoordinate*> cs;
  for (auto& b : by) {
    const SweepCoordinate* c = out.find(b);
    if (!c) {
      std::string names;
      for (auto& x : out.coords) names += (names.empty() ? "" : ", ") + x.name;
      throw InputError(SourceLocation{"--by", 0, 0, ""},
                       "no coordinate '" + b + "' in the sweep; expected one of: " + names);
    }
    cs.push_back(c);
  }
  auto check_filter = [](const std::string& f, const std::vector<std::string>& names,
                         const char* what) {
    if (f.empty()) return;
    if (std::find(names.begin(), names.end(), f) == names.end())
      throw InputError(SourceLocation{std::string("--") + what, 0, 0, ""},
                       std::string("no ") + what + " '" + f + "' in the sweep");
  };
  check_filter(country_filter, out.country, "country");
  check_filter(material_filter, out.material, "material");

  // Groups: distinct value tuples of the --by coordinates, each coordinate's values sorted.
  std::vector<std::vector<std::size_t>> rank(cs.size());  // per coordinate: run -> value rank
  std::vector<std::vector<std::string>> labels(cs.size());
  for (std::size_t c = 0; c < cs.size(); ++c) {
    const SweepCoordinate& co = *cs[c];
    std::vector<std::size_t> order(out.runs);
    std::iota(order.begin(), order.end(), 0);
    auto less = [&](std::size_t a, std::size_t b) {
      return co.kind == AxisKind::kText ? co.texts[a] < co.texts[b] : co.numbers[a] < co.numbers[b];
    };
    auto equal = [&](std::size_t a, std::size_t b) {
      return co.kind == AxisKind::kText ? co.texts[a] == co.texts[b]
                                        : co.numbers[a] == co.numbers[b];
    };
    std::stable_sort(order.begin(), order.end(), less);
    rank[c].assign(out.runs, 0);
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (i == 0 || !equal(order[i - 1], order[i])) labels[c].push_back(co.label(order[i]));
      rank[c][order[i]] = labels[c].size() - 1;
    }
  }
  std::map<std::vector<std::size_t>, std::vector<std::size_t>> groups;
  for (std::size_t r = 0; r < out.runs; ++r) {
    std::vector<std::size_t> key;
    for (std::size_t c = 0; c < cs.size(); ++c) key.push_back(rank[c][r]);
    groups[key].push_back(r);
  }
  std::vector<CompareRow> rows;
  const std::size_t nc = out.countries, nm = out.materials;
  for (std::size_t m = 0; m < nm; ++m) {
    if (!material_filter.empty() && out.material[m] != material_filter) continue;
    // Countries worst first by output lost, then input shortage, then unmet final demand
    // (summed over all runs, as the run summary orders one run's pairs).
    std::vector<std::array<double, 3>> sum(nc, {0.0, 0.0, 0.0});
    for (std::size_t c = 0; c < nc; ++c)
      for (const RunMetrics& rm : out.metrics) {
        sum[c][0] += rm.output_lost_days[c * nm + m];
        sum[c][1] += rm.shortage_days[c * nm + m];
        sum[c][2] += rm.unmet_final_days[c * nm + m];
      }
    std::vector<std::size_t> countries(nc);
    std::iota(countries.begin(), countries.end(), 0);
    std::stable_sort(countries.begin(), countries.end(),
                     [&](std::size_t a, std::size_t b) { return sum[b] < sum[a]; });
    for (std::size_t c : countries) {
      if (!country_filter.empty() && out.country[c] != country_filter) continue;
      const std::size_t k = c * nm + m;
      bool any = false;
      for (std::size_t r = 0; r < out.runs && !any; ++r) any = out.metrics[r].affected(k);
      if (!any) continue;
      for (auto& [key, runs] : groups) {
        CompareRow row;
        row.material = out.material[m];
        row.country = out.country[c];
        row.unit = m < out.material_unit.size() ? out.material_unit[m] : "";
        for (std::size_t i = 0; i < key.size(); ++i) row.by.push_back(labels[i][key[i]]);
        row.runs = runs.size();
        std::vector<double> lost, peak, shortage, unmet, rec;
        for (std::size_t r : runs) {
          const RunMetrics& rm = out.metrics[r];
          lost.push_back(rm.output_lost_days[k]);
          peak.push_back(rm.peak_output_loss[k]);
          shortage.push_back(rm.shortage_days[k]);
          unmet.push_back(rm.unmet_final_days[k]);
          const std::int32_t rd = rm.recovery_day[k];
          if (rd > 0)
            rec.push_back(double(rd));
          else if (rd == 0)
            ++row.undisturbed;
          else
            ++row.not_recovered;
        }
        row.output_lost_days = spread(lost);
        row.peak_output_loss = spread(peak);
        row.shortage_days = spread(shortage);
        row.unmet_final_days = spread(unmet);
        row.recovery_day = spread(rec);
        rows.push_back(std::move(row));
      }
    }
  }
  return rows;
}

}  // namespace shortfall
