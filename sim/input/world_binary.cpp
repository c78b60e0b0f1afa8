// The binary world (`shortfall convert`, docs/input.md "Binary worlds"): every table of an
// explicit world in one HDF5 file of plain arrays, so that a large world loads at the speed of
// reading its arrays instead of parsing text. It is accepted wherever a world file is (the
// loader recognises the HDF5 signature). Reading it back gives the same World, bit for bit:
// the same tables go through the same World constructor, and the content hash it computes must
// equal the one stored (a damaged or edited file is refused).
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/world.hpp"
#include "util/atomic_file.hpp"
#include "util/h5_reader.hpp"
#include "util/h5_writer.hpp"

namespace shortfall {

namespace {

constexpr char kFormat[] = "shortfall-world";
constexpr std::int64_t kFormatVersion = 3;  // 2: materials/inventory_days_range; 3: byproduct
constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();  // an optional not given

double opt(const std::optional<double>& v) {
  return v.value_or(kUnset);
}
std::optional<double> opt(double v) {
  return std::isnan(v) ? std::nullopt : std::optional<double>(v);
}

template <class T>
void put(const detail::H5Writer& w, hid_t g, const char* name, const std::vector<T>& v,
         hid_t file_type) {
  w.dataset(g, name, file_type, {v.size()}, {}, detail::h5_native_type<T>(), v.data());
}

void write_tables(const World& world, const detail::H5Writer& w, hid_t file) {
  w.attr_string(file, "format", kFormat);
  w.attr_scalar<std::int64_t>(file, "format_version", H5T_STD_I64LE, kFormatVersion);
  w.attr_string(file, "sha256", world.sha256());
  w.attr_string(file, "converted_from", world.source());

  std::vector<std::string> code, name, group;
  std::vector<std::uint32_t> group_country;
  for (std::size_t c = 0; c < world.countries().size(); ++c) {
    code.push_back(world.countries()[c].code);
    name.push_back(world.countries()[c].name);
    for (const auto& g : world.countries()[c].groups)
      group_country.push_back(std::uint32_t(c)), group.push_back(g);
  }
  {
    detail::H5Handle g = w.group(file, "countries");
    w.strings(g, "code", code, {});
    w.strings(g, "name", name, {});
    w.strings(g, "group", group, {});
    put(w, g, "group_country", group_country, H5T_STD_U32LE);
  }
  {
    detail::H5Handle g = w.group(file, "materials");
    std::vector<std::string> id, mname, unit, tier;
    std::vector<double> inv, requal, util, value, range;
    std::vector<unsigned char> distinct, byproduct;
    for (const auto& m : world.materials()) {
      distinct.push_back(m.distinct_parts ? 1 : 0);
      byproduct.push_back(m.byproduct ? 1 : 0);
      range.push_back(m.inventory_days_range ? (*m.inventory_days_range)[0] : kUnset);
      range.push_back(m.inventory_days_range ? (*m.inventory_days_range)[1] : kUnset);
      id.push_back(m.id), mname.push_back(m.name), unit.push_back(m.unit), tier.push_back(m.tier);
      inv.push_back(opt(m.inventory_days)), requal.push_back(opt(m.requalification_days));
      util.push_back(opt(m.utilisation)), value.push_back(opt(m.unit_value));
    }
    w.strings(g, "id", id, {});
    w.strings(g, "name", mname, {});
    w.strings(g, "unit", unit, {});
    w.strings(g, "tier", tier, {});
    w.doubles(g, "inventory_days", inv, {inv.size()}, {});
    w.doubles(g, "requalification_days", requal, {requal.size()}, {});
    w.doubles(g, "utilisation", util, {util.size()}, {});
    w.doubles(g, "unit_value", value, {value.size()}, {});
    w.doubles(g, "inventory_days_range", range, {range.size()}, {});  // low, high per material
    put(w, g, "distinct_parts", distinct, H5T_STD_U8LE);
    put(w, g, "byproduct", byproduct, H5T_STD_U8LE);
  }
  {
    // Firm ids as one block of characters and the end of each id: a million short texts read
    // as two arrays, not a million allocations inside HDF5.
    detail::H5Handle g = w.group(file, "firms");
    std::vector<unsigned char> chars;
    std::vector<std::uint64_t> end;
    end.reserve(world.num_firms());
    for (const auto& id : world.firm_id()) {
      chars.insert(chars.end(), id.begin(), id.end());
      end.push_back(chars.size());
    }
    put(w, g, "id_chars", chars, H5T_STD_U8LE);
    put(w, g, "id_end", end, H5T_STD_U64LE);
    put(w, g, "country", world.firm_country(), H5T_STD_U32LE);
    put(w, g, "material", world.firm_material(), H5T_STD_U32LE);
    put(w, g, "final_demand", world.final_demand(), H5T_IEEE_F64LE);
    put(w, g, "inventory_days", world.firm_inventory_days(), H5T_IEEE_F64LE);
  }
  {
    detail::H5Handle g = w.group(file, "links");
    put(w, g, "supplier", world.link_supplier(), H5T_STD_U32LE);
    put(w, g, "buyer", world.link_buyer(), H5T_STD_U32LE);
    put(w, g, "flow", world.link_flow(), H5T_IEEE_F64LE);
    put(w, g, "lead_time", world.link_lead_time(), H5T_STD_I32LE);
  }
  {
    detail::H5Handle g = w.group(file, "lead_times");
    put(w, g, "domestic", std::vector<std::int32_t>{world.lead_times().domestic}, H5T_STD_I32LE);
    put(w, g, "international", std::vector<std::int32_t>{world.lead_times().international},
        H5T_STD_I32LE);
    std::vector<std::uint32_t> sup, buy;
    std::vector<std::int32_t> days;
    for (const auto& [pair, d] : world.lead_times().pairs)
      sup.push_back(pair.first), buy.push_back(pair.second), days.push_back(d);
    put(w, g, "pair_supplier", sup, H5T_STD_U32LE);
    put(w, g, "pair_buyer", buy, H5T_STD_U32LE);
    put(w, g, "pair_days", days, H5T_STD_I32LE);
  }
  {
    detail::H5Handle g = w.group(file, "final_demand_split");
    std::vector<std::uint32_t> firm, country;
    std::vector<double> amount;
    for (const auto& s : world.final_demand_split())
      firm.push_back(s.firm), country.push_back(s.country), amount.push_back(s.amount);
    put(w, g, "firm", firm, H5T_STD_U32LE);
    put(w, g, "country", country, H5T_STD_U32LE);
    put(w, g, "amount", amount, H5T_IEEE_F64LE);
  }
}

}  // namespace

bool is_binary_world(const std::string& path) {
  static constexpr unsigned char kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  unsigned char head[8] = {};
  std::ifstream f(path, std::ios::binary);
  return f.read(reinterpret_cast<char*>(head), sizeof head) &&
         std::memcmp(head, kSignature, sizeof head) == 0;
}

void write_binary_world(const World& world, const std::string& path) {
  const std::string tmp = util::temporary_name(path);
  try {
    detail::H5Writer w(tmp, "the binary world");
    {
      detail::H5Handle file =
          detail::h5_create_file(tmp, {.v18_format = true, .root_times = false});
      if (file.get() < 0) w.fail(std::string("cannot create it (") + std::strerror(errno) + ")");
      write_tables(world, w, file);
      if (H5Fclose(file.release()) < 0) w.fail("closing the file (disk full?)");
    }
    util::publish_file(tmp, path, "the binary world");
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

World load_binary_world(const std::string& path) {
  detail::H5Reader r(path, "a binary world (shortfall convert)");
  if (r.attr_text("format") != kFormat)
    r.bad("format", "expected a binary world written by `shortfall convert` (format '" +
                        std::string(kFormat) + "'), found an HDF5 file with format '" +
                        r.attr_text("format") + "'");
  if (const auto v = r.attr_int("format_version", -1); v != kFormatVersion)
    r.bad("format_version", "expected binary world format " + std::to_string(kFormatVersion) +
                                ", found " + std::to_string(v) +
                                " (written by another version of shortfall: convert it again)");
  WorldTables w;
  w.source = path;
  const auto code = r.texts("countries/code"), cname = r.texts("countries/name", code.size());
  const auto group = r.texts("countries/group");
  const auto group_country = r.array<std::uint32_t>("countries/group_country", group.size());
  w.countries.resize(code.size());
  for (std::size_t c = 0; c < code.size(); ++c)
    w.countries[c].code = code[c], w.countries[c].name = cname[c];
  for (std::size_t k = 0; k < group.size(); ++k) {
    if (group_country[k] >= code.size()) r.bad("countries/group_country", "unknown country");
    w.countries[group_country[k]].groups.push_back(group[k]);
  }
  const auto id = r.texts("materials/id");
  const std::size_t nm = id.size();
  const auto mname = r.texts("materials/name", nm), unit = r.texts("materials/unit", nm),
             tier = r.texts("materials/tier", nm);
  const auto inv = r.array<double>("materials/inventory_days", nm),
             requal = r.array<double>("materials/requalification_days", nm),
             util = r.array<double>("materials/utilisation", nm),
             value = r.array<double>("materials/unit_value", nm);
  const auto distinct = r.array<unsigned char>("materials/distinct_parts", nm),
             byproduct = r.array<unsigned char>("materials/byproduct", nm);
  const auto range = r.array<double>("materials/inventory_days_range", 2 * nm);
  w.materials.resize(nm);
  for (std::size_t m = 0; m < nm; ++m)
    w.materials[m] = Material{id[m],        mname[m],         unit[m],
                              tier[m],      opt(inv[m]),      opt(requal[m]),
                              opt(util[m]), opt(value[m]),    distinct[m] != 0,
                              std::nullopt, byproduct[m] != 0};
  for (std::size_t m = 0; m < nm; ++m)
    if (!std::isnan(range[2 * m]))
      w.materials[m].inventory_days_range = std::array<double, 2>{range[2 * m], range[2 * m + 1]};

  const auto chars = r.array<unsigned char>("firms/id_chars");
  const auto end = r.array<std::uint64_t>("firms/id_end");
  const std::size_t nf = end.size();
  w.firm_id.resize(nf);
  for (std::size_t i = 0, at = 0; i < nf; at = end[i], ++i) {
    if (end[i] < at || end[i] > chars.size()) r.bad("firms/id_end", "ids out of order or range");
    w.firm_id[i].assign(reinterpret_cast<const char*>(chars.data()) + at, end[i] - at);
  }
  w.firm_country = r.array<std::uint32_t>("firms/country", nf);
  w.firm_material = r.array<std::uint32_t>("firms/material", nf);
  w.final_demand = r.array<double>("firms/final_demand", nf);
  w.firm_inventory_days = r.array<double>("firms/inventory_days", nf);
  w.link_supplier = r.array<std::uint32_t>("links/supplier");
  const std::size_t nl = w.link_supplier.size();
  w.link_buyer = r.array<std::uint32_t>("links/buyer", nl);
  w.link_flow = r.array<double>("links/flow", nl);
  w.link_lead_time = r.array<std::int32_t>("links/lead_time", nl);

  w.lead_times.domestic = r.array<std::int32_t>("lead_times/domestic", 1)[0];
  w.lead_times.international = r.array<std::int32_t>("lead_times/international", 1)[0];
  const auto sup = r.array<std::uint32_t>("lead_times/pair_supplier");
  const auto buy = r.array<std::uint32_t>("lead_times/pair_buyer", sup.size());
  const auto days = r.array<std::int32_t>("lead_times/pair_days", sup.size());
  for (std::size_t k = 0; k < sup.size(); ++k) w.lead_times.pairs[{sup[k], buy[k]}] = days[k];
  const auto sf = r.array<std::uint32_t>("final_demand_split/firm");
  const auto sc = r.array<std::uint32_t>("final_demand_split/country", sf.size());
  const auto sa = r.array<double>("final_demand_split/amount", sf.size());
  for (std::size_t k = 0; k < sf.size(); ++k) w.final_demand_split.push_back({sf[k], sc[k], sa[k]});

  const std::string stored = r.attr_text("sha256");
  World world(std::move(w));  // the same checks and derived arrays as a world read from text
  if (world.sha256() != stored)
    r.bad("sha256", "the tables do not hash to the stored content hash (expected " + stored +
                        ", found " + world.sha256() + "): the file is damaged or was edited");
  return world;
}

}  // namespace shortfall
