// Parameter sweeps: the sweep file, key paths into scenarios, sampling, running many runs over
// one shared World with TBB, the run journals and the HDF5 output (docs/sweeps.md).
#include "output/variables.hpp"
#include "util/atomic_file.hpp"
#include "shortfall/sweep.hpp"
#include "output/h5_writer.hpp"
#include "util/random.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/stat.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "util/sha256.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/version.hpp"
#include "util/yaml_util.hpp"

namespace shortfall {

using detail::YNode;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kMaxRuns = 50'000'000;
constexpr long long kMaxSeed = 1LL << 62;

// ---- small helpers -----------------------------------------------------------------------

/// `v` rounded to 15 significant digits: linspace(0, 0.3, 4) gives 0.1, not 0.09999999999999999.
double round15(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return std::strtod(buf, nullptr);
}

/// Shortest text that reads back as exactly `v`.
std::string format_double(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

bool parse_int(const std::string& s, std::int64_t& out) {
  if (s.empty()) return false;
  const char* b = s.c_str();
  if (*b == '+') ++b;
  auto r = std::from_chars(b, s.c_str() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.c_str() + s.size();
}

bool parse_real(const std::string& s, double& out) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
          c == '+' || c == '-'))
      return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

std::string flow_yaml(const YAML::Node& node) {
  YAML::Emitter em;
  em.SetMapFormat(YAML::Flow);
  em.SetSeqFormat(YAML::Flow);
  em << node;
  return em.c_str();
}

std::string emit_yaml(const YAML::Node& node, const SourceLocation& where = {}) {
  YAML::Emitter em;
  em << node;
  if (!em.good())
    throw InputError(where, "cannot write the scenario as YAML: " + em.GetLastError());
  return std::string(em.c_str()) + "\n";
}

/// YAML::Load with errors as InputError at `where`.
YAML::Node load_value(const std::string& text, const SourceLocation& where) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(where, "value " + text + " is not valid YAML: " + e.msg);
  }
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (ok)
      out += c;
    else if (!out.empty() && out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
  return out;
}

/// Names an axis coordinate may not take: the dimensions and the variables of the file's
/// groups (an axis coordinate is written into each of them).
const std::set<std::string>& reserved_names() {
  static const std::set<std::string> k = {
      "run", "day", "country", "material", "replicate", "seed", "point", "country_name",
      "material_unit", "material_name", "material_tier", "baseline_output", "baseline_use",
      "baseline_final_use", "material_unit_value", "production", "output_lost", "shortage",
      "unmet_final_demand", "order_backlog", "inventory_days", "output_lost_days",
      "peak_output_loss", "shortage_days", "unmet_final_demand_days", "output_lost_units",
      "unmet_final_demand_units", "first_shortage_day", "recovery_day", "output_lost_value",
      "unmet_final_demand_value", "summary", "country_material"};
  return k;
}

// ---- key paths ---------------------------------------------------------------------------

struct Segment {
  bool select = false;  ///< [text] rather than .text
  std::string text;
};

std::vector<Segment> parse_key_path(const std::string& path, const SourceLocation& where) {
  auto fail = [&](const std::string& what) {
    throw InputError(where, "invalid key path '" + path + "': " + what +
                                " (expected e.g. model.tau, events[0].license_share or "
                                "policies[ipef-scra].meeting_days)");
  };
  std::vector<Segment> segs;
  std::size_t i = 0;
  const std::size_t n = path.size();
  if (n == 0) fail("empty");
  while (i < n) {
    if (path[i] == '[') {
      std::size_t j = path.find(']', i);
      if (j == std::string::npos) fail("'[' without ']'");
      std::string t = path.substr(i + 1, j - i - 1);
      while (!t.empty() && t.front() == ' ') t.erase(t.begin());
      while (!t.empty() && t.back() == ' ') t.pop_back();
      if (t.empty()) fail("empty []");
      segs.push_back({true, t});
      i = j + 1;
      if (i < n && path[i] == '.') {
        ++i;
        if (i == n) fail("ends with '.'");
        if (path[i] == '.' || path[i] == '[') fail("empty key after '.'");
      } else if (i < n && path[i] != '[') {
        fail("expected '.' or '[' after ']'");
      }
    } else {
      std::size_t j = path.find_first_of(".[]", i);
      if (j == std::string::npos) j = n;
      if (j < n && path[j] == ']') fail("']' without '['");
      std::string key = path.substr(i, j - i);
      if (key.empty()) fail("empty key");
      segs.push_back({false, key});
      i = j;
      if (i < n && path[i] == '.') {
        ++i;
        if (i == n) fail("ends with '.'");
      }
    }
  }
  return segs;
}

std::string nearest(const std::string& key, const std::vector<std::string>& options) {
  auto dist = [](const std::string& a, const std::string& b) {
    return detail::edit_distance(a, b);
  };
  std::string best;
  std::size_t best_d = 3;
  for (auto& o : options) {
    auto d = dist(key, o);
    if (d < best_d) best_d = d, best = o;
  }
  return best;
}

/// Set `value` at the path in `root` (modified in place). Returns the resolved path with sequence
/// items as indices ("events[0].license_share"), as the scenario parser names keys.
std::string set_in_node(const YAML::Node& root, const std::vector<Segment>& segs,
                        const YAML::Node& value, const std::string& path,
                        const SourceLocation& where) {
  auto fail = [&](const std::string& what) {
    throw InputError(where, "key path '" + path + "': " + what);
  };
  YAML::Node cur;
  cur.reset(root);
  std::string resolved;
  for (std::size_t k = 0; k < segs.size(); ++k) {
    const Segment& s = segs[k];
    const bool last = k + 1 == segs.size();
    const std::string here = resolved.empty() ? std::string("the scenario") : "'" + resolved + "'";
    YAML::Node child;
    if (!s.select || cur.IsMap()) {
      if (!cur.IsMap())
        fail("expected a map at " + here + " to look up '" + s.text + "', found " +
             detail::describe(cur));
      const YAML::Node& ccur = cur;
      YAML::Node existing = ccur[s.text];
      resolved += (resolved.empty() ? "" : ".") + s.text;
      if (last) {
        cur[s.text] = YAML::Clone(value);
        return resolved;
      }
      if (existing.IsDefined() && !existing.IsNull()) {
        child.reset(existing);
      } else if (!segs[k + 1].select) {
        cur[s.text] = YAML::Node(YAML::NodeType::Map);
        const YAML::Node& c2 = cur;
        child.reset(c2[s.text]);
      } else {
        std::vector<std::string> keys;
        for (auto it = ccur.begin(); it != ccur.end(); ++it) keys.push_back(it->first.Scalar());
        std::string near = nearest(s.text, keys);
        fail("the base scenario has no '" + resolved + "'" +
             (near.empty() ? "" : " (did you mean '" + near + "'?)"));
      }
    } else if (cur.IsSequence()) {
      const YAML::Node& ccur = cur;
      std::int64_t index = -1;
      if (parse_int(s.text, index)) {
        if (index < 0 || std::size_t(index) >= cur.size())
          fail(here + " has " + std::to_string(cur.size()) + " item" +
               (cur.size() == 1 ? "" : "s") + "; no item [" + s.text + "]");
      } else {
        std::vector<std::string> names;
        for (std::size_t i = 0; i < cur.size(); ++i) {
          const YAML::Node item = ccur[i];
          if (!item.IsMap()) continue;
          for (const char* key : {"name", "id"}) {
            const YAML::Node v = item[key];
            if (v.IsDefined() && v.IsScalar()) {
              names.push_back(v.Scalar());
              if (v.Scalar() == s.text) {
                if (index >= 0 && index != std::int64_t(i))
                  fail("more than one item of " + here + " is named '" + s.text + "'");
                index = std::int64_t(i);
              }
            }
          }
        }
        if (index < 0) {
          std::string list;
          for (auto& nm : names) list += (list.empty() ? "" : ", ") + nm;
          fail("no item of " + here + " has name '" + s.text + "'" +
               (names.empty() ? std::string(" (its items have no 'name')")
                              : "; names are: " + list));
        }
      }
      resolved += "[" + std::to_string(index) + "]";
      if (last) {
        cur[std::size_t(index)] = YAML::Clone(value);
        return resolved;
      }
      child.reset(ccur[std::size_t(index)]);
    } else {
      fail("expected a list at " + here + " to select [" + s.text + "], found " +
           detail::describe(cur));
    }
    cur.reset(child);
  }
  return resolved;
}

// ---- random numbers ----------------------------------------------------------------------

using detail::splitmix64;

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

// ---- applying a point --------------------------------------------------------------------

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

// ---- simulation of one run ---------------------------------------------------------------

/// The country x material series a sweep records: the run file's (output/variables.hpp), and
/// where each is kept in a run's result.
struct SeriesInfo {
  std::vector<double> CountryMaterialDay::*day;
  std::vector<double> RunResult::*run;
  const char* name;
  const char* units;
  const char* long_name;
};
constexpr std::vector<double> RunResult::*kResultSeries[] = {
    &RunResult::production,         &RunResult::output_lost,   &RunResult::shortage,
    &RunResult::unmet_final_demand, &RunResult::order_backlog, &RunResult::inventory_days};
static_assert(std::size(kResultSeries) == detail::kNumCmSeries);
constexpr auto make_series() {
  std::array<SeriesInfo, detail::kNumCmSeries> s{};
  for (std::size_t k = 0; k < s.size(); ++k)
    s[k] = {detail::kCmSeries[k].field, kResultSeries[k], detail::kCmSeries[k].name,
            detail::kCmSeries[k].units, detail::kCmSeries[k].long_name};
  return s;
}
constexpr auto kSeries = make_series();
constexpr std::size_t kNumSeries = kSeries.size();

using detail::kMetrics;
using detail::MetricInfo;
constexpr std::size_t kNumReal = detail::kNumRealMetrics, kNumWhole = detail::kNumWholeMetrics;

/// Runs the simulation of run k, one thread. The metrics are the simulation's own
/// (RunOptions::metrics, accumulated inside step() every day); the series are taken on the
/// recorded days only.
RunResult simulate(const SweepPlan& plan, const World& world, std::size_t run,
                   const std::atomic<bool>* cancel) {
  const Scenario sc = plan.run_scenario(run);
  const std::size_t ncm = world.countries.size() * world.materials.size();
  const std::size_t nd = plan.days.size();
  RunResult r;
  r.run = run;
  for (const auto& s : kSeries) (r.*s.run).assign(nd * ncm, kNaN);
  RunOptions opt;
  opt.threads = 1;
  opt.cancel = cancel;
  opt.metrics = true;
  Simulation sim(world, sc, opt);
  std::size_t row = 0;
  CountryMaterialDay cm;
  while (true) {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Interrupted();
    if (!sim.step()) break;
    const int t = sim.day();
    while (row < nd && plan.days[row] < t) ++row;
    if (row < nd && plan.days[row] == t) {
      sim.country_material(cm);
      check_finite(cm, t, world);  // never write a NaN or inf silently
      const std::size_t off = row * ncm;
      for (const auto& s : kSeries)
        std::copy((cm.*s.day).begin(), (cm.*s.day).end(), (r.*s.run).begin() + off);
      ++row;
    }
  }
  r.metrics = sim.run_metrics();
  return r;
}

// ---- journals ----------------------------------------------------------------------------

constexpr char kJournalMagic[8] = {'S', 'F', 'S', 'W', 'J', 'R', 'N', '1'};
constexpr std::uint32_t kRecordMagic = 0x4e555253;  // "SRUN"
constexpr std::size_t kHeaderSize = 8 + 4 + 4 + 64 + 64 + 4 * 8;
constexpr std::size_t kRecordHeaderSize = 32;

struct Dims {
  std::uint64_t runs = 0, days = 0, countries = 0, materials = 0;
  [[nodiscard]] std::size_t ncm() const { return std::size_t(countries * materials); }
  [[nodiscard]] std::size_t payload() const {
    return std::size_t(kNumSeries * days * ncm() * 8 + kNumReal * ncm() * 8 +
                       kNumWhole * ncm() * 4);
  }
};

Dims dims_of(const SweepPlan& plan, const World& world) {
  return Dims{plan.num_runs(), plan.days.size(), world.countries.size(), world.materials.size()};
}

std::uint64_t checksum(const unsigned char* p, std::size_t n, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h ^ (h >> 32);
}

template <class T>
void get_array(const unsigned char*& p, std::vector<T>& v, std::size_t n) {
  v.resize(n);
  std::memcpy(v.data(), p, n * sizeof(T));
  p += n * sizeof(T);
}

std::vector<unsigned char> journal_header(const SweepPlan& plan, const World& world) {
  std::vector<unsigned char> h(kHeaderSize, 0);
  std::size_t o = 0;
  auto raw = [&](const void* p, std::size_t n) {
    std::memcpy(h.data() + o, p, n);
    o += n;
  };
  raw(kJournalMagic, 8);
  const std::uint32_t version = 3, order = 0x01020304;  // 3: model 10's metrics, six series
  raw(&version, 4);
  raw(&order, 4);
  std::string ps = plan.sha256, ws = world.sha256;
  ps.resize(64, ' ');
  ws.resize(64, ' ');
  raw(ps.data(), 64);
  raw(ws.data(), 64);
  const Dims d = dims_of(plan, world);
  for (std::uint64_t v : {d.runs, d.days, d.countries, d.materials}) raw(&v, 8);
  return h;
}

// A record's payload is the run's arrays as 64-bit words (series day-major, then metrics),
// with each day of a series XOR-ed with the day before (steady series give zero words), then
// runs of zero words and of other words coded as (zeros, literals) pairs of varints. Lossless
// and deterministic; a quiet country x material series costs almost nothing.
void put_varint(std::vector<unsigned char>& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<unsigned char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<unsigned char>(v));
}

bool get_varint(const unsigned char*& p, const unsigned char* end, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p == end) return false;
    const unsigned char b = *p++;
    v |= std::uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

/// The run's arrays as words, in payload order: the series, the real metrics, then the int32
/// metrics packed two per word (RunMetrics::days is not kept: the plan gives it).
std::vector<std::uint64_t> to_words(const RunResult& r, const Dims& d) {
  std::vector<std::uint64_t> w(d.payload() / 8, 0);
  auto* bytes = reinterpret_cast<unsigned char*>(w.data());
  std::size_t o = 0;
  auto raw = [&](const void* p, std::size_t n) {
    std::memcpy(bytes + o, p, n);
    o += n;
  };
  for (const auto& s : kSeries) raw((r.*s.run).data(), (r.*s.run).size() * 8);
  for (const auto& m : kMetrics)
    if (m.real) raw((r.metrics.*m.real).data(), (r.metrics.*m.real).size() * 8);
  for (const auto& m : kMetrics)
    if (m.whole) raw((r.metrics.*m.whole).data(), (r.metrics.*m.whole).size() * 4);
  return w;
}

void xor_days(std::vector<std::uint64_t>& w, const Dims& d, bool forward) {
  const std::size_t ncm = d.ncm(), nd = std::size_t(d.days);
  for (std::size_t s = 0; s < kNumSeries; ++s) {
    std::uint64_t* a = w.data() + s * nd * ncm;
    if (forward) {  // encode: from the last day down
      for (std::size_t t = nd; t-- > 1;)
        for (std::size_t k = 0; k < ncm; ++k) a[t * ncm + k] ^= a[(t - 1) * ncm + k];
    } else {
      for (std::size_t t = 1; t < nd; ++t)
        for (std::size_t k = 0; k < ncm; ++k) a[t * ncm + k] ^= a[(t - 1) * ncm + k];
    }
  }
}

std::vector<unsigned char> encode(const RunResult& r, const Dims& d) {
  std::vector<std::uint64_t> w = to_words(r, d);
  xor_days(w, d, true);
  std::vector<unsigned char> buf(kRecordHeaderSize, 0);
  const std::size_t n = w.size();
  for (std::size_t i = 0; i < n;) {
    std::size_t z = i;
    while (z < n && w[z] == 0) ++z;
    std::size_t l = z;
    while (l < n && !(w[l] == 0 && (l + 1 == n || w[l + 1] == 0))) ++l;
    put_varint(buf, z - i);
    put_varint(buf, l - z);
    const auto* p = reinterpret_cast<const unsigned char*>(w.data() + z);
    buf.insert(buf.end(), p, p + (l - z) * 8);
    i = l;
  }
  const std::uint32_t magic = kRecordMagic, zero = 0;
  const std::uint64_t run = r.run, len = buf.size() - kRecordHeaderSize;
  const std::uint64_t sum = checksum(buf.data() + kRecordHeaderSize, len, run);
  std::memcpy(buf.data(), &magic, 4);
  std::memcpy(buf.data() + 4, &zero, 4);
  std::memcpy(buf.data() + 8, &run, 8);
  std::memcpy(buf.data() + 16, &len, 8);
  std::memcpy(buf.data() + 24, &sum, 8);
  return buf;
}

/// Decode a payload; false if it is malformed.
bool decode(const unsigned char* p, std::size_t len, std::size_t run, const Dims& d, RunResult& r) {
  std::vector<std::uint64_t> w(d.payload() / 8, 0);
  const unsigned char* end = p + len;
  std::size_t i = 0;
  while (p < end) {
    std::uint64_t z = 0, l = 0;
    if (!get_varint(p, end, z) || !get_varint(p, end, l)) return false;
    if (z > w.size() - i || l > w.size() - i - z || std::uint64_t(end - p) < l * 8) return false;
    i += std::size_t(z);
    std::memcpy(w.data() + i, p, std::size_t(l) * 8);
    p += l * 8;
    i += std::size_t(l);
  }
  if (i != w.size()) return false;
  xor_days(w, d, false);
  const auto* b = reinterpret_cast<const unsigned char*>(w.data());
  r = RunResult{};
  r.run = run;
  const std::size_t ncm = d.ncm(), n = std::size_t(d.days) * ncm;
  for (const auto& s : kSeries) get_array(b, r.*s.run, n);
  RunMetrics& m = r.metrics;
  m.countries = std::size_t(d.countries);
  m.materials = std::size_t(d.materials);
  for (const auto& mi : kMetrics)
    if (mi.real) get_array(b, m.*mi.real, ncm);
  for (const auto& mi : kMetrics)
    if (mi.whole) get_array(b, m.*mi.whole, ncm);
  return true;
}

bool write_all(int fd, const unsigned char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= std::size_t(w);
  }
  return true;
}

bool read_at(int fd, unsigned char* p, std::size_t n, off_t off) {
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, off);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) return false;
    p += r;
    n -= std::size_t(r);
    off += r;
  }
  return true;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

/// A journal being appended to.
class JournalWriter {
 public:
  JournalWriter(const std::string& path, const SweepPlan& plan, const World& world)
      : path_(path), dims_(dims_of(plan, world)) {
    fd_ = Fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (fd_.get() < 0)
      throw IoError(path + ": cannot open the sweep journal (" + std::strerror(errno) + ")");
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) throw IoError(path + ": cannot stat the sweep journal");
    if (st.st_size == 0) {
      auto h = journal_header(plan, world);
      if (!write_all(fd_.get(), h.data(), h.size()))
        throw IoError(path + ": cannot write the sweep journal (" + std::strerror(errno) + ")");
    }
    last_sync_ = std::chrono::steady_clock::now();
  }
  ~JournalWriter() {
    if (fd_.get() >= 0) ::fsync(fd_.get());
  }
  void append(const RunResult& r) {
    auto buf = encode(r, dims_);
    if (!write_all(fd_.get(), buf.data(), buf.size()))
      throw IoError(path_ + ": cannot write the sweep journal (" + std::strerror(errno) + ")");
    auto now = std::chrono::steady_clock::now();
    if (now - last_sync_ > std::chrono::seconds(5)) {
      ::fdatasync(fd_.get());
      last_sync_ = now;
    }
  }

 private:
  std::string path_;
  Dims dims_;
  Fd fd_;
  std::chrono::steady_clock::time_point last_sync_;
};

struct JournalEntry {
  std::size_t run;
  std::size_t file;    ///< index into the file list
  off_t offset;        ///< of the payload
  std::size_t length;  ///< of the payload
};

std::vector<std::string> journal_files(const std::string& out) {
  namespace fs = std::filesystem;
  fs::path p(out);
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  const std::string stem = p.filename().string() + ".partial";
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.compare(0, stem.size(), stem) != 0) continue;
    std::string rest = name.substr(stem.size());
    bool ok = rest.empty();
    if (!ok && rest.size() > 1 && rest[0] == '.')
      ok = std::all_of(rest.begin() + 1, rest.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (ok && it->is_regular_file(ec)) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// Index the valid records of all journals of `out` (first copy of each run wins). Torn or
/// corrupt tails are cut off when `truncate`.
std::vector<JournalEntry> scan_journals(const SweepPlan& plan, const World& world,
                                        const std::vector<std::string>& files, bool truncate) {
  const Dims d = dims_of(plan, world);
  const auto want = journal_header(plan, world);
  std::vector<JournalEntry> entries;
  std::vector<char> seen(plan.num_runs(), 0);
  std::vector<unsigned char> buf;
  for (std::size_t f = 0; f < files.size(); ++f) {
    const std::string& path = files[f];
    Fd fd(::open(path.c_str(), (truncate ? O_RDWR : O_RDONLY) | O_CLOEXEC));
    if (fd.get() < 0)
      throw IoError(path + ": cannot open the sweep journal (" + std::strerror(errno) + ")");
    struct stat st {};
    ::fstat(fd.get(), &st);
    const off_t size = st.st_size;
    std::vector<unsigned char> head(kHeaderSize);
    if (size < off_t(kHeaderSize) || !read_at(fd.get(), head.data(), head.size(), 0)) {
      if (size < off_t(kHeaderSize) && truncate) {  // torn header: nothing in it
        if (::ftruncate(fd.get(), 0) != 0) throw IoError(path + ": cannot truncate");
        continue;
      }
      throw InputError(SourceLocation{path, 0, 0, ""}, "not a sweep journal (too short)");
    }
    if (std::memcmp(head.data(), kJournalMagic, 8) != 0)
      throw InputError(SourceLocation{path, 0, 0, ""}, "not a shortfall sweep journal");
    if (head != want)
      throw InputError(SourceLocation{path, 0, 0, ""},
                       "these partial results belong to a different sweep (the sweep file, the "
                       "base scenario, the world or the program version changed); run with "
                       "--restart to discard them");
    off_t off = off_t(kHeaderSize);
    while (off < size) {
      unsigned char rh[kRecordHeaderSize];
      bool ok = off + off_t(kRecordHeaderSize) <= size && read_at(fd.get(), rh, sizeof rh, off);
      std::uint32_t magic = 0;
      std::uint64_t run = 0, len = 0, sum = 0;
      if (ok) {
        std::memcpy(&magic, rh, 4);
        std::memcpy(&run, rh + 8, 8);
        std::memcpy(&len, rh + 16, 8);
        std::memcpy(&sum, rh + 24, 8);
        ok = magic == kRecordMagic && run < d.runs && len <= 2 * d.payload() + 64 &&
             off + off_t(kRecordHeaderSize + len) <= size;
        if (ok) {
          buf.resize(std::size_t(len));
          ok = read_at(fd.get(), buf.data(), buf.size(), off + off_t(kRecordHeaderSize)) &&
               checksum(buf.data(), buf.size(), run) == sum;
        }
      }
      if (!ok) {
        if (truncate && ::ftruncate(fd.get(), off) != 0)
          throw IoError(path + ": cannot truncate a torn record (" + std::strerror(errno) + ")");
        break;
      }
      if (!seen[run]) {
        seen[run] = 1;
        entries.push_back({std::size_t(run), f, off + off_t(kRecordHeaderSize), std::size_t(len)});
      }
      off += off_t(kRecordHeaderSize + len);
    }
  }
  return entries;
}

// ---- HDF5 ------------------------------------------------------------------------------

using detail::H5Handle;

/// Writes the sweep's HDF5 file: named dimensions as HDF5 dimension scales (as
/// sim/output/hdf5_output.cpp does), so that xarray.open_dataset(path, engine="h5netcdf") reads them.
class SweepFileWriter {
 public:
  SweepFileWriter(const std::string& path, const SweepPlan& plan, const World& world)
      : path_(path),
        w_(path, "the sweep output"),
        plan_(plan),
        world_(world),
        d_(dims_of(plan, world)),
        base_(pair_baselines(world)) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    // No timestamps anywhere (the root group included): equal sweeps give equal bytes.
    file_ = detail::h5_create_file(path, {.v18_format = true, .root_times = false});
    if (file_.get() < 0)
      throw IoError(path + ": cannot create the sweep output (" + std::strerror(errno) + ")");
    for (std::size_t p = 0; p < base_.unit_value.size(); ++p)
      has_values_ = has_values_ || !std::isnan(base_.unit_value[p]);
    write_header();
  }

  ~SweepFileWriter() {
    series_.clear();
    metrics_.clear();
    values_.clear();
    scales_.clear();
    groups_.clear();
    file_.reset();
  }

  /// One run's series as the chunks the file stores them in, filtered as the series
  /// datasets' pipeline does (shuffle, then deflate level 1; an edge chunk padded with the
  /// NaN fill value first). Thread-safe (no HDF5 calls), so that runs are compressed in
  /// parallel: H5Dwrite would run the filters one chunk at a time on the writing thread.
  /// Empty where the series are not chunked, or memory doubles are not the file's
  /// little-endian ones (write_run then writes through HDF5).
  using SeriesChunks = std::array<std::vector<std::vector<unsigned char>>, kNumSeries>;
  [[nodiscard]] SeriesChunks compress_series(const RunResult& r) const {
    SeriesChunks out;
    if (chunk_days_ == 0 || !native_le_) return out;
    const std::size_t ncm = d_.ncm(), nd = std::size_t(d_.days), cd = chunk_days_;
    const std::size_t elems = cd * ncm, bytes = elems * sizeof(double);
    std::vector<double> chunk(elems);
    std::vector<unsigned char> shuffled(bytes);
    for (std::size_t k = 0; k < kNumSeries; ++k) {
      const std::vector<double>& series = r.*kSeries[k].run;
      for (std::size_t d0 = 0; d0 < nd; d0 += cd) {
        const std::size_t n = std::min(cd, nd - d0) * ncm;
        std::copy_n(series.begin() + std::ptrdiff_t(d0 * ncm), n, chunk.begin());
        std::fill(chunk.begin() + std::ptrdiff_t(n), chunk.end(), kNaN);
        // Shuffle: byte b of every element, then byte b + 1, ... (HDF5's H5Z shuffle).
        const auto* raw = reinterpret_cast<const unsigned char*>(chunk.data());
        for (std::size_t b = 0; b < sizeof(double); ++b)
          for (std::size_t i = 0; i < elems; ++i)
            shuffled[b * elems + i] = raw[i * sizeof(double) + b];
        uLongf len = compressBound(uLong(bytes));
        std::vector<unsigned char> z(len);
        if (compress2(z.data(), &len, shuffled.data(), uLong(bytes), 1) != Z_OK)
          throw IoError(path_ + ": compressing run " + std::to_string(r.run) + " failed");
        z.resize(len);
        out[k].push_back(std::move(z));
      }
    }
    return out;
  }

  /// Writes run r: its series (as `compressed`, from compress_series, where not empty) and
  /// its metrics.
  void write_run(const RunResult& r, const SeriesChunks& compressed = {}) {
    const std::size_t ncm = d_.ncm(), nd = std::size_t(d_.days);
    if (nd > 0 && ncm > 0 && !compressed[0].empty()) {
      for (std::size_t k = 0; k < kNumSeries; ++k) {
        for (std::size_t c = 0; c < compressed[k].size(); ++c) {
          const hsize_t offset[4] = {r.run, hsize_t(c) * chunk_days_, 0, 0};
          const auto& z = compressed[k][c];
          w_.check(H5Dwrite_chunk(series_[k], H5P_DEFAULT, 0, offset, z.size(), z.data()),
                   "writing");
        }
      }
    } else if (nd > 0 && ncm > 0) {
      for (std::size_t k = 0; k < kNumSeries; ++k) {
        hsize_t start[4] = {r.run, 0, 0, 0};
        hsize_t count[4] = {1, nd, d_.countries, d_.materials};
        w_.write_slab(series_[k], H5T_NATIVE_DOUBLE, 4, start, count, (r.*kSeries[k].run).data(),
                      "writing");
      }
    }
    // Metrics are buffered by chunk of runs and written once per chunk.
    const std::size_t slot = r.run % metric_chunk_;
    if (slot == 0 || block_start_ != r.run - slot) {
      flush_metrics();
      block_start_ = r.run - slot;
      block_runs_ = 0;
    }
    std::size_t nr = 0, nw = 0;
    for (const auto& m : kMetrics) {
      if (m.real) {
        const auto& v = r.metrics.*m.real;
        std::copy(v.begin(), v.end(), mbuf_d_[nr++].begin() + std::ptrdiff_t(slot * ncm));
      } else {
        const auto& v = r.metrics.*m.whole;
        std::copy(v.begin(), v.end(), mbuf_i_[nw++].begin() + std::ptrdiff_t(slot * ncm));
      }
    }
    if (has_values_) {
      const CountryValues v = country_values(r.metrics, base_);
      const std::size_t nc = std::size_t(d_.countries);
      std::copy(v.output_lost.begin(), v.output_lost.end(),
                vbuf_[0].begin() + std::ptrdiff_t(slot * nc));
      std::copy(v.unmet_final.begin(), v.unmet_final.end(),
                vbuf_[1].begin() + std::ptrdiff_t(slot * nc));
    }
    block_runs_ = std::max(block_runs_, slot + 1);
  }

  void close() {
    flush_metrics();
    series_.clear();
    metrics_.clear();
    values_.clear();
    scales_.clear();
    groups_.clear();
    if (H5Fclose(file_.release()) < 0) w_.fail("closing the file (disk full?)");
  }

 private:
  /// Chunked (`chunk` not empty), shuffled and deflated.
  static detail::H5Layout packed(std::vector<hsize_t> chunk, bool nan_fill) {
    return {.chunk = std::move(chunk), .shuffle = true, .deflate = 1, .nan_fill = nan_fill};
  }

  hid_t group(const char* name) {
    groups_.push_back(w_.group(file_, name));
    return groups_.back();
  }

  /// A 1-d dataset of numbers in `loc` over `dim` (or a dimension scale itself if dim < 0).
  H5Handle vector_dataset(hid_t loc, const char* name, hid_t file_type, hid_t mem_type,
                          std::size_t n, const void* data, hid_t dim) {
    if (dim >= 0)
      return w_.dataset(loc, name, file_type, {n}, {}, mem_type, data, {.scales = {dim}});
    return w_.make_scale(w_.dataset(loc, name, file_type, {n}, {}, mem_type, data), name);
  }

  H5Handle strings(hid_t loc, const char* name, const std::vector<std::string>& values,
                   hid_t dim) {
    if (dim >= 0) return w_.strings(loc, name, values, {}, {.scales = {dim}});
    return w_.scale_strings(loc, name, values, {});
  }

  /// The `run` dimension of `loc` and the sweep's coordinates along it: one per axis, then
  /// replicate, seed, point. Returns the `run` scale.
  hid_t run_dimension(hid_t loc) {
    const SweepSpec& spec = plan_.spec;
    const std::size_t nr = plan_.num_runs();
    std::vector<std::int32_t> run_index(nr);
    std::iota(run_index.begin(), run_index.end(), 0);
    scales_.push_back(
        vector_dataset(loc, "run", H5T_STD_I32LE, H5T_NATIVE_INT32, nr, run_index.data(), -1));
    const hid_t run = scales_.back();
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      const SweepAxis& ax = spec.axes[a];
      H5Handle d;
      if (ax.kind == AxisKind::kInt) {
        std::vector<std::int64_t> v(nr);
        for (std::size_t k = 0; k < nr; ++k)
          v[k] = std::get<std::int64_t>(plan_.points[plan_.runs[k].point][a]);
        d = vector_dataset(loc, ax.name.c_str(), H5T_STD_I64LE, H5T_NATIVE_INT64, nr, v.data(),
                           run);
      } else if (ax.kind == AxisKind::kReal) {
        std::vector<double> v(nr);
        for (std::size_t k = 0; k < nr; ++k)
          v[k] = std::get<double>(plan_.points[plan_.runs[k].point][a]);
        d = vector_dataset(loc, ax.name.c_str(), H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, nr, v.data(),
                           run);
      } else {
        std::vector<std::string> v(nr);
        for (std::size_t k = 0; k < nr; ++k) v[k] = label_of(plan_.points[plan_.runs[k].point][a]);
        d = strings(loc, ax.name.c_str(), v, run);
      }
      w_.attr_string(d, "key_path", ax.path);
      w_.attr_string(d, "long_name", "sweep axis " + ax.path);
    }
    std::vector<std::int32_t> rep(nr), point(nr);
    std::vector<std::int64_t> seed(nr);
    for (std::size_t k = 0; k < nr; ++k) {
      rep[k] = plan_.runs[k].replicate;
      point[k] = std::int32_t(plan_.runs[k].point);
      seed[k] = std::int64_t(plan_.runs[k].seed);
    }
    {
      H5Handle d =
          vector_dataset(loc, "replicate", H5T_STD_I32LE, H5T_NATIVE_INT32, nr, rep.data(), run);
      w_.attr_string(d, "long_name",
                     "replicate: the run's seed is the scenario's seed + replicate");
    }
    {
      H5Handle d =
          vector_dataset(loc, "seed", H5T_STD_I64LE, H5T_NATIVE_INT64, nr, seed.data(), run);
      w_.attr_string(d, "long_name", "the run's scenario seed");
    }
    {
      H5Handle d =
          vector_dataset(loc, "point", H5T_STD_I32LE, H5T_NATIVE_INT32, nr, point.data(), run);
      w_.attr_string(d, "long_name",
                     "index of the parameter point (runs of a point differ by seed)");
    }
    return run;
  }

  /// The `country` and `material` dimensions of `loc`, with country_name and material_unit.
  std::pair<hid_t, hid_t> country_material_dimensions(hid_t loc) {
    std::vector<std::string> codes, names, ids, units;
    for (auto& c : world_.countries) codes.push_back(c.code), names.push_back(c.name);
    for (auto& m : world_.materials) ids.push_back(m.id), units.push_back(m.unit);
    scales_.push_back(strings(loc, "country", codes, -1));
    const hid_t country = scales_.back();
    scales_.push_back(strings(loc, "material", ids, -1));
    const hid_t material = scales_.back();
    strings(loc, "country_name", names, country);
    strings(loc, "material_unit", units, material);
    return {country, material};
  }

  void write_header() {
    const SweepSpec& spec = plan_.spec;
    const std::size_t nr = plan_.num_runs();
    w_.attr_string(file_, "title", "shortfall sweep " + spec.name);
    w_.attr_string(file_, "sweep", spec.text);
    w_.attr_string(file_, "sweep_path", spec.path);
    w_.attr_string(file_, "sweep_name", spec.name);
    w_.attr_string(file_, "sweep_sha256", plan_.sha256);
    w_.attr_string(file_, "base_scenario", spec.base_text);
    w_.attr_string(file_, "base_path", spec.base_path);
    w_.attr_string(file_, "world_sha256", world_.sha256);
    w_.attr_string(file_, "program_version", kVersion);
    const char* sampling = spec.sampling == Sampling::kGrid     ? "grid"
                           : spec.sampling == Sampling::kRandom ? "random"
                                                                : "latin_hypercube";
    w_.attr_string(file_, "sampling", sampling);
    w_.attr_scalar<std::int64_t>(file_, "samples", H5T_STD_I64LE, std::int64_t(spec.samples));
    w_.attr_scalar<std::int64_t>(file_, "sampling_seed", H5T_STD_I64LE,
                                 std::int64_t(spec.sample_seed));
    w_.attr_scalar<std::int32_t>(file_, "replicates", H5T_STD_I32LE, spec.replicates);
    w_.attr_scalar<std::int32_t>(file_, "points", H5T_STD_I32LE, std::int32_t(plan_.points.size()));
    std::string axes;
    for (auto& a : spec.axes) axes += (axes.empty() ? "" : " ") + a.name;
    w_.attr_string(file_, "axes", axes);
    const std::string coords = axes + (axes.empty() ? "" : " ") + "replicate seed point";

    // The root group: the sweep's own dimension `run` and its coordinates.
    run_dimension(file_);

    // country_material: the run file's group of the same name, with a leading `run`.
    const hid_t cmg = group("country_material");
    w_.attr_string(cmg, "axes", axes);
    const hid_t cm_run = run_dimension(cmg);
    std::vector<std::int32_t> days(plan_.days.begin(), plan_.days.end());
    scales_.push_back(vector_dataset(cmg, "day", H5T_STD_I32LE, H5T_NATIVE_INT32, days.size(),
                                     days.data(), -1));
    const hid_t cm_day = scales_.back();
    const auto [cm_country, cm_material] = country_material_dimensions(cmg);
    {
      std::vector<std::string> mnames, tiers;
      for (auto& m : world_.materials) mnames.push_back(m.name), tiers.push_back(m.tier);
      strings(cmg, "material_name", mnames, cm_material);
      strings(cmg, "material_tier", tiers, cm_material);
      for (const detail::BaselineTable& t : detail::kBaselineTables)
        w_.doubles(
            cmg, t.name, base_.*t.field, {d_.countries, d_.materials}, {},
            {.scales = {cm_country, cm_material}, .units = t.units, .long_name = t.long_name});
      vector_dataset(cmg, "material_unit_value", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                     base_.unit_value.size(), base_.unit_value.data(), cm_material);
    }
    // Series (run, day, country, material): one run per chunk, days split if large.
    const std::size_t ncm = std::max<std::size_t>(1, d_.ncm());
    const hsize_t chunk_days = std::max<hsize_t>(1, std::min<hsize_t>(d_.days, 131072 / ncm));
    for (const auto& s : kSeries) {
      hsize_t dims[4] = {nr, d_.days, d_.countries, d_.materials};
      hsize_t chunk[4] = {1, chunk_days, std::max<hsize_t>(1, d_.countries),
                          std::max<hsize_t>(1, d_.materials)};
      bool empty = nr == 0 || d_.days == 0 || d_.countries == 0 || d_.materials == 0;
      chunk_days_ = empty ? 0 : std::size_t(chunk_days);
      H5Handle d = w_.dataset(
          cmg, s.name, H5T_IEEE_F64LE, {std::begin(dims), std::end(dims)},
          packed(empty ? std::vector<hsize_t>{} : std::vector(chunk, chunk + 4), true),
          H5T_NATIVE_DOUBLE, nullptr, {.scales = {cm_run, cm_day, cm_country, cm_material}});
      w_.attr_string(d, "coordinates", coords);
      w_.attr_string(d, "units", s.units);
      w_.attr_string(d, "long_name", s.long_name);
      series_.push_back(std::move(d));
    }

    // summary: the run file's group of the same name (model 10's metrics), with a leading `run`.
    const hid_t sg = group("summary");
    w_.attr_string(sg, "axes", axes);
    const hid_t s_run = run_dimension(sg);
    const auto [s_country, s_material] = country_material_dimensions(sg);
    metric_chunk_ =
        std::max<std::size_t>(1, std::min<std::size_t>(std::max<std::size_t>(nr, 1), 65536 / ncm));
    const bool empty = nr == 0 || d_.countries == 0 || d_.materials == 0;
    for (const MetricInfo& m : kMetrics) {
      hsize_t dims[3] = {nr, d_.countries, d_.materials};
      hsize_t chunk[3] = {metric_chunk_, std::max<hsize_t>(1, d_.countries),
                          std::max<hsize_t>(1, d_.materials)};
      H5Handle d = w_.dataset(
          sg, m.name, m.real ? H5T_IEEE_F64LE : H5T_STD_I32LE, {std::begin(dims), std::end(dims)},
          packed(empty ? std::vector<hsize_t>{} : std::vector(chunk, chunk + 3), m.real != nullptr),
          H5T_NATIVE_DOUBLE, nullptr, {.scales = {s_run, s_country, s_material}});
      w_.attr_string(d, "coordinates", coords);
      // No `units` on the day numbers: xarray would decode "day" or "days" as a timedelta.
      if (m.units) w_.attr_string(d, "units", m.units);
      w_.attr_string(d, "long_name", m.long_name);
      metrics_.push_back(std::move(d));
    }
    if (has_values_) {
      for (const char* name : {"output_lost_value", "unmet_final_demand_value"}) {
        hsize_t dims[2] = {nr, d_.countries};
        hsize_t chunk[2] = {metric_chunk_, std::max<hsize_t>(1, d_.countries)};
        const bool e = nr == 0 || d_.countries == 0;
        H5Handle d =
            w_.dataset(sg, name, H5T_IEEE_F64LE, {std::begin(dims), std::end(dims)},
                       packed(e ? std::vector<hsize_t>{} : std::vector(chunk, chunk + 2), true),
                       H5T_NATIVE_DOUBLE, nullptr, {.scales = {s_run, s_country}});
        w_.attr_string(d, "coordinates", coords);
        w_.attr_string(d, "units", "currency of the materials' unit_value");
        w_.attr_string(d, "long_name",
                       std::strcmp(name, "output_lost_value") == 0
                           ? "output lost in value, summed over the materials with a unit_value"
                           : "unmet final demand in value, summed over the materials with a "
                             "unit_value");
        values_.push_back(std::move(d));
      }
      vbuf_.assign(2, std::vector<double>(metric_chunk_ * std::size_t(d_.countries), kNaN));
    }
    mbuf_d_.assign(kNumReal, std::vector<double>(metric_chunk_ * d_.ncm(), kNaN));
    mbuf_i_.assign(kNumWhole, std::vector<std::int32_t>(metric_chunk_ * d_.ncm(), 0));
  }

  void flush_metrics() {
    if (block_runs_ == 0) return;
    hsize_t start[3] = {block_start_, 0, 0};
    hsize_t count[3] = {block_runs_, d_.countries, d_.materials};
    if (d_.ncm() > 0) {
      std::size_t nr = 0, nw = 0;
      for (std::size_t k = 0; k < kNumReal + kNumWhole; ++k) {
        if (kMetrics[k].real)
          w_.write_slab(metrics_[k], H5T_NATIVE_DOUBLE, 3, start, count, mbuf_d_[nr++].data(),
                        "writing");
        else
          w_.write_slab(metrics_[k], H5T_NATIVE_INT32, 3, start, count, mbuf_i_[nw++].data(),
                        "writing");
      }
    }
    if (has_values_ && d_.countries > 0)
      for (std::size_t k = 0; k < values_.size(); ++k)
        w_.write_slab(values_[k], H5T_NATIVE_DOUBLE, 2, start, count, vbuf_[k].data(), "writing");
    block_runs_ = 0;
  }

  std::string path_;
  detail::H5Writer w_;
  const SweepPlan& plan_;
  const World& world_;
  Dims d_;
  PairBaselines base_;
  bool has_values_ = false;  ///< some material has a unit_value
  H5Handle file_;
  std::vector<H5Handle> groups_, scales_, series_, metrics_, values_;
  std::size_t metric_chunk_ = 1, block_start_ = 0, block_runs_ = 0;
  std::size_t chunk_days_ = 0;  // days per chunk of the series; 0: not chunked
  const bool native_le_ = H5Tequal(H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE) > 0;
  std::vector<std::vector<double>> mbuf_d_, vbuf_;
  std::vector<std::vector<std::int32_t>> mbuf_i_;
};

}  // namespace

// ---- the sweep file ------------------------------------------------------------------------

std::string set_key_path(const std::string& scenario_text, const std::string& key_path,
                         const std::string& value_yaml, const SourceLocation& where) {
  auto segs = parse_key_path(key_path, where);
  YNode root = detail::parse_yaml(scenario_text, where.file);
  YAML::Node value = load_value(value_yaml, where);
  set_in_node(root.node, segs, value, key_path, where);
  return emit_yaml(root.node, where);
}

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
    m->fail("sweeps no longer take `metrics:` options (shortage_threshold is gone): every run "
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
  if (base_sc.seed + std::uint64_t(spec.replicates - 1) > std::uint64_t(kMaxSeed))
    root.at("replicates").fail("the base seed plus the replicates exceeds 2^62");

  // Axes.
  YNode axes_node = root.at("axes");
  if (!axes_node.node.IsNull()) axes_node.expect_map();
  std::set<std::string> paths;
  const YAML::Node base_yaml = YAML::Load(spec.base_text);
  for (auto it = axes_node.node.begin(); axes_node.is_map() && it != axes_node.node.end(); ++it) {
    SweepAxis ax;
    if (!it->first.IsScalar())
      YNode{it->first, path, "axes"}.fail("expected a key path, found " +
                                          detail::describe(it->first));
    ax.path = it->first.Scalar();
    YNode key{it->first, path, "axes." + ax.path};
    YNode val{it->second, path, "axes." + ax.path};
    ax.where = key.where();
    if (!paths.insert(ax.path).second) key.fail("axis '" + ax.path + "' given twice");
    auto segs = parse_key_path(ax.path, ax.where);
    if (!segs[0].select && (segs[0].text == "world"))
      key.fail("the world cannot be varied in a sweep (it is loaded once for all runs)");
    std::optional<AxisKind> forced;
    std::optional<YNode> name_node;
    std::vector<std::pair<std::string, bool>> raw;  // YAML text, scalar written plain
    auto collect = [&](const YNode& list) {
      list.expect_seq();
      if (list.size() == 0) list.fail("expected at least one value");
      for (std::size_t i = 0; i < list.size(); ++i) {
        YAML::Node v = list.node[i];
        bool plain_scalar = v.IsScalar() && v.Tag() != "!";
        raw.emplace_back(v.IsScalar() && plain_scalar ? v.Scalar() : flow_yaml(v), plain_scalar);
      }
    };
    bool range = false;
    std::string lo_text, hi_text;
    double lo = 0, hi = 0;
    if (val.is_seq()) {
      collect(val);
    } else if (val.is_map()) {
      val.check_keys({"values", "range", "steps", "step", "type", "name"});
      if (auto t = val.get("type")) {
        std::string v = t->as_string();
        if (v == "int" || v == "integer")
          forced = AxisKind::kInt;
        else if (v == "real" || v == "float")
          forced = AxisKind::kReal;
        else if (v == "text" || v == "string")
          forced = AxisKind::kText;
        else
          t->fail("unknown axis type '" + v + "'; expected int, real or text");
      }
      name_node = val.get("name");
      if (val.has("values") == val.has("range"))
        val.fail("expected either 'values' or 'range' for axis '" + ax.path + "'");
      if (auto v = val.get("values")) {
        if (val.has("steps") || val.has("step"))
          val.at(val.has("steps") ? "steps" : "step")
              .fail("'steps' goes with 'range', not 'values'");
        collect(*v);
      } else {
        YNode r = val.at("range");
        if (!r.is_seq() || r.size() != 2)
          r.fail("expected [low, high], found " + detail::describe(r.node));
        lo = r.item(0).as_double();
        hi = r.item(1).as_double();
        lo_text = r.item(0).node.Scalar();
        hi_text = r.item(1).node.Scalar();
        if (hi < lo) r.fail("expected low <= high, found [" + lo_text + ", " + hi_text + "]");
        if (forced == AxisKind::kText)
          val.at("type").fail("a range is numeric; expected int or real");
        std::int64_t li = 0, hi_i = 0;
        constexpr std::int64_t kMaxWhole = std::int64_t(1) << 53;  // exact as a double
        const bool ints_written = parse_int(lo_text, li) && parse_int(hi_text, hi_i) &&
                                  li >= -kMaxWhole && li <= kMaxWhole && hi_i >= -kMaxWhole &&
                                  hi_i <= kMaxWhole;
        if (forced == AxisKind::kInt && !ints_written)
          r.fail("an int range needs whole-number ends");
        if (val.has("steps") && val.has("step"))
          val.at("step").fail("expected 'steps' or 'step', not both");
        if (auto st = val.get("steps")) {
          const long long n = st->as_int_in(1, 10'000'000);
          if (n == 1 && lo != hi) st->fail("one step needs low == high; use steps >= 2");
          const bool ints =
              forced != AxisKind::kReal && ints_written && (n == 1 || (hi_i - li) % (n - 1) == 0);
          if (forced == AxisKind::kInt && !ints)
            st->fail("the steps of [" + lo_text + ", " + hi_text + "] are not whole numbers");
          for (long long i = 0; i < n; ++i) {
            if (ints) {
              raw.emplace_back(std::to_string(n == 1 ? li : li + (hi_i - li) / (n - 1) * i), true);
            } else {
              double v = i == n - 1 ? hi : round15(lo + (hi - lo) * double(i) / double(n - 1));
              raw.emplace_back(format_double(v), true);
            }
          }
          if (!ints && !forced) forced = AxisKind::kReal;
        } else if (auto st = val.get("step")) {
          const double s = st->as_double();
          if (!(s > 0)) st->fail("expected a step > 0");
          std::int64_t si = 0;
          const bool ints = forced != AxisKind::kReal && ints_written &&
                            parse_int(st->node.Scalar(), si) && si <= (std::int64_t(1) << 53);
          if (forced == AxisKind::kInt && !ints) st->fail("an int axis needs a whole-number step");
          const double count = std::floor((hi - lo) / s * (1 + 1e-12)) + 1;
          if (count > 1e6) st->fail("too many steps (more than 1,000,000)");
          for (long long i = 0; i < (long long)count; ++i)
            raw.emplace_back(
                ints ? std::to_string(li + si * i) : format_double(round15(lo + s * double(i))),
                true);
          if (!ints && !forced) forced = AxisKind::kReal;
        } else {
          if (spec.sampling == Sampling::kGrid)
            r.fail(
                "a grid needs 'steps' (or 'step') for a range; without them a range is sampled "
                "by random or latin_hypercube sampling");
          range = true;
          ax.continuous = true;
          ax.lo = lo;
          ax.hi = hi;
          ax.kind = forced ? *forced : (ints_written ? AxisKind::kInt : AxisKind::kReal);
        }
      }
    } else {
      // A single value: fixed for every run.
      YAML::Node v = val.node;
      bool plain = v.IsScalar() && v.Tag() != "!";
      raw.emplace_back(plain ? v.Scalar() : flow_yaml(v), plain);
    }
    if (!range) {
      bool all_int = true, all_num = true;
      for (auto& [t, plain] : raw) {
        std::int64_t i = 0;
        double d = 0;
        all_int = all_int && plain && parse_int(t, i);
        all_num = all_num && plain && parse_real(t, d);
      }
      AxisKind kind = all_int ? AxisKind::kInt : all_num ? AxisKind::kReal : AxisKind::kText;
      if (forced) {
        if (*forced == AxisKind::kInt && !all_int)
          val.fail("axis type int, but not every value is a whole number");
        if (*forced == AxisKind::kReal && !all_num)
          val.fail("axis type real, but not every value is a number");
        kind = *forced;
      }
      ax.kind = kind;
      for (auto& [t, plain] : raw) {
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
    if (name_node) {
      ax.name = name_node->as_string();
      if (sanitize(ax.name) != ax.name)
        name_node->fail("expected a name of letters, digits and '_', found '" + ax.name + "'");
      if (reserved_names().count(ax.name))
        name_node->fail("'" + ax.name + "' is a name used by the output; choose another");
    }
    // Check the path against the base scenario now (structure only; values by plan_sweep).
    {
      YAML::Node n = YAML::Clone(base_yaml);
      YAML::Node v = load_value(ax.values.empty() ? format_double(ax.lo) : ax.values[0], ax.where);
      set_in_node(n, segs, v, ax.path, ax.where);
    }
    spec.axes.push_back(std::move(ax));
  }

  // Coordinate names: the last key, unless taken; then the whole path.
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

  // Size.
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
  return spec;
}

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

// ---- the plan ----------------------------------------------------------------------------

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

RunResult simulate_run(const SweepPlan& plan, const World& world, std::size_t run,
                       const std::atomic<bool>* cancel) {
  return simulate(plan, world, run, cancel);
}

// ---- running -----------------------------------------------------------------------------

std::string journal_path(const std::string& out, int rank) {
  return out + ".partial" + (rank == 0 ? std::string() : "." + std::to_string(rank));
}

bool has_journals(const std::string& out) {
  return !journal_files(out).empty();
}

void remove_journals(const std::string& out) {
  for (auto& f : journal_files(out)) std::remove(f.c_str());
}

std::vector<std::size_t> completed_runs(const SweepPlan& plan, const World& world,
                                        const std::string& out) {
  auto entries = scan_journals(plan, world, journal_files(out), true);
  std::vector<std::size_t> runs;
  for (auto& e : entries) runs.push_back(e.run);
  std::sort(runs.begin(), runs.end());
  return runs;
}

std::size_t execute_runs(const SweepPlan& plan, const World& world,
                         const std::vector<std::size_t>& runs, const std::string& journal,
                         const SweepOptions& options) {
  if (runs.empty()) return 0;
  {
    namespace fs = std::filesystem;
    fs::path p(journal);
    std::error_code ec;
    if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  }
  JournalWriter writer(journal, plan, world);
  const int threads = options.threads > 0 ? options.threads
                                          : int(std::max(1u, std::thread::hardware_concurrency()));
  std::mutex mu;
  std::size_t done = 0;
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, runs.size(), 1),
        [&](const tbb::blocked_range<std::size_t>& range) {
          for (std::size_t i = range.begin(); i < range.end(); ++i) {
            if (options.cancel && options.cancel->load()) return;
            RunResult r;
            try {
              r = simulate(plan, world, runs[i], options.cancel);
            } catch (const Interrupted&) {
              return;
            }
            std::lock_guard<std::mutex> lock(mu);
            writer.append(r);
            ++done;
            if (options.progress) options.progress(done, runs.size());
          }
        },
        tbb::simple_partitioner());
  });
  return done;
}

void join_journals(const SweepPlan& plan, const World& world, const std::string& out) {
  namespace fs = std::filesystem;
  const auto files = journal_files(out);
  auto entries = scan_journals(plan, world, files, false);
  if (entries.size() != plan.num_runs())
    throw IoError(out + ": the journals hold " + std::to_string(entries.size()) + " of " +
                  std::to_string(plan.num_runs()) + " runs; cannot write the output");
  std::sort(entries.begin(), entries.end(),
            [](const JournalEntry& a, const JournalEntry& b) { return a.run < b.run; });
  fs::path p(out);
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  const std::string tmp_prefix = "." + p.filename().string() + ".tmp-";
  const std::string tmp = (p.has_parent_path() ? p.parent_path() / "" : fs::path()).string() +
                          tmp_prefix + std::to_string(::getpid());
  // Remove what a join killed earlier left behind (its process is gone).
  for (auto it = fs::directory_iterator(p.has_parent_path() ? p.parent_path() : fs::path("."), ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, tmp_prefix.size(), tmp_prefix) != 0) continue;
    const std::string pid = name.substr(tmp_prefix.size());
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        }))
      continue;
    if (::kill(pid_t(std::stol(pid)), 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec);
  }
  ec.clear();
  const Dims d = dims_of(plan, world);
  try {
    std::vector<Fd> fds;
    for (auto& f : files) {
      fds.emplace_back(::open(f.c_str(), O_RDONLY | O_CLOEXEC));
      if (fds.back().get() < 0) throw IoError(f + ": cannot open (" + std::strerror(errno) + ")");
    }
    SweepFileWriter w(tmp, plan, world);
    // A batch of runs at a time: read serially, decoded and compressed in parallel, written
    // in run order.
    constexpr std::size_t kBatch = 32;
    std::vector<std::vector<unsigned char>> bufs(kBatch);
    std::vector<RunResult> results(kBatch);
    std::vector<SweepFileWriter::SeriesChunks> chunks(kBatch);
    std::vector<char> ok(kBatch);
    for (std::size_t b0 = 0; b0 < entries.size(); b0 += kBatch) {
      const std::size_t nb = std::min(kBatch, entries.size() - b0);
      for (std::size_t q = 0; q < nb; ++q) {
        const JournalEntry& e = entries[b0 + q];
        bufs[q].resize(e.length);
        ok[q] = read_at(fds[e.file].get(), bufs[q].data(), bufs[q].size(), e.offset);
      }
      tbb::parallel_for(std::size_t(0), nb, [&](std::size_t q) {
        const JournalEntry& e = entries[b0 + q];
        ok[q] = ok[q] && decode(bufs[q].data(), bufs[q].size(), e.run, d, results[q]);
        if (ok[q]) chunks[q] = w.compress_series(results[q]);
      });
      for (std::size_t q = 0; q < nb; ++q) {
        const JournalEntry& e = entries[b0 + q];
        if (!ok[q])
          throw IoError(files[e.file] + ": cannot read run " + std::to_string(e.run) + " back");
        w.write_run(results[q], chunks[q]);
      }
    }
    w.close();
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  util::publish_file(tmp, out, "the finished output",
                     "; the finished runs are kept in " + journal_path(out, 0) +
                         "*: fix the place and run the same command with --resume");
  for (auto& f : files) std::remove(f.c_str());
}

SweepStatus run_sweep(const SweepPlan& plan, const World& world, const SweepOptions& options) {
  SweepStatus st;
  st.total = plan.num_runs();
  if (options.out.empty()) throw IoError("sweep: no output file given");
  check_output_file(options.out);
  if (options.restart) remove_journals(options.out);
  std::vector<char> done(st.total, 0);
  if (has_journals(options.out)) {
    if (!options.resume)
      throw InputError(SourceLocation{journal_path(options.out, 0), 0, 0, ""},
                       "an interrupted sweep left partial results here; run with --resume to "
                       "continue it or --restart to discard them");
    for (std::size_t r : completed_runs(plan, world, options.out)) done[r] = 1, ++st.done_before;
  }
  std::vector<std::size_t> todo;
  for (std::size_t r = 0; r < st.total; ++r)
    if (!done[r]) todo.push_back(r);
  auto t0 = std::chrono::steady_clock::now();
  st.done_now = execute_runs(plan, world, todo, journal_path(options.out, 0), options);
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (st.done_now < todo.size()) {
    st.interrupted = true;
    return st;
  }
  join_journals(plan, world, options.out);
  st.complete = true;
  return st;
}

// ---- reading the output ------------------------------------------------------------------

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

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    if (!std::filesystem::exists(path_)) throw IoError(path_ + ": no such file");
    file_ = H5Handle(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (file_.get() < 0) throw IoError(path_ + ": cannot open as HDF5");
  }
  [[noreturn]] void bad(const std::string& what) const {
    throw InputError(SourceLocation{path_, 0, 0, ""}, "not a shortfall sweep output: " + what);
  }
  std::string attr(const char* name) const {
    if (H5Aexists(file_, name) <= 0) bad("missing attribute '" + std::string(name) + "'");
    H5Handle a(H5Aopen(file_, name, H5P_DEFAULT), H5Aclose);
    H5Handle type(H5Aget_type(a), H5Tclose);
    if (H5Tget_class(type) != H5T_STRING) bad("attribute '" + std::string(name) + "' is not text");
    H5Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5T_CSET_UTF8);
    char* p = nullptr;
    if (H5Aread(a, mem, &p) < 0) bad("cannot read attribute '" + std::string(name) + "'");
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  double scalar_attr(const char* name) const {
    if (H5Aexists(file_, name) <= 0) bad("missing attribute '" + std::string(name) + "'");
    H5Handle a(H5Aopen(file_, name, H5P_DEFAULT), H5Aclose);
    double v = kNaN;
    if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0)
      bad("cannot read attribute '" + std::string(name) + "'");
    return v;
  }
  std::string dset_attr(hid_t d, const char* name) const {
    if (H5Aexists(d, name) <= 0) return "";
    H5Handle a(H5Aopen(d, name, H5P_DEFAULT), H5Aclose);
    H5Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5T_CSET_UTF8);
    char* p = nullptr;
    if (H5Aread(a, mem, &p) < 0) return "";
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  H5Handle open(const std::string& name) const {
    if (H5Lexists(file_, name.c_str(), H5P_DEFAULT) <= 0) bad("missing dataset '" + name + "'");
    return H5Handle(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), H5Dclose);
  }
  std::size_t size(hid_t d) const {
    H5Handle s(H5Dget_space(d), H5Sclose);
    hssize_t n = H5Sget_simple_extent_npoints(s);
    return n < 0 ? 0 : std::size_t(n);
  }
  std::vector<double> numbers(const std::string& name, std::size_t expect) const {
    H5Handle d = open(name);
    std::size_t n = size(d);
    if (n != expect) bad("dataset '" + name + "' has " + std::to_string(n) + " values");
    std::vector<double> v(n);
    if (n && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
      bad("cannot read '" + name + "'");
    return v;
  }
  std::vector<std::int32_t> wholes(const std::string& name, std::size_t expect) const {
    H5Handle d = open(name);
    std::size_t n = size(d);
    if (n != expect) bad("dataset '" + name + "' has " + std::to_string(n) + " values");
    std::vector<std::int32_t> v(n);
    if (n && H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
      bad("cannot read '" + name + "'");
    return v;
  }
  std::vector<std::string> texts(hid_t d) const {
    std::size_t n = size(d);
    H5Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5T_CSET_UTF8);
    std::vector<char*> p(n, nullptr);
    if (n && H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) < 0)
      bad("cannot read strings");
    std::vector<std::string> out;
    for (char* s : p) out.emplace_back(s ? s : "");
    if (n) {
      H5Handle space(H5Dget_space(d), H5Sclose);
      H5Dvlen_reclaim(mem, space, H5P_DEFAULT, p.data());
    }
    return out;
  }
  std::vector<std::string> texts(const std::string& name) const {
    H5Handle d = open(name);
    return texts(d);
  }
  SweepCoordinate coordinate(const std::string& name, std::size_t runs) const {
    SweepCoordinate c;
    c.name = name;
    H5Handle d = open(name);
    if (size(d) != runs) bad("coordinate '" + name + "' is not along 'run'");
    c.key_path = dset_attr(d, "key_path");
    H5Handle type(H5Dget_type(d), H5Tclose);
    H5T_class_t cls = H5Tget_class(type);
    if (cls == H5T_STRING) {
      c.kind = AxisKind::kText;
      c.texts = texts(d);
    } else {
      c.kind = cls == H5T_FLOAT ? AxisKind::kReal : AxisKind::kInt;
      c.numbers.resize(runs);
      if (runs &&
          H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c.numbers.data()) < 0)
        bad("cannot read '" + name + "'");
    }
    return c;
  }

 private:
  std::string path_;
  H5Handle file_;
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
  H5Handle run = rd.open("run");
  out.runs = rd.size(run);
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
      const std::vector<double> v = rd.numbers(dset, n);
      for (std::size_t r = 0; r < out.runs; ++r)
        (out.metrics[r].*mi.real).assign(v.begin() + std::ptrdiff_t(r * ncm),
                                         v.begin() + std::ptrdiff_t((r + 1) * ncm));
    } else {
      const std::vector<std::int32_t> v = rd.wholes(dset, n);
      for (std::size_t r = 0; r < out.runs; ++r)
        (out.metrics[r].*mi.whole).assign(v.begin() + std::ptrdiff_t(r * ncm),
                                          v.begin() + std::ptrdiff_t((r + 1) * ncm));
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
