// Key paths into scenarios ("policies[ipef-scra].meeting_days") and the small text helpers the
// sweep files share (docs/sweeps.md).
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "sweeps/sweep_internal.hpp"
#include "util/yaml_util.hpp"

namespace shortfall {
namespace sweep_detail {

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

std::string emit_yaml(const YAML::Node& node, const SourceLocation& where) {
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
  // clang-format off
  static const std::set<std::string> k = {
      "run", "day", "country", "material", "replicate", "seed", "point", "country_name",
      "material_unit", "material_name", "material_tier", "baseline_output", "baseline_use",
      "baseline_final_use", "material_unit_value", "production", "output_lost", "shortage",
      "unmet_final_demand", "order_backlog", "inventory_days", "output_lost_days",
      "peak_output_loss", "shortage_days", "unmet_final_demand_days", "output_lost_units",
      "unmet_final_demand_units", "first_shortage_day", "recovery_day", "output_lost_value",
      "unmet_final_demand_value", "summary", "country_material"};
  // clang-format on
  return k;
}

// ---- key paths ---------------------------------------------------------------------------

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

namespace {

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

}  // namespace

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
      // Appended piece by piece: "[" + std::to_string(index) trips GCC 12's -Wrestrict
      // (a false positive) once this function is not inlined into its callers.
      resolved += "[";
      resolved += std::to_string(index);
      resolved += "]";
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

}  // namespace sweep_detail

using detail::YNode;
using namespace sweep_detail;

std::string set_key_path(const std::string& scenario_text, const std::string& key_path,
                         const std::string& value_yaml, const SourceLocation& where) {
  auto segs = parse_key_path(key_path, where);
  YNode root = detail::parse_yaml(scenario_text, where.file);
  YAML::Node value = load_value(value_yaml, where);
  set_in_node(root.node, segs, value, key_path, where);
  return emit_yaml(root.node, where);
}

}  // namespace shortfall
