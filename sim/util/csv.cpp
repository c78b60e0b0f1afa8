#include "util/csv.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <exception>

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

void split_csv_line(std::string_view line, char delim, std::vector<std::string_view>& out,
                    std::string& scratch) {
  out.clear();
  std::size_t i = 0;
  scratch.clear();
  scratch.reserve(line.size());  // quoted cells fit: the views into it stay valid
  while (true) {
    if (i < line.size() && line[i] == '"') {
      // quoted: copy into scratch (rare in world tables)
      std::size_t start = scratch.size();
      ++i;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            scratch += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        scratch += line[i++];
      }
      out.emplace_back(scratch.data() + start, scratch.size() - start);
      std::size_t comma = line.find(delim, i);
      if (comma == std::string_view::npos) break;
      i = comma + 1;
      continue;
    }
    std::size_t comma = line.find(delim, i);
    std::string_view f = line.substr(i, comma == std::string_view::npos ? line.npos : comma - i);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    out.push_back(f);
    if (comma == std::string_view::npos) break;
    i = comma + 1;
  }
}

namespace {

std::string column_list(const std::vector<std::string>& required,
                        const std::vector<std::string>& optional) {
  std::string out;
  for (auto& r : required) out += (out.empty() ? "" : ",") + r;
  for (auto& o : optional) out += ",[" + o + "]";
  return out;
}

/// The file's text, read whole; the errors of read_csv for a file that is missing or empty.
std::string read_table(const std::string& path, const std::vector<std::string>& required,
                       const std::vector<std::string>& optional, const std::string& named,
                       const SourceLocation* named_at) {
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
                         column_list(required, optional) + named);
  return text;
}

/// The next line of `text` from `pos` (advanced past it), without its '\r\n' or '\n'.
std::string_view next_line(std::string_view text, std::size_t& pos) {
  const std::size_t nl = text.find('\n', pos);
  std::string_view line(text.data() + pos, (nl == std::string_view::npos ? text.size() : nl) - pos);
  pos = nl == std::string_view::npos ? text.size() : nl + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

void check_length(std::string_view line, const std::string& path, std::size_t line_no) {
  if (line.size() > (1u << 20))
    throw InputError(
        SourceLocation{path, int(line_no), 0, ""},
        "expected a CSV line shorter than 1 MiB, found " + std::to_string(line.size()) + " bytes");
}

/// The header line (in row.fields): column names checked, indices of the wanted ones.
void parse_header(CsvRow& row, std::vector<std::string>& header, CsvColumns& cols,
                  const std::vector<std::string>& required,
                  const std::vector<std::string>& optional) {
  for (auto f : row.fields) header.emplace_back(f);
  for (std::size_t c = 0; c < header.size(); ++c) {
    bool known = false;
    for (auto& r : required) known = known || r == header[c];
    for (auto& o : optional) known = known || o == header[c];
    if (!known)
      row.fail(c, "unknown column '" + header[c] + "'; expected columns " +
                      column_list(required, optional));
  }
  auto find = [&](const std::string& name) {
    for (std::size_t c = 0; c < header.size(); ++c)
      if (header[c] == name) return int(c);
    return -1;
  };
  for (auto& r : required) {
    int c = find(r);
    if (c < 0)
      throw InputError(SourceLocation{row.file, int(row.line), 0, "header"},
                       "missing required column '" + r + "'");
    cols.index.push_back(c);
  }
  for (auto& o : optional) cols.index.push_back(find(o));
}

void check_width(const CsvRow& row) {
  if (row.fields.size() != row.header->size())
    throw InputError(SourceLocation{row.file, int(row.line), 0, ""},
                     "expected " + std::to_string(row.header->size()) + " fields, found " +
                         std::to_string(row.fields.size()));
}

[[noreturn]] void no_header(const std::string& path, const std::vector<std::string>& required,
                            const std::vector<std::string>& optional, const std::string& named) {
  throw InputError(SourceLocation{path, 0, 0, ""},
                   "expected a CSV header line (" + column_list(required, optional) +
                       "), found only blank lines and comments" + named);
}

/// Blocks of whole lines of a table read in parallel (read_csv_parallel), about 1 MiB each.
struct Block {
  std::size_t begin = 0, end = 0, lines = 0, rows = 0, first_line = 0, first_row = 0;
  std::exception_ptr error;
};

/// The header of a table read in parallel, read as read_csv reads it (the file's start is checked
/// as UTF-8 first); `pos` and `line_no` end at the header line.
void read_parallel_header(const std::string& text, const std::string& path,
                          const std::vector<std::string>& required,
                          const std::vector<std::string>& optional, const std::string& named,
                          std::vector<std::string>& header, CsvColumns& cols, std::size_t& pos,
                          std::size_t& line_no) {
  std::string scratch;
  CsvRow row;
  row.file = path;
  row.header = &header;
  while (pos < text.size()) {
    const std::size_t begin = pos;
    const std::string_view line = next_line(text, pos);
    ++line_no;
    try {
      check_utf8(std::string_view(text.data() + begin, pos - begin), path);
    } catch (const InputError& e) {  // it counts from line 1: this line's number
      throw InputError(SourceLocation{path, int(line_no), 0, ""}, e.detail());
    }
    if (line.empty() || line.front() == '#') continue;
    check_length(line, path, line_no);
    scratch.reserve(line.size());
    split_csv_line(line, ',', row.fields, scratch);
    row.line = line_no;
    parse_header(row, header, cols, required, optional);
    break;
  }
  if (header.empty()) no_header(path, required, optional, named);
}

/// `text` from `pos` cut into blocks of whole lines.
std::vector<Block> split_blocks(const std::string& text, std::size_t pos) {
  std::vector<Block> blocks;
  constexpr std::size_t kBlock = 1u << 20;
  for (std::size_t b = pos; b < text.size();) {
    std::size_t e = std::min(text.size(), b + kBlock);
    if (e < text.size()) {
      const std::size_t nl = text.find('\n', e - 1);
      e = nl == std::string::npos ? text.size() : nl + 1;
    }
    blocks.push_back(Block{b, e, 0, 0, 0, 0, nullptr});
    b = e;
  }
  return blocks;
}

/// Pass 1: lines and data rows per block, UTF-8 checked (its line fixed up here); numbers each
/// block's first line (after the header line `line_no`) and row; returns the number of rows.
std::size_t count_rows(std::vector<Block>& blocks, std::string_view all, const std::string& path,
                       std::size_t line_no) {
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, blocks.size(), 1), [&](const auto& r) {
    for (std::size_t k = r.begin(); k != r.end(); ++k) {
      Block& b = blocks[k];
      const std::string_view part = all.substr(b.begin, b.end - b.begin);
      try {
        check_utf8(part, path);
      } catch (const InputError& e) {
        b.error = std::make_exception_ptr(e);
      }
      std::size_t p = 0;
      while (p < part.size()) {
        const std::string_view line = next_line(part, p);
        ++b.lines;
        if (!line.empty() && line.front() != '#') ++b.rows;
      }
    }
  });
  std::size_t rows = 0;
  line_no += 1;  // the line after the header
  for (auto& b : blocks) {
    b.first_line = line_no;
    b.first_row = rows;
    line_no += b.lines;
    rows += b.rows;
    if (b.error) {
      try {
        std::rethrow_exception(b.error);
      } catch (const InputError& e) {
        SourceLocation at = e.where();
        at.line += int(b.first_line) - 1;
        throw InputError(at, e.detail());
      }
    }
  }
  return rows;
}

/// Pass 2: the rows; each block stops at its first error, and the first block's error wins.
void read_blocks(std::vector<Block>& blocks, std::string_view all, const std::string& path,
                 const std::vector<std::string>& header, const CsvColumns& cols,
                 const std::function<void(const CsvRow&, const CsvColumns&, std::size_t)>& on_row,
                 const std::function<void()>& on_block_end) {
  std::atomic<std::size_t> first_failed{blocks.size()};
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, blocks.size(), 1), [&](const auto& r) {
    CsvRow row;
    row.file = path;
    row.header = &header;
    std::string block_scratch;
    block_scratch.reserve(1024);
    for (std::size_t k = r.begin(); k != r.end(); ++k) {
      if (k > first_failed.load(std::memory_order_relaxed)) return;
      Block& b = blocks[k];
      const std::string_view part = all.substr(b.begin, b.end - b.begin);
      std::size_t p = 0, ln = b.first_line, index = b.first_row;
      try {
        for (; p < part.size(); ++ln) {
          const std::string_view line = next_line(part, p);
          if (line.empty() || line.front() == '#') continue;
          check_length(line, path, ln);
          block_scratch.reserve(line.size());
          split_csv_line(line, ',', row.fields, block_scratch);
          row.line = ln;
          check_width(row);
          on_row(row, cols, index++);
        }
        if (on_block_end) on_block_end();
      } catch (...) {
        b.error = std::current_exception();
        if (on_block_end) {
          try {
            on_block_end();  // the rows before the failing one: their errors come first
          } catch (...) {
            b.error = std::current_exception();
          }
        }
        std::size_t seen = first_failed.load();
        while (k < seen && !first_failed.compare_exchange_weak(seen, k)) {
        }
      }
    }
  });
  if (first_failed.load() < blocks.size()) std::rethrow_exception(blocks[first_failed].error);
}
}  // namespace

void read_csv(const std::string& path, const std::vector<std::string>& required,
              const std::vector<std::string>& optional,
              const std::function<void(const CsvRow&, const CsvColumns&)>& on_row,
              const SourceLocation* named_at) {
  const std::string named = named_at ? " (named at " + named_at->str() + ")" : std::string();
  const std::string text = read_table(path, required, optional, named, named_at);
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
    const std::string_view line = next_line(text, pos);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    check_length(line, path, line_no);
    scratch.reserve(line.size());  // quoted fields point into scratch: never reallocate mid-row
    split_csv_line(line, ',', row.fields, scratch);
    row.line = line_no;
    if (!have_header) {
      have_header = true;
      parse_header(row, header, cols, required, optional);
      continue;
    }
    check_width(row);
    on_row(row, cols);
  }
  if (!have_header) no_header(path, required, optional, named);
}

void read_csv_parallel(
    const std::string& path, const std::vector<std::string>& required,
    const std::vector<std::string>& optional,
    const std::function<void(std::size_t rows, const CsvColumns&)>& on_count,
    const std::function<void(const CsvRow&, const CsvColumns&, std::size_t index)>& on_row,
    const SourceLocation* named_at, const std::function<void()>& on_block_end) {
  const std::string named = named_at ? " (named at " + named_at->str() + ")" : std::string();
  const std::string text = read_table(path, required, optional, named, named_at);
  std::vector<std::string> header;
  CsvColumns cols;
  // The header, read as read_csv reads it (the file's start is checked as UTF-8 first).
  std::size_t pos = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0, line_no = 0;
  read_parallel_header(text, path, required, optional, named, header, cols, pos, line_no);
  std::vector<Block> blocks = split_blocks(text, pos);
  const std::string_view all(text);
  const std::size_t rows = count_rows(blocks, all, path, line_no);
  on_count(rows, cols);
  read_blocks(blocks, all, path, header, cols, on_row, on_block_end);
}

}  // namespace shortfall::detail
