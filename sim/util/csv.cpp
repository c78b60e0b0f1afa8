#include "util/csv.hpp"

#include <charconv>
#include <cmath>

#include "shortfall/error.hpp"
#include "util/yaml_util.hpp"

namespace shortfall::detail {

void CsvRow::fail(std::size_t col, const std::string& what) const {
  std::string name = header && col < header->size() ? (*header)[col] : std::to_string(col + 1);
  throw InputError(SourceLocation{file, int(line), int(col + 1), "column '" + name + "'"}, what);
}

double CsvRow::number(std::size_t col) const {
  std::string_view s = fields[col];
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
    fail(col, "expected a number, found '" + std::string(s.substr(0, 60)) + "'");
  if (!std::isfinite(v)) fail(col, "expected a finite number, found '" + std::string(s) + "'");
  return v;
}

namespace {
void split(std::string_view line, std::vector<std::string_view>& out, std::string& scratch) {
  out.clear();
  std::size_t i = 0;
  scratch.clear();
  while (true) {
    if (i < line.size() && line[i] == '"') {
      // quoted: copy into scratch (rare in world tables)
      std::size_t start = scratch.size();
      ++i;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') { scratch += '"'; i += 2; continue; }
          ++i;
          break;
        }
        scratch += line[i++];
      }
      out.emplace_back(scratch.data() + start, scratch.size() - start);  // fixed up below
      std::size_t comma = line.find(',', i);
      if (comma == std::string_view::npos) break;
      i = comma + 1;
      continue;
    }
    std::size_t comma = line.find(',', i);
    std::string_view f = line.substr(i, comma == std::string_view::npos ? line.npos : comma - i);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    out.push_back(f);
    if (comma == std::string_view::npos) break;
    i = comma + 1;
  }
}
}  // namespace

void read_csv(const std::string& path, const std::vector<std::string>& required,
              const std::vector<std::string>& optional,
              const std::function<void(const CsvRow&, const CsvColumns&)>& on_row,
              const SourceLocation* named_at) {
  auto columns = [&] {
    std::string out;
    for (auto& r : required) out += (out.empty() ? "" : ",") + r;
    for (auto& o : optional) out += ",[" + o + "]";
    return out;
  };
  const std::string named = named_at ? " (named at " + named_at->str() + ")" : std::string();
  std::string text;
  try {
    text = read_file(path);
  } catch (const IoError& e) {
    // A table named by an input file that points to nothing: bad input at the key naming it.
    if (named_at)
      throw InputError(*named_at, std::string("cannot read the table (paths are relative to "
                                              "the file naming it): ") +
                                      e.what());
    throw;
  }
  if (text.empty())
    throw InputError(SourceLocation{path, 0, 0, ""},
                     "the file is empty (0 bytes); expected a CSV table with the header line " +
                         columns() + named);
  check_utf8(text, path);
  std::vector<std::string> header;
  CsvColumns cols;
  CsvRow row;
  row.file = path;
  row.header = &header;
  std::string scratch;
  scratch.reserve(1024);
  // A UTF-8 byte-order mark (spreadsheets write one) is not part of the first column's name.
  std::size_t pos = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0, line_no = 0;
  bool have_header = false;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.size() > (1u << 20))
      throw InputError(SourceLocation{path, int(line_no), 0, ""},
                       "expected a CSV line shorter than 1 MiB, found " +
                           std::to_string(line.size()) + " bytes");
    scratch.reserve(line.size());  // quoted fields point into scratch: never reallocate mid-row
    split(line, row.fields, scratch);
    row.line = line_no;
    if (!have_header) {
      have_header = true;
      for (auto f : row.fields) header.emplace_back(f);
      for (std::size_t c = 0; c < header.size(); ++c) {
        bool known = false;
        for (auto& r : required) known = known || r == header[c];
        for (auto& o : optional) known = known || o == header[c];
        if (!known)
          row.fail(c, "unknown column '" + header[c] + "'; expected columns " + columns());
      }
      auto find = [&](const std::string& name) {
        for (std::size_t c = 0; c < header.size(); ++c)
          if (header[c] == name) return int(c);
        return -1;
      };
      for (auto& r : required) {
        int c = find(r);
        if (c < 0)
          throw InputError(SourceLocation{path, int(line_no), 0, "header"},
                           "missing required column '" + r + "'");
        cols.index.push_back(c);
      }
      for (auto& o : optional) cols.index.push_back(find(o));
      continue;
    }
    if (row.fields.size() != header.size())
      throw InputError(SourceLocation{path, int(line_no), 0, ""},
                       "expected " + std::to_string(header.size()) + " fields, found " +
                           std::to_string(row.fields.size()));
    on_row(row, cols);
  }
  if (!have_header)
    throw InputError(SourceLocation{path, 0, 0, ""}, "expected a CSV header line (" + columns() +
                                                         "), found only blank lines and comments" +
                                                         named);
}

}  // namespace shortfall::detail
