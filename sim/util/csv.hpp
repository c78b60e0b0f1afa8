// A streaming CSV reader for world tables, with errors that name the file, row and column.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "shortfall/error.hpp"

namespace shortfall::detail {

class CsvRow {
 public:
  std::string file;
  std::size_t line = 0;  ///< 1-based line in the file
  std::vector<std::string_view> fields;
  const std::vector<std::string>* header = nullptr;

  [[nodiscard]] std::string_view text(std::size_t col) const { return fields[col]; }
  /// Finite number; InputError naming file, line, column name and value otherwise.
  [[nodiscard]] double number(std::size_t col) const;
  [[noreturn]] void fail(std::size_t col, const std::string& what) const;
};

/// Index of each wanted column in the header; -1 if absent (an error if required).
struct CsvColumns {
  std::vector<int> index;
};

/// Splits one line into cells at `delim` (quoted cells with '"' and "" for a quote; unquoted
/// cells trimmed of spaces and tabs) into `out`: views into `line`, or into `scratch` for
/// quoted cells, valid until the next call with the same scratch.
void split_csv_line(std::string_view line, char delim, std::vector<std::string_view>& out,
                    std::string& scratch);

/// Stream the CSV file `path`: `required` and `optional` column names are looked up in the
/// header (unknown columns are an error), then `on_row` is called for each data row with the
/// fields in file order and the column indices. Blank lines and lines starting with '#' are
/// skipped. Fields may be quoted with '"'. A leading UTF-8 byte-order mark is skipped. An empty
/// file is an InputError naming it. `named_at`, if given, is where an input file names the
/// table (e.g. a world's `links_csv:` key): a table that cannot be read is then an InputError
/// there (bad input: exit 2), not an IoError.
void read_csv(const std::string& path, const std::vector<std::string>& required,
              const std::vector<std::string>& optional,
              const std::function<void(const CsvRow&, const CsvColumns&)>& on_row,
              const SourceLocation* named_at = nullptr);

/// read_csv for large tables: the same checks and messages, with the data rows parsed in
/// parallel blocks of whole lines (TBB). `on_count(rows, cols)` is called once, before any
/// row, with the number of data rows (so that the caller sizes its arrays once); then
/// `on_row(row, cols, index)` is called for each data row, `index` its 0-based position among
/// the data rows in file order, from several threads at once (it must only write to slots
/// of its own index). If rows fail, the error of the first failing row in file order is
/// thrown, as read_csv would. `on_block_end`, if given, is called by the thread that read a
/// block after its last row, and after a row of the block failed (before that error is
/// recorded; an error it throws replaces it): a caller that defers work on rows (to batch
/// memory accesses) finishes it there, for the rows before the failing one.
void read_csv_parallel(
    const std::string& path, const std::vector<std::string>& required,
    const std::vector<std::string>& optional,
    const std::function<void(std::size_t rows, const CsvColumns&)>& on_count,
    const std::function<void(const CsvRow&, const CsvColumns&, std::size_t index)>& on_row,
    const SourceLocation* named_at = nullptr, const std::function<void()>& on_block_end = {});

}  // namespace shortfall::detail
