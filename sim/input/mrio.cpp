// Worlds from multi-regional input-output tables (include/shortfall/mrio.hpp, docs/mrio.md).
//
// The readers stream a table line by line and keep only its non-zero entries; the layouts
// follow the OECD ICIO 2023 release, the WIOD 2016 release and EXIOBASE 3.8 (docs/mrio.md).
#include "shortfall/mrio.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "shortfall/error.hpp"
#include "util/csv.hpp"
#include "util/yaml_util.hpp"

namespace shortfall {

std::optional<MrioFormat> parse_mrio_format(std::string_view name) {
  if (name == "oecd-icio") return MrioFormat::kOecdIcio;
  if (name == "wiod") return MrioFormat::kWiod;
  if (name == "exiobase") return MrioFormat::kExiobase;
  if (name == "csv") return MrioFormat::kCsv;
  return std::nullopt;
}

namespace {

[[noreturn]] void fail_at(const std::string& file, std::size_t line, std::size_t column,
                          const std::string& key, const std::string& what) {
  throw InputError(SourceLocation{file, int(line), int(column), key}, what);
}

std::string show(std::string_view s) {
  std::string out(1, '\'');
  out.append(s.substr(0, 80));
  if (s.size() > 80) out.append("...");
  out.push_back('\'');
  return out;
}

/// The lines of a text file, with their 1-based numbers; '\r' and a UTF-8 byte-order mark are
/// dropped, blank lines and lines starting with '#' skipped, and a line's cells are split at
/// `delim` ('"' quotes a cell).
class Lines {
 public:
  explicit Lines(const std::string& path) : path_(path), text_(detail::read_file(path)) {
    if (text_.empty()) fail_at(path, 0, 0, "", "the file is empty (0 bytes); expected a table");
    detail::check_utf8(text_, path);
    if (text_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;
  }
  /// The next non-blank line split into cells; false at the end of the file.
  bool next(char delim) {
    while (pos_ < text_.size()) {
      std::size_t nl = text_.find('\n', pos_);
      std::string_view line(text_.data() + pos_,
                            (nl == std::string::npos ? text_.size() : nl) - pos_);
      pos_ = nl == std::string::npos ? text_.size() : nl + 1;
      ++line_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t,") == std::string_view::npos || line.front() == '#') continue;
      split(line, delim);
      return true;
    }
    return false;
  }
  [[nodiscard]] std::size_t line() const { return line_; }
  /// Whether the first MiB holds a tab (then cells are split at tabs, not commas).
  [[nodiscard]] bool tab_separated() const {
    return text_.find('\t') < std::min<std::size_t>(text_.size(), 1u << 20);
  }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const std::vector<std::string_view>& cells() const { return cells_; }
  [[noreturn]] void fail(std::size_t col, const std::string& what) const {
    fail_at(path_, line_, col + 1, "", what);
  }
  /// The number in cell `col`: false for a missing value (empty, NA, NaN, "..").
  bool number(std::size_t col, double& v) const {
    std::string_view s = cells_[col];
    if (s.empty() || s == "NA" || s == "NaN" || s == "nan" || s == "..") return false;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v))
      fail(col, "expected a finite number (or an empty/NA cell), found " + show(s));
    return true;
  }
  void expect_width(std::size_t n) const {
    if (cells_.size() != n)
      fail_at(path_, line_, 0, "",
              "expected " + std::to_string(n) + " cells as in the header, found " +
                  std::to_string(cells_.size()));
  }

 private:
  void split(std::string_view line, char delim) {
    detail::split_csv_line(line, delim, cells_, scratch_);
  }
  std::string path_, text_;
  std::size_t pos_ = 0, line_ = 0;
  std::vector<std::string_view> cells_;
  std::string scratch_;  // the quoted cells of the current line
};

/// Collects countries, sectors and entries while a table is read.
class TableBuilder {
 public:
  explicit TableBuilder(std::string source, std::string unit) {
    t_.source = std::move(source);
    t_.unit = std::move(unit);
  }
  std::uint32_t country(std::string_view code) { return intern(code, countries_, t_.countries); }
  std::uint32_t sector(std::string_view code) {
    const std::uint32_t s = intern(code, sectors_, t_.sectors);
    if (t_.sector_names.size() < t_.sectors.size()) t_.sector_names.emplace_back(code);
    return s;
  }
  void name_sector(std::uint32_t s, std::string_view name) {
    if (!name.empty()) t_.sector_names[s] = std::string(name);
  }
  /// The (country, sector) pair a row or column label names: registered ones only.
  [[nodiscard]] bool known_pair(std::string_view c, std::string_view s) const {
    return pairs_.count(std::string(c) + '\x1f' + std::string(s)) != 0;
  }
  void add_pair(std::string_view c, std::string_view s) {
    pairs_.insert(std::string(c) + '\x1f' + std::string(s));
  }
  [[nodiscard]] std::uint32_t country_of(std::string_view c) const {
    return countries_.at(std::string(c));
  }
  [[nodiscard]] std::uint32_t sector_of(std::string_view s) const {
    return sectors_.at(std::string(s));
  }
  /// Reads cell `col` of the current line as the entry from (fc, fs) to (tc, ts).
  void cell(const Lines& in, std::size_t col, std::uint32_t fc, std::uint32_t fs, std::uint32_t tc,
            std::uint32_t ts) {
    double v = 0;
    if (!in.number(col, v)) {
      ++t_.missing_cells;
      return;
    }
    if (std::abs(v) > kMaxQuantity)
      in.fail(col,
              "expected a value of at most 1e100 in magnitude, found " + show(in.cells()[col]));
    if (v != 0.0) t_.entries.push_back(MrioEntry{fc, fs, tc, ts, v});
  }
  [[nodiscard]] std::size_t sectors() const { return t_.sectors.size(); }
  MrioTable take() { return std::move(t_); }

 private:
  static std::uint32_t intern(std::string_view code,
                              std::unordered_map<std::string, std::uint32_t>& index,
                              std::vector<std::string>& list) {
    auto [it, added] = index.emplace(std::string(code), std::uint32_t(list.size()));
    if (added) list.emplace_back(code);
    return it->second;
  }
  MrioTable t_;
  std::unordered_map<std::string, std::uint32_t> countries_, sectors_;
  std::unordered_set<std::string> pairs_;
};

/// What a column of a wide table holds.
struct Column {
  enum Kind { kSkip, kIntermediate, kFinal } kind = kSkip;
  std::uint32_t country = 0, sector = 0;
};

// ---- OECD ICIO 2023 ---------------------------------------------------------------------------

const std::set<std::string_view> kIcioFinal = {"HFCE",  "NPISH", "GGFC",  "GFCF",
                                               "INVNT", "DPABR", "NONRES"};

MrioTable read_icio(const std::string& path) {
  Lines in(path);
  TableBuilder b(path, "USD million");
  if (!in.next(',')) fail_at(path, 0, 0, "", "expected a header line, found none");
  const std::size_t width = in.cells().size();
  const std::vector<std::string> header(in.cells().begin(), in.cells().end());
  std::vector<Column> cols(width);
  for (std::size_t c = 1; c < width; ++c) {
    std::string_view label = header[c];
    if (label == "OUT") continue;
    const std::size_t us = label.find('_');
    if (us == std::string_view::npos || us == 0 || us + 1 == label.size())
      in.fail(c,
              "expected a column label COUNTRY_SECTOR (e.g. AUS_A01_02), COUNTRY_HFCE.. "
              "(final demand) or OUT (OECD ICIO 2023 layout), found " +
                  show(label));
    std::string_view country = label.substr(0, us), rest = label.substr(us + 1);
    if (kIcioFinal.count(rest)) {
      cols[c] = Column{Column::kFinal, b.country(country), kMrioFinalDemand};
    } else {
      if (b.known_pair(country, rest)) in.fail(c, "duplicate column " + show(label));
      b.add_pair(country, rest);
      cols[c] = Column{Column::kIntermediate, b.country(country), b.sector(rest)};
    }
  }
  if (b.sectors() == 0)
    fail_at(path, in.line(), 0, "",
            "expected columns COUNTRY_SECTOR (OECD ICIO 2023 layout), found none");
  std::set<std::string> seen_rows;
  while (in.next(',')) {
    std::string_view label = in.cells()[0];
    if (label == "TLS" || label == "VA" || label == "OUT") continue;
    const std::size_t us = label.find('_');
    if (us == std::string_view::npos || !b.known_pair(label.substr(0, us), label.substr(us + 1)))
      in.fail(0,
              "expected a row label COUNTRY_SECTOR naming a column of the header, or TLS, "
              "VA, OUT (OECD ICIO 2023 layout), found " +
                  show(label));
    if (!seen_rows.insert(std::string(label)).second) in.fail(0, "duplicate row " + show(label));
    in.expect_width(width);
    const std::uint32_t rc = b.country_of(label.substr(0, us)),
                        rs = b.sector_of(label.substr(us + 1));
    for (std::size_t c = 1; c < width; ++c)
      if (cols[c].kind != Column::kSkip) b.cell(in, c, rc, rs, cols[c].country, cols[c].sector);
  }
  if (seen_rows.empty())
    fail_at(path, in.line(), 0, "", "expected rows COUNTRY_SECTOR after the header, found none");
  // Every intermediate column has its row (an unknown final-demand code would not).
  for (std::size_t c = 1; c < width; ++c)
    if (cols[c].kind == Column::kIntermediate && !seen_rows.count(std::string(header[c])))
      fail_at(path, 1, c + 1, "",
              "expected a row for every COUNTRY_SECTOR column, or a final-demand code HFCE, "
              "NPISH, GGFC, GFCF, INVNT, DPABR (OECD ICIO 2023 layout); no row " +
                  show(header[c]));
  return b.take();
}

// ---- WIOD 2016 release (a sheet saved as CSV or tab-separated text) -------------------------

const std::set<std::string_view> kWiodFinal = {"CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN"};

MrioTable read_wiod(const std::string& path) {
  Lines in(path);
  TableBuilder b(path, "USD million");
  // The header: [title rows], codes (A01.., CONS_h.., GO), descriptions, countries, c-numbers.
  std::vector<std::string> codes;
  const char delim = in.tab_separated() ? '\t' : ',';
  for (int k = 0; k < 10 && codes.empty() && in.next(delim); ++k)
    if (std::find(in.cells().begin(), in.cells().end(), "CONS_h") != in.cells().end())
      for (auto c : in.cells()) codes.emplace_back(c);
  if (codes.empty())
    fail_at(path, in.line(), 0, "",
            "expected a header row of codes with the final-demand code CONS_h in the first 10 "
            "lines (WIOD 2016 layout: codes, descriptions, countries, c-numbers), found none");
  const std::size_t width = codes.size(), codes_line = in.line();
  if (width < 5) in.fail(0, "expected 4 label columns and at least one value column");
  std::vector<std::string> countries;
  for (int k = 0; k < 3; ++k) {
    if (!in.next(delim))
      fail_at(path, in.line(), 0, "",
              "expected the description, country and c-number rows under the codes row "
              "(line " +
                  std::to_string(codes_line) + "), found the end of the file");
    in.expect_width(width);
    if (k == 1)
      for (auto c : in.cells()) countries.emplace_back(c);
  }
  std::vector<Column> cols(width);
  for (std::size_t c = 4; c < width; ++c) {
    const std::string &code = codes[c], &country = countries[c];
    if (code == "GO" || country == "TOT") continue;
    if (code.empty() || country.empty())
      fail_at(path, codes_line + (code.empty() ? 0 : 2), c + 1, "",
              "expected a code and a country for every value column, found an empty cell");
    if (kWiodFinal.count(code)) {
      cols[c] = Column{Column::kFinal, b.country(country), kMrioFinalDemand};
    } else {
      if (b.known_pair(country, code))
        fail_at(path, codes_line, c + 1, "", "duplicate column " + show(country + " " + code));
      b.add_pair(country, code);
      cols[c] = Column{Column::kIntermediate, b.country(country), b.sector(code)};
    }
  }
  if (b.sectors() == 0)
    fail_at(path, codes_line, 0, "", "expected intermediate-use columns, found none");
  std::size_t rows = 0;
  while (in.next(delim)) {
    in.expect_width(width);
    std::string_view code = in.cells()[0], country = in.cells()[2];
    if (country == "TOT") continue;  // II_fob, TXSP, EXP_adj, PURR, PURNR, VA, IntTTM, GO
    if (!b.known_pair(country, code))
      in.fail(2,
              "expected a row (sector code, description, country, r-number) naming a "
              "column of the header, or country TOT, found " +
                  show(std::string(country) + " " + std::string(code)));
    const std::uint32_t rc = b.country_of(country), rs = b.sector_of(code);
    b.name_sector(rs, in.cells()[1]);
    ++rows;
    for (std::size_t c = 4; c < width; ++c)
      if (cols[c].kind != Column::kSkip) b.cell(in, c, rc, rs, cols[c].country, cols[c].sector);
  }
  if (rows == 0) fail_at(path, in.line(), 0, "", "expected data rows, found none");
  return b.take();
}

// ---- EXIOBASE 3.8 (IOT_YYYY_ixi / _pxp: Z.txt, Y.txt) -----------------------------------------

/// One of Z.txt (final = false) or Y.txt: header rows "region" and "sector" (Z) or "category"
/// (Y), then the index row "region<TAB>sector", then rows region, sector, values.
void read_exiobase_part(const std::string& path, bool final, TableBuilder& b) {
  Lines in(path);
  const char* second = final ? "category" : "sector";
  std::vector<std::string> regions, seconds;
  bool index_row = false;
  for (int k = 0; k < 5 && !index_row && in.next('\t'); ++k) {
    const auto& cells = in.cells();
    if (cells.size() >= 2 && cells[0] == "region" && cells[1] == "sector") {
      index_row = true;
    } else if (cells[0] == "region") {
      for (auto c : cells) regions.emplace_back(c);
    } else if (cells[0] == second) {
      for (auto c : cells) seconds.emplace_back(c);
    } else {
      in.fail(0, std::string("expected a header row starting with 'region' or '") + second +
                     "' (EXIOBASE 3 layout), found " + show(cells[0]));
    }
  }
  if (!index_row || regions.empty() || seconds.empty() || regions.size() != seconds.size())
    fail_at(path, in.line(), 0, "",
            std::string("expected tab-separated header rows 'region' and '") + second +
                "' of equal length, then the row 'region<TAB>sector' (EXIOBASE 3 layout)");
  const std::size_t width = regions.size();
  std::vector<Column> cols(width);
  for (std::size_t c = 2; c < width; ++c) {
    if (final) {
      cols[c] = Column{Column::kFinal, b.country(regions[c]), kMrioFinalDemand};
      continue;
    }
    if (b.known_pair(regions[c], seconds[c]))
      fail_at(path, 1, c + 1, "", "duplicate column " + show(regions[c] + " " + seconds[c]));
    b.add_pair(regions[c], seconds[c]);
    cols[c] = Column{Column::kIntermediate, b.country(regions[c]), b.sector(seconds[c])};
  }
  if (width <= 2) fail_at(path, 1, 0, "", "expected value columns, found none");
  while (in.next('\t')) {
    in.expect_width(width);
    std::string_view region = in.cells()[0], sector = in.cells()[1];
    if (!b.known_pair(region, sector))
      in.fail(0, "expected a row region, sector naming a column of Z.txt, found " +
                     show(std::string(region) + " " + std::string(sector)));
    const std::uint32_t rc = b.country_of(region), rs = b.sector_of(sector);
    for (std::size_t c = 2; c < width; ++c) b.cell(in, c, rc, rs, cols[c].country, cols[c].sector);
  }
}

MrioTable read_exiobase(const std::vector<std::string>& files) {
  namespace fs = std::filesystem;
  std::string z, y, source;
  if (files.size() == 1 && fs::is_directory(files[0])) {
    source = files[0];
    z = (fs::path(files[0]) / "Z.txt").string();
    y = (fs::path(files[0]) / "Y.txt").string();
  } else {
    for (const auto& f : files) {
      const std::string name = fs::path(f).filename().string();
      if (name == "Z.txt")
        z = f;
      else if (name == "Y.txt")
        y = f;
      else if (name != "x.txt")
        fail_at(f, 0, 0, "FILES",
                "expected EXIOBASE's Z.txt and Y.txt (x.txt is ignored) or their directory, "
                "found " +
                    show(name));
    }
    if (z.empty() || y.empty())
      fail_at(files.empty() ? "" : files[0], 0, 0, "FILES",
              std::string("expected EXIOBASE's Z.txt and Y.txt, or their directory; missing ") +
                  (z.empty() ? "Z.txt" : "Y.txt"));
    source = fs::path(z).parent_path().string();
  }
  TableBuilder b(source, "EUR million");
  read_exiobase_part(z, false, b);
  read_exiobase_part(y, true, b);
  return b.take();
}

// ---- the project's long CSV ---------------------------------------------------------------------

MrioTable read_long_csv(const std::string& path) {
  TableBuilder b(path, "currency unit");
  std::vector<std::array<std::string, 4>> labels;
  std::vector<std::pair<std::size_t, double>> values;  // (line, value)
  detail::read_csv(path, {"from_country", "from_sector", "to_country", "to_sector", "value"}, {},
                   [&](const detail::CsvRow& row, const detail::CsvColumns& cols) {
                     const auto& ix = cols.index;
                     std::array<std::string, 4> l;
                     for (int k = 0; k < 4; ++k) {
                       l[k] = std::string(row.text(std::size_t(ix[k])));
                       if (l[k].empty())
                         row.fail(std::size_t(ix[k]), "expected a code, found an empty cell");
                     }
                     const double v = row.number(std::size_t(ix[4]));
                     if (std::abs(v) > kMaxQuantity)
                       row.fail(std::size_t(ix[4]),
                                "expected a value of at most 1e100 in magnitude");
                     b.add_pair(l[0], l[1]);
                     b.country(l[0]);
                     b.sector(l[1]);
                     labels.push_back(std::move(l));
                     values.emplace_back(row.line, v);
                   });
  // Destinations are resolved once every seller (from_country, from_sector) is known.
  MrioTable t = b.take();
  std::unordered_map<std::string, std::uint32_t> ci, si;
  for (std::uint32_t c = 0; c < t.countries.size(); ++c) ci[t.countries[c]] = c;
  for (std::uint32_t s = 0; s < t.sectors.size(); ++s) si[t.sectors[s]] = s;
  for (std::size_t k = 0; k < labels.size(); ++k) {
    const auto& l = labels[k];
    auto tc = ci.find(l[2]);
    if (tc == ci.end()) {
      tc = ci.emplace(l[2], std::uint32_t(t.countries.size())).first;
      t.countries.push_back(l[2]);
    }
    std::uint32_t ts = kMrioFinalDemand;
    if (l[3] != "FD") {
      auto s = si.find(l[3]);
      if (s == si.end()) {
        s = si.emplace(l[3], std::uint32_t(t.sectors.size())).first;
        t.sectors.push_back(l[3]);
        t.sector_names.push_back(l[3]);
      }
      ts = s->second;
    }
    if (values[k].second != 0.0)
      t.entries.push_back(MrioEntry{ci.at(l[0]), si.at(l[1]), tc->second, ts, values[k].second});
  }
  return t;
}

}  // namespace

MrioTable read_mrio(MrioFormat format, const std::vector<std::string>& files) {
  for (const auto& f : files)  // a table that is not there is bad input (exit 2), not an I/O error
    if (!std::filesystem::exists(f))
      fail_at(f, 0, 0, "FILES", "expected a table file (or EXIOBASE directory), found nothing");
  if (format == MrioFormat::kExiobase) return read_exiobase(files);
  if (files.size() != 1)
    fail_at(files.empty() ? "" : files[1], 0, 0, "FILES",
            "expected one table file for this format, found " + std::to_string(files.size()));
  switch (format) {
    case MrioFormat::kOecdIcio:
      return read_icio(files[0]);
    case MrioFormat::kWiod:
      return read_wiod(files[0]);
    default:
      return read_long_csv(files[0]);
  }
}

std::vector<std::pair<std::string, std::string>> read_mrio_map(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> map;
  std::unordered_map<std::string, std::size_t> line_of;
  detail::read_csv(
      path, {"from", "to"}, {}, [&](const detail::CsvRow& row, const detail::CsvColumns& cols) {
        std::string from(row.text(std::size_t(cols.index[0])));
        std::string to(row.text(std::size_t(cols.index[1])));
        if (from.empty() || to.empty())
          row.fail(std::size_t(from.empty() ? cols.index[0] : cols.index[1]),
                   "expected a code, found an empty cell");
        auto [it, added] = line_of.emplace(from, row.line);
        if (!added)
          row.fail(
              std::size_t(cols.index[0]),
              "code " + show(from) + " is already mapped on line " + std::to_string(it->second));
        map.emplace_back(std::move(from), std::move(to));
      });
  return map;
}

std::vector<double> zipf_shares(std::uint32_t k) {
  double h = 0.0;
  for (std::uint32_t j = 1; j <= k; ++j) h += 1.0 / j;
  std::vector<double> s(k);
  for (std::uint32_t j = 1; j <= k; ++j) s[j - 1] = (1.0 / j) / h;
  return s;
}

namespace {

/// Codes after `--map`: new index of each old one, and the new list (first appearance order).
std::vector<std::uint32_t> apply_map(const std::vector<std::string>& codes,
                                     const std::unordered_map<std::string, std::string>& map,
                                     std::vector<std::string>& out) {
  std::unordered_map<std::string, std::uint32_t> index;
  std::vector<std::uint32_t> to(codes.size());
  for (std::size_t k = 0; k < codes.size(); ++k) {
    auto m = map.find(codes[k]);
    const std::string& code = m == map.end() ? codes[k] : m->second;
    auto [it, added] = index.emplace(code, std::uint32_t(out.size()));
    if (added) out.push_back(code);
    to[k] = it->second;
  }
  return to;
}

/// The table after --map, summed per (seller, buyer or destination): key seller * (n + R) +
/// (buyer, or n + destination), in key order; seller/buyer = country * S + sector.
struct Aggregated {
  std::vector<std::string> countries, sectors, sector_names;
  std::vector<std::pair<std::uint64_t, double>> cells;
};

Aggregated aggregate(const MrioTable& t, const MrioOptions& o) {
  std::unordered_map<std::string, std::string> map(o.map.begin(), o.map.end());
  Aggregated a;
  const auto cm = apply_map(t.countries, map, a.countries);
  const auto sm = apply_map(t.sectors, map, a.sectors);
  a.sector_names.assign(a.sectors.size(), "");
  for (std::size_t s = 0; s < t.sectors.size(); ++s) {
    auto& name = a.sector_names[sm[s]];
    if (name.empty())
      name = a.sectors[sm[s]] == t.sectors[s] && s < t.sector_names.size() ? t.sector_names[s]
                                                                           : a.sectors[sm[s]];
  }
  const std::uint64_t S = a.sectors.size(), n = a.countries.size() * S,
                      width = n + a.countries.size();
  a.cells.reserve(t.entries.size());
  for (const auto& e : t.entries) {
    const std::uint64_t from = cm[e.from_country] * S + sm[e.from_sector];
    const std::uint64_t to = e.to_sector == kMrioFinalDemand
                                 ? n + cm[e.to_country]
                                 : cm[e.to_country] * S + sm[e.to_sector];
    a.cells.emplace_back(from * width + to, e.value);
  }
  // Sum the entries of one key in the order read (a stable sort keeps it deterministic).
  std::stable_sort(a.cells.begin(), a.cells.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::size_t k = 0;
  for (std::size_t i = 0; i < a.cells.size(); ++i) {
    if (k > 0 && a.cells[k - 1].first == a.cells[i].first)
      a.cells[k - 1].second += a.cells[i].second;
    else
      a.cells[k++] = a.cells[i];
  }
  a.cells.resize(k);
  return a;
}

}  // namespace

World build_mrio_world(const MrioTable& table, const MrioOptions& o, MrioReport* report) {
  if (o.firms_per_sector < 1 || o.firms_per_sector > 1000)
    throw InputError(
        {"", 0, 0, "--firms-per-sector"},
        "expected 1 to 1000 firms per sector, found " + std::to_string(o.firms_per_sector));
  if (!(std::isfinite(o.min_flow) && o.min_flow >= 0.0))
    throw InputError({"", 0, 0, "--min-flow"}, "expected a finite value >= 0");
  MrioReport r;
  r.missing_cells = table.missing_cells;
  const Aggregated a = aggregate(table, o);
  const std::uint32_t S = std::uint32_t(a.sectors.size()), R = std::uint32_t(a.countries.size());
  const std::uint64_t n = std::uint64_t(R) * S, width = n + R;
  if (n == 0)
    throw InputError({table.source, 0, 0, ""}, "expected countries and sectors, found none");
  // Net negative entries: intermediate ones dropped, final demand clipped to 0 (docs/mrio.md).
  std::vector<double> out(n, 0.0);  // annual output of each (country, sector)
  std::vector<std::pair<std::uint64_t, double>> cells;
  cells.reserve(a.cells.size());
  for (const auto& [key, v] : a.cells) {
    const bool final = key % width >= n;
    if (v < 0.0) {
      (final ? r.negative_final_demand : r.negative_flows) += 1;
      (final ? r.negative_final_demand_value : r.negative_flow_value) += -v;
      continue;
    }
    if (v == 0.0) continue;
    out[key / width] += v;
    cells.emplace_back(key, v);
  }

  WorldTables w;
  w.source = table.source;
  for (const auto& c : a.countries) w.countries.push_back(Country{c, c, {}});
  const std::string unit = o.unit.empty() ? table.unit : o.unit;
  for (std::uint32_t s = 0; s < S; ++s) {
    Material m;
    m.id = a.sectors[s];
    m.name = a.sector_names[s];
    m.unit = unit;
    w.materials.push_back(std::move(m));
  }
  const std::uint32_t K = o.firms_per_sector;
  const std::vector<double> share = zipf_shares(K);
  std::vector<FirmId> first(n, FirmId(-1));  // first firm of each (country, sector)
  for (std::uint64_t i = 0; i < n; ++i) {
    if (out[i] <= 0.0) {
      ++r.empty_sectors;
      continue;
    }
    first[i] = FirmId(w.firm_id.size());
    const std::string base = a.countries[i / S] + "_" + a.sectors[i % S];
    for (std::uint32_t k = 0; k < K; ++k) {
      w.firm_id.push_back(K == 1 ? base : base + "_" + std::to_string(k + 1));
      w.firm_country.push_back(CountryId(i / S));
      w.firm_material.push_back(MaterialId(i % S));
    }
  }
  const std::size_t firms = w.firm_id.size();
  if (firms == 0) throw InputError({table.source, 0, 0, ""}, "expected some output, found none");
  std::vector<double> fd(firms * R, 0.0);  // annual final demand by destination
  for (const auto& [key, v] : cells) {
    const std::uint64_t i = key / width, j = key % width;
    if (j >= n) {  // final demand in country j - n
      for (std::uint32_t k = 0; k < K; ++k) fd[(first[i] + k) * R + (j - n)] += v * share[k];
      continue;
    }
    const CountryId buyer_country = CountryId(j / S);
    if (first[j] == FirmId(-1)) {  // a buyer with no output: its purchases become final demand
      r.empty_sector_purchase_value += v;
      for (std::uint32_t k = 0; k < K; ++k) fd[(first[i] + k) * R + buyer_country] += v * share[k];
      continue;
    }
    for (std::uint32_t k = 0; k < K; ++k)
      for (std::uint32_t m = 0; m < K; ++m) {
        const double f = v * share[k] * share[m];
        const FirmId sup = first[i] + k, buy = first[j] + m;
        if (sup == buy) {
          r.own_use_value += f;
          fd[sup * R + buyer_country] += f;
        } else if (f < o.min_flow) {
          ++r.small_links;
          r.small_link_value += f;
          fd[sup * R + buyer_country] += f;
        } else {
          w.link_supplier.push_back(sup);
          w.link_buyer.push_back(buy);
          w.link_flow.push_back(f / 365.0);
        }
      }
  }
  w.final_demand.assign(firms, 0.0);
  for (FirmId f = 0; f < firms; ++f)
    for (CountryId d = 0; d < R; ++d) {
      const double amount = fd[std::size_t(f) * R + d] / 365.0;
      if (amount <= 0.0) continue;
      w.final_demand[f] += amount;
      w.final_demand_split.push_back(FinalDemandShare{f, d, amount});
    }
  World world(std::move(w));
  r.countries = R;
  r.sectors = S;
  r.firms = firms;
  r.links = world.num_links();
  for (double x : world.baseline_output()) r.total_output += x * 365.0;
  if (report) *report = r;
  return world;
}

}  // namespace shortfall
