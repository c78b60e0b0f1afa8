#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <tbb/parallel_invoke.h>

#include "shortfall/error.hpp"
#include "shortfall/world.hpp"
#include "util/sha256.hpp"
#include "world/firm_index.hpp"
#include "world/network.hpp"

namespace shortfall {

int LeadTimes::between(CountryId supplier, CountryId buyer) const {
  if (auto it = pairs.find({supplier, buyer}); it != pairs.end()) return it->second;
  return supplier == buyer ? domestic : international;
}

std::optional<CountryId> WorldTables::find_country(std::string_view code) const {
  for (CountryId c = 0; c < countries.size(); ++c)
    if (countries[c].code == code) return c;
  return std::nullopt;
}

std::optional<MaterialId> WorldTables::find_material(std::string_view id) const {
  for (MaterialId p = 0; p < materials.size(); ++p)
    if (materials[p].id == id) return p;
  return std::nullopt;
}

std::optional<FirmId> World::find_firm(std::string_view id) const {
  if (!firm_slots_.empty()) return detail::FirmIndex::find(firm_slots_, t_.firm_id, id);
  for (FirmId i = 0; i < t_.firm_id.size(); ++i)
    if (t_.firm_id[i] == id) return i;
  return std::nullopt;
}

bool WorldTables::is_group(std::string_view name) const {
  for (const auto& c : countries)
    for (const auto& g : c.groups)
      if (g == name) return true;
  return false;
}

bool WorldTables::country_matches(CountryId c, std::string_view name) const {
  const auto& country = countries[c];
  return name == "all" || country.code == name ||
         std::find(country.groups.begin(), country.groups.end(), name) != country.groups.end();
}

bool World::country_in(CountryId c, const std::vector<std::string>& names) const {
  for (const auto& n : names)
    if (country_matches(c, n)) return true;
  return false;
}

bool World::share_group(CountryId a, CountryId b) const {
  const auto& ga = t_.countries[a].groups;
  const auto& gb = t_.countries[b].groups;
  for (const auto& g : ga)
    if (std::find(gb.begin(), gb.end(), g) != gb.end()) return true;
  return false;
}

std::vector<CountryId> WorldTables::resolve_countries(std::string_view name) const {
  std::vector<CountryId> out;
  for (CountryId c = 0; c < countries.size(); ++c)
    if (country_matches(c, name)) out.push_back(c);
  return out;
}

namespace {
[[noreturn]] void fail(const WorldTables& w, const std::string& key, const std::string& what) {
  throw InputError(SourceLocation{w.source, 0, 0, key}, what);
}
[[noreturn]] void fail(const World& w, const std::string& key, const std::string& what) {
  fail(w.tables(), key, what);
}
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// The world is not empty, its firm columns have one length, and it fits 32-bit ids.
void check_counts(const WorldTables& w) {
  const std::size_t n = w.firm_id.size();
  if (w.countries.empty()) fail(w, "countries", "expected at least one country, found none");
  if (w.materials.empty()) fail(w, "materials", "expected at least one material, found none");
  if (n == 0) fail(w, "firms", "expected at least one firm, found an empty world");
  if (n >= std::numeric_limits<std::uint32_t>::max() ||
      w.link_flow.size() >= std::numeric_limits<std::uint32_t>::max())
    fail(w, "links", "expected fewer than 2^32 firms and links");
  if (w.firm_country.size() != n || w.firm_material.size() != n || w.final_demand.size() != n)
    fail(w, "firms", "firm columns have different lengths");
}

/// Country codes and material ids are unique; materials' optional values are in range.
void check_countries_and_materials(WorldTables& w) {
  std::set<std::string_view> seen;
  for (const auto& c : w.countries)
    if (!seen.insert(c.code).second)
      fail(w, "countries", "duplicate country code '" + c.code + "'");
  seen.clear();
  for (const auto& p : w.materials)
    if (!seen.insert(p.id).second) fail(w, "materials", "duplicate material id '" + p.id + "'");
  for (auto& p : w.materials) {
    if (p.name.empty()) p.name = p.id;
    if (p.inventory_days && !(std::isfinite(*p.inventory_days) && *p.inventory_days >= 0))
      fail(w, "materials[" + p.id + "].inventory_days",
           "expected a finite number >= 0, found " + num(*p.inventory_days));
    if (p.inventory_days_range) {
      const auto [lo, hi] = *p.inventory_days_range;
      if (!(std::isfinite(lo) && std::isfinite(hi) && lo > 0.0 && lo <= hi))
        fail(w, "materials[" + p.id + "].inventory_days_range",
             "expected [low, high] days with 0 < low <= high, found [" + num(lo) + ", " + num(hi) +
                 "]");
    }
    if (p.utilisation && !(*p.utilisation > 0.0 && *p.utilisation <= 1.0))
      fail(w, "materials[" + p.id + "].utilisation",
           "expected a capacity utilisation in (0, 1], found " + num(*p.utilisation));
    if (p.unit_value &&
        !(std::isfinite(*p.unit_value) && *p.unit_value > 0.0 && *p.unit_value <= kMaxQuantity))
      fail(w, "materials[" + p.id + "].unit_value",
           "expected a value per unit > 0 and <= 1e100, found " + num(*p.unit_value));
  }
}

/// Firms: unique ids (placed in `slots`, the firm index), known country and material, and
/// final demand and inventory days in range.
void check_firms(const WorldTables& w, std::vector<std::uint64_t>& slots) {
  const std::size_t n = w.firm_id.size();
  // Keys of messages are built only on failure: a string per firm and link cost seconds on a
  // 1M-firm / 5M-link world.
  for (FirmId i = 0; i < n; ++i) {
    auto key = [&] { return "firms[" + w.firm_id[i] + "]"; };
    if (i + 16 < n) detail::FirmIndex::prefetch_place(slots, w.firm_id, i + 16);
    if (!detail::FirmIndex::place(slots, w.firm_id, i))
      fail(w, key(), "duplicate firm id '" + w.firm_id[i] + "'");
    if (w.firm_country[i] >= w.countries.size()) fail(w, key() + ".country", "unknown country");
    if (w.firm_material[i] >= w.materials.size()) fail(w, key() + ".material", "unknown material");
    if (!(std::isfinite(w.final_demand[i]) && w.final_demand[i] >= 0 &&
          w.final_demand[i] <= kMaxQuantity))
      fail(w, key() + ".final_demand",
           "expected a number >= 0 and <= 1e100, found " + num(w.final_demand[i]));
    double nd = w.firm_inventory_days[i];
    if (!std::isnan(nd) && !(std::isfinite(nd) && nd >= 0))
      fail(w, key() + ".inventory_days", "expected a finite number >= 0, found " + num(nd));
  }
}

/// Links: known distinct firms, flows in range; lead times defaulted from the table and checked.
void check_links(WorldTables& w) {
  const std::size_t n = w.firm_id.size();
  const std::size_t m = w.link_flow.size();
  if (w.link_supplier.size() != m || w.link_buyer.size() != m)
    fail(w, "links", "link columns have different lengths");
  w.link_lead_time.resize(m, 0);
  for (LinkId l = 0; l < m; ++l) {
    auto key = [l] { return "links[" + std::to_string(l) + "]"; };
    if (w.link_supplier[l] >= n || w.link_buyer[l] >= n) fail(w, key(), "link to a missing firm");
    if (w.link_supplier[l] == w.link_buyer[l])
      fail(w, key(), "a firm cannot supply itself ('" + w.firm_id[w.link_supplier[l]] + "')");
    if (!(std::isfinite(w.link_flow[l]) && w.link_flow[l] > 0 && w.link_flow[l] <= kMaxQuantity))
      fail(w, key() + ".flow",
           "expected a flow > 0 and <= 1e100 (" + w.firm_id[w.link_supplier[l]] + " -> " +
               w.firm_id[w.link_buyer[l]] + "), found " + num(w.link_flow[l]));
    if (w.link_lead_time[l] == 0)
      w.link_lead_time[l] =
          w.lead_times.between(w.firm_country[w.link_supplier[l]], w.firm_country[w.link_buyer[l]]);
    if (w.link_lead_time[l] < 1 || w.link_lead_time[l] > 3650)
      fail(w, key() + ".lead_time",
           "expected a lead time in days in [1, 3650], found " +
               std::to_string(w.link_lead_time[l]));
  }
}

/// The content hash, of the world as given (it does not depend on the adjacency).
std::string content_hash(const World& w) {
  const std::size_t n = w.firm_id().size();
  const std::size_t m = w.link_flow().size();
  detail::Sha256 h;
  for (const auto& c : w.countries()) {
    h.update(c.code);
    h.update("\x1f");
    h.update(c.name);
    h.update("\x1f");
    for (const auto& g : c.groups) {
      h.update(g);
      h.update("\x1e");
    }
    h.update("\x1d");
  }
  for (const auto& p : w.materials()) {
    h.update(p.id);
    h.update("\x1f");
    h.update(p.unit);
    h.update("\x1f");
    h.update_pod(p.inventory_days.value_or(-1.0));
    h.update_pod(p.requalification_days.value_or(-1.0));
  }
  for (FirmId i = 0; i < n; ++i) {
    h.update(w.firm_id()[i]);
    h.update("\x1f");
    h.update_pod(w.firm_country()[i]);
    h.update_pod(w.firm_material()[i]);
    h.update_pod(w.final_demand()[i]);
    h.update_pod(w.firm_inventory_days()[i]);
  }
  // The lead-time table matters beyond the links given: links added during a run use it.
  h.update_pod(w.lead_times().domestic);
  h.update_pod(w.lead_times().international);
  for (const auto& [pair, days] : w.lead_times().pairs) {
    h.update_pod(pair.first);
    h.update_pod(pair.second);
    h.update_pod(days);
  }
  for (LinkId l = 0; l < m; ++l) {
    h.update_pod(w.link_supplier()[l]);
    h.update_pod(w.link_buyer()[l]);
    h.update_pod(w.link_flow()[l]);
    h.update_pod(w.link_lead_time()[l]);
  }
  // Material values and utilisation, the other material options and destination splits enter
  // the hash only where given, each as a tagged record, so that worlds without them keep their
  // hashes.
  auto tagged = [&h](const char* tag, const Material& p) {
    h.update("\x1c");
    h.update(tag);
    h.update(p.id);
  };
  for (const auto& p : w.materials())
    if (p.utilisation || p.unit_value) {
      tagged("material-v2", p);
      h.update_pod(p.utilisation.value_or(-1.0));
      h.update_pod(p.unit_value.value_or(-1.0));
    }
  for (const auto& p : w.materials())
    if (p.distinct_parts) tagged("distinct-parts", p);
  for (const auto& p : w.materials())
    if (p.inventory_days_range) {
      tagged("inventory-days-range", p);
      h.update_pod((*p.inventory_days_range)[0]);
      h.update_pod((*p.inventory_days_range)[1]);
    }
  for (const auto& p : w.materials())
    if (p.byproduct) tagged("byproduct", p);
  if (w.has_final_demand_split()) {
    h.update(
        "\x1c"
        "final-demand-split");
    for (std::size_t k = 0; k < w.final_dest_country().size(); ++k) {
      h.update_pod(w.final_dest_country()[k]);
      h.update_pod(w.final_dest_amount()[k]);
    }
  }
  return h.hex();
}

/// Duplicate links: within a slot, suppliers are sorted.
void check_duplicate_links(const World& w, const detail::Network& net) {
  const std::size_t n = w.firm_id().size();
  for (FirmId i = 0; i < n; ++i)
    for (detail::Lane a = net.slot_lane_begin[net.slot_begin[i]];
         a + 1 < net.slot_lane_begin[net.slot_begin[i + 1]]; ++a)
      if (net.lane_supplier[a] == net.lane_supplier[a + 1])
        fail(w, "links[" + std::to_string(net.lane_link[a + 1]) + "]",
             "duplicate link " + w.firm_id()[net.lane_supplier[a]] + " -> " + w.firm_id()[i] +
                 " (each supplier-buyer pair may appear once)");
}

/// Baseline output, checked: a firm that buys inputs has some.
std::vector<double> checked_baseline_output(const WorldTables& w, const detail::Network& net) {
  const std::size_t n = w.firm_id.size();
  // Baseline output x0_j = sum_k Z0_jk + C0_j, summed in out-lane order so that the engine's
  // demand D_j = sum_k O_jk + C_j reproduces it to the last bit at baseline.
  std::vector<double> x0(n, 0.0);
  for (FirmId j = 0; j < n; ++j) {
    double sales = 0.0;
    for (detail::Lane k = net.out_begin[j]; k < net.out_begin[j + 1]; ++k)
      sales += w.link_flow[net.lane_link[net.out_lane[k]]];
    x0[j] = sales + w.final_demand[j];
  }
  for (FirmId i = 0; i < n; ++i)
    if (x0[i] == 0.0 && net.slot_begin[i + 1] > net.slot_begin[i])
      fail(w, "firms[" + w.firm_id[i] + "]",
           "firm buys inputs but has zero baseline output (no buyers and no final demand)");
  return x0;
}
}  // namespace

World::World(WorldTables tables) : t_(std::move(tables)) {
  finalize();
}

void World::finalize() {
  const std::size_t n = t_.firm_id.size();
  check_counts(t_);
  t_.firm_inventory_days.resize(n, std::numeric_limits<double>::quiet_NaN());
  check_countries_and_materials(t_);
  firm_slots_ = detail::FirmIndex::empty_slots(n);
  check_firms(t_, firm_slots_);
  check_links(t_);

  build_final_destinations();

  // The adjacency and the content hash (which does not depend on it) side by side: each takes
  // a few tenths of a second on a 5M-link world.
  std::shared_ptr<detail::Network> net;
  tbb::parallel_invoke(
      [&] { net = std::make_shared<detail::Network>(detail::build_network(*this)); },
      [&] { sha256_ = content_hash(*this); });

  check_duplicate_links(*this, *net);
  baseline_output_ = checked_baseline_output(t_, *net);
  network_ = std::move(net);
}

void World::build_final_destinations() {
  const std::size_t n = t_.firm_id.size();
  std::vector<std::uint32_t> count(n + 1, 0);
  for (std::size_t k = 0; k < t_.final_demand_split.size(); ++k) {
    const auto& e = t_.final_demand_split[k];
    auto key = [k] { return "final_demand_split[" + std::to_string(k) + "]"; };
    if (e.firm >= n) fail(*this, key() + ".firm", "unknown firm");
    if (e.country >= t_.countries.size()) fail(*this, key() + ".country", "unknown country");
    if (!(std::isfinite(e.amount) && e.amount >= 0.0))
      fail(*this, key() + ".amount",
           "expected a finite amount >= 0 for firm '" + t_.firm_id[e.firm] + "', found " +
               num(e.amount));
    ++count[e.firm];
  }
  std::vector<FinalDemandShare> split = t_.final_demand_split;
  std::stable_sort(split.begin(), split.end(), [](const auto& a, const auto& b) {
    return a.firm != b.firm ? a.firm < b.firm : a.country < b.country;
  });
  final_dest_begin_.assign(n + 1, 0);
  final_dest_country_.clear();
  final_dest_amount_.clear();
  has_final_demand_split_ = false;
  std::size_t k = 0;
  for (FirmId i = 0; i < n; ++i) {
    final_dest_begin_[i] = std::uint32_t(final_dest_country_.size());
    if (count[i] == 0) {
      if (t_.final_demand[i] > 0.0) {
        final_dest_country_.push_back(t_.firm_country[i]);
        final_dest_amount_.push_back(t_.final_demand[i]);
      }
      continue;
    }
    double sum = 0.0;
    for (; k < split.size() && split[k].firm == i; ++k) {
      if (!final_dest_country_.empty() && final_dest_begin_[i] < final_dest_country_.size() &&
          final_dest_country_.back() == split[k].country)
        fail(*this, "final_demand_split",
             "firm '" + t_.firm_id[i] + "' lists destination '" +
                 t_.countries[split[k].country].code + "' twice");
      final_dest_country_.push_back(split[k].country);
      final_dest_amount_.push_back(split[k].amount);
      sum += split[k].amount;
      if (split[k].country != t_.firm_country[i] && split[k].amount > 0.0)
        has_final_demand_split_ = true;
    }
    if (std::abs(sum - t_.final_demand[i]) > 1e-9 * t_.final_demand[i])
      fail(*this, "firms[" + t_.firm_id[i] + "].final_demand",
           "expected the destinations of its final demand to sum to " + num(t_.final_demand[i]) +
               ", found " + num(sum));
  }
  final_dest_begin_[n] = std::uint32_t(final_dest_country_.size());
}

WorldStats World::stats() const {
  WorldStats s;
  s.countries = t_.countries.size();
  s.materials = t_.materials.size();
  s.firms = num_firms();
  s.links = num_links();
  const auto& net = *network_;
  double max_in = 0, max_out = 0;
  std::vector<double> sales(num_firms(), 0.0);
  for (LinkId l = 0; l < num_links(); ++l) sales[t_.link_supplier[l]] += t_.link_flow[l];
  for (FirmId i = 0; i < num_firms(); ++i) {
    double in = net.slot_lane_begin[net.slot_begin[i + 1]] - net.slot_lane_begin[net.slot_begin[i]];
    double out = net.out_begin[i + 1] - net.out_begin[i];
    max_in = std::max(max_in, in);
    max_out = std::max(max_out, out);
    if (t_.final_demand[i] > 0) ++s.firms_with_final_demand;
    if (in == 0) ++s.raw_firms;
    if (baseline_output_[i] > 0)
      s.max_balance_residual = std::max(
          s.max_balance_residual,
          std::abs(baseline_output_[i] - (sales[i] + t_.final_demand[i])) / baseline_output_[i]);
  }
  s.mean_in_degree = num_firms() ? double(num_links()) / double(num_firms()) : 0;
  s.max_in_degree = max_in;
  s.max_out_degree = max_out;
  for (auto l : t_.link_lead_time) s.max_lead_time = std::max(s.max_lead_time, int(l));
  return s;
}

// ---- WorldBuilder ------------------------------------------------------------------------------

CountryId WorldBuilder::country(std::string code, std::vector<std::string> groups,
                                std::string name) {
  if (name.empty()) name = code;
  tables_.countries.push_back(Country{std::move(code), std::move(name), std::move(groups)});
  return static_cast<CountryId>(tables_.countries.size() - 1);
}

MaterialId WorldBuilder::material(std::string id, std::optional<double> inventory_days,
                                  std::string unit) {
  Material m;
  m.id = std::move(id);
  m.unit = std::move(unit);
  m.inventory_days = inventory_days;
  tables_.materials.push_back(std::move(m));
  return static_cast<MaterialId>(tables_.materials.size() - 1);
}

FirmId WorldBuilder::firm(std::string id, CountryId country, MaterialId material,
                          double final_demand, std::optional<double> inventory_days) {
  tables_.firm_id.push_back(std::move(id));
  tables_.firm_country.push_back(country);
  tables_.firm_material.push_back(material);
  tables_.final_demand.push_back(final_demand);
  tables_.firm_inventory_days.push_back(
      inventory_days.value_or(std::numeric_limits<double>::quiet_NaN()));
  return static_cast<FirmId>(tables_.firm_id.size() - 1);
}

LinkId WorldBuilder::link(FirmId supplier, FirmId buyer, double flow, int lead_time) {
  tables_.link_supplier.push_back(supplier);
  tables_.link_buyer.push_back(buyer);
  tables_.link_flow.push_back(flow);
  tables_.link_lead_time.push_back(lead_time);
  return static_cast<LinkId>(tables_.link_flow.size() - 1);
}

void WorldBuilder::final_demand_to(FirmId firm, CountryId country, double amount) {
  tables_.final_demand_split.push_back(FinalDemandShare{firm, country, amount});
}

World WorldBuilder::build() {
  if (tables_.source.empty()) tables_.source = "<built in code>";
  return World(std::move(tables_));
}

}  // namespace shortfall
