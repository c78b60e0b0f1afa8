// Loading an explicit world: YAML with inline or CSV firms and links.
//
// Final demand by destination (docs/model.md section 1) comes in either of two forms, or both for
// different firms:
//   - inline, per firm in the inline `firms` list: `final_demand_to: {KOR: 0.3, USA: 0.2}`
//     (country code -> C0_{i,d}, units of the firm's material per day);
//   - a CSV table named by the top-level key `final_demand_split: split.csv` with columns
//     `firm,country,amount` (one row per firm and destination).
// A firm's destinations must be countries (not groups), each at most once, with amounts >= 0
// that sum to its final_demand (relative 1e-9). A firm with no entry sells all of its final
// demand to its own country. A firm's split is given in one place: inline or in the table.
#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>

#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/world.hpp"
#include "util/csv.hpp"
#include "util/yaml_util.hpp"
#include "world/firm_index.hpp"

namespace shortfall {

using detail::YNode;

namespace {

CountryId country_of(const WorldTables& w, const YNode& n) {
  std::string code = n.as_string();
  auto c = w.find_country(code);
  if (!c) n.fail("unknown country '" + code + "'");
  return *c;
}

MaterialId material_of(const WorldTables& w, const YNode& n) {
  std::string id = n.as_string();
  auto p = w.find_material(id);
  if (!p) n.fail("unknown material '" + id + "'");
  return *p;
}

using FirmLookup = detail::FirmIndex;  // ids to FirmIds while loading (world/firm_index.hpp)

void add_firm(WorldTables& w, FirmLookup& lookup, std::string id, CountryId c, MaterialId p,
              double fd, double inv, const std::function<void(const std::string&)>& fail) {
  if (id.empty()) fail("expected a firm id, found an empty value");
  w.firm_id.push_back(std::move(id));
  if (!lookup.insert(FirmId(w.firm_id.size() - 1))) {
    std::string dup = std::move(w.firm_id.back());
    w.firm_id.pop_back();
    fail("duplicate firm id '" + dup + "'");
  }
  w.firm_country.push_back(c);
  w.firm_material.push_back(p);
  w.final_demand.push_back(fd);
  w.firm_inventory_days.push_back(inv);
}

/// u0 in (0, 1] (docs/model.md sections 0 and 3.5).
double utilisation_of(const YNode& v) {
  const double u = v.as_double();
  if (!(u > 0.0 && u <= 1.0))
    v.fail("expected a capacity utilisation in (0, 1], found " + v.as_string());
  return u;
}

/// Currency per unit of the material, > 0.
double unit_value_of(const YNode& v) {
  const double x = v.as_double();
  if (!(x > 0.0)) v.fail("expected a value per unit > 0, found " + v.as_string());
  if (x > kMaxQuantity) v.fail("expected a value per unit <= 1e100, found " + v.as_string());
  return x;
}

/// The bound on quantities (kMaxQuantity), for messages.
const char* const kBound = " (quantities are bounded so that the model's products stay finite)";

/// A table row's quantity column within [0, kMaxQuantity] (or > 0 where `positive`).
double quantity(const detail::CsvRow& row, int col, const char* what, bool positive) {
  const double v = row.number(std::size_t(col));
  if (positive ? !(v > 0) : v < 0)
    row.fail(std::size_t(col), std::string("expected ") + what + (positive ? " > 0" : " >= 0") +
                                   ", found " + std::string(row.text(std::size_t(col))));
  if (v > kMaxQuantity)
    row.fail(std::size_t(col), std::string("expected ") + what + " <= 1e100, found " +
                                   std::string(row.text(std::size_t(col))) + kBound);
  return v;
}

/// One destination of a firm's final demand as read, with where it was given.
struct SplitEntry {
  FirmId firm;
  CountryId country;
  double amount;
  SourceLocation at;     // the entry (inline value, or the table row's amount)
  SourceLocation whole;  // the firm's split as a whole (inline map, or its first table row)
};

std::string show(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// Check the destinations read against the firms' final demand, with the locations of the
/// input (the World checks the same, but sees only arrays), and hand them to the world.
/// Sums are taken in country order, as the World takes them.
void add_split(WorldTables& w, std::vector<SplitEntry> entries,
               std::vector<SourceLocation>& origins) {
  std::stable_sort(entries.begin(), entries.end(), [](const SplitEntry& a, const SplitEntry& b) {
    return a.firm != b.firm ? a.firm < b.firm : a.country < b.country;
  });
  for (std::size_t k = 0; k < entries.size();) {
    const FirmId i = entries[k].firm;
    const SplitEntry& first = entries[k];
    double sum = 0.0;
    std::size_t e = k;
    for (; e < entries.size() && entries[e].firm == i; ++e) {
      if (e > k && entries[e].country == entries[e - 1].country)
        throw InputError(entries[e].at, "firm '" + w.firm_id[i] + "' lists destination '" +
                                            w.countries[entries[e].country].code +
                                            "' twice; expected each country at most once");
      sum += entries[e].amount;
    }
    const double c0 = w.final_demand[i];
    if (std::abs(sum - c0) > 1e-9 * c0)
      throw InputError(first.whole, "expected the destinations of firm '" + w.firm_id[i] +
                                        "' to sum to its final_demand " + show(c0) +
                                        " (relative 1e-9), found " + show(sum));
    k = e;
  }
  for (const auto& e : entries) {
    w.final_demand_split.push_back(FinalDemandShare{e.firm, e.country, e.amount});
    origins.push_back(e.at);
  }
}

/// A destination country (a code, not a group), or fail at `key`.
CountryId destination_of(const WorldTables& w, std::string_view code,
                         const std::function<void(const std::string&)>& fail) {
  if (auto c = w.find_country(code)) return *c;
  if (w.is_group(code))
    fail("'" + std::string(code) +
         "' is a group; expected a country code (final demand is split by country)");
  fail("unknown country '" + std::string(code) + "' (expected a country code from countries)");
  return 0;  // not reached
}

}  // namespace

/// Where each firm and link was defined, so that errors found by the World's checks (which see
/// only arrays) can name the file, line and column.
/// Where each row of a list was given: a location per entry (inline YAML), or only a line per
/// entry of one CSV table (a 5M-link table: 20 MB, not 5M SourceLocations with a file name).
struct RowOrigins {
  std::vector<SourceLocation> at;
  std::string file;
  std::vector<std::uint32_t> line;
  [[nodiscard]] std::size_t size() const { return at.size() + line.size(); }
  [[nodiscard]] SourceLocation operator[](std::size_t k) const {
    return at.empty() ? SourceLocation{file, int(line[k]), 0, ""} : at[k];
  }
};

struct Origins {
  SourceLocation firms;  // the firms list or table
  RowOrigins firm, link;
  std::vector<SourceLocation> split;  // per entry of WorldTables::final_demand_split
  SourceLocation locate(const WorldTables& w, const SourceLocation& at) const {
    const std::string& key = at.key_path;
    auto index = [&](const char* prefix) -> std::optional<std::string> {
      const std::size_t n = std::strlen(prefix);
      if (key.compare(0, n, prefix) != 0) return std::nullopt;
      const std::size_t close = key.find(']', n);
      if (close == std::string::npos) return std::nullopt;
      return key.substr(n, close - n);
    };
    SourceLocation out = at;
    if (auto e = index("final_demand_split[")) {
      const std::size_t k = std::strtoul(e->c_str(), nullptr, 10);
      if (k < split.size()) out = split[k], out.key_path = split[k].key_path;
    } else if (auto l = index("links[")) {
      const std::size_t k = std::strtoul(l->c_str(), nullptr, 10);
      if (k < link.size()) out = link[k], out.key_path = key;
    } else if (auto f = index("firms[")) {
      const auto& ids = w.firm_id;
      const auto id = std::find(ids.begin(), ids.end(), *f);
      if (id != ids.end() && std::size_t(id - ids.begin()) < firm.size())
        out = firm[std::size_t(id - ids.begin())], out.key_path = key;
    } else if (key == "firms") {
      out = firms, out.key_path = key;
    }
    return out;
  }
};

World load_world(const std::string& path, const SourceLocation& named_at) {
  std::error_code ec;
  const bool dir = std::filesystem::is_directory(path, ec);
  std::ifstream probe(path, std::ios::binary);
  if (dir || !probe)
    throw InputError(named_at, "cannot read the world file " + path + " (" +
                                   (dir ? std::string("a directory") : std::strerror(errno)) +
                                   "; the path is relative to the scenario file)");
  return load_world(path);
}

namespace {
/// Rows of the links table whose firm ids are yet to be looked up (see load_world).
struct LinkPipe {
  static constexpr std::size_t kDepth = 16;
  struct Pending {
    std::size_t k = 0;
    std::uint32_t line = 0;
    std::string supplier, buyer;
    std::uint64_t supplier_hash = 0, buyer_hash = 0;
  };
  std::array<Pending, kDepth> ring;
  std::size_t head = 0, count = 0;
};

/// world.yaml's `countries`: codes, names and groups.
void read_countries(WorldTables& w, const YNode& root) {
  YNode countries = root.at("countries");
  countries.expect_seq();
  for (std::size_t k = 0; k < countries.size(); ++k) {
    YNode c = countries.item(k);
    c.check_keys({"code", "name", "groups"});
    Country country;
    country.code = c.at("code").as_string();
    if (w.find_country(country.code))
      c.at("code").fail("duplicate country code '" + country.code + "'");
    country.name = c.get("name") ? c.at("name").as_string() : country.code;
    if (auto g = c.get("groups")) country.groups = g->as_string_list();
    w.countries.push_back(std::move(country));
  }
}

/// world.yaml's `materials`.
void read_materials(WorldTables& w, const YNode& root) {
  YNode materials = root.at("materials");
  materials.expect_seq();
  for (std::size_t k = 0; k < materials.size(); ++k) {
    YNode m = materials.item(k);
    m.check_keys({"id", "name", "unit", "tier", "inventory_days", "requalification_days",
                  "utilisation", "unit_value", "distinct_parts", "inventory_days_range",
                  "byproduct"});
    Material mat;
    mat.id = m.at("id").as_string();
    if (w.find_material(mat.id)) m.at("id").fail("duplicate material id '" + mat.id + "'");
    mat.name = m.get("name") ? m.at("name").as_string() : mat.id;
    mat.unit = m.get("unit") ? m.at("unit").as_string() : "unit";
    mat.tier = m.get("tier") ? m.at("tier").as_string() : "";
    if (auto v = m.get("inventory_days")) mat.inventory_days = v->as_double_in(0, 3650);
    if (auto v = m.get("requalification_days"))
      mat.requalification_days = v->as_double_in(0, 36500);
    if (auto v = m.get("utilisation")) mat.utilisation = utilisation_of(*v);
    if (auto v = m.get("unit_value")) mat.unit_value = unit_value_of(*v);
    if (auto v = m.get("distinct_parts")) mat.distinct_parts = v->as_bool();
    if (auto v = m.get("byproduct")) mat.byproduct = v->as_bool();
    if (auto v = m.get("inventory_days_range"))
      mat.inventory_days_range = v->as_positive_range(3650);
    w.materials.push_back(std::move(mat));
  }
}

/// world.yaml's optional `lead_times`: domestic, default and per pair of countries or groups.
void read_lead_times(WorldTables& w, const YNode& root) {
  if (auto lt = root.get("lead_times")) {
    lt->check_keys({"domestic", "default", "pairs"});
    if (auto d = lt->get("domestic")) w.lead_times.domestic = int(d->as_int_in(1, 3650));
    if (auto d = lt->get("default")) w.lead_times.international = int(d->as_int_in(1, 3650));
    if (auto pairs = lt->get("pairs")) {
      pairs->expect_seq();
      for (std::size_t k = 0; k < pairs->size(); ++k) {
        YNode p = pairs->item(k);
        p.check_keys({"from", "to", "days"});
        auto from = w.resolve_countries(p.at("from").as_string());
        auto to = w.resolve_countries(p.at("to").as_string());
        if (from.empty())
          p.at("from").fail("unknown country or group '" + p.at("from").as_string() + "'");
        if (to.empty())
          p.at("to").fail("unknown country or group '" + p.at("to").as_string() + "'");
        int days = int(p.at("days").as_int_in(1, 3650));
        for (auto a : from)
          for (auto b : to) w.lead_times.pairs[{a, b}] = days;
      }
    }
  }
}

using SplitFirms = std::map<FirmId, SourceLocation>;  // where each firm's split was first given

/// The inline `firms` list, with each firm's inline `final_demand_to`.
void read_inline_firms(WorldTables& w, FirmLookup& lookup, const YNode& firms, Origins& origins,
                       std::vector<SplitEntry>& split, SplitFirms& split_firm) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  firms.expect_seq();
  origins.firms = firms.where();
  for (std::size_t k = 0; k < firms.size(); ++k) {
    YNode f = firms.item(k);
    origins.firm.at.push_back(f.where());
    f.check_keys(
        {"id", "country", "material", "final_demand", "final_demand_to", "inventory_days"});
    double fd = f.get("final_demand") ? f.at("final_demand").as_double_in(0, kMaxQuantity) : 0.0;
    double inv = f.get("inventory_days") ? f.at("inventory_days").as_double_in(0, 3650) : nan;
    add_firm(w, lookup, f.at("id").as_string(), country_of(w, f.at("country")),
             material_of(w, f.at("material")), fd, inv,
             [&](const std::string& what) { f.at("id").fail(what); });
    if (auto to = f.get("final_demand_to")) {
      to->expect_map();
      const FirmId i = FirmId(w.firm_id.size() - 1);
      split_firm.emplace(i, to->where());
      for (auto it = to->node.begin(); it != to->node.end(); ++it) {
        const std::string code = it->first.as<std::string>();
        YNode key{it->first, to->file, to->path + "." + code};
        YNode v{it->second, to->file, key.path};
        CountryId c = destination_of(w, code, [&](const std::string& m) { key.fail(m); });
        double amount = v.as_double();
        if (amount < 0) v.fail("expected an amount >= 0, found " + v.as_string());
        if (amount > kMaxQuantity)
          v.fail("expected an amount <= 1e100, found " + v.as_string() + kBound);
        split.push_back(SplitEntry{i, c, amount, v.where(), to->where()});
      }
    }
  }
}

/// The `firms_csv` table (named at `key`), parsed in parallel, then its ids indexed.
void read_firms_csv(WorldTables& w, FirmLookup& lookup, const std::string& path, const YNode& key,
                    Origins& origins) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const SourceLocation named_at = key.where();
  std::string csv = detail::resolve_path(path, key.as_string());
  origins.firms = SourceLocation{csv, 1, 0, ""};
  origins.firm.file = csv;
  std::map<std::string, CountryId, std::less<>> cidx;
  std::map<std::string, MaterialId, std::less<>> midx;
  for (CountryId c = 0; c < w.countries.size(); ++c) cidx[w.countries[c].code] = c;
  for (MaterialId p = 0; p < w.materials.size(); ++p) midx[w.materials[p].id] = p;
  // Rows parsed in parallel blocks, each into its slot; then the ids indexed in file order.
  // A duplicate id before the first bad row is reported first, as when read row by row.
  int id_column = 0;
  auto index_ids = [&](std::size_t before_line) {
    lookup.reserve(w.firm_id.size());
    for (FirmId i = 0; i < w.firm_id.size(); ++i) {
      if (i + 16 < w.firm_id.size()) lookup.prefetch_insert(i + 16);
      const std::uint32_t line = origins.firm.line[i];
      if (line == 0 || line >= before_line) break;
      if (!lookup.insert(i))
        throw InputError(SourceLocation{csv, int(line), id_column + 1, "column 'id'"},
                         "duplicate firm id '" + w.firm_id[i] + "'");
    }
  };
  try {
    detail::read_csv_parallel(
        csv, {"id", "country", "material", "final_demand"}, {"inventory_days"},
        [&](std::size_t rows, const detail::CsvColumns& cols) {
          id_column = cols.index[0];
          w.firm_id.reserve(rows);
          detail::FirmIndex::advise_huge_pages(w.firm_id.data(), rows * sizeof(std::string));
          w.firm_id.resize(rows);
          w.firm_country.resize(rows);
          w.firm_material.resize(rows);
          w.final_demand.resize(rows);
          w.firm_inventory_days.resize(rows);
          origins.firm.line.assign(rows, 0);
        },
        [&](const detail::CsvRow& row, const detail::CsvColumns& cols, std::size_t k) {
          const auto& ix = cols.index;
          origins.firm.line[k] = std::uint32_t(row.line);
          auto c = cidx.find(row.text(ix[1]));
          if (c == cidx.end())
            row.fail(ix[1], "unknown country '" + std::string(row.text(ix[1])) + "'");
          auto p = midx.find(row.text(ix[2]));
          if (p == midx.end())
            row.fail(ix[2], "unknown material '" + std::string(row.text(ix[2])) + "'");
          const double fd = quantity(row, ix[3], "final_demand", false);
          double inv = nan;
          if (ix[4] >= 0 && !row.text(ix[4]).empty()) {
            inv = row.number(ix[4]);
            if (inv < 0) row.fail(ix[4], "expected inventory_days >= 0");
          }
          if (row.text(ix[0]).empty()) row.fail(ix[0], "expected a firm id, found an empty value");
          w.firm_id[k] = row.text(ix[0]);
          w.firm_country[k] = c->second;
          w.firm_material[k] = p->second;
          w.final_demand[k] = fd;
          w.firm_inventory_days[k] = inv;
        },
        &named_at);
  } catch (const InputError& e) {
    if (e.where().file == csv && e.where().line > 0) index_ids(std::size_t(e.where().line));
    throw;
  }
  index_ids(std::numeric_limits<std::size_t>::max());
}

/// The `final_demand_split` table (named at `table`): rows `firm,country,amount`.
void read_split_table(const WorldTables& w, const FirmLookup& lookup, const std::string& path,
                      const YNode& table, std::vector<SplitEntry>& split, SplitFirms& split_firm) {
  const std::string csv = detail::resolve_path(path, table.as_string());
  const SourceLocation named_at = table.where();
  detail::read_csv(
      csv, {"firm", "country", "amount"}, {},
      [&](const detail::CsvRow& row, const detail::CsvColumns& cols) {
        const auto& ix = cols.index;
        auto f = lookup.find(row.text(ix[0]));
        if (!f)
          row.fail(ix[0], "unknown firm '" + std::string(row.text(ix[0])) +
                              "' (expected a firm id from the firms)");
        const FirmId i = *f;
        const CountryId c =
            destination_of(w, row.text(ix[1]), [&](const std::string& m) { row.fail(ix[1], m); });
        const double amount = quantity(row, ix[2], "an amount", false);
        const SourceLocation at{csv, int(row.line), int(ix[2] + 1), "column 'amount'"};
        auto [first, added] = split_firm.emplace(i, at);
        if (!added && first->second.file != csv)
          row.fail(ix[0], "firm '" + w.firm_id[i] + "' already has final_demand_to at " +
                              first->second.str() + "; expected its split in one place");
        split.push_back(SplitEntry{i, c, amount, at, first->second});
      },
      &named_at);
}

/// The inline `links` list.
void read_inline_links(WorldTables& w, const FirmLookup& lookup, const YNode& links,
                       Origins& origins) {
  auto firm_of = [&](std::string_view id, auto&& fail) {
    auto f = lookup.find(id);
    if (!f) {
      const std::string what = "link to a missing firm '" + std::string(id) + "'";
      fail(what);
    }
    return *f;
  };
  links.expect_seq();
  for (std::size_t k = 0; k < links.size(); ++k) {
    YNode l = links.item(k);
    l.check_keys({"supplier", "buyer", "flow", "lead_time"});
    origins.link.at.push_back(l.where());
    FirmId s = firm_of(l.at("supplier").as_string(), [&](auto& m) { l.at("supplier").fail(m); });
    FirmId b = firm_of(l.at("buyer").as_string(), [&](auto& m) { l.at("buyer").fail(m); });
    double flow = l.at("flow").as_double();
    if (!(flow > 0)) l.at("flow").fail("expected a flow > 0, found " + l.at("flow").as_string());
    if (flow > kMaxQuantity)
      l.at("flow").fail("expected a flow <= 1e100, found " + l.at("flow").as_string() + kBound);
    int lt = l.get("lead_time") ? int(l.at("lead_time").as_int_in(1, 3650)) : 0;
    w.link_supplier.push_back(s);
    w.link_buyer.push_back(b);
    w.link_flow.push_back(flow);
    w.link_lead_time.push_back(lt);
  }
}

/// The `links_csv` table (named at `lc`), parsed in parallel blocks.
void read_links_csv(WorldTables& w, const FirmLookup& lookup, const std::string& path,
                    const YNode& lc, Origins& origins) {
  std::string csv = detail::resolve_path(path, lc.as_string());
  const SourceLocation named_at = lc.where();
  origins.link.file = csv;
  // Parsed in parallel blocks (the largest table of a world); rows land at their index. The
  // firm ids of a row are looked up a few rows later, their hash slots and ids prefetched
  // meanwhile: each lookup is a cache miss or two, and so they overlap (LinkPipe).
  std::vector<int> ix;
  tbb::enumerable_thread_specific<LinkPipe> pipes;
  auto resolve = [&](LinkPipe::Pending& p) {
    auto firm = [&](const std::string& id, std::uint64_t h, int col, const char* name) {
      auto f = lookup.find_hashed(id, h);
      if (!f)
        throw InputError(
            SourceLocation{csv, int(p.line), col + 1, std::string("column '") + name + "'"},
            "link to a missing firm '" + id + "'");
      return *f;
    };
    w.link_supplier[p.k] = firm(p.supplier, p.supplier_hash, ix[0], "supplier");
    w.link_buyer[p.k] = firm(p.buyer, p.buyer_hash, ix[1], "buyer");
  };
  // Resolves the oldest pending row; if it fails, the pipe is emptied (the rows after it are
  // later than its error).
  auto resolve_oldest = [&](LinkPipe& pipe) {
    LinkPipe::Pending& p = pipe.ring[pipe.head];
    pipe.head = (pipe.head + 1) % LinkPipe::kDepth;
    --pipe.count;
    try {
      resolve(p);
    } catch (...) {
      pipe.count = 0;
      throw;
    }
  };
  auto flush = [&](LinkPipe& pipe) {
    while (pipe.count > 0) resolve_oldest(pipe);
  };
  auto push = [&](LinkPipe& pipe, const detail::CsvRow& row, std::size_t k) {
    if (pipe.count == LinkPipe::kDepth) resolve_oldest(pipe);
    LinkPipe::Pending& p = pipe.ring[(pipe.head + pipe.count) % LinkPipe::kDepth];
    ++pipe.count;
    p.k = k;
    p.line = std::uint32_t(row.line);
    p.supplier.assign(row.text(std::size_t(ix[0])));
    p.buyer.assign(row.text(std::size_t(ix[1])));
    p.supplier_hash = FirmLookup::hash(p.supplier);
    p.buyer_hash = FirmLookup::hash(p.buyer);
    lookup.prefetch_slot(p.supplier_hash);
    lookup.prefetch_slot(p.buyer_hash);
    if (pipe.count > LinkPipe::kDepth / 2) {  // its slot is in cache by now: prefetch its id
      const auto& mid =
          pipe.ring[(pipe.head + pipe.count - 1 - LinkPipe::kDepth / 2) % LinkPipe::kDepth];
      lookup.prefetch_id(mid.supplier_hash);
      lookup.prefetch_id(mid.buyer_hash);
    }
  };
  detail::read_csv_parallel(
      csv, {"supplier", "buyer", "flow"}, {"lead_time"},
      [&](std::size_t rows, const detail::CsvColumns& cols) {
        ix = cols.index;
        w.link_supplier.resize(rows);
        w.link_buyer.resize(rows);
        w.link_flow.resize(rows);
        w.link_lead_time.resize(rows);
        origins.link.line.resize(rows);
      },
      [&](const detail::CsvRow& row, const detail::CsvColumns&, std::size_t k) {
        LinkPipe& pipe = pipes.local();
        double flow = 0;
        int lt = 0;
        try {
          flow = quantity(row, ix[2], "a flow", true);
          if (ix[3] >= 0 && !row.text(ix[3]).empty()) {
            double v = row.number(ix[3]);
            if (v < 1 || v > 3650 || v != std::floor(v))
              row.fail(ix[3], "expected a whole number of days in [1, 3650], found " +
                                  std::string(row.text(ix[3])));
            lt = int(v);
          }
        } catch (...) {
          // The row's firms come before its flow: a missing one (or an earlier row's) first.
          push(pipe, row, k);
          flush(pipe);
          throw;
        }
        w.link_flow[k] = flow;
        w.link_lead_time[k] = lt;
        origins.link.line[k] = std::uint32_t(row.line);
        push(pipe, row, k);
      },
      &named_at, [&] { flush(pipes.local()); });
}
}  // namespace

namespace {
/// The tables of world.yaml (and its CSV tables), with where each row was given.
WorldTables read_world_tables(const std::string& path, Origins& origins) {
  YNode root = detail::load_yaml_file(path);
  root.expect_map();
  root.check_keys({"countries", "materials", "firms", "firms_csv", "links", "links_csv",
                   "final_demand_split", "lead_times", "name", "meta"});
  WorldTables w;
  w.source = path;

  read_countries(w, root);
  read_materials(w, root);
  read_lead_times(w, root);

  FirmLookup lookup(w.firm_id);
  std::vector<SplitEntry> split;
  SplitFirms split_firm;
  if (root.has("firms") == root.has("firms_csv"))
    root.fail("expected exactly one of 'firms' (inline) or 'firms_csv' (a table)");
  if (auto firms = root.get("firms"))
    read_inline_firms(w, lookup, *firms, origins, split, split_firm);
  else
    read_firms_csv(w, lookup, path, root.at("firms_csv"), origins);
  if (auto table = root.get("final_demand_split"))
    read_split_table(w, lookup, path, *table, split, split_firm);
  add_split(w, std::move(split), origins.split);

  if (root.has("links") && root.has("links_csv"))
    root.fail("expected at most one of 'links' (inline) or 'links_csv' (a table)");
  if (auto links = root.get("links"))
    read_inline_links(w, lookup, *links, origins);
  else if (auto lc = root.get("links_csv"))
    read_links_csv(w, lookup, path, *lc, origins);
  return w;
}
}  // namespace

World load_world(const std::string& path) {
  if (is_binary_world(path)) return load_binary_world(path);
  if (is_world_description(path)) return generate_world(path);
  Origins origins;
  WorldTables tables = read_world_tables(path, origins);
  try {
    return World(std::move(tables));
  } catch (const InputError& e) {
    // The tables went into the World that failed its checks: read them again (on this error
    // path only) to find the row of a firm the message names.
    Origins again;
    const WorldTables read_again = read_world_tables(path, again);
    throw InputError(origins.locate(read_again, e.where()), e.detail());
  }
}

}  // namespace shortfall
