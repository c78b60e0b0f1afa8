// Worlds from MRIO tables (sim/input/mrio.cpp, docs/mrio.md): one small invented table written in
// each published layout must give the world that follows from it by hand; balance identities hold
// after --min-flow, --map and --firms-per-sector; a run with no events stays at baseline; bad
// layouts are exit-2 errors naming file, line and column.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "shortfall/mrio.hpp"
#include "shortfall/simulation.hpp"

namespace shortfall {
namespace {

namespace fs = std::filesystem;
using testing_support::fresh_temp_dir;
using testing_support::read_text;
using testing_support::run_shell;

const std::vector<std::string> kC = {"AUS", "CHN", "USA"};
const std::vector<std::string> kS = {"A01", "C26", "G"};
constexpr int kN = 9;  // country-sectors, index c * 3 + s

// The invented table: intermediate sales Z(i, j), and two final-demand categories per
// destination d: consumption 100 + 7i + 11d and an inventory change 5 - i (negative for i > 5).
double z(int i, int j) {
  return 10.0 + i + 3.0 * j;
}
double cons(int i, int d) {
  return 100.0 + 7.0 * i + 11.0 * d;
}
double inven(int i) {
  return 5.0 - i;
}
/// `sep` then the number.
std::string cell(char sep, double v) {
  std::string s(1, sep);
  s += std::to_string(v);
  return s;
}
std::string label(int i, const char* sep) {
  return kC[i / 3] + sep + kS[i % 3];
}
double row_out(int i) {
  double x = 0;
  for (int j = 0; j < kN; ++j) x += z(i, j);
  for (int d = 0; d < 3; ++d) x += cons(i, d) + inven(i);
  return x;
}

fs::path write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p;
}

std::string icio_text() {
  std::string t = "V1";
  for (int j = 0; j < kN; ++j) t += std::string(",") + label(j, "_");
  for (const auto& c : kC) t += std::string(",") + c + "_HFCE," + c + "_INVNT";
  t += ",OUT\n";
  for (int i = 0; i < kN; ++i) {
    t += label(i, "_");
    for (int j = 0; j < kN; ++j) t += cell(',', z(i, j));
    for (int d = 0; d < 3; ++d) t += cell(',', cons(i, d)) + cell(',', inven(i));
    t += cell(',', row_out(i)) + "\n";
  }
  for (const char* r : {"TLS", "VA", "OUT"}) {
    t += r;
    for (int j = 0; j < kN + 7; ++j) t += ",1.5";
    t += "\n";
  }
  return t;
}

std::string wiod_text() {
  std::string codes = "(millions of US$),,,", names = ",,,", countries = ",,,", nums = ",,,";
  for (int j = 0; j < kN; ++j) {
    codes += std::string(",") + kS[j % 3];
    names += ",\"Sector " + kS[j % 3] + ", described\"";
    countries += std::string(",") + kC[j / 3];
    nums += ",c" + std::to_string(j % 3 + 1);
  }
  for (const auto& c : kC) {
    codes += ",CONS_h,INVEN";
    names += ",Final consumption expenditure by households,Changes in inventories";
    countries += std::string(",") + c + "," + c;
    nums += ",c57,c61";
  }
  codes += ",GO", names += ",Total output", countries += ",TOT", nums += ",c62";
  std::string t = "World Input-Output Table (synthetic test)\n" + codes + "\n" + names + "\n" +
                  countries + "\n" + nums + "\n";
  for (int i = 0; i < kN; ++i) {
    t += kS[i % 3] + ",\"Sector " + kS[i % 3] + ", described\"," + kC[i / 3] + ",r" +
         std::to_string(i + 1);
    for (int j = 0; j < kN; ++j) t += cell(',', z(i, j));
    for (int d = 0; d < 3; ++d) t += cell(',', cons(i, d)) + cell(',', inven(i));
    t += cell(',', row_out(i)) + "\n";
  }
  for (const char* r : {"II_fob", "TXSP", "VA", "GO"}) {
    t += std::string(r) + ",total," + "TOT,r0";
    for (int j = 0; j < kN + 7; ++j) t += ",2";
    t += "\n";
  }
  return t;
}

void write_exiobase(const fs::path& dir) {
  std::string zt = "region\t", st = "sector\t", yr = "region\t", yc = "category\t";
  for (int j = 0; j < kN; ++j)
    zt += std::string("\t") + kC[j / 3], st += std::string("\t") + kS[j % 3];
  for (const auto& c : kC) {
    yr += std::string("\t") + c + "\t" + c;
    yc += "\tFinal consumption expenditure by households\tChanges in inventories";
  }
  std::string zf = zt + "\n" + st + "\nregion\tsector\n",
              yf = yr + "\n" + yc + "\nregion\tsector\n";
  std::string xf = "region\tsector\tindout\n";
  for (int i = 0; i < kN; ++i) {
    const std::string row = kC[i / 3] + "\t" + kS[i % 3];
    zf += row, yf += row;
    for (int j = 0; j < kN; ++j) zf += cell('\t', z(i, j));
    for (int d = 0; d < 3; ++d) yf += cell('\t', cons(i, d)) + cell('\t', inven(i));
    zf += "\n", yf += "\n";
    xf += row + cell('\t', row_out(i)) + "\n";
  }
  write(dir / "Z.txt", zf);
  write(dir / "Y.txt", yf);
  write(dir / "x.txt", xf);
}

std::string long_csv_text() {
  std::string t = "from_country,from_sector,to_country,to_sector,value\n";
  for (int i = 0; i < kN; ++i) {
    const std::string from = kC[i / 3] + "," + kS[i % 3] + ",";
    for (int j = 0; j < kN; ++j) t += from + label(j, ",") + cell(',', z(i, j)) + "\n";
    for (int d = 0; d < 3; ++d) {
      t += from + kC[d] + ",FD," + std::to_string(cons(i, d)) + "\n";
      t += from + kC[d] + ",FD," + std::to_string(inven(i)) + "\n";
    }
  }
  return t;
}

double final_to(const World& w, FirmId f, CountryId d) {
  for (auto k = w.final_dest_begin()[f]; k < w.final_dest_begin()[f + 1]; ++k)
    if (w.final_dest_country()[k] == d) return w.final_dest_amount()[k];
  return 0.0;
}

bool near(double a, double b) {
  return std::abs(a - b) <= 1e-12 * std::max(std::abs(a), std::abs(b));
}

/// The largest |x0 - (sales to firms + final demand by destination)| / x0 over firms, summed
/// here from the links and destinations (not from the world's own derivation).
double balance_gap(const World& w) {
  std::vector<double> sales(w.num_firms(), 0.0);
  for (LinkId l = 0; l < w.num_links(); ++l) sales[w.link_supplier()[l]] += w.link_flow()[l];
  double gap = 0;
  for (FirmId f = 0; f < w.num_firms(); ++f) {
    double fd = 0;
    for (CountryId d = 0; d < w.countries().size(); ++d) fd += final_to(w, f, d);
    gap = std::max(gap, std::abs(w.baseline_output()[f] - sales[f] - fd) / w.baseline_output()[f]);
  }
  return gap;
}

/// The world that follows from the invented table by hand (one firm per country-sector).
void expect_table_world(const World& w) {
  ASSERT_EQ(w.countries().size(), 3u);
  ASSERT_EQ(w.materials().size(), 3u);
  ASSERT_EQ(w.num_firms(), std::size_t(kN));
  ASSERT_EQ(w.num_links(), std::size_t(kN * (kN - 1)));  // every pair but own use
  EXPECT_LE(balance_gap(w), 1e-12);
  for (int i = 0; i < kN; ++i) {
    const FirmId f = *w.find_firm(label(i, "_"));
    EXPECT_EQ(w.countries()[w.firm_country()[f]].code, kC[i / 3]);
    EXPECT_EQ(w.materials()[w.firm_material()[f]].id, kS[i % 3]);
    EXPECT_TRUE(near(w.baseline_output()[f] * 365.0, row_out(i))) << label(i, "_");
    for (int d = 0; d < 3; ++d) {
      const double own = d == i / 3 ? z(i, i) : 0.0;  // own use goes to own final demand
      EXPECT_TRUE(near(final_to(w, f, CountryId(d)) * 365.0, cons(i, d) + inven(i) + own))
          << label(i, "_") << " to " << kC[d];
    }
  }
  for (LinkId l = 0; l < w.num_links(); ++l) {
    const FirmId s = w.link_supplier()[l], b = w.link_buyer()[l];
    const int i = int(w.firm_country()[s] * 3 + w.firm_material()[s]);
    const int j = int(w.firm_country()[b] * 3 + w.firm_material()[b]);
    EXPECT_EQ(w.link_flow()[l], z(i, j) / 365.0);
  }
  EXPECT_EQ(w.materials()[0].unit.empty(), false);
}

TEST(Mrio, OecdIcioLayout) {
  const auto dir = fresh_temp_dir("shortfall-mrio", "icio");
  const MrioTable t = read_mrio(MrioFormat::kOecdIcio, {write(dir / "icio.csv", icio_text())});
  EXPECT_EQ(t.unit, "USD million");
  MrioReport r;
  const World w = build_mrio_world(t, {}, &r);
  expect_table_world(w);
  double own = 0, total = 0;
  for (int i = 0; i < kN; ++i) own += z(i, i), total += row_out(i);
  EXPECT_TRUE(near(r.own_use_value, own));
  EXPECT_TRUE(near(r.total_output, total));
  EXPECT_EQ(r.negative_final_demand, 0u);  // inventory draw-downs are netted with consumption
}

TEST(Mrio, Wiod2016Layout) {
  const auto dir = fresh_temp_dir("shortfall-mrio", "wiod");
  const MrioTable t = read_mrio(MrioFormat::kWiod, {write(dir / "wiot.csv", wiod_text())});
  expect_table_world(build_mrio_world(t, {}));
  EXPECT_EQ(t.sector_names[1], "Sector C26, described");
  // The same sheet saved as tab-separated text.
  std::string out;
  bool in_quotes = false;
  for (char c : wiod_text())
    out += c == '"' ? (in_quotes = !in_quotes, c) : (c == ',' && !in_quotes ? '\t' : c);
  expect_table_world(
      build_mrio_world(read_mrio(MrioFormat::kWiod, {write(dir / "wiot.txt", out)}), {}));
}

TEST(Mrio, Exiobase3Layout) {
  const auto dir = fresh_temp_dir("shortfall-mrio", "exio");
  write_exiobase(dir);
  const MrioTable t = read_mrio(MrioFormat::kExiobase, {dir.string()});
  EXPECT_EQ(t.unit, "EUR million");
  expect_table_world(build_mrio_world(t, {}));
  const MrioTable t2 =
      read_mrio(MrioFormat::kExiobase,
                {(dir / "x.txt").string(), (dir / "Y.txt").string(), (dir / "Z.txt").string()});
  expect_table_world(build_mrio_world(t2, {}));
}

TEST(Mrio, LongCsvLayout) {
  const auto dir = fresh_temp_dir("shortfall-mrio", "csv");
  const MrioTable t = read_mrio(MrioFormat::kCsv, {write(dir / "t.csv", long_csv_text())});
  expect_table_world(build_mrio_world(t, {}));
}

TEST(Mrio, NegativeAndMissingEntries) {
  const auto dir = fresh_temp_dir("shortfall-mrio", "neg");
  const auto p = write(dir / "t.csv",
                       "from_country,from_sector,to_country,to_sector,value\n"
                       "AUS,A01,AUS,FD,50\nAUS,A01,CHN,FD,50\nAUS,A01,CHN,FD,-80\n"  // net -30
                       "AUS,A01,CHN,C26,20\nAUS,A01,CHN,C26,-25\n"                   // net -5
                       "AUS,A01,CHN,G,12\nCHN,C26,AUS,FD,40\nCHN,G,CHN,FD,9\n");
  MrioReport r;
  const World w = build_mrio_world(read_mrio(MrioFormat::kCsv, {p.string()}), {}, &r);
  EXPECT_EQ(r.negative_final_demand, 1u);
  EXPECT_DOUBLE_EQ(r.negative_final_demand_value, 30.0);
  EXPECT_EQ(r.negative_flows, 1u);
  EXPECT_DOUBLE_EQ(r.negative_flow_value, 5.0);
  const FirmId a = *w.find_firm("AUS_A01");
  EXPECT_TRUE(near(w.baseline_output()[a] * 365.0, 50.0 + 12.0));  // clipped and dropped parts out
  EXPECT_EQ(final_to(w, a, *w.find_country("CHN")), 0.0);
  EXPECT_EQ(w.num_links(), 1u);
  // An empty or NA cell of a wide table is 0, and counted.
  std::string t = icio_text();
  t.replace(t.find(",10.000000,"), 11, ",,");
  const MrioTable m = read_mrio(MrioFormat::kOecdIcio, {write(dir / "icio.csv", t).string()});
  EXPECT_EQ(m.missing_cells, 1u);
  MrioReport rm;
  build_mrio_world(m, {}, &rm);
  EXPECT_TRUE(near(rm.total_output + z(0, 0), [] {
    double s = 0;
    for (int i = 0; i < kN; ++i) s += row_out(i);
    return s;
  }()));
}

TEST(Mrio, MinFlowMovesSmallLinksToFinalDemand) {
  const auto dir = fresh_temp_dir("shortfall-mrio", "min");
  const MrioTable t = read_mrio(MrioFormat::kCsv, {write(dir / "t.csv", long_csv_text())});
  MrioOptions o;
  o.min_flow = 14.0;  // z(i, j) = 10 + i + 3j < 14 <=> i + 3j < 4
  MrioReport r;
  const World w = build_mrio_world(t, o, &r);
  std::size_t small = 0;
  double small_value = 0;
  for (int i = 0; i < kN; ++i)
    for (int j = 0; j < kN; ++j)
      if (i != j && z(i, j) < 14.0) ++small, small_value += z(i, j);
  EXPECT_EQ(r.small_links, small);
  EXPECT_TRUE(near(r.small_link_value, small_value));
  EXPECT_EQ(w.num_links(), std::size_t(kN * (kN - 1)) - small);
  EXPECT_LE(balance_gap(w), 1e-12);
  for (int i = 0; i < kN; ++i) {  // every firm's output unchanged: the value moved to its FD
    const FirmId f = *w.find_firm(label(i, "_"));
    EXPECT_TRUE(near(w.baseline_output()[f] * 365.0, row_out(i)));
    for (int d = 0; d < 3; ++d) {
      double expect = cons(i, d) + inven(i) + (d == i / 3 ? z(i, i) : 0.0);
      for (int j = 3 * d; j < 3 * d + 3; ++j)
        if (j != i && z(i, j) < 14.0) expect += z(i, j);  // moved to the buyer's country
      EXPECT_TRUE(near(final_to(w, f, CountryId(d)) * 365.0, expect));
    }
  }
}

TEST(Mrio, MapAggregatesCountriesAndSectors) {
  const auto dir = fresh_temp_dir("shortfall-mrio", "map");
  const MrioTable t = read_mrio(MrioFormat::kOecdIcio, {write(dir / "t.csv", icio_text())});
  MrioOptions o;
  o.map = read_mrio_map(write(dir / "map.csv", "from,to\nCHN,OTH\nUSA,OTH\nC26,MAN\nG,MAN\n"));
  MrioReport r;
  const World w = build_mrio_world(t, o, &r);
  ASSERT_EQ(w.countries().size(), 2u);
  ASSERT_EQ(w.materials().size(), 2u);
  ASSERT_EQ(w.num_firms(), 4u);
  EXPECT_LE(balance_gap(w), 1e-12);
  double total = 0;
  for (int i = 0; i < kN; ++i) total += row_out(i);
  EXPECT_TRUE(near(r.total_output, total));  // totals preserved
  auto group = [](int i) { return (i / 3 == 0 ? 0 : 2) + (i % 3 == 0 ? 0 : 1); };
  const char* ids[] = {"AUS_A01", "AUS_MAN", "OTH_A01", "OTH_MAN"};
  for (int g = 0; g < 4; ++g) {
    double out = 0, to_g = 0;
    for (int i = 0; i < kN; ++i)
      if (group(i) == g) out += row_out(i);
    for (int i = 0; i < kN; ++i)  // AUS_A01's sales to the group, a link unless g is itself
      if (group(i) == g) to_g += z(0, i);
    const FirmId f = *w.find_firm(ids[g]);
    EXPECT_TRUE(near(w.baseline_output()[f] * 365.0, out)) << ids[g];
    if (g == 0) continue;
    bool found = false;
    for (LinkId l = 0; l < w.num_links(); ++l)
      if (w.link_supplier()[l] == *w.find_firm("AUS_A01") && w.link_buyer()[l] == f) {
        found = true;
        EXPECT_TRUE(near(w.link_flow()[l] * 365.0, to_g)) << ids[g];
      }
    EXPECT_TRUE(found) << ids[g];
  }
  EXPECT_THROW(read_mrio_map(write(dir / "bad.csv", "from,to\nCHN,OTH\nCHN,X\n")), InputError);
}

TEST(Mrio, FirmsPerSectorSplitByZipfShares) {
  const auto s = zipf_shares(3);  // (1, 1/2, 1/3) / (11/6)
  ASSERT_EQ(s.size(), 3u);
  EXPECT_TRUE(near(s[0], 6.0 / 11));
  EXPECT_TRUE(near(s[1], 3.0 / 11));
  EXPECT_TRUE(near(s[2], 2.0 / 11));
  const auto dir = fresh_temp_dir("shortfall-mrio", "split");
  const MrioTable t = read_mrio(MrioFormat::kCsv, {write(dir / "t.csv", long_csv_text())});
  MrioOptions o;
  o.firms_per_sector = 3;
  const World w = build_mrio_world(t, o);
  ASSERT_EQ(w.num_firms(), std::size_t(3 * kN));
  EXPECT_EQ(w.num_links(), std::size_t(kN * (kN - 1) * 9 + kN * 6));
  EXPECT_LE(balance_gap(w), 1e-12);
  for (int i = 0; i < kN; ++i) {
    double sum = 0;
    for (int k = 0; k < 3; ++k) {
      const FirmId f = *w.find_firm(label(i, "_") + "_" + std::to_string(k + 1));
      EXPECT_TRUE(near(w.baseline_output()[f] * 365.0, s[k] * row_out(i)));
      sum += w.baseline_output()[f] * 365.0;
    }
    EXPECT_TRUE(near(sum, row_out(i)));  // the split sums to the sector
  }
}

/// Production and demand after `days` days with no events, as the largest relative gap.
double baseline_gap(const World& w, int days) {
  Scenario s;
  s.days = days;
  RunOptions ro;
  ro.threads = 1;
  Simulation sim(w, s, ro);
  double gap = 0;
  while (sim.step())
    for (FirmId i = 0; i < w.num_firms(); ++i)
      gap = std::max(
          gap, std::abs(sim.production()[i] - w.baseline_output()[i]) / w.baseline_output()[i]);
  return gap;
}

TEST(Mrio, NoEventsStaysAtBaseline) {
  const auto dir = fresh_temp_dir("shortfall-mrio", "base");
  MrioOptions o;
  o.firms_per_sector = 2;
  o.min_flow = 12.0;
  const World w =
      build_mrio_world(read_mrio(MrioFormat::kOecdIcio, {write(dir / "t.csv", icio_text())}), o);
  EXPECT_EQ(baseline_gap(w, 60), 0.0);  // README: a run with no events stays exactly there
  const World ex = build_mrio_world(
      read_mrio(MrioFormat::kOecdIcio,
                {SHORTFALL_SOURCE_DIR "/scenarios/worlds/mrio-example/icio-synthetic.csv"}),
      {});
  EXPECT_EQ(baseline_gap(ex, 60), 0.0);
}

/// The InputError of reading `text` in `format`, with its location.
InputError read_error(MrioFormat format, const fs::path& p, const std::string& text) {
  write(p, text);
  try {
    read_mrio(format, {p.string()});
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << p;
  return InputError({}, "");
}

TEST(Mrio, MalformedLayoutsNameFileLineColumn) {
  const auto dir = fresh_temp_dir("shortfall-mrio", "bad");
  std::string t = icio_text();
  t.replace(t.find("AUS_C26"), 7, "AUSC26");
  InputError e = read_error(MrioFormat::kOecdIcio, dir / "a.csv", t);
  EXPECT_EQ(e.where().line, 1);
  EXPECT_EQ(e.where().column, 3);
  EXPECT_NE(std::string(e.what()).find("COUNTRY_SECTOR"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("'AUSC26'"), std::string::npos) << e.what();

  t = icio_text();
  t.replace(t.find(",13.000000,"), 11, ",1x,");
  e = read_error(MrioFormat::kOecdIcio, dir / "b.csv", t);
  EXPECT_EQ(e.where().line, 2);
  EXPECT_EQ(e.where().column, 3);
  EXPECT_NE(std::string(e.what()).find("expected a finite number"), std::string::npos);

  t = icio_text();
  t.replace(t.find("\nCHN_C26,"), 9, "\nCHN_X99,");
  e = read_error(MrioFormat::kOecdIcio, dir / "c.csv", t);
  EXPECT_EQ(e.where().line, 6);
  EXPECT_EQ(e.where().column, 1);

  t = icio_text();
  t.insert(t.find("\nAUS_C26") + 1 + t.substr(t.find("\nAUS_C26") + 1).find('\n'), ",7");
  e = read_error(MrioFormat::kOecdIcio, dir / "d.csv", t);
  EXPECT_EQ(e.where().line, 3);
  EXPECT_NE(std::string(e.what()).find("cells as in the header"), std::string::npos);

  t = icio_text();
  t.replace(t.find("USA_INVNT"), 9, "USA_INVEN");  // not an ICIO final-demand code
  e = read_error(MrioFormat::kOecdIcio, dir / "f.csv", t);
  EXPECT_EQ(e.where().line, 1);
  EXPECT_EQ(e.where().column, 2 + kN + 5);
  EXPECT_NE(std::string(e.what()).find("'USA_INVEN'"), std::string::npos) << e.what();

  t = wiod_text();
  for (std::size_t p; (p = t.find("CONS_h")) != std::string::npos;) t.replace(p, 6, "CONS_x");
  e = read_error(MrioFormat::kWiod, dir / "w.csv", t);
  EXPECT_NE(std::string(e.what()).find("CONS_h"), std::string::npos) << e.what();
  EXPECT_EQ(e.where().file, (dir / "w.csv").string());

  fs::create_directories(dir / "exio");
  write_exiobase(dir / "exio");
  write(dir / "exio" / "Z.txt", "regions\tAUS\n");
  try {
    read_mrio(MrioFormat::kExiobase, {(dir / "exio").string()});
    ADD_FAILURE() << "no error";
  } catch (const InputError& x) {
    EXPECT_EQ(x.where().line, 1);
    EXPECT_NE(std::string(x.what()).find("'region'"), std::string::npos) << x.what();
  }
  e = read_error(MrioFormat::kCsv, dir / "l.csv", "from_country,from_sector,to_country,value\n");
  EXPECT_NE(std::string(e.what()).find("to_sector"), std::string::npos) << e.what();
}

const std::string kCli = SHORTFALL_CLI;

TEST(Mrio, CommandExitCodes) {
  const auto dir = fresh_temp_dir("shortfall-mrio", "cli");
  write(dir / "t.csv", icio_text());
  auto r = run_shell(kCli + " import-mrio --format icio " + (dir / "t.csv").string() + " --out " +
                     (dir / "w").string() + " 2>&1");
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_NE(r.out.find("expected oecd-icio, wiod, exiobase or csv"), std::string::npos) << r.out;
  r = run_shell(kCli + " import-mrio --format wiod " + (dir / "t.csv").string() + " --out " +
                (dir / "w").string() + " 2>&1");
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_NE(r.out.find((dir / "t.csv").string()), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir / "w" / "world.yaml"));
  r = run_shell(kCli + " import-mrio --format csv " + (dir / "none.csv").string() + " --out " +
                (dir / "w").string() + " 2>&1");
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_NE(r.out.find("none.csv: FILES: expected a table file"), std::string::npos) << r.out;
  r = run_shell(kCli + " import-mrio --format oecd-icio " + (dir / "t.csv").string() +
                " --firms-per-sector 2 --unit 'EUR bn' --out " + (dir / "w").string() + " 2>&1");
  ASSERT_EQ(r.rc, 0) << r.out;
  const World w = load_world((dir / "w" / "world.yaml").string());
  EXPECT_EQ(w.num_firms(), std::size_t(2 * kN));
  EXPECT_EQ(w.materials()[0].unit, "EUR bn");
  EXPECT_FALSE(fs::exists(dir / "w.partial"));
}

// docs/mrio.md's commands, from a copy of the checkout's layout: the import reproduces the
// shipped world file for file, and its scenario runs and plots.
TEST(Mrio, ShippedExampleImportRunPlot) {
  const auto dir = fresh_temp_dir("shortfall-mrio", "example");
  fs::create_directories(dir / "scenarios" / "worlds");
  fs::copy(SHORTFALL_SOURCE_DIR "/scenarios/mrio-example.yaml", dir / "scenarios");
  fs::copy(SHORTFALL_SOURCE_DIR "/scenarios/worlds/mrio-example",
           dir / "scenarios" / "worlds" / "mrio-example", fs::copy_options::recursive);
  const std::string cd = "cd " + dir.string() + " && ";
  auto r = run_shell(cd + kCli +
                     " import-mrio --format oecd-icio "
                     "scenarios/worlds/mrio-example/icio-synthetic.csv --out "
                     "outputs/mrio-example 2>&1");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("5 countries, 6 materials, 30 firms"), std::string::npos) << r.out;
  const fs::path shipped = dir / "scenarios" / "worlds" / "mrio-example" / "imported";
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(shipped)) {
    ++files;
    EXPECT_EQ(read_text(e.path().string()),
              read_text((dir / "outputs" / "mrio-example" / e.path().filename()).string()))
        << e.path().filename() << ": the shipped world is not what the import writes";
  }
  EXPECT_EQ(files, std::size_t(4));
  r = run_shell(cd + kCli + " run scenarios/mrio-example.yaml --out outputs/mrio-example.h5 2>&1");
  ASSERT_EQ(r.rc, 0) << r.out;
  r = run_shell(cd + SHORTFALL_PYTHON
                " " SHORTFALL_SOURCE_DIR
                "/sim/plots/plot_run.py outputs/mrio-example.h5 --outdir outputs/mrio-plots 2>&1");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir / "outputs" / "mrio-plots" / "output_lost_by_material.png"));
}

}  // namespace
}  // namespace shortfall
