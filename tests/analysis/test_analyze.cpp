// Network analytics (sim/analysis/analyze.cpp) on hand-made worlds whose answers are known by hand.
// Definitions: docs/analysis.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "shortfall/analyze.hpp"
#include "shortfall/world.hpp"

using namespace shortfall;

namespace {

/// Index of the largest finite value.
std::size_t argmax(const std::vector<double>& v) {
  std::size_t best = v.size();
  for (std::size_t i = 0; i < v.size(); ++i)
    if (std::isfinite(v[i]) && (best == v.size() || v[i] > v[best])) best = i;
  return best;
}

// A chain R (country A) -> M (country B) -> F (country C, end product).
// F sells 10 a day to final users and needs 2 M per unit: M -> F flow 20. M needs 3 R per unit:
// R -> M flow 60. A = [[0, 3, 0], [0, 0, 2], [0, 0, 0]] on (R, M, F): L - I has
// T(M, F) = 2 and T(R, F) = 3 * 2 = 6.
World chain() {
  WorldBuilder b;
  auto A = b.country("AAA"), B = b.country("BBB"), C = b.country("CCC");
  auto r = b.material("ore", 5.0), m = b.material("part", 5.0), f = b.material("car", 5.0);
  b.tables().materials[r].tier = "raw";
  b.tables().materials[m].tier = "component";
  b.tables().materials[f].tier = "end";
  auto R = b.firm("r", A, r), M = b.firm("m", B, m), F = b.firm("f", C, f, 10.0);
  b.link(R, M, 60.0, 1);
  b.link(M, F, 20.0, 1);
  return b.build();
}

// Two suppliers of the same material in two countries (a link only where its flow is > 0);
// each also sells 1 a day to final users.
World two_suppliers(double flow_a, double flow_b) {
  WorldBuilder b;
  auto A = b.country("AAA"), B = b.country("BBB"), C = b.country("CCC");
  auto r = b.material("ore", 5.0), f = b.material("car", 5.0);
  auto Ra = b.firm("ra", A, r, 1.0), Rb = b.firm("rb", B, r, 1.0), F = b.firm("f", C, f, 10.0);
  if (flow_a > 0) b.link(Ra, F, flow_a, 1);
  if (flow_b > 0) b.link(Rb, F, flow_b, 1);
  return b.build();
}

// A star: four ore producers (one per country) feed one hub, which alone supplies four
// assemblers (end product). The hub lies on every path from an ore producer to an assembler.
World star() {
  WorldBuilder b;
  std::vector<CountryId> cs;
  for (const char* c : {"AAA", "BBB", "CCC", "DDD", "HUB"}) cs.push_back(b.country(c));
  auto ore = b.material("ore", 2.0), part = b.material("part", 2.0), car = b.material("car", 2.0);
  b.tables().materials[car].tier = "end";
  std::vector<FirmId> leaves, cust;
  for (int k = 0; k < 4; ++k) leaves.push_back(b.firm("ore" + std::to_string(k), cs[k], ore));
  FirmId hub = b.firm("hub", cs[4], part);
  for (int k = 0; k < 4; ++k) cust.push_back(b.firm("car" + std::to_string(k), cs[k], car, 10.0));
  for (auto l : leaves) b.link(l, hub, 10.0, 1);
  for (auto c : cust) b.link(hub, c, 10.0, 1);
  return b.build();
}

}  // namespace

TEST(Dependency, ChainIsFullyDependentWithLeontiefRequirements) {
  World w = chain();
  AggregateGraph g = aggregate_graph(w);
  Dependency d = dependency(w, g);
  ASSERT_EQ(d.end_product, std::vector<MaterialId>{2});
  // Producer country C (2), end product 0 (car), upstream ore (0) and part (1).
  EXPECT_DOUBLE_EQ(d.share[d.at(2, 0, 0, 0)], 1.0);  // all ore from AAA
  EXPECT_DOUBLE_EQ(d.share[d.at(2, 0, 1, 1)], 1.0);  // all parts from BBB
  EXPECT_DOUBLE_EQ(d.share[d.at(2, 0, 0, 1)], 0.0);
  EXPECT_DOUBLE_EQ(d.hhi[d.at(2, 0, 0)], 1.0);
  EXPECT_NEAR(d.requirement[d.at(2, 0, 0)], 6.0, 1e-12);  // 3 ore per part x 2 parts per car
  EXPECT_NEAR(d.requirement[d.at(2, 0, 1)], 2.0, 1e-12);
  EXPECT_TRUE(std::isnan(d.requirement[d.at(2, 0, 2)]));  // the car itself is not upstream
  EXPECT_TRUE(std::isnan(d.hhi[d.at(0, 0, 0)]));          // no car maker in AAA
  EXPECT_DOUBLE_EQ(d.world_hhi[0 * 3 + 0], 1.0);
  EXPECT_NEAR(d.world_requirement[0 * 3 + 0], 6.0, 1e-12);
}

TEST(Dependency, SingleSupplierHasHhiOne) {
  // The second producer of ore sells only to final users: one supplier, share 1, HHI 1.
  World w = two_suppliers(5.0, 0.0);
  Dependency d = dependency(w, aggregate_graph(w));
  EXPECT_DOUBLE_EQ(d.share[d.at(2, 0, 0, 0)], 1.0);
  EXPECT_DOUBLE_EQ(d.share[d.at(2, 0, 0, 1)], 0.0);
  EXPECT_DOUBLE_EQ(d.hhi[d.at(2, 0, 0)], 1.0);
}

TEST(Dependency, TwoEqualSuppliersFromTwoCountriesGiveHhiHalf) {
  // share 1/2 each: HHI = 0.25 + 0.25 = 0.5.
  World w = two_suppliers(5.0, 5.0);
  Dependency d = dependency(w, aggregate_graph(w));
  EXPECT_DOUBLE_EQ(d.share[d.at(2, 0, 0, 0)], 0.5);
  EXPECT_DOUBLE_EQ(d.share[d.at(2, 0, 0, 1)], 0.5);
  EXPECT_DOUBLE_EQ(d.hhi[d.at(2, 0, 0)], 0.5);
  EXPECT_DOUBLE_EQ(d.world_hhi[0 * 2 + 0], 0.5);
}

TEST(Dependency, UnequalSuppliers) {
  // 3:1 -> shares 0.75, 0.25; HHI = 0.5625 + 0.0625 = 0.625.
  World w = two_suppliers(7.5, 2.5);
  Dependency d = dependency(w, aggregate_graph(w));
  EXPECT_DOUBLE_EQ(d.hhi[d.at(2, 0, 0)], 0.625);
}

TEST(EndProducts, TierEndOrNotBoughtWithInputs) {
  World w = chain();
  EXPECT_EQ(end_products(w), std::vector<MaterialId>{2});
  World s = two_suppliers(1, 1);  // no tier given: 'car' is nobody's input and has inputs
  EXPECT_EQ(end_products(s), std::vector<MaterialId>{1});
}

TEST(PassThrough, ChainPassesThroughTheMiddleCountry) {
  // One path ore(AAA) -> part(BBB) -> car(CCC): interior node in BBB only; origin AAA.
  World w = chain();
  PassThrough p = pass_through(w, aggregate_graph(w));
  const std::size_t C = 3, E = 1, d = 2;
  EXPECT_DOUBLE_EQ(p.path_count[d * E + 0], 1.0);
  EXPECT_DOUBLE_EQ(p.frequency[(d * E + 0) * C + 1], 1.0);
  EXPECT_DOUBLE_EQ(p.frequency[(d * E + 0) * C + 0], 0.0);  // the origin is not interior
  EXPECT_DOUBLE_EQ(p.frequency[(d * E + 0) * C + 2], 0.0);  // nor the final producer
  EXPECT_DOUBLE_EQ(p.origin[(d * E + 0) * C + 0], 1.0);
  EXPECT_EQ(p.dropped_cycle_edges, 0u);
}

TEST(PassThrough, CountsPathsNotVolume) {
  // ore(AAA) -> part(BBB) -> car(DDD) with flow 99, ore(AAA) -> part(CCC) -> car(DDD) with flow
  // 1: two paths, one through BBB and one through CCC, whatever the volumes: 1/2 each.
  WorldBuilder b;
  auto A = b.country("AAA"), B = b.country("BBB"), C = b.country("CCC"), D = b.country("DDD");
  auto ore = b.material("ore", 5.0), part = b.material("part", 5.0), car = b.material("car", 5.0);
  auto R = b.firm("r", A, ore), Mb = b.firm("mb", B, part), Mc = b.firm("mc", C, part);
  auto F = b.firm("f", D, car, 100.0);
  b.link(R, Mb, 99.0, 1);
  b.link(R, Mc, 1.0, 1);
  b.link(Mb, F, 99.0, 1);
  b.link(Mc, F, 1.0, 1);
  World w = b.build();
  PassThrough p = pass_through(w, aggregate_graph(w));
  const std::size_t NC = 4, E = 1;
  EXPECT_DOUBLE_EQ(p.path_count[3 * E + 0], 2.0);
  EXPECT_DOUBLE_EQ(p.frequency[(3 * E + 0) * NC + 1], 0.5);
  EXPECT_DOUBLE_EQ(p.frequency[(3 * E + 0) * NC + 2], 0.5);
  EXPECT_DOUBLE_EQ(p.world_frequency[0 * NC + 1], 0.5);
  EXPECT_DOUBLE_EQ(p.world_origin[0 * NC + 0], 1.0);
}

TEST(PassThrough, CyclesAreCutToKeepCountsFinite) {
  // part(AAA) <-> part(BBB) trade both ways; both sell to car(CCC). One back edge is dropped.
  WorldBuilder b;
  auto A = b.country("AAA"), B = b.country("BBB"), C = b.country("CCC");
  auto ore = b.material("ore", 5.0), part = b.material("part", 5.0), car = b.material("car", 5.0);
  b.tables().materials[car].tier = "end";
  auto R = b.firm("r", A, ore), Pa = b.firm("pa", A, part), Pb = b.firm("pb", B, part);
  auto F = b.firm("f", C, car, 10.0);
  b.link(R, Pa, 10.0, 1);
  b.link(Pa, Pb, 1.0, 1);
  b.link(Pb, Pa, 1.0, 1);
  b.link(Pa, F, 5.0, 1);
  b.link(Pb, F, 5.0, 1);
  World w = b.build();
  PassThrough p = pass_through(w, aggregate_graph(w));
  EXPECT_EQ(p.dropped_cycle_edges, 1u);
  EXPECT_TRUE(std::isfinite(p.path_count[2]));
  EXPECT_GT(p.path_count[2], 0.0);
  // The dependency still converges on the cyclic graph.
  Dependency d = dependency(w, aggregate_graph(w));
  EXPECT_NEAR(d.world_share[(0 * 3 + 0) * 3 + 0], 1.0, 1e-12);  // all ore from AAA
}

TEST(Betweenness, StarHubIsTheChokepoint) {
  World w = star();
  AggregateGraph g = aggregate_graph(w);
  Betweenness b = betweenness(w, g);
  ASSERT_EQ(b.firm.size(), w.num_firms());
  const FirmId hub = *w.find_firm("hub");
  EXPECT_EQ(argmax(b.firm), hub);
  // 4 x 4 ordered pairs (ore k, car l) have their only shortest path through the hub, out of
  // (n-1)(n-2) = 8 x 7 = 56 pairs not involving it.
  EXPECT_NEAR(b.firm[hub], 16.0 / 56.0, 1e-12);
  for (FirmId i = 0; i < w.num_firms(); ++i) {
    if (i != hub) {
      EXPECT_EQ(b.firm[i], 0.0);
    }
  }
  const std::size_t M = w.materials().size();
  EXPECT_EQ(argmax(b.node), std::size_t(4 * M + 1));  // (HUB, part)
}

TEST(SystemicRisk, ChainCascadesBothWays) {
  World w = chain();
  const FirmId R = 0, M = 1, F = 2;
  // Downstream: without ore, no parts and no cars.
  auto h = cascade(w, R, CascadeMode::kDownstream);
  EXPECT_EQ(h, (std::vector<double>{0.0, 0.0, 0.0}));
  // Upstream: the car maker stops; the part maker sold everything to it (x0 = 20 = Z0), so it
  // stops, and so does the ore producer.
  h = cascade(w, F, CascadeMode::kUpstream);
  EXPECT_EQ(h, (std::vector<double>{0.0, 0.0, 0.0}));
  (void)M;
  SystemicRisk r = systemic_risk(w, 1);
  for (double x : r.esri) EXPECT_DOUBLE_EQ(x, 1.0);  // any failure stops the whole chain
}

TEST(SystemicRisk, UpstreamKeepsFinalSales) {
  // ore producers each sell 10 to the hub; if the hub stops they lose all their sales; the hub
  // sells 40 to cars. If car0 stops, the hub loses 10 of 40 sales: h = 0.75, and each ore
  // producer loses a quarter: h = 0.75. Downstream of car0 nothing happens.
  World w = star();
  const FirmId hub = *w.find_firm("hub"), car0 = *w.find_firm("car0");
  auto h = cascade(w, car0, CascadeMode::kBoth);
  EXPECT_DOUBLE_EQ(h[hub], 0.75);
  EXPECT_DOUBLE_EQ(h[*w.find_firm("ore0")], 0.75);
  EXPECT_DOUBLE_EQ(h[*w.find_firm("car1")], 1.0);  // a demand loss is not a supply cut
  // The hub's failure stops everything: every material loses all its output.
  SystemicRisk r = systemic_risk(w, 2);
  EXPECT_DOUBLE_EQ(r.esri[hub], 1.0);
  EXPECT_EQ(argmax(r.esri), hub);
  // ore0 stops: the hub gets 3/4 of its ore (h^d = 0.75), so do the cars; ore1..3 lose a quarter
  // of their sales. Per material: ore 1/4 + 3/4 * 1/4 lost, part 1/4, car 1/4.
  const FirmId ore0 = *w.find_firm("ore0");
  const double ore_loss = (1.0 + 3 * 0.25) / 4.0;
  EXPECT_NEAR(r.esri[ore0], (ore_loss + 0.25 + 0.25) / 3.0, 1e-12);
  EXPECT_NEAR(r.esri_downstream[ore0], (0.25 + 0.25 + 0.25) / 3.0, 1e-12);
}

TEST(SystemicRisk, SameResultOnAnyNumberOfThreads) {
  World w = star();
  SystemicRisk a = systemic_risk(w, 1), b = systemic_risk(w, 2);
  EXPECT_EQ(a.esri, b.esri);
  EXPECT_EQ(a.esri_upstream, b.esri_upstream);
  EXPECT_EQ(a.loss_by_material, b.loss_by_material);
}

TEST(Knockouts, StarHubLosesTheMostFinalDeliveries) {
  World w = star();
  AnalyzeOptions opt;
  opt.simulate_top = 10;
  opt.knockout_days = 30;
  opt.threads = 2;
  Analysis a = analyze(w, ModelParams{}, opt);
  ASSERT_FALSE(a.knock.empty());
  // Ranked by knock-on loss: the hub first. With 2 days of stock, the assemblers run dry after
  // a couple of days and lose nearly all of the 30 days' deliveries.
  const Knockout& top = a.knock.front();
  EXPECT_EQ(top.label, "hub");
  EXPECT_EQ(top.kind, Knockout::kFirm);
  EXPECT_GT(top.knock_on_worst, 0.8);
  for (const auto& ko : a.knock) {
    if (ko.label == "car0") {
      EXPECT_NEAR(ko.worst, 0.25, 1e-9);          // its own quarter of the market
      EXPECT_NEAR(ko.knock_on_worst, 0.0, 1e-9);  // and nobody else's
    }
    if (ko.kind == Knockout::kFirm && ko.label != "hub") {
      EXPECT_LT(ko.knock_on_worst, top.knock_on_worst);
    }
  }
  std::ostringstream os;
  print_analysis(a, w, os, 5);
  EXPECT_NE(os.str().find("hub"), std::string::npos);
}

TEST(Knockouts, AnalyzeIsDeterministicAcrossThreads) {
  World w = star();
  AnalyzeOptions opt;
  opt.simulate_top = 3;
  opt.knockout_days = 10;
  opt.threads = 1;
  Analysis a = analyze(w, ModelParams{}, opt);
  opt.threads = 2;
  Analysis b = analyze(w, ModelParams{}, opt);
  ASSERT_EQ(a.knock.size(), b.knock.size());
  for (std::size_t k = 0; k < a.knock.size(); ++k) {
    EXPECT_EQ(a.knock[k].label, b.knock[k].label);
    EXPECT_EQ(a.knock[k].lost_share, b.knock[k].lost_share);
  }
}

TEST(AnalysisInput, ScenarioOrWorld) {
  const std::string src = SHORTFALL_SOURCE_DIR;
  AnalysisInput s = load_analysis_input(src + "/scenarios/example-gallium-cut.yaml");
  EXPECT_TRUE(s.from_scenario);
  EXPECT_EQ(s.world.num_firms(), 11u);
  AnalysisInput w = load_analysis_input(src + "/scenarios/worlds/example.yaml");
  EXPECT_FALSE(w.from_scenario);
  EXPECT_EQ(w.world.num_firms(), 11u);
  // On the example world every EV maker depends on Chinese gallium above all.
  Dependency d = dependency(w.world, aggregate_graph(w.world));
  const auto C = w.world.countries().size(), M = w.world.materials().size();
  const auto ga = *w.world.find_material("gallium");
  const auto chn = *w.world.find_country("CHN");
  std::vector<double> shares(C);
  for (std::size_t c = 0; c < C; ++c) shares[c] = d.world_share[(0 * M + ga) * C + c];
  EXPECT_EQ(argmax(shares), chn);
}

namespace {

/// Fields of a printed table line: (first column, one past the last) of each run of text, runs
/// being separated by two or more spaces; columns count UTF-8 code points.
std::vector<std::pair<std::size_t, std::size_t>> fields(const std::string& line) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t col = 0, spaces = 0;
  bool in = false;
  for (unsigned char ch : line) {
    if ((ch & 0xC0) == 0x80) continue;  // a continuation byte: same column
    if (ch == ' ') {
      ++spaces;
      if (in && spaces >= 2) in = false;
    } else {
      if (!in) out.push_back({col, col + 1});
      in = true;
      spaces = 0;
      out.back().second = col + 1;
    }
    ++col;
  }
  return out;
}

}  // namespace

TEST(PrintAnalysis, LongNamesWrapAndHeadersAlignWithTheirColumns) {
  // The star with long country names (one with a non-ASCII letter): nothing is cut, and in
  // every table each header starts or ends where its column does on every row.
  WorldBuilder b;
  std::vector<CountryId> cs;
  const std::string row_name =
      "Rest of world (MDG, MOZ, TZA, TJK, MEX, MNG, BOL, ZWE, NCL, TUR, NOR, GBR, KAZ, ...)";
  cs.push_back(b.country("ROW", {}, row_name));
  cs.push_back(b.country("CIV", {}, "C\xC3\xB4te d'Ivoire"));
  cs.push_back(b.country("CCC", {}, "Country C"));
  cs.push_back(b.country("DDD", {}, "Country D"));
  cs.push_back(b.country("HUB", {}, "Hub country with a long name, for the knockout table"));
  auto ore = b.material("ore", 2.0), part = b.material("part", 2.0), car = b.material("car", 2.0);
  b.tables().materials[car].tier = "end";
  FirmId hub = b.firm("hub_firm_with_a_rather_long_identifier", cs[4], part);
  for (int k = 0; k < 4; ++k) {
    b.link(b.firm("ore" + std::to_string(k), cs[k], ore), hub, 10.0, 1);
    b.link(hub, b.firm("car" + std::to_string(k), cs[k], car, 10.0), 10.0, 1);
  }
  World w = b.build();
  AnalyzeOptions opt;
  opt.simulate_top = 4;
  opt.knockout_days = 10;
  opt.threads = 1;
  Analysis a = analyze(w, ModelParams{}, opt);
  ASSERT_FALSE(a.knock.empty());
  std::ostringstream os;
  print_analysis(a, w, os, 20);
  const std::string text = os.str();
  EXPECT_EQ(text.find('~'), std::string::npos) << text;  // nothing cut
  for (const char* word : {"KAZ,", "...)", "C\xC3\xB4te d'Ivoire", "knockout table",
                           "hub_firm_with_a_rather_long_identifier"})
    EXPECT_NE(text.find(word), std::string::npos) << word << "\n" << text;

  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  int tables = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& h = lines[i];
    bool header = false;
    for (const char* first :
         {"  end product ", "  producer ", "  firm ", "  country ", "  from ", "  kind "})
      header = header || h.rfind(first, 0) == 0;
    // A header follows the table's title (or its note in parentheses), not another row.
    const std::string prev = i ? lines[i - 1] : std::string();
    if (!header || (prev.rfind("  ", 0) == 0 && prev.rfind("  (", 0) != 0)) continue;
    ++tables;
    const auto hf = fields(h);
    int rows = 0;
    for (std::size_t j = i + 1; j < lines.size(); ++j) {
      const std::string& r = lines[j];
      if (r.size() < 3 || r.rfind("  ...", 0) == 0 || r.rfind("  (", 0) == 0) break;
      if (r[2] == ' ') continue;  // a wrapped name's next line
      ++rows;
      const auto rf = fields(r);
      ASSERT_EQ(rf.size(), hf.size()) << "header:\n" << h << "\nrow:\n" << r;
      for (std::size_t k = 0; k < hf.size(); ++k)
        EXPECT_TRUE(rf[k].first == hf[k].first || rf[k].second == hf[k].second)
            << "column " << k << " of\n"
            << h << "\n"
            << r;
    }
    EXPECT_GT(rows, 0) << h;
  }
  EXPECT_GE(tables, 8) << text;  // dependency x2, pass-through, betweenness x3, knockout, ESRI
}
