// Hindcast record files (docs/hindcast.md): the events with their checks, the keys of the
// sources they cite, and the sensitivity parameters, each checked where it is written.
#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "shortfall/error.hpp"
#include "shortfall/hindcast.hpp"
#include "util/yaml_util.hpp"
#include "validation/hindcast_common.hpp"

namespace shortfall {

using detail::YNode;
using namespace hindcasting;

std::set<std::string> read_source_keys(const std::string& sources_md) {
  std::set<std::string> keys;
  std::istringstream in(detail::read_file(sources_md));
  static const std::regex row(R"(^\|\s*([A-Za-z][A-Za-z0-9_.<>\-]*)\s*\|)");
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, row)) keys.insert(m[1].str());
  return keys;
}

namespace {

bool known_source(const std::string& key, const std::set<std::string>& keys) {
  if (keys.count(key)) return true;
  // Templated keys: "USGS26-<x>" accepts "USGS26-gallium".
  for (const auto& k : keys) {
    const auto open = k.find('<');
    if (open != std::string::npos && open > 0 && k.back() == '>' && key.size() > open &&
        key.compare(0, open, k, 0, open) == 0)
      return true;
  }
  return false;
}

HindcastCheck parse_check(const YNode& n, const std::set<std::string>* source_keys) {
  n.expect_map();
  n.check_keys({"id", "observed", "source", "quality", "metric", "country", "material", "window",
                "range", "at_most", "at_least"});
  HindcastCheck c;
  c.where = n.where();
  c.id = n.at("id").as_string();
  c.observed = trim(n.at("observed").as_string());
  const YNode src = n.at("source");
  c.source = src.as_string();
  if (source_keys && !known_source(c.source, *source_keys))
    src.fail("expected a key of scenarios/worlds/sources.md, found '" + c.source + "'");
  const YNode q = n.at("quality");
  c.quality = q.as_string();
  if (c.quality != "S" && c.quality != "W" && c.quality != "A")
    q.fail("expected S (sourced figure), W (weak source) or A (assumed bound), found '" +
           c.quality + "'");
  const YNode met = n.at("metric");
  const std::string mname = met.as_string();
  bool found = false;
  std::string names;
  for (const auto& mi : kMetrics) {
    names += std::string(names.empty() ? "" : ", ") + mi.name;
    if (mname == mi.name) c.metric = mi.metric, found = true;
  }
  if (!found) met.fail("expected one of " + names + "; found '" + mname + "'");
  c.country = n.at("country").as_string();
  c.material = n.at("material").as_string();
  const YNode win = n.at("window");
  win.expect_seq();
  if (win.size() != 2)
    win.fail("expected [first_day, last_day], found " + std::to_string(win.size()) + " items");
  c.first_day = int(win.item(0).as_int_in(0, 36500));
  c.last_day = int(win.item(1).as_int_in(0, 36500));
  if (c.last_day < c.first_day)
    win.fail("expected last_day >= first_day, found [" + std::to_string(c.first_day) + ", " +
             std::to_string(c.last_day) + "]");
  const int bounds = int(n.has("range")) + int(n.has("at_most")) + int(n.has("at_least"));
  if (bounds != 1)
    n.fail("expected exactly one bound (range, at_most or at_least), found " +
           std::to_string(bounds));
  if (auto r = n.get("range")) {
    r->expect_seq();
    if (r->size() != 2) r->fail("expected [lo, hi], found " + std::to_string(r->size()) + " items");
    c.lo = r->item(0).as_double();
    c.hi = r->item(1).as_double();
    if (c.hi < c.lo) r->fail("expected lo <= hi, found [" + fmt(c.lo) + ", " + fmt(c.hi) + "]");
  }
  if (auto v = n.get("at_most")) c.hi = v->as_double();
  if (auto v = n.get("at_least")) c.lo = v->as_double();
  return c;
}

}  // namespace

HindcastEvent load_hindcast_record(const std::string& path,
                                   const std::set<std::string>* source_keys) {
  const YNode root = detail::load_yaml_file(path);
  root.expect_map();
  root.check_keys(
      {"event", "title", "kind", "scenario", "start", "half", "summary", "discussion", "checks"});
  HindcastEvent e;
  e.record_path = path;
  const YNode id = root.at("event");
  e.id = id.as_string();
  std::string stem = std::filesystem::path(path).filename().string();
  const std::string suffix = ".record.yaml";
  if (stem.size() > suffix.size() &&
      stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0)
    stem.resize(stem.size() - suffix.size());
  if (e.id != stem) id.fail("expected the file's name, '" + stem + "', found '" + e.id + "'");
  e.title = trim(root.at("title").as_string());
  const YNode kind = root.at("kind");
  e.kind = kind.as_string();
  if (e.kind != "loss" && e.kind != "no_loss")
    kind.fail("expected loss or no_loss, found '" + e.kind + "'");
  const YNode half = root.at("half");
  e.half = half.as_string();
  if (e.half != "fit" && e.half != "held_out")
    half.fail("expected fit or held_out, found '" + e.half + "'");
  const YNode start = root.at("start");
  e.start = start.as_string();
  static const std::regex date(R"(\d{4}-\d{2}-\d{2})");
  if (!std::regex_match(e.start, date))
    start.fail("expected a date YYYY-MM-DD, found '" + e.start + "'");
  e.summary = trim(root.at("summary").as_string());
  if (auto d = root.get("discussion")) e.discussion = trim(d->as_string());
  const YNode sc = root.at("scenario");
  e.scenario_path = detail::resolve_path(path, sc.as_string());
  if (!std::filesystem::is_regular_file(e.scenario_path))
    sc.fail("expected a scenario file, found no file at '" + e.scenario_path + "'");
  const YNode checks = root.at("checks");
  checks.expect_seq();
  if (checks.size() == 0) checks.fail("expected at least one check, found an empty list");
  for (std::size_t k = 0; k < checks.size(); ++k) {
    HindcastCheck c = parse_check(checks.item(k), source_keys);
    for (const auto& other : e.checks)
      if (other.id == c.id)
        checks.item(k).at("id").fail("expected a unique check id, found '" + c.id +
                                     "' twice (also at line " + std::to_string(other.where.line) +
                                     ")");
    e.checks.push_back(std::move(c));
  }
  return e;
}

std::vector<HindcastEvent> load_hindcast_records(const std::string& dir,
                                                 const std::set<std::string>* source_keys) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError({dir, 0, 0, ""}, "expected a directory of *.record.yaml files, found " +
                                          std::string(fs::exists(dir, ec) ? "a file" : "nothing"));
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 12 && name.compare(name.size() - 12, 12, ".record.yaml") == 0)
      paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) throw InputError({dir, 0, 0, ""}, "expected *.record.yaml files, found none");
  std::vector<HindcastEvent> events;
  for (const auto& p : paths) events.push_back(load_hindcast_record(p, source_keys));
  return events;
}

std::vector<SensitivityParameter> load_sensitivity(const std::string& path) {
  const YNode root = detail::load_yaml_file(path);
  root.expect_map();
  root.check_keys({"parameters"});
  const YNode list = root.at("parameters");
  list.expect_seq();
  if (list.size() == 0) list.fail("expected at least one parameter, found an empty list");
  std::vector<SensitivityParameter> out;
  for (std::size_t k = 0; k < list.size(); ++k) {
    const YNode n = list.item(k);
    n.expect_map();
    n.check_keys({"name", "target", "paths", "low", "high", "base", "source", "note"});
    SensitivityParameter p;
    p.where = n.where();
    p.name = n.at("name").as_string();
    const YNode target = n.at("target");
    p.target = target.as_string();
    if (p.target != "scenario" && p.target != "world")
      target.fail("expected scenario or world, found '" + p.target + "'");
    p.paths = n.at("paths").as_string_list();
    if (p.paths.empty()) n.at("paths").fail("expected at least one key path, found none");
    auto value = [&](const char* key) {
      const YNode v = n.at(key);
      if (!v.is_scalar()) v.fail("expected a value, found " + detail::describe(v.node));
      return v.as_string();
    };
    p.low = value("low");
    p.high = value("high");
    p.base = value("base");
    p.source = n.at("source").as_string();
    if (auto note = n.get("note")) p.note = trim(note->as_string());
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace shortfall
