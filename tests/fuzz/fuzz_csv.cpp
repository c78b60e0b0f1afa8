// libFuzzer target: the CSV reader shortfall::detail::read_csv (sim/util/csv.hpp), with the column
// sets of the three tables the program reads: firms, links and capacity losses. The first byte
// picks the table; the rest is the file. Each row's fields are read as text or numbers the way
// the loaders do. Every input must either be read or raise InputError/IoError.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "shortfall/error.hpp"
#include "util/csv.hpp"

namespace {

struct Table {
  std::vector<std::string> required, optional;
  std::vector<bool> numeric;  // by position in required + optional
};

const Table kTables[] = {
    {{"id", "country", "material", "final_demand"},
     {"inventory_days"},
     {false, false, false, true, true}},
    {{"supplier", "buyer", "flow"}, {"lead_time"}, {false, false, true, true}},
    {{"firm", "loss"}, {}, {false, true}},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Table& table = kTables[data[0] % 3];
  const std::string path = shortfall::fuzz::write_scratch(
      "table.csv", std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  try {
    std::size_t rows = 0;
    shortfall::detail::read_csv(
        path, table.required, table.optional,
        [&](const shortfall::detail::CsvRow& row, const shortfall::detail::CsvColumns& cols) {
          ++rows;
          for (std::size_t k = 0; k < cols.index.size(); ++k) {
            const int c = cols.index[k];
            if (c < 0) continue;  // an optional column that is absent
            if (table.numeric[k] && !row.text(std::size_t(c)).empty())
              (void)row.number(std::size_t(c));
            else
              (void)row.text(std::size_t(c));
          }
        });
    (void)rows;
  } catch (const shortfall::InputError&) {
  } catch (const shortfall::IoError&) {
  }
  return 0;
}
