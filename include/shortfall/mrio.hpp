// Worlds from multi-regional input-output (MRIO) tables (`shortfall import-mrio`, docs/mrio.md).
//
// read_mrio() reads a published table layout (OECD ICIO 2023, WIOD 2016, EXIOBASE 3.8, or the
// project's long CSV) into an MrioTable: countries, sectors and the annual entries of the
// intermediate block and the final-demand block, as the table gives them (negative entries
// kept). build_mrio_world() turns it into an explicit World: one material per sector, one or
// more firms per (country, sector), intermediate flows as links (daily = annual / 365) and final
// demand by destination country (docs/model.md section 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shortfall/world.hpp"

namespace shortfall {

enum class MrioFormat { kOecdIcio, kWiod, kExiobase, kCsv };

/// "oecd-icio", "wiod", "exiobase" or "csv"; nullopt otherwise.
std::optional<MrioFormat> parse_mrio_format(std::string_view name);

/// One entry of a table, in the table's currency per year: sales of (from_country,
/// from_sector) to (to_country, to_sector), or to final users in to_country where to_sector is
/// kMrioFinalDemand. Indices into MrioTable::countries / sectors.
struct MrioEntry {
  std::uint32_t from_country = 0, from_sector = 0, to_country = 0, to_sector = 0;
  double value = 0.0;
};
inline constexpr std::uint32_t kMrioFinalDemand = 0xFFFFFFFFu;

struct MrioTable {
  std::string source;                     ///< the file (or directory) read
  std::string unit;                       ///< the table's currency, e.g. "USD million"
  std::vector<std::string> countries;     ///< codes, in the table's order
  std::vector<std::string> sectors;       ///< codes, in the table's order
  std::vector<std::string> sector_names;  ///< descriptions where the table has them, else codes
  /// Non-zero entries as read (several final-demand categories give several entries for one
  /// seller and destination; they are summed when the world is built).
  std::vector<MrioEntry> entries;
  std::size_t missing_cells = 0;  ///< empty or NA cells, read as 0
};

/// Read the table in `files` (one file; for EXIOBASE a directory or its Z.txt and Y.txt).
/// Throws InputError naming file, line and column for a layout that does not match.
MrioTable read_mrio(MrioFormat format, const std::vector<std::string>& files);

/// `--map FILE`: a CSV with columns from,to; renames country and sector codes (aggregating the
/// ones mapped to the same code). Throws InputError for a code mapped twice.
std::vector<std::pair<std::string, std::string>> read_mrio_map(const std::string& path);

struct MrioOptions {
  std::uint32_t firms_per_sector = 1;  ///< K firms per (country, sector), Zipf shares
  double min_flow = 0.0;  ///< links below this annual value (table currency) go to final demand
  std::vector<std::pair<std::string, std::string>> map;  ///< from -> to codes
  std::string unit;  ///< replaces the table's unit when not empty
};

/// What the import changed; all values in the table's currency per year.
struct MrioReport {
  std::size_t countries = 0, sectors = 0, firms = 0, links = 0;
  double total_output = 0.0;       ///< sum over firms of x0, per year
  std::size_t negative_flows = 0;  ///< net negative intermediate entries, dropped
  double negative_flow_value = 0.0;
  std::size_t negative_final_demand = 0;  ///< net negative (seller, destination), clipped to 0
  double negative_final_demand_value = 0.0;
  std::size_t small_links = 0;  ///< links below min_flow, moved to final demand
  double small_link_value = 0.0;
  double own_use_value = 0.0;     ///< a firm's purchases from itself, moved to its final demand
  std::size_t empty_sectors = 0;  ///< (country, sector) with zero output: no firm
  double empty_sector_purchase_value = 0.0;  ///< their purchases, moved to final demand
  std::size_t missing_cells = 0;
};

/// Firm shares of a sector split into k firms: Zipf, s_j = (1/j) / sum_{i<=k} 1/i, j = 1..k.
std::vector<double> zipf_shares(std::uint32_t k);

/// The explicit world of a table (checked). Throws InputError for options that do not fit.
World build_mrio_world(const MrioTable& table, const MrioOptions& options,
                       MrioReport* report = nullptr);

}  // namespace shortfall
