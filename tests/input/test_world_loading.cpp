// Loading large worlds (issue 21): the parallel CSV reader gives the rows, line numbers and
// errors of the sequential one, across its blocks of whole lines; a world written as YAML + CSV
// whose tables span several blocks loads back to the same world, and its errors name the row.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/world.hpp"
#include "test_support.hpp"
#include "util/csv.hpp"

namespace fs = std::filesystem;
using namespace shortfall;

namespace {

fs::path scratch_dir(const std::string& name) {
  return shortfall::testing_support::scratch_dir("loading", name);
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

struct Row {
  std::size_t line = 0;
  std::string a, b, c;
  bool operator==(const Row& o) const { return line == o.line && a == o.a && b == o.b && c == o.c; }
};

std::vector<Row> sequential(const std::string& path) {
  std::vector<Row> out;
  detail::read_csv(
      path, {"a", "b"}, {"c"}, [&](const detail::CsvRow& r, const detail::CsvColumns& cols) {
        const auto& ix = cols.index;
        out.push_back(Row{r.line, std::string(r.text(ix[0])), std::string(r.text(ix[1])),
                          ix[2] >= 0 ? std::string(r.text(ix[2])) : ""});
      });
  return out;
}

std::vector<Row> parallel(const std::string& path) {
  std::vector<Row> out;
  std::atomic<int> counted{0};
  detail::read_csv_parallel(
      path, {"a", "b"}, {"c"},
      [&](std::size_t rows, const detail::CsvColumns&) {
        ++counted;
        out.resize(rows);
      },
      [&](const detail::CsvRow& r, const detail::CsvColumns& cols, std::size_t k) {
        const auto& ix = cols.index;
        out[k] = Row{r.line, std::string(r.text(ix[0])), std::string(r.text(ix[1])),
                     ix[2] >= 0 ? std::string(r.text(ix[2])) : ""};
      });
  EXPECT_EQ(counted.load(), 1);
  return out;
}

/// A table of `rows` data rows (about 40 bytes each) after a BOM, a comment and the header
/// "b,a,c": every 7th data row is followed by a comment line, every 11th by a blank line,
/// every 13th ends in CRLF, every 17th has a quoted field with a comma and a doubled quote.
/// `line_of[k]` is the 1-based line of data row k, counted here as the file is written.
std::string table(std::size_t rows, std::vector<std::size_t>& line_of) {
  std::string t = "\xEF\xBB\xBF# a comment before the header\nb,a,c\n";
  std::size_t line = 3;
  line_of.clear();
  for (std::size_t k = 0; k < rows; ++k) {
    line_of.push_back(line);
    const std::string a = "firm" + std::to_string(k);
    const std::string b = k % 17 == 0 ? "\"x, \"\"y\"\"\"" : std::to_string(k * 0.25);
    t += b + "," + a + "," + std::to_string(k % 5) + (k % 13 == 0 ? "\r\n" : "\n");
    ++line;
    if (k % 7 == 0) t += "# comment\n", ++line;
    if (k % 11 == 0) t += "\n", ++line;
  }
  return t;
}

}  // namespace

TEST(CsvParallel, GivesTheRowsAndLinesOfTheSequentialReaderAcrossBlocks) {
  const fs::path dir = scratch_dir("rows");
  const std::string path = (dir / "t.csv").string();
  std::vector<std::size_t> line_of;
  const std::size_t n = 120000;  // about 3 MB: several 1 MiB blocks
  write(path, table(n, line_of));
  ASSERT_GT(fs::file_size(path), std::uintmax_t(2) << 20);  // 3 blocks at least
  const auto seq = sequential(path);
  const auto par = parallel(path);
  ASSERT_EQ(par.size(), n);
  ASSERT_EQ(seq.size(), n);
  for (std::size_t k = 0; k < n; ++k) {
    ASSERT_EQ(par[k].line, line_of[k]) << "row " << k;
    ASSERT_EQ(par[k].a, "firm" + std::to_string(k)) << "row " << k;
    ASSERT_EQ(par[k].c, std::to_string(k % 5)) << "row " << k;
    if (k % 17 == 0) {
      ASSERT_EQ(par[k].b, "x, \"y\"") << "row " << k;
    }
    ASSERT_TRUE(par[k] == seq[k]) << "row " << k;
  }
  fs::remove_all(dir);
}

TEST(CsvParallel, ReportsTheFirstBadRowInFileOrder) {
  const fs::path dir = scratch_dir("errors");
  const std::string path = (dir / "t.csv").string();
  std::vector<std::size_t> line_of;
  std::string t = table(120000, line_of);
  // Two rows with a missing field, far apart (different blocks): the first one is reported.
  auto break_row = [&](std::size_t k) {
    const std::string a = ",firm" + std::to_string(k) + ",";
    const std::size_t at = t.find(a);
    ASSERT_NE(at, std::string::npos);
    t.replace(at, a.size(), ",firm" + std::to_string(k));  // drops column c
  };
  break_row(100001);
  break_row(70001);
  write(path, t);
  auto message = [&] {
    try {
      parallel(path);
    } catch (const InputError& e) {
      return std::pair<int, std::string>(e.where().line, e.detail());
    }
    return std::pair<int, std::string>(0, "no error");
  };
  auto [line, what] = message();
  EXPECT_EQ(line, int(line_of[70001]));
  EXPECT_EQ(what, "expected 3 fields, found 2");
  // The sequential reader agrees.
  try {
    sequential(path);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().line, int(line_of[70001]));
  }
  // Invalid UTF-8 in a later block: named at its line.
  t = table(120000, line_of);
  const std::string a = ",firm90000,";
  t.replace(t.find(a), a.size(), ",firm\xC3\x28,");
  write(path, t);
  try {
    parallel(path);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, path);
    EXPECT_EQ(e.where().line, int(line_of[90000]));
    EXPECT_EQ(e.detail(), "expected UTF-8 text, found an invalid byte sequence");
  }
  fs::remove_all(dir);
}

TEST(ExplicitWorld, LargeCsvWorldLoadsBackToTheSameWorld) {
  // A synthetic world whose links table spans several blocks, written and loaded back.
  SyntheticSpec spec;
  spec.firms = 20000;
  spec.links = 100000;
  spec.materials = 6;
  spec.countries = 5;
  spec.seed = 7;
  const World w = generate_synthetic(spec);
  const fs::path dir = scratch_dir("world");
  write_world(w, dir.string());
  ASSERT_GT(fs::file_size(dir / "links.csv"), std::uintmax_t(2) << 20);
  const World r = load_world((dir / "world.yaml").string());
  EXPECT_EQ(r.sha256(), w.sha256());
  EXPECT_EQ(r.firm_id(), w.firm_id());
  EXPECT_EQ(r.link_supplier(), w.link_supplier());
  EXPECT_EQ(r.link_buyer(), w.link_buyer());
  EXPECT_EQ(r.link_flow(), w.link_flow());
  EXPECT_EQ(r.link_lead_time(), w.link_lead_time());
  EXPECT_EQ(r.baseline_output(), w.baseline_output());
  for (FirmId i = 0; i < w.num_firms(); i += 997) EXPECT_EQ(r.find_firm(w.firm_id()[i]), i);
  EXPECT_FALSE(r.find_firm("no such firm"));

  // Errors name the row of the table: a missing firm (found while parsing) and a duplicate
  // link (found by the World's checks), both in the last block.
  const std::string links = (dir / "links.csv").string();
  std::ifstream in(links, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  in.close();
  ASSERT_EQ(lines.size(), w.num_links() + 1);  // the header, then one line per link
  // The links table with some lines (numbered from 1) replaced.
  auto rewrite_lines = [&](const std::vector<std::pair<std::size_t, std::string>>& edits) {
    std::vector<std::string> out = lines;
    for (auto& [line, text] : edits) out[line - 1] = text;
    std::string t;
    for (auto& l : out) t += l + "\n";
    write(links, t);
  };
  auto rewrite = [&](std::size_t line, const std::string& text) { rewrite_lines({{line, text}}); };
  const std::size_t bad = w.num_links() - 10;  // a line in the last block: link bad - 2
  rewrite(bad, "nobody," + w.firm_id()[1] + ",1.5,1");
  try {
    load_world((dir / "world.yaml").string());
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, links);
    EXPECT_EQ(e.where().line, int(bad));
    EXPECT_EQ(e.where().column, 1);
    EXPECT_EQ(e.detail(), "link to a missing firm 'nobody'");
  }
  // Firm ids are looked up a few rows after the row is parsed: a missing buyer is still
  // reported before a bad flow in the same row or in the next rows, and after an earlier one.
  auto first_error = [&](const std::vector<std::pair<std::size_t, std::string>>& edits) {
    rewrite_lines(edits);
    try {
      load_world((dir / "world.yaml").string());
    } catch (const InputError& e) {
      return std::tuple<int, int, std::string>(e.where().line, e.where().column, e.detail());
    }
    return std::tuple<int, int, std::string>(0, 0, "no error");
  };
  const std::string s1 = w.firm_id()[1] + ",";
  const auto missing_buyer = std::make_tuple(int(bad), 2, "link to a missing firm 'nobody'");
  EXPECT_EQ(first_error({{bad, s1 + "nobody,-1,1"}}), missing_buyer);
  EXPECT_EQ(first_error({{bad, s1 + "nobody,1,1"}, {bad + 3, s1 + w.firm_id()[2] + ",x,1"}}),
            missing_buyer);
  EXPECT_EQ(first_error({{bad, s1 + "nobody,1,1"}, {bad + 1, "a,b"}}), missing_buyer);
  EXPECT_EQ(first_error({{bad, s1 + w.firm_id()[2] + ",x,1"}, {bad + 3, s1 + "nobody,1,1"}}),
            std::make_tuple(int(bad), 3, "expected a number, found 'x'"));
  EXPECT_EQ(first_error({{bad - 40, s1 + "nobody,1,1"}, {bad, "nobody2,x,1,1"}}),
            std::make_tuple(int(bad - 40), 2, "link to a missing firm 'nobody'"));

  rewrite(bad, lines[1]);  // the first link again
  try {
    load_world((dir / "world.yaml").string());
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, links);
    EXPECT_EQ(e.where().line, int(bad));
    EXPECT_NE(e.detail().find("duplicate link"), std::string::npos) << e.detail();
  }

  // The firms table: the first of a duplicate id and a bad row is reported, whichever it is.
  write(links, [&] {
    std::string t;
    for (auto& l : lines) t += l + "\n";
    return t;
  }());
  const std::string firms = (dir / "firms.csv").string();
  std::ifstream fin(firms, std::ios::binary);
  std::vector<std::string> frows;
  for (std::string l; std::getline(fin, l);) frows.push_back(l);
  fin.close();
  ASSERT_EQ(frows.size(), w.num_firms() + 1);
  ASSERT_EQ(frows[0].substr(0, 11), "id,country,");
  auto with_field = [&](std::size_t line, int field, const std::string& value) {
    std::string l = frows[line - 1];
    std::size_t b = 0;
    for (int f = 0; f < field; ++f) b = l.find(',', b) + 1;
    const std::size_t e = l.find(',', b);
    return l.substr(0, b) + value + l.substr(e);
  };
  auto load_firms = [&](std::size_t dup_line, std::size_t bad_line) {
    std::vector<std::string> out = frows;
    out[dup_line - 1] = with_field(dup_line, 0, w.firm_id()[0]);
    out[bad_line - 1] = with_field(bad_line, 1, "XX");
    std::string t;
    for (auto& l : out) t += l + "\n";
    write(firms, t);
    try {
      load_world((dir / "world.yaml").string());
    } catch (const InputError& e) {
      return std::tuple<std::string, int, int, std::string>(e.where().file, e.where().line,
                                                            e.where().column, e.detail());
    }
    return std::tuple<std::string, int, int, std::string>("", 0, 0, "no error");
  };
  EXPECT_EQ(load_firms(9000, 15000),
            std::make_tuple(firms, 9000, 1, "duplicate firm id '" + w.firm_id()[0] + "'"));
  EXPECT_EQ(load_firms(15000, 9000), std::make_tuple(firms, 9000, 2, "unknown country 'XX'"));
  fs::remove_all(dir);
}
