// Tests of the world generator, the synthetic worlds, the world writer and the shipped
// scenarios (docs/model.md section 1, "generated").
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/world.hpp"

namespace fs = std::filesystem;
using namespace shortfall;

namespace {

const std::string kSource = SHORTFALL_SOURCE_DIR;
const std::string kDefaultWorld = kSource + "/scenarios/worlds/critical-materials.yaml";

/// A fresh directory for the running test, removed at the end.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("shortfall_gen_" + std::string(info->test_suite_name()) +
                                         "_" + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  [[nodiscard]] std::string file(const std::string& name, const std::string& text) const {
    std::string p = (path_ / name).string();
    std::ofstream(p) << text;
    return p;
  }
  [[nodiscard]] std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

/// Sum of baseline output x0 over the firms of `material` (optionally in `country`).
double total_output(const World& w, const std::string& material, const std::string& country = "") {
  double s = 0;
  MaterialId p = *w.find_material(material);
  for (FirmId i = 0; i < w.num_firms(); ++i)
    if (w.firm_material()[i] == p &&
        (country.empty() || w.countries()[w.firm_country()[i]].code == country))
      s += w.baseline_output()[i];
  return s;
}

/// sum_j Z0_{ji} over suppliers j of `input` into firm i.
std::vector<double> input_flows(const World& w, MaterialId input) {
  std::vector<double> got(w.num_firms(), 0.0);
  for (LinkId l = 0; l < w.num_links(); ++l)
    if (w.firm_material()[w.link_supplier()[l]] == input)
      got[w.link_buyer()[l]] += w.link_flow()[l];
  return got;
}

// One raw material (ore, 25/day world output: 60% in AAA, 40% in BBB) and one end product
// (widget, final demand 10/day, all in AAA), with the recipe widget = 2 ore.
const char* kTiny = R"(
name: tiny
seed: 7
days_per_year: 365
firms: {per_material: 10, min_per_country: 1, max_per_country: 100}
lead_times: {domestic: 1, default: 9}
countries:
  - {code: AAA, name: Alpha, groups: [g]}
  - {code: BBB, name: Beta, groups: [g]}
materials:
  - {id: ore, tier: raw, unit: t, world_output: 9125, producers: {AAA: 0.6, BBB: 0.4}, inventory_days: 30}
  - {id: widget, tier: end, unit: piece, final_demand: 3650, producers: {AAA: 1.0}}
recipes:
  - {output: widget, inputs: {ore: 2}}
)";

}  // namespace

// ---- the tiny description: known answer ---------------------------------------------------------

// Material balance: output_widget = final = 3650/365 = 10 per day; ore use = a x output_widget =
// 2 x 10 = 20 per day; ore output = 9125/365 = 25 per day, so final demand for ore = 25 - 20 = 5.
// Producer shares: AAA makes 0.6 x 25 = 15 ore/day, BBB 10. Every widget firm i buys exactly
// 2 x0_i of ore.
TEST(GeneratorTiny, MaterialBalanceHasTheKnownAnswer) {
  TempDir dir;
  std::string path = dir.file("tiny.yaml", kTiny);
  ASSERT_TRUE(is_world_description(path));
  GenerationReport report;
  World w = generate_world(path, {}, &report);

  EXPECT_EQ(w.countries().size(), 2u);
  EXPECT_EQ(w.materials().size(), 2u);
  EXPECT_NEAR(total_output(w, "widget"), 10.0, 1e-12);
  EXPECT_NEAR(total_output(w, "ore"), 25.0, 1e-12);
  EXPECT_NEAR(total_output(w, "ore", "AAA"), 15.0, 1e-12);
  EXPECT_NEAR(total_output(w, "ore", "BBB"), 10.0, 1e-12);

  double ore_final = 0, ore_sales = 0;
  MaterialId ore = *w.find_material("ore"), widget = *w.find_material("widget");
  for (FirmId i = 0; i < w.num_firms(); ++i)
    if (w.firm_material()[i] == ore) ore_final += w.final_demand()[i];
  for (LinkId l = 0; l < w.num_links(); ++l) ore_sales += w.link_flow()[l];
  EXPECT_NEAR(ore_final, 5.0, 1e-12);
  EXPECT_NEAR(ore_sales, 20.0, 1e-12);

  auto got = input_flows(w, ore);
  for (FirmId i = 0; i < w.num_firms(); ++i) {
    if (w.firm_material()[i] != widget) continue;
    EXPECT_NEAR(got[i], 2.0 * w.baseline_output()[i], 1e-14 * w.baseline_output()[i]);
    EXPECT_EQ(w.final_demand()[i], w.baseline_output()[i]);  // widgets sell only to final users
  }
  // Lead times: 1 within a country, 9 across.
  for (LinkId l = 0; l < w.num_links(); ++l) {
    bool domestic = w.firm_country()[w.link_supplier()[l]] == w.firm_country()[w.link_buyer()[l]];
    EXPECT_EQ(w.link_lead_time()[l], domestic ? 1 : 9);
  }
  // The report: annual balance output = use + final, residual ~0.
  ASSERT_EQ(report.balances.size(), 2u);
  EXPECT_NEAR(report.balances[0].output, 9125.0, 1e-9);
  EXPECT_NEAR(report.balances[0].intermediate_use, 7300.0, 1e-9);
  EXPECT_NEAR(report.balances[0].final_demand, 1825.0, 1e-9);
  EXPECT_LT(report.max_balance_residual, 1e-13);
  EXPECT_EQ(report.max_balance_residual, balance_residual(w, path));
  EXPECT_EQ(report.firms, w.num_firms());
  EXPECT_EQ(report.links, w.num_links());
}

// Firm counts follow the rule n_c = clamp(round(per_material x share_c), min, max): ore 6 in
// AAA and 4 in BBB, widget 10 in AAA.
TEST(GeneratorTiny, FirmCountsFollowTheRule) {
  TempDir dir;
  World w = generate_world(dir.file("tiny.yaml", kTiny));
  std::map<std::pair<std::string, std::string>, int> n;
  for (FirmId i = 0; i < w.num_firms(); ++i)
    ++n[{w.materials()[w.firm_material()[i]].id, w.countries()[w.firm_country()[i]].code}];
  EXPECT_EQ((n[{"ore", "AAA"}]), 6);
  EXPECT_EQ((n[{"ore", "BBB"}]), 4);
  EXPECT_EQ((n[{"widget", "AAA"}]), 10);
}

// ---- the default world --------------------------------------------------------------------------

// For every firm i of material p and every recipe input q of p:
//   sum over suppliers j of q of Z0_{ji} = a_{p,q} x0_i      (relative residual <= 1e-12),
// and for every material, output = intermediate use + final demand (annual, from the report).
TEST(DefaultWorld, SatisfiesTheMaterialBalance) {
  GenerationReport report;
  World w = generate_world(kDefaultWorld, {}, &report);

  EXPECT_EQ(w.countries().size(), 28u);
  EXPECT_GE(w.materials().size(), 30u);
  EXPECT_GE(w.num_firms(), 1000u);
  EXPECT_LE(w.num_firms(), 10000u);
  EXPECT_LT(report.max_balance_residual, 1e-12);
  EXPECT_LT(balance_residual(w, kDefaultWorld), 1e-12);
  EXPECT_LT(w.stats().max_balance_residual, 1e-12);  // x0 = sales + C0

  for (const auto& b : report.balances) {
    SCOPED_TRACE(b.material);
    EXPECT_GT(b.output, 0.0);
    EXPECT_GE(b.final_demand, 0.0);
    EXPECT_NEAR(b.output, b.intermediate_use + b.final_demand, 1e-9 * b.output);
    // The firms' outputs add up to the material's output (per day).
    EXPECT_NEAR(total_output(w, b.material) * 365.0, b.output, 1e-9 * b.output);
  }
  // Sourced anchors: China's primary gallium 839 t of the world's 848 (USGS); with the gallium
  // recovered outside China the world makes 848 + 133 + 43.5 + 29 + 14.5 + 14.5 = 1082.5 t;
  // neon 540 t.
  EXPECT_NEAR(total_output(w, "gallium", "CHN") * 365, 839.0, 0.005);  // share given to 6 digits
  EXPECT_NEAR(total_output(w, "gallium") * 365, 1082.5, 1e-9);
  EXPECT_NEAR(total_output(w, "neon_semi") * 365, 540.0, 1e-9);
}

// Cross-border flows exist and follow producer shares with a modest home bias: Korean anode
// buyers get most of their anode material from China (93% of world anode output).
TEST(DefaultWorld, KoreaBuysAnodeMaterialMostlyFromChina) {
  World w = generate_world(kDefaultWorld);
  MaterialId anode = *w.find_material("anode_material");
  CountryId kor = *w.find_country("KOR"), chn = *w.find_country("CHN");
  double from_chn = 0, total = 0, cross_border = 0, all = 0;
  for (LinkId l = 0; l < w.num_links(); ++l) {
    FirmId s = w.link_supplier()[l], b = w.link_buyer()[l];
    all += 1;
    if (w.firm_country()[s] != w.firm_country()[b]) cross_border += 1;
    if (w.firm_material()[s] != anode || w.firm_country()[b] != kor) continue;
    total += w.link_flow()[l];
    if (w.firm_country()[s] == chn) from_chn += w.link_flow()[l];
  }
  ASSERT_GT(total, 0);
  EXPECT_GT(from_chn / total, 0.6);
  EXPECT_LT(from_chn / total, 0.95);  // the home bias keeps some Korean supply at home
  EXPECT_GT(cross_border / all, 0.3);
}

// The same description and seed give the same world (same hash); another seed another world.
TEST(DefaultWorld, IsDeterministicInTheSeed) {
  World a = generate_world(kDefaultWorld);
  World b = generate_world(kDefaultWorld);
  EXPECT_EQ(a.sha256(), b.sha256());
  GenerateOptions other;
  other.seed = 12345;
  World c = generate_world(kDefaultWorld, other);
  EXPECT_NE(a.sha256(), c.sha256());
  EXPECT_LT(balance_residual(c, kDefaultWorld), 1e-12);
  // Country totals do not depend on the seed: x_{c,p} = share_c output_p.
  EXPECT_NEAR(total_output(a, "anode_material", "KOR"), total_output(c, "anode_material", "KOR"),
              1e-9 * total_output(a, "anode_material", "KOR"));
}

// write_world then load_world gives back the same world, bit for bit (same hash).
TEST(DefaultWorld, WriteThenLoadRoundTrips) {
  TempDir dir;
  World w = generate_world(kDefaultWorld);
  write_world(w, dir.str());
  std::string yaml = dir.str() + "/world.yaml";
  EXPECT_FALSE(is_world_description(yaml));
  World back = load_world(yaml);
  EXPECT_EQ(back.num_firms(), w.num_firms());
  EXPECT_EQ(back.num_links(), w.num_links());
  EXPECT_EQ(back.sha256(), w.sha256());
  EXPECT_EQ(back.materials()[3].tier, w.materials()[3].tier);
  EXPECT_EQ(back.lead_times().pairs, w.lead_times().pairs);
  EXPECT_TRUE(back.has_final_demand_split());
  EXPECT_EQ(back.final_dest_amount(), w.final_dest_amount());
  EXPECT_EQ(back.materials()[*back.find_material("gallium")].utilisation, 0.84);
  // load_world accepts the description itself and generates it.
  EXPECT_EQ(load_world(kDefaultWorld).sha256(), w.sha256());
}

// ---- final demand by destination (docs/model.md section 1)
// ------------------------------------------

namespace {
/// kTiny with extra keys on the ore material.
std::string tiny_with(const std::string& ore_keys) {
  std::string s = kTiny;
  const std::string from = "inventory_days: 30}";
  return s.replace(s.find(from), from.size(), "inventory_days: 30, " + ore_keys + "}");
}

/// Final demand for `material` by destination country code: sum of C0_{i,d} over its makers.
std::map<std::string, double> final_use_by_destination(const World& w,
                                                       const std::string& material) {
  std::map<std::string, double> out;
  MaterialId p = *w.find_material(material);
  for (FirmId i = 0; i < w.num_firms(); ++i)
    if (w.firm_material()[i] == p)
      for (auto k = w.final_dest_begin()[i]; k < w.final_dest_begin()[i + 1]; ++k)
        out[w.countries()[w.final_dest_country()[k]].code] += w.final_dest_amount()[k];
  return out;
}
}  // namespace

// Ore's final demand is 25 - 20 = 5 a day: AAA's firms sell 0.6 x 5 = 3 of it to final users,
// BBB's 0.4 x 5 = 2. With final_use_shares {BBB: 0.75} every ore firm sends 75% of its C0 to
// BBB and the remaining 25% stays at home: an AAA firm splits C0_i into AAA 0.25 C0_i and
// BBB 0.75 C0_i; a BBB firm keeps all of it in BBB (0.75 + 0.25), so it needs no split.
// By destination: AAA 0.25 x 3 = 0.75, BBB 0.75 x 3 + 2 = 4.25 (sum 5). Widgets are not split.
TEST(GeneratorTiny, FinalUseSharesSplitFinalDemandByDestination) {
  TempDir dir;
  World w = generate_world(
      dir.file("tiny.yaml",
               tiny_with("final_use_shares: {BBB: 0.75}, utilisation: 0.5, unit_value: 439000")));
  EXPECT_TRUE(w.has_final_demand_split());
  auto by_dest = final_use_by_destination(w, "ore");
  EXPECT_NEAR(by_dest["AAA"], 0.75, 1e-12);
  EXPECT_NEAR(by_dest["BBB"], 4.25, 1e-12);
  auto widget = final_use_by_destination(w, "widget");
  EXPECT_EQ(widget.size(), 1u);
  EXPECT_NEAR(widget["AAA"], 10.0, 1e-12);

  const MaterialId ore = *w.find_material("ore");
  const CountryId aaa = *w.find_country("AAA"), bbb = *w.find_country("BBB");
  std::size_t split_firms = 0;
  for (FirmId i = 0; i < w.num_firms(); ++i) {
    const auto b = w.final_dest_begin()[i], e = w.final_dest_begin()[i + 1];
    double sum = 0;
    for (auto k = b; k < e; ++k) sum += w.final_dest_amount()[k];
    EXPECT_EQ(sum, w.final_demand()[i]) << w.firm_id()[i];  // the parts add up to C0 exactly
    if (w.firm_material()[i] != ore || w.firm_country()[i] != aaa) {
      ASSERT_EQ(e - b, 1u) << w.firm_id()[i];
      EXPECT_EQ(w.final_dest_country()[b], w.firm_country()[i]);
      continue;
    }
    ++split_firms;
    ASSERT_EQ(e - b, 2u);
    EXPECT_EQ(w.final_dest_country()[b], aaa);
    EXPECT_EQ(w.final_dest_country()[b + 1], bbb);
    EXPECT_NEAR(w.final_dest_amount()[b], 0.25 * w.final_demand()[i], 1e-15 * w.final_demand()[i]);
    EXPECT_NEAR(w.final_dest_amount()[b + 1], 0.75 * w.final_demand()[i],
                1e-15 * w.final_demand()[i]);
  }
  EXPECT_EQ(split_firms, 6u);  // round(10 x 0.6) ore firms in AAA, all with C0 > 0
  // utilisation and unit_value pass through to the world's material; widget has none.
  EXPECT_EQ(w.materials()[ore].utilisation, 0.5);
  EXPECT_EQ(w.materials()[ore].unit_value, 439000.0);
  EXPECT_FALSE(w.materials()[*w.find_material("widget")].utilisation);
  EXPECT_FALSE(w.materials()[*w.find_material("widget")].unit_value);
}

// A group's share is divided equally among its members: {g: 0.5} with g = {AAA, BBB} sends
// 0.25 of every ore firm's C0 to each country and keeps 0.5 at home. AAA's firms (C0 3 in all):
// AAA 0.75 x 3, BBB 0.25 x 3; BBB's (2): AAA 0.25 x 2, BBB 0.75 x 2. By destination:
// AAA 2.25 + 0.5 = 2.75, BBB 0.75 + 1.5 = 2.25.
TEST(GeneratorTiny, AGroupShareIsDividedAmongItsMembers) {
  TempDir dir;
  World w = generate_world(dir.file("tiny.yaml", tiny_with("final_use_shares: {g: 0.5}")));
  auto by_dest = final_use_by_destination(w, "ore");
  EXPECT_NEAR(by_dest["AAA"], 2.75, 1e-12);
  EXPECT_NEAR(by_dest["BBB"], 2.25, 1e-12);
  // Shares summing to exactly 1 leave nothing at home: {BBB: 1} sends all 5 to BBB.
  World all = generate_world(dir.file("all.yaml", tiny_with("final_use_shares: {BBB: 1}")));
  by_dest = final_use_by_destination(all, "ore");
  EXPECT_EQ(by_dest.count("AAA"), 0u);
  EXPECT_NEAR(by_dest["BBB"], 5.0, 1e-12);
}

// The split, utilisation and unit_value survive write_world + load_world (same hash), and the
// split changes the hash (a world without it is another world).
TEST(GeneratorTiny, SplitWorldWriteThenLoadRoundTrips) {
  TempDir dir;
  const std::string desc = dir.file(
      "tiny.yaml", tiny_with("final_use_shares: {BBB: 0.75}, utilisation: 0.85, unit_value: 1.5"));
  World w = generate_world(desc);
  write_world(w, dir.str() + "/out");
  EXPECT_TRUE(fs::exists(dir.str() + "/out/final_demand_split.csv"));
  World back = load_world(dir.str() + "/out/world.yaml");
  EXPECT_EQ(back.sha256(), w.sha256());
  EXPECT_TRUE(back.has_final_demand_split());
  EXPECT_EQ(back.final_dest_country(), w.final_dest_country());
  EXPECT_EQ(back.final_dest_amount(), w.final_dest_amount());
  EXPECT_EQ(back.materials()[0].utilisation, 0.85);
  EXPECT_EQ(back.materials()[0].unit_value, 1.5);
  World plain = generate_world(dir.file("plain.yaml", kTiny));
  EXPECT_NE(plain.sha256(), w.sha256());
  // A world without a split writes no split table.
  write_world(plain, dir.str() + "/plain");
  EXPECT_FALSE(fs::exists(dir.str() + "/plain/final_demand_split.csv"));
  EXPECT_EQ(load_world(dir.str() + "/plain/world.yaml").sha256(), plain.sha256());
}

// The explicit forms: an inline map per firm and a table give the same world. Firm s (CHN,
// C0 = 1) sells 0.25 to JPN and 0.75 at home; b keeps its C0 = 2 at home.
TEST(ExplicitWorld, InlineSplitAndSplitTableGiveTheSameWorld) {
  TempDir dir;
  const std::string head = R"(
countries: [{code: CHN}, {code: JPN, groups: [ipef]}]
materials: [{id: ga, unit: t, utilisation: 0.5, unit_value: 439000}, {id: wf}]
links: [{supplier: s, buyer: b, flow: 0.5}]
)";
  World inline_w = load_world(dir.file("inline.yaml", head + R"(firms:
  - {id: s, country: CHN, material: ga, final_demand: 1, final_demand_to: {JPN: 0.25, CHN: 0.75}}
  - {id: b, country: JPN, material: wf, final_demand: 2}
)"));
  (void)dir.file("split.csv", "firm,country,amount\ns,JPN,0.25\ns,CHN,0.75\n");
  World table_w = load_world(dir.file("table.yaml", head + R"(firms:
  - {id: s, country: CHN, material: ga, final_demand: 1}
  - {id: b, country: JPN, material: wf, final_demand: 2}
final_demand_split: split.csv
)"));
  EXPECT_EQ(inline_w.sha256(), table_w.sha256());
  EXPECT_TRUE(inline_w.has_final_demand_split());
  // s: destinations in country order CHN 0.75, JPN 0.25; b: JPN 2 (its own country).
  ASSERT_EQ(inline_w.final_dest_begin(), (std::vector<std::uint32_t>{0, 2, 3}));
  EXPECT_EQ(inline_w.final_dest_amount(), (std::vector<double>{0.75, 0.25, 2.0}));
  EXPECT_EQ(inline_w.materials()[0].utilisation, 0.5);
  EXPECT_EQ(inline_w.materials()[0].unit_value, 439000.0);
}

TEST(ExplicitWorld, BadSplitsNameWhereTheyAre) {
  TempDir dir;
  const std::string head = R"(countries: [{code: CHN}, {code: JPN, groups: [ipef]}]
materials: [{id: ga}, {id: wf}]
links: [{supplier: s, buyer: b, flow: 0.5}]
)";
  auto error = [&](const std::string& name, const std::string& text) {
    try {
      load_world(dir.file(name, text));
    } catch (const InputError& e) {
      return e;
    }
    ADD_FAILURE() << name << ": expected an InputError";
    return InputError(SourceLocation{}, "none");
  };
  // A group is not a destination.
  auto e = error("group.yaml", head + R"(firms:
  - {id: s, country: CHN, material: ga, final_demand: 1, final_demand_to: {ipef: 1}}
  - {id: b, country: JPN, material: wf}
)");
  EXPECT_EQ(e.where().line, 5);
  EXPECT_EQ(e.where().key_path, "firms[0].final_demand_to.ipef");
  EXPECT_NE(e.detail().find("is a group"), std::string::npos) << e.what();
  // Inline parts 0.5 + 0.4 = 0.9 != 1: reported at the map.
  e = error("sum.yaml", head + R"(firms:
  - {id: s, country: CHN, material: ga, final_demand: 1, final_demand_to: {CHN: 0.5, JPN: 0.4}}
  - {id: b, country: JPN, material: wf}
)");
  EXPECT_EQ(e.where().key_path, "firms[0].final_demand_to");
  EXPECT_NE(e.detail().find("sum to its final_demand 1 (relative 1e-9), found 0.9"),
            std::string::npos)
      << e.what();
  // A table row naming a missing firm, a duplicate destination, a negative amount, and a firm
  // split both inline and in the table.
  const std::string firms = R"(firms:
  - {id: s, country: CHN, material: ga, final_demand: 1, final_demand_to: {CHN: 1}}
  - {id: b, country: JPN, material: wf, final_demand: 2}
final_demand_split: t.csv
)";
  (void)dir.file("t.csv", "firm,country,amount\nb,JPN,2\nx,JPN,1\n");
  e = error("t1.yaml", head + firms);
  EXPECT_EQ(e.where().line, 3);
  EXPECT_NE(e.detail().find("unknown firm 'x'"), std::string::npos) << e.what();
  (void)dir.file("t.csv", "firm,country,amount\nb,JPN,1\nb,JPN,1\n");
  e = error("t2.yaml", head + firms);
  EXPECT_EQ(e.where().line, 3);
  EXPECT_NE(e.detail().find("lists destination 'JPN' twice"), std::string::npos) << e.what();
  (void)dir.file("t.csv", "firm,country,amount\nb,JPN,2.5\nb,CHN,-0.5\n");
  e = error("t3.yaml", head + firms);
  EXPECT_EQ(e.where().line, 3);
  EXPECT_EQ(e.where().key_path, "column 'amount'");
  (void)dir.file("t.csv", "firm,country,amount\nb,JPN,2\ns,JPN,1\n");
  e = error("t4.yaml", head + firms);
  EXPECT_EQ(e.where().line, 3);
  EXPECT_NE(e.detail().find("expected its split in one place"), std::string::npos) << e.what();
}

// The default world's sourced nickel split (sources.md 1c): final_use_shares {CHN: 0.53,
// USA: 0.06}, the remaining 0.41 of each producer's final demand at home. With F the world's
// final demand for mined nickel and producer shares CHN 0.031, USA 0.002 (USGS), final use in
// CHN is F (0.53 + 0.41 x 0.031) and in USA F (0.06 + 0.41 x 0.002); in IDN (no share of its
// own, producer share 0.623) F x 0.41 x 0.623.
TEST(DefaultWorld, NickelFinalUseFollowsTheSourcedShares) {
  World w = generate_world(kDefaultWorld);
  const MaterialId ni = *w.find_material("nickel_mine");
  double f = 0;
  for (FirmId i = 0; i < w.num_firms(); ++i)
    if (w.firm_material()[i] == ni) f += w.final_demand()[i];
  ASSERT_GT(f, 0);
  auto by_dest = final_use_by_destination(w, "nickel_mine");
  EXPECT_NEAR(by_dest["CHN"] / f, 0.53 + 0.41 * 0.031, 1e-12);
  EXPECT_NEAR(by_dest["USA"] / f, 0.06 + 0.41 * 0.002, 1e-12);
  EXPECT_NEAR(by_dest["IDN"] / f, 0.41 * 0.623, 1e-12);
  // Every firm's destinations add up to its C0 exactly (the split's largest part absorbs it).
  for (FirmId i = 0; i < w.num_firms(); ++i) {
    double sum = 0;
    for (auto k = w.final_dest_begin()[i]; k < w.final_dest_begin()[i + 1]; ++k)
      sum += w.final_dest_amount()[k];
    EXPECT_EQ(sum, w.final_demand()[i]) << w.firm_id()[i];
  }
}

// ---- bad descriptions ---------------------------------------------------------------------------

namespace {
/// The InputError raised by generating `text`, or a failure.
InputError generate_error(const std::string& text) {
  TempDir dir;
  std::string path = dir.file("bad.yaml", text);
  try {
    generate_world(path);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an InputError";
  return InputError(SourceLocation{}, "none");
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}
}  // namespace

TEST(GeneratorErrors, UnknownMaterialInARecipe) {
  auto e = generate_error(replace(kTiny, "inputs: {ore: 2}", "inputs: {oar: 2}"));
  EXPECT_EQ(e.where().line, 14);  // line 1 of kTiny is the empty line after R"(
  EXPECT_EQ(e.where().key_path, "recipes[0].inputs.oar");
  EXPECT_NE(e.detail().find("expected a material id, found 'oar'"), std::string::npos) << e.what();
}

TEST(GeneratorErrors, SharesThatSumToMoreThanOne) {
  auto e = generate_error(replace(kTiny, "{AAA: 0.6, BBB: 0.4}", "{AAA: 0.7, BBB: 0.4}"));
  EXPECT_EQ(e.where().line, 11);
  EXPECT_EQ(e.where().key_path, "materials[0].producers");
  EXPECT_NE(e.detail().find("sum to at most 1"), std::string::npos) << e.what();
}

TEST(GeneratorErrors, NegativeNumbers) {
  auto e = generate_error(replace(kTiny, "world_output: 9125", "world_output: -9125"));
  EXPECT_EQ(e.where().key_path, "materials[0].world_output");
  e = generate_error(replace(kTiny, "inputs: {ore: 2}", "inputs: {ore: -2}"));
  EXPECT_EQ(e.where().key_path, "recipes[0].inputs.ore");
  e = generate_error(replace(kTiny, "{AAA: 0.6, BBB: 0.4}", "{AAA: 0.6, BBB: -0.4}"));
  EXPECT_EQ(e.where().key_path, "materials[0].producers.BBB");
}

// ore -> widget -> ore: no order of production exists.
TEST(GeneratorErrors, RecipeCycle) {
  auto e = generate_error(std::string(kTiny) + "  - {output: ore, inputs: {widget: 0.1}}\n");
  EXPECT_NE(e.detail().find("recipe cycle"), std::string::npos) << e.what();
  EXPECT_NE(e.detail().find("ore -> widget -> ore"), std::string::npos) << e.what();
  EXPECT_GT(e.where().line, 0);
}

// Recipes need 2 x 10 = 20 ore/day = 7300/year, more than a world output of 5000.
TEST(GeneratorErrors, UseAboveWorldOutput) {
  auto e = generate_error(replace(kTiny, "world_output: 9125", "world_output: 5000"));
  EXPECT_EQ(e.where().key_path, "materials[0].world_output");
  EXPECT_NE(e.detail().find("intermediate use 7300"), std::string::npos) << e.what();
}

TEST(GeneratorErrors, UnknownCountryAndKeys) {
  auto e = generate_error(replace(kTiny, "{AAA: 1.0}", "{AAB: 1.0}"));
  EXPECT_EQ(e.where().key_path, "materials[1].producers.AAB");
  e = generate_error(replace(kTiny, "world_output: 9125", "world_ouput: 9125"));
  EXPECT_NE(e.detail().find("did you mean 'world_output'"), std::string::npos) << e.what();
}

TEST(GeneratorErrors, BadFinalUseSharesAndMaterialValues) {
  auto e = generate_error(tiny_with("final_use_shares: {AAA: 0.6, BBB: 0.5}"));
  EXPECT_EQ(e.where().key_path, "materials[0].final_use_shares");
  EXPECT_NE(e.detail().find("sum to at most 1"), std::string::npos) << e.what();
  e = generate_error(tiny_with("final_use_shares: {CCC: 0.5}"));
  EXPECT_EQ(e.where().key_path, "materials[0].final_use_shares.CCC");
  EXPECT_EQ(e.where().line, 11);
  e = generate_error(tiny_with("final_use_shares: {AAA: 0.2, g: 0.2}"));  // AAA twice
  EXPECT_EQ(e.where().key_path, "materials[0].final_use_shares.g");
  EXPECT_NE(e.detail().find("named twice"), std::string::npos) << e.what();
  e = generate_error(tiny_with("final_use_shares: {BBB: 1.5}"));
  EXPECT_EQ(e.where().key_path, "materials[0].final_use_shares.BBB");
  e = generate_error(tiny_with("utilisation: 0"));
  EXPECT_EQ(e.where().key_path, "materials[0].utilisation");
  EXPECT_NE(e.detail().find("expected a capacity utilisation in (0, 1], found 0"),
            std::string::npos)
      << e.what();
  e = generate_error(tiny_with("unit_value: -3"));
  EXPECT_EQ(e.where().key_path, "materials[0].unit_value");
  // Split of a material that has no final demand: the material's output is only its use.
  e = generate_error(replace(std::string(kTiny), "final_demand: 3650, producers: {AAA: 1.0}",
                             "producers: {AAA: 1.0}, final_use_shares: {BBB: 1}"));
  EXPECT_EQ(e.where().key_path, "materials[1].final_use_shares");
}

// ---- synthetic worlds ---------------------------------------------------------------------------

// Sizes are exact; x0_i = sum_k Z0_{ik} + C0_i; every firm of material p buys input q in the
// fixed proportion A_{i,q} / x0_i = a_{p,q}; suppliers' materials are below the buyer's (no
// material cycles); final demand > 0 for every firm; out-degrees are heavy-tailed.
TEST(Synthetic, SatisfiesTheIdentityAndTheRecipes) {
  SyntheticSpec spec;
  spec.firms = 20000;
  spec.links = 100000;
  spec.materials = 12;
  spec.countries = 7;
  spec.seed = 3;
  World w = generate_synthetic(spec);
  ASSERT_EQ(w.num_firms(), 20000u);
  ASSERT_EQ(w.num_links(), 100000u);
  EXPECT_EQ(w.countries().size(), 7u);
  EXPECT_EQ(w.materials().size(), 12u);
  EXPECT_LT(w.stats().max_balance_residual, 1e-12);

  std::vector<std::map<MaterialId, double>> inputs(w.num_firms());
  std::vector<std::size_t> out_degree(w.num_firms(), 0);
  for (LinkId l = 0; l < w.num_links(); ++l) {
    FirmId s = w.link_supplier()[l], b = w.link_buyer()[l];
    ASSERT_LT(w.firm_material()[s], w.firm_material()[b]);
    inputs[b][w.firm_material()[s]] += w.link_flow()[l];
    ++out_degree[s];
    EXPECT_EQ(w.link_lead_time()[l], 1);
  }
  double worst = 0;
  for (FirmId i = 0; i < w.num_firms(); ++i) {
    EXPECT_GT(w.final_demand()[i], 0.0);
    for (auto& [q, flow] : inputs[i]) {
      double a = synthetic_coefficient(spec, w.firm_material()[i], q);
      ASSERT_GT(a, 0.0);
      worst = std::max(worst,
                       std::abs(flow - a * w.baseline_output()[i]) / (a * w.baseline_output()[i]));
    }
  }
  EXPECT_LT(worst, 1e-12);
  std::size_t max_out = *std::max_element(out_degree.begin(), out_degree.end());
  EXPECT_GT(double(max_out), 20.0 * 100000.0 / 20000.0);  // hubs: far above the mean of 5
}

TEST(Synthetic, IsDeterministicInTheSeed) {
  SyntheticSpec spec;
  World a = generate_synthetic(spec), b = generate_synthetic(spec);
  EXPECT_EQ(a.sha256(), b.sha256());
  spec.seed = 2;
  EXPECT_NE(generate_synthetic(spec).sha256(), a.sha256());
}

TEST(Synthetic, WriteThenLoadRoundTrips) {
  TempDir dir;
  SyntheticSpec spec;
  spec.firms = 3000;
  spec.links = 12000;
  World w = generate_synthetic(spec);
  write_world(w, dir.str());
  EXPECT_EQ(load_world(dir.str() + "/world.yaml").sha256(), w.sha256());
}

// A million firms and five million links: the sizes asked for, balanced. (How long it takes is
// a benchmark's question, not a test's: no wall-clock bound here.)
TEST(Synthetic, OneMillionFirmsFiveMillionLinks) {
  SyntheticSpec spec;
  spec.firms = 1000000;
  spec.links = 5000000;
  spec.materials = 20;
  spec.countries = 30;
  World w = generate_synthetic(spec);
  EXPECT_EQ(w.num_firms(), 1000000u);
  EXPECT_EQ(w.num_links(), 5000000u);
  EXPECT_LT(w.stats().max_balance_residual, 1e-12);
}

TEST(Synthetic, RejectsImpossibleSpecs) {
  SyntheticSpec spec;
  spec.firms = 5;
  spec.materials = 10;
  EXPECT_THROW(generate_synthetic(spec), InputError);
  spec = SyntheticSpec{};
  spec.materials = 1;
  EXPECT_THROW(generate_synthetic(spec), InputError);
}

// ---- shipped scenarios --------------------------------------------------------------------------

namespace {
std::vector<std::string> shipped_scenarios() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kSource + "/scenarios"))
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

// Every scenario in scenarios/ parses, its world loads (the real-event scenarios use the
// default world description), and its events name countries, groups and materials that the
// world has (check_scenario: no errors, no warnings).
TEST(ShippedScenarios, ParseAndTheirWorldGenerates) {
  const std::set<std::string> real_events = {"baseline.yaml",
                                             "gallium-germanium-2023.yaml",
                                             "graphite-2023.yaml",
                                             "japan-korea-2019.yaml",
                                             "neon-2022.yaml",
                                             "cobalt-drc-2025.yaml",
                                             "nickel-indonesia-2020.yaml",
                                             "rare-earth-magnets-2025.yaml"};
  auto files = shipped_scenarios();
  std::set<std::string> names;
  for (const auto& f : files) names.insert(fs::path(f).filename().string());
  for (const auto& want : real_events) EXPECT_TRUE(names.count(want)) << want;
  std::map<std::string, World> worlds;
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    Scenario s = load_scenario(f);
    if (real_events.count(fs::path(f).filename().string())) {
      EXPECT_EQ(fs::path(s.world_path).filename(), "critical-materials.yaml");
      EXPECT_TRUE(is_world_description(s.world_path));
    }
    if (!worlds.count(s.world_path)) worlds.emplace(s.world_path, load_world(s.world_path));
    auto warnings = check_scenario(s, worlds.at(s.world_path));
    EXPECT_TRUE(warnings.empty()) << (warnings.empty() ? "" : warnings.front());
  }
}

// With no events the generated world rests at its baseline: x_i(t) = x0_i every day (the
// baseline identity and the initial stocks S = n Z0 are consistent), here for 30 days.
TEST(ShippedScenarios, BaselineStaysAtBaseline) {
  Scenario s = load_scenario(kSource + "/scenarios/baseline.yaml");
  ASSERT_TRUE(s.events.empty());
  World world = load_world(s.world_path);
  RunOptions options;
  options.days = 30;
  options.threads = 1;
  Simulation sim(world, s, options);
  while (sim.step()) {
  }
  auto x = sim.production();
  double worst = 0;
  for (FirmId i = 0; i < world.num_firms(); ++i)
    worst =
        std::max(worst, std::abs(x[i] - world.baseline_output()[i]) / world.baseline_output()[i]);
  EXPECT_LT(worst, 1e-9);
}

// ---- sourced sourcing concentration (`sourcing:`, docs/model.md section 1) ---------------------

namespace {

// kTiny with widget made half in AAA and half in BBB: ore needs R_AAA = R_BBB = 10 a day; ore
// sales to firms S_AAA = 0.6 x 20 = 12, S_BBB = 0.4 x 20 = 8 (use 20 of output 25).
std::string tiny_two_buyers(const std::string& ore_keys) {
  std::string s = tiny_with(ore_keys);
  const std::string from = "producers: {AAA: 1.0}}";
  return s.replace(s.find(from), from.size(), "producers: {AAA: 0.5, BBB: 0.5}}");
}

/// Sum of Z0 of `material` from suppliers in `from` to buyers in `to`.
double country_flow(const World& w, const std::string& material, const std::string& from,
                    const std::string& to) {
  const MaterialId p = *w.find_material(material);
  const CountryId f = *w.find_country(from), t = *w.find_country(to);
  double sum = 0;
  for (LinkId l = 0; l < w.num_links(); ++l)
    if (w.firm_material()[w.link_supplier()[l]] == p &&
        w.firm_country()[w.link_supplier()[l]] == f && w.firm_country()[w.link_buyer()[l]] == t)
      sum += w.link_flow()[l];
  return sum;
}

}  // namespace

// AAA's buyers take 0.3 of their need (10) from BBB: the cell is fixed at 3. The rest is
// determined by the margins: BBB sells 8 - 3 = 5 to BBB, AAA 10 - 3 = 7 to AAA and
// 12 - 7 = 5 to BBB (10 - 5 = 5, consistent). Without the fixed cell the home bias would
// decide instead (BBB -> AAA is then not 3).
TEST(GeneratorTiny, SourcingFixesTheCountryPairAndTheRestFollowsTheMargins) {
  TempDir dir;
  World w = generate_world(dir.file("t.yaml", tiny_two_buyers("sourcing: {AAA: {BBB: 0.3}}")));
  EXPECT_NEAR(country_flow(w, "ore", "BBB", "AAA"), 3.0, 1e-9);
  EXPECT_NEAR(country_flow(w, "ore", "AAA", "AAA"), 7.0, 1e-9);
  EXPECT_NEAR(country_flow(w, "ore", "AAA", "BBB"), 5.0, 1e-9);
  EXPECT_NEAR(country_flow(w, "ore", "BBB", "BBB"), 5.0, 1e-9);
  EXPECT_NEAR(total_output(w, "ore", "BBB"), 10.0, 1e-9);  // the producer shares still hold
  World free = generate_world(dir.file("f.yaml", tiny_two_buyers("")));
  EXPECT_GT(std::abs(country_flow(free, "ore", "BBB", "AAA") - 3.0), 0.1);
}

// Bad sourcing: a share the supplier cannot meet (0.9 x 10 = 9 > BBB's 8 a day), shares of one
// buyer above 1, a country that makes none: input errors naming the key path.
TEST(GeneratorTiny, SourcingRejectsWhatCannotBeMet) {
  TempDir dir;
  auto message = [&](const std::string& keys) {
    try {
      generate_world(dir.file("bad.yaml", tiny_two_buyers(keys)));
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string m = message("sourcing: {AAA: {BBB: 0.9}}");
  EXPECT_NE(m.find("materials[0].sourcing.AAA.BBB"), std::string::npos) << m;
  EXPECT_NE(m.find("supplier country BBB can meet"), std::string::npos) << m;
  m = message("sourcing: {AAA: {BBB: 0.6, AAA: 0.6}}");
  EXPECT_NE(m.find("sum to at most 1"), std::string::npos) << m;
  m = message("sourcing: {CCC: {BBB: 0.1}}");
  EXPECT_NE(m.find("expected a buyer country code, found 'CCC'"), std::string::npos) << m;
}

// ---- who makes the final demand (`final_demand_from:`, docs/model.md section 1) -----------------

namespace {
/// Final demand (C0) of the firms of `material` in `country`.
double final_of(const World& w, const std::string& material, const std::string& country) {
  const MaterialId p = *w.find_material(material);
  const CountryId c = *w.find_country(country);
  double s = 0;
  for (FirmId i = 0; i < w.num_firms(); ++i)
    if (w.firm_material()[i] == p && w.firm_country()[i] == c) s += w.final_demand()[i];
  return s;
}
}  // namespace

// Ore's final demand is 25 - 20 = 5 a day. By default each country makes its output share of
// it (AAA 0.6 x 5 = 3, BBB 2) and sells the rest to firms (AAA 12, BBB 8). With
// final_demand_from {AAA: 1} AAA makes all 5 and sells 15 - 5 = 10 to firms, BBB sells all its
// 10; with {AAA: 0.2, BBB: 0.8} AAA makes 1 (sells 14), BBB 4 (sells 6). Outputs stay at the
// producer shares (15, 10) and every widget firm still gets its 2 x0 of ore.
TEST(GeneratorTiny, FinalDemandFromSaysWhichCountriesMakeTheFinalDemand) {
  TempDir dir;
  auto check = [&](const std::string& keys, double final_aaa, double final_bbb) {
    SCOPED_TRACE(keys);
    GenerationReport report;
    const std::string path = dir.file("t.yaml", tiny_two_buyers(keys));
    World w = generate_world(path, {}, &report);
    EXPECT_NEAR(total_output(w, "ore", "AAA"), 15.0, 1e-9);
    EXPECT_NEAR(total_output(w, "ore", "BBB"), 10.0, 1e-9);
    EXPECT_NEAR(final_of(w, "ore", "AAA"), final_aaa, 1e-9);
    EXPECT_NEAR(final_of(w, "ore", "BBB"), final_bbb, 1e-9);
    const double sold_aaa =
        country_flow(w, "ore", "AAA", "AAA") + country_flow(w, "ore", "AAA", "BBB");
    const double sold_bbb =
        country_flow(w, "ore", "BBB", "AAA") + country_flow(w, "ore", "BBB", "BBB");
    EXPECT_NEAR(sold_aaa, 15.0 - final_aaa, 1e-9);
    EXPECT_NEAR(sold_bbb, 10.0 - final_bbb, 1e-9);
    EXPECT_LT(balance_residual(w, path), 1e-12);
  };
  check("", 3.0, 2.0);
  check("final_demand_from: {AAA: 1.0}", 5.0, 0.0);
  check("final_demand_from: {AAA: 0.2, BBB: 0.8}", 1.0, 4.0);
}

// Shares that do not sum to 1, a country that makes none of the material, a share larger than
// the country's output (ore at 50 a day: final demand 30, BBB makes 0.4 x 50 = 20) and a
// material without final demand are input errors at the key.
TEST(GeneratorTiny, FinalDemandFromRejectsWhatCannotBeMade) {
  auto e = generate_error(tiny_with("final_demand_from: {AAA: 0.5}"));
  EXPECT_EQ(e.where().key_path, "materials[0].final_demand_from");
  EXPECT_NE(e.detail().find("sum to 1, found a sum of 0.5"), std::string::npos) << e.what();
  e = generate_error(tiny_with("final_demand_from: {CCC: 1.0}"));
  EXPECT_EQ(e.where().key_path, "materials[0].final_demand_from.CCC");
  e = generate_error(
      replace(std::string(kTiny), "final_demand: 3650, producers: {AAA: 1.0}",
              "final_demand: 3650, producers: {AAA: 1.0}, final_demand_from: {BBB: 1}"));
  EXPECT_EQ(e.where().key_path, "materials[1].final_demand_from.BBB");
  EXPECT_NE(e.detail().find("no producer share"), std::string::npos) << e.what();
  e = generate_error(replace(tiny_with("final_demand_from: {BBB: 1.0}"), "world_output: 9125",
                             "world_output: 18250"));
  EXPECT_EQ(e.where().key_path, "materials[0].final_demand_from");
  EXPECT_NE(e.detail().find("country BBB can make: it produces 20 a day of ore, the share asks 30"),
            std::string::npos)
      << e.what();
  e = generate_error(replace(std::string(kTiny), "final_demand: 3650, producers: {AAA: 1.0}",
                             "producers: {AAA: 1.0}, final_demand_from: {AAA: 1}"));
  EXPECT_EQ(e.where().key_path, "materials[1].final_demand_from");
}

// The default world's sourced concentrations (critical-materials.yaml): Korean assemblers take
// 0.75 of their harnesses from China (ETN-20), Japanese assemblers 0.80 of their parts from
// Japan (TTAC-12); both marked distinct_parts and written back that way.
TEST(DefaultWorld, KoreanHarnessesFromChinaJapanesePartsFromJapan) {
  World w = generate_world(kDefaultWorld);
  // One harness set and one parts set per vehicle: the need is the assemblers' output.
  EXPECT_NEAR(
      country_flow(w, "wiring_harness", "CHN", "KOR") / total_output(w, "automobiles", "KOR"), 0.75,
      1e-9);
  EXPECT_NEAR(country_flow(w, "auto_parts", "JPN", "JPN") / total_output(w, "automobiles", "JPN"),
              0.80, 1e-9);
  EXPECT_TRUE(w.materials()[*w.find_material("wiring_harness")].distinct_parts);
  EXPECT_TRUE(w.materials()[*w.find_material("auto_parts")].distinct_parts);
  EXPECT_FALSE(w.materials()[*w.find_material("gallium")].distinct_parts);
}

// The default world's gallium (critical-materials.yaml): Japanese users take 0.33 of their
// gallium from China (JT-Ga25), German users 0.55 (DERA-Ga23), and the uses outside the
// modelled network are all made in China (final_demand_from {CHN: 1}), so the gallium recovered
// in Japan and Germany all goes to firms.
TEST(DefaultWorld, GalliumSourcingFollowsJapanAndGermanyRecords) {
  World w = generate_world(kDefaultWorld);
  const auto producers = {"CHN", "RUS", "JPN", "DEU", "USA", "TWN", "ROW"};
  auto need = [&](const std::string& country) {
    double s = 0;
    for (const auto& from : producers) s += country_flow(w, "gallium", from, country);
    return s;
  };
  // Sourced shares (JT-Ga25, DERA-Ga23) and the assumed half-recovered users elsewhere.
  EXPECT_NEAR(country_flow(w, "gallium", "CHN", "JPN") / need("JPN"), 0.33, 1e-9);
  EXPECT_NEAR(country_flow(w, "gallium", "CHN", "DEU") / need("DEU"), 0.55, 1e-9);
  for (const auto& c : {"USA", "TWN", "ROW"})
    EXPECT_NEAR(country_flow(w, "gallium", "CHN", c) / need(c), 0.49, 1e-9) << c;
  for (const auto& c : {"RUS", "JPN", "DEU", "USA", "TWN", "ROW"})
    EXPECT_EQ(final_of(w, "gallium", c), 0.0) << c;
  double firms_need = 0;  // all gallium that firms buy, per day
  for (const auto& c : {"CHN", "JPN", "DEU", "USA", "TWN", "ROW"}) firms_need += need(c);
  EXPECT_NEAR(final_of(w, "gallium", "CHN") * 365, 1082.5 - 365 * firms_need, 1e-6);
}
