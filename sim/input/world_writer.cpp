// Writing a world as explicit YAML + firms.csv + links.csv (+ final_demand_split.csv where the
// world splits final demand by destination) (`shortfall generate --out`).
//
// The files load back with load_world() into the same world (same hash): doubles are written
// with std::to_chars, the shortest text that reads back to the same bits, and every link keeps
// its lead time.
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/world.hpp"

namespace shortfall {

namespace {

/// A buffered file writer that raises IoError on failure.
class Out {
 public:
  explicit Out(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "wb")) {
    if (!file_) throw IoError(path + ": cannot open for writing (" + std::strerror(errno) + ")");
    buf_.reserve(kChunk + 256);
  }
  ~Out() {
    if (file_) std::fclose(file_);
  }
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;

  Out& text(std::string_view s) {
    buf_.append(s);
    if (buf_.size() >= kChunk) flush();
    return *this;
  }
  Out& ch(char c) {
    buf_.push_back(c);
    return *this;
  }
  /// A CSV field, quoted where the reader would otherwise split or trim it.
  Out& field(std::string_view s) {
    bool quote = s.empty() ? false
                           : s.find_first_of(",\"\r\n") != std::string_view::npos ||
                                 s.front() == ' ' || s.front() == '\t' || s.back() == ' ' ||
                                 s.back() == '\t' || s.front() == '#';
    if (!quote) return text(s);
    buf_.push_back('"');
    for (char c : s) {
      if (c == '"') buf_.push_back('"');
      buf_.push_back(c);
    }
    buf_.push_back('"');
    return *this;
  }
  Out& number(double v) {
    char tmp[64];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf_.append(tmp, r.ptr);
    return *this;
  }
  Out& integer(long long v) {
    char tmp[32];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf_.append(tmp, r.ptr);
    return *this;
  }
  void close() {
    flush();
    if (std::fclose(file_) != 0) {
      file_ = nullptr;
      throw IoError(path_ + ": write error (" + std::strerror(errno) + ")");
    }
    file_ = nullptr;
  }

 private:
  static constexpr std::size_t kChunk = 1 << 20;
  void flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size())
      throw IoError(path_ + ": write error (" + std::strerror(errno) + ")");
    buf_.clear();
  }
  std::string path_;
  std::FILE* file_;
  std::string buf_;
};

std::string shortest(double v) {
  char tmp[64];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  return std::string(tmp, r.ptr);
}

/// world.yaml's `materials`: each with the options it sets, in flow style.
void write_materials(YAML::Emitter& y, const World& world) {
  y << YAML::Key << "materials" << YAML::Value << YAML::BeginSeq;
  for (const auto& m : world.materials()) {
    y << YAML::Flow << YAML::BeginMap << YAML::Key << "id" << YAML::Value << m.id;
    y << YAML::Key << "name" << YAML::Value << (m.name.empty() ? m.id : m.name);
    y << YAML::Key << "unit" << YAML::Value << m.unit;
    if (!m.tier.empty()) y << YAML::Key << "tier" << YAML::Value << m.tier;
    if (m.inventory_days)
      y << YAML::Key << "inventory_days" << YAML::Value << shortest(*m.inventory_days);
    if (m.requalification_days)
      y << YAML::Key << "requalification_days" << YAML::Value << shortest(*m.requalification_days);
    if (m.utilisation) y << YAML::Key << "utilisation" << YAML::Value << shortest(*m.utilisation);
    if (m.unit_value) y << YAML::Key << "unit_value" << YAML::Value << shortest(*m.unit_value);
    if (m.distinct_parts) y << YAML::Key << "distinct_parts" << YAML::Value << true;
    if (m.byproduct) y << YAML::Key << "byproduct" << YAML::Value << true;
    if (const auto& r = m.inventory_days_range)
      y << YAML::Key << "inventory_days_range" << YAML::Value << YAML::Flow << YAML::BeginSeq
        << shortest((*r)[0]) << shortest((*r)[1]) << YAML::EndSeq;
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
}

}  // namespace

void write_world(const World& world, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(dir + ": cannot create directory (" + ec.message() + ")");
  const fs::path base(dir);

  // world.yaml
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "countries" << YAML::Value << YAML::BeginSeq;
  for (const auto& c : world.countries()) {
    y << YAML::Flow << YAML::BeginMap << YAML::Key << "code" << YAML::Value << c.code << YAML::Key
      << "name" << YAML::Value << c.name << YAML::Key << "groups" << YAML::Value << YAML::Flow
      << YAML::BeginSeq;
    for (const auto& g : c.groups) y << g;
    y << YAML::EndSeq << YAML::EndMap;
  }
  y << YAML::EndSeq;
  write_materials(y, world);
  y << YAML::Key << "firms_csv" << YAML::Value << "firms.csv";
  y << YAML::Key << "links_csv" << YAML::Value << "links.csv";
  if (!world.final_demand_split().empty())
    y << YAML::Key << "final_demand_split" << YAML::Value << "final_demand_split.csv";
  y << YAML::Key << "lead_times" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "domestic" << YAML::Value << world.lead_times().domestic;
  y << YAML::Key << "default" << YAML::Value << world.lead_times().international;
  if (!world.lead_times().pairs.empty()) {
    y << YAML::Key << "pairs" << YAML::Value << YAML::BeginSeq;
    for (const auto& [pair, days] : world.lead_times().pairs)
      y << YAML::Flow << YAML::BeginMap << YAML::Key << "from" << YAML::Value
        << world.countries().at(pair.first).code << YAML::Key << "to" << YAML::Value
        << world.countries().at(pair.second).code << YAML::Key << "days" << YAML::Value << days
        << YAML::EndMap;
    y << YAML::EndSeq;
  }
  y << YAML::EndMap;
  y << YAML::EndMap;
  if (!y.good()) throw IoError(dir + ": cannot write the world as YAML (" + y.GetLastError() + ")");
  {
    Out out((base / "world.yaml").string());
    out.text("# Explicit world written by shortfall (load it with `shortfall run`/`info`).\n");
    out.text("# From: ").text(world.source().empty() ? "<unknown>" : world.source()).text("\n");
    out.text("# sha256: ").text(world.sha256()).text("\n");
    out.text("# ").integer(static_cast<long long>(world.num_firms())).text(" firms, ");
    out.integer(static_cast<long long>(world.num_links())).text(" links; flows per day\n");
    out.text(y.c_str()).ch('\n');
    out.close();
  }

  // firms.csv (inventory_days only if some firm has its own)
  bool any_inventory = false;
  for (double v : world.firm_inventory_days()) any_inventory = any_inventory || !std::isnan(v);
  {
    Out out((base / "firms.csv").string());
    out.text(any_inventory ? "id,country,material,final_demand,inventory_days\n"
                           : "id,country,material,final_demand\n");
    for (FirmId i = 0; i < world.num_firms(); ++i) {
      out.field(world.firm_id()[i]).ch(',');
      out.field(world.countries()[world.firm_country()[i]].code).ch(',');
      out.field(world.materials()[world.firm_material()[i]].id).ch(',');
      out.number(world.final_demand()[i]);
      if (any_inventory) {
        out.ch(',');
        if (!std::isnan(world.firm_inventory_days()[i])) out.number(world.firm_inventory_days()[i]);
      }
      out.text("\n");
    }
    out.close();
  }

  // final_demand_split.csv: the destinations of every firm whose final demand the world splits
  // (the World's per-firm ranges, in country order); other firms sell to their own country.
  if (!world.final_demand_split().empty()) {
    std::vector<char> split(world.num_firms(), 0);
    for (const auto& e : world.final_demand_split()) split.at(e.firm) = 1;
    Out out((base / "final_demand_split.csv").string());
    out.text("firm,country,amount\n");
    for (FirmId i = 0; i < world.num_firms(); ++i) {
      if (!split[i]) continue;
      for (auto k = world.final_dest_begin()[i]; k < world.final_dest_begin()[i + 1]; ++k) {
        out.field(world.firm_id()[i]).ch(',');
        out.field(world.countries()[world.final_dest_country()[k]].code).ch(',');
        out.number(world.final_dest_amount()[k]).text("\n");
      }
    }
    out.close();
  }

  // links.csv
  {
    Out out((base / "links.csv").string());
    out.text("supplier,buyer,flow,lead_time\n");
    for (LinkId l = 0; l < world.num_links(); ++l) {
      out.field(world.firm_id()[world.link_supplier()[l]]).ch(',');
      out.field(world.firm_id()[world.link_buyer()[l]]).ch(',');
      out.number(world.link_flow()[l]).ch(',');
      out.integer(world.link_lead_time()[l]).text("\n");
    }
    out.close();
  }
}

}  // namespace shortfall
