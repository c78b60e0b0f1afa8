// Analytic end-to-end cases of the engine (docs/model.md sections 2-4): worlds built in code with
// WorldBuilder, scenarios parsed from YAML text, expectations derived by hand from the model.
// Lead-time cases are in test_lead_times.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "shortfall/generator.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/world.hpp"
#include "test_support.hpp"

using namespace shortfall;
using namespace shortfall::testing_support;

namespace {

/// Run `sim` to the end, calling `each(t)` after every day t.
template <class F>
void run_days(Simulation& sim, F&& each) {
  while (sim.step()) each(sim.day());
}

/// Inventory target days of buyer i's input slot for material p: the firm's own value, else the
/// input material's, else the scenario's (docs/model.md 2).
double target_days(const World& w, const Scenario& s, FirmId i, MaterialId p) {
  if (!std::isnan(w.firm_inventory_days()[i])) return w.firm_inventory_days()[i];
  if (w.materials()[p].inventory_days) return *w.materials()[p].inventory_days;
  return s.model.inventory_days;
}

/// A world with three countries, three materials, a material cycle (good -> part), firm and
/// material inventory overrides, and lead times 1, 2, 3 and 14 days.
World mixed_world() {
  WorldBuilder b;
  auto A = b.country("AAA", {"g1"}), B = b.country("BBB", {"g1"}), C = b.country("CCC");
  auto ore = b.material("ore", 7.5), part = b.material("part"), good = b.material("good", 30);
  auto o1 = b.firm("o1", A, ore, 0.3), o2 = b.firm("o2", C, ore, 0.0);
  auto p1 = b.firm("p1", A, part, 0.1, 4.0), p2 = b.firm("p2", B, part, 0.0);
  auto g1 = b.firm("g1", B, good, 2.5), g2 = b.firm("g2", C, good, 1.0 / 3.0, 2.25);
  b.tables().lead_times.domestic = 1;
  b.tables().lead_times.international = 3;
  b.tables().lead_times.pairs[{C, B}] = 14;
  b.link(o1, p1, 0.7);
  b.link(o2, p1, 0.2);
  b.link(o2, p2, 1.1);
  b.link(p1, g1, 0.45);
  b.link(p2, g1, 0.35, 2);
  b.link(p2, g2, 0.6);
  b.link(g1, p2, 0.05);
  b.link(o1, g2, 0.15);
  b.link(g2, p1, 0.01);
  return b.build();
}

/// The first difference between the simulation's state and the baseline, "" if none.
std::string baseline_mismatch(const Simulation& sim, const Scenario& s) {
  const World& w = sim.world();
  std::ostringstream os;
  auto x = sim.production(), D = sim.demand(), cap = sim.capacity(), C = sim.final_demand(),
       c = sim.final_delivered(), is = sim.input_shortfall();
  auto b = sim.binding();
  auto fs = sim.first_shortage_day();
  for (FirmId i = 0; i < w.num_firms(); ++i) {
    const double x0 = w.baseline_output()[i], C0 = w.final_demand()[i];
    if (x[i] != x0 || D[i] != x0 || cap[i] != x0 || C[i] != C0 || c[i] != C0 || is[i] != 0.0 ||
        b[i] != kBindDemand || fs[i] != -1)
      os << "firm " << w.firm_id()[i] << ": x " << x[i] << " D " << D[i] << " cap " << cap[i]
         << " c " << c[i] << " x0 " << x0;
    if (!os.str().empty()) return os.str();
  }
  for (LinkId l = 0; l < w.num_links(); ++l) {
    const FirmId i = w.link_buyer()[l], j = w.link_supplier()[l];
    const double z0 = w.link_flow()[l];
    const double n = target_days(w, s, i, w.firm_material()[j]);
    if (sim.stock(l) != n * z0 || sim.order(l) != z0 || sim.delivery(l) != z0)
      os << "link " << l << ": S " << sim.stock(l) << " vs " << n * z0 << ", O " << sim.order(l)
         << ", y " << sim.delivery(l) << ", Z0 " << z0;
    // After the day's shipment, l shipments of Z0 are in flight.
    if (std::abs(sim.in_transit(l) - sim.lead_time(l) * z0) > 1e-12 * z0 * sim.lead_time(l))
      os << "link " << l << ": T " << sim.in_transit(l) << " vs " << sim.lead_time(l) * z0;
    if (!os.str().empty()) return os.str();
  }
  CountryMaterialDay cm = sim.country_material();
  for (std::size_t k = 0; k < cm.shortage.size(); ++k)
    if (cm.shortage[k] != 0.0 || cm.unmet_final_demand[k] != 0.0)
      return "country_material " + std::to_string(k) + " shortage " +
             std::to_string(cm.shortage[k]);
  return "";
}

}  // namespace

// ---- (a) no shock: the run rests at the baseline to the last bit ------------------------------

class NoShock : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(NoShock, StaysAtBaselineToTheLastBitFor365Days) {
  // docs/model.md 2: S = n Z0, x = x0, y = Z0 is a fixed point of section 3 (and section 5's
  // pipeline of l shipments of Z0). Checked with ==, every day, for every firm and link.
  const auto& [rationing, threads] = GetParam();
  World w = mixed_world();
  Scenario s = make_scenario(
      "days: 365\nmodel: {tau: 6, inventory_days: 11, rationing: " + rationing + "}\nevents: []\n");
  RunOptions opt;
  opt.threads = threads;
  Simulation sim(w, s, opt);
  EXPECT_EQ(sim.total_days(), 365);
  int days = 0;
  run_days(sim, [&](int t) {
    ++days;
    std::string m = baseline_mismatch(sim, s);
    ASSERT_EQ(m, "") << "day " << t;
  });
  EXPECT_EQ(days, 365);
  EXPECT_EQ(sim.day(), 364);
  // Lead times as configured: domestic 1, international 3, C->B 14, one explicit 2.
  std::multiset<int> leads;
  for (LinkId l = 0; l < w.num_links(); ++l) leads.insert(sim.lead_time(l));
  EXPECT_EQ(leads.count(14), 1u);  // o2 (C) -> p2 (B)
  EXPECT_EQ(leads.count(2), 1u);   // p2 -> g1, explicit
  EXPECT_GE(leads.count(3), 1u);
  EXPECT_GE(leads.count(1), 1u);
}

INSTANTIATE_TEST_SUITE_P(Rationing, NoShock,
                         ::testing::Combine(::testing::Values("proportional", "final_demand_last",
                                                              "waterfill", "priority"),
                                            ::testing::Values(1, 4)));

TEST(NoShock, CountryTotalsAreTheBaselineOutputs) {
  World w = mixed_world();
  Scenario s = make_scenario("days: 3\n");
  Simulation sim(w, s, with_threads(1));
  sim.step();
  CountryMaterialDay cm = sim.country_material();
  const std::size_t nm = w.materials().size();
  std::vector<double> prod(cm.production.size(), 0.0);
  for (FirmId i = 0; i < w.num_firms(); ++i)
    prod[w.firm_country()[i] * nm + w.firm_material()[i]] += w.baseline_output()[i];
  EXPECT_EQ(cm.production, prod);
  // Days of cover of material p in country c: sum S / sum A = the users' n where they agree:
  // part in BBB is used only by g1 (n = material default 15 since part has none): 15.
  auto B = *w.find_country("BBB");
  auto part = *w.find_material("part");
  EXPECT_DOUBLE_EQ(cm.inventory_days[B * nm + part], 15.0);
  // No firm in AAA uses part (o1 has no inputs, p1 buys ore and good): NaN.
  auto A = *w.find_country("AAA");
  EXPECT_TRUE(std::isnan(cm.inventory_days[A * nm + part]));
}

// ---- (b) a chain: the cut reaches tier k after the tiers before it run down their stocks ------

namespace {
struct Chain {
  World world;
  FirmId r, a, b, c;
};
/// r -> a -> b -> c, one supplier each, every flow 1 (so x0 = 1 everywhere), final demand 1 at c
/// only; inventory days n_a, n_b, n_c; lead time l on every link.
Chain make_chain(double na, double nb, double nc, int lead = 1) {
  WorldBuilder b;
  auto X = b.country("XXX");
  auto ore = b.material("ore"), ma = b.material("ma"), mb = b.material("mb"), mc = b.material("mc");
  b.tables().lead_times.domestic = lead;
  Chain ch;
  ch.r = b.firm("r", X, ore);
  ch.a = b.firm("a", X, ma, 0.0, na);
  ch.b = b.firm("b", X, mb, 0.0, nb);
  ch.c = b.firm("c", X, mc, 1.0, nc);
  b.link(ch.r, ch.a, 1.0);
  b.link(ch.a, ch.b, 1.0);
  b.link(ch.b, ch.c, 1.0);
  ch.world = b.build();
  return ch;
}
}  // namespace

TEST(Chain, CutReachesEachTierAfterTheStocksBeforeItRunOut) {
  // Raw firm r loses all capacity on day 0 (events apply before production, docs/model.md 3.1).
  // Day 0: x_r = 0, so y_ra(0) = 0 < O_ra(0) = 1: a is short on day 0.
  // a's stock after step 2 on day k: day 0 gets the baseline shipment of day -1 (1 in, 1 out:
  // n_a); from day 1 nothing arrives and a draws x_a(k-1)/x0 * A = 1 per day, so S_a(k) = n_a - k
  // while a produces x0 = 1. a's demand stays D_a = O_ab = 1 while b is at baseline, and
  // x_a(k) = min(1, S_a(k) x0/A, 1) = 1 while n_a - k >= 1. With n_a = 10, x_a(9) = 1 and
  // x_a(10) = S_a(10) = 0: b is first short on day n_a = 10.
  // b: the last full delivery from a arrives on day 10 (S_b(10) = n_b), then S_b(10+m) = n_b - m
  // and x_b(10+m) = 1 while n_b - m >= 1: x_b(29) = 1, x_b(30) = 0 with n_b = 20. c is first
  // short on day n_a + n_b = 30, and its output stops when its own stock is gone:
  // x_c(30+m) = min(1, n_c - m) -> x_c(34) = 1, x_c(35) = 0 with n_c = 5.
  Chain ch = make_chain(10, 20, 5);
  Scenario s = make_scenario(
      "days: 60\nevents:\n  - {type: capacity_loss, start: 0, firms: [r], loss: 1.0}\n");
  EXPECT_TRUE(check_scenario(s, ch.world).empty());
  Simulation sim(ch.world, s, with_threads(1));
  std::vector<double> xa, xb, xc;
  run_days(sim, [&](int) {
    xa.push_back(sim.production()[ch.a]);
    xb.push_back(sim.production()[ch.b]);
    xc.push_back(sim.production()[ch.c]);
  });
  auto first = sim.first_shortage_day();
  EXPECT_EQ(first[ch.r], -1);  // no inputs
  EXPECT_EQ(first[ch.a], 0);
  EXPECT_EQ(first[ch.b], 10);
  EXPECT_EQ(first[ch.c], 30);
  for (int t = 0; t < 60; ++t) {
    EXPECT_EQ(xa[t], t < 10 ? 1.0 : 0.0) << t;
    EXPECT_EQ(xb[t], t < 30 ? 1.0 : 0.0) << t;
    EXPECT_EQ(xc[t], t < 35 ? 1.0 : 0.0) << t;
  }
  // Final users of c get nothing once c stops.
  EXPECT_EQ(sim.final_delivered()[ch.c], 0.0);
  EXPECT_EQ(sim.capacity()[ch.r], 0.0);
}

TEST(Chain, FractionalInventoryDays) {
  // n_a = 10.5: S_a(k) = 10.5 - k, and x_a(k) < 1 first when 10.5 - k < 1, i.e. k = 10
  // (x_a(10) = 0.5). So b is first short on day floor(n_a) = 10; a produces 0.5 on day 10 and
  // 0 from day 11 (S_a(11) = 0.5 - 0.5 = 0).
  Chain ch = make_chain(10.5, 20, 5);
  Scenario s = make_scenario(
      "days: 20\nevents:\n  - {type: capacity_loss, start: 0, firms: [r], loss: 1.0}\n");
  Simulation sim(ch.world, s, with_threads(1));
  std::vector<double> xa;
  run_days(sim, [&](int) { xa.push_back(sim.production()[ch.a]); });
  EXPECT_EQ(sim.first_shortage_day()[ch.b], 10);
  EXPECT_EQ(xa[9], 1.0);
  EXPECT_EQ(xa[10], 0.5);
  EXPECT_EQ(xa[11], 0.0);
}

TEST(Chain, ShockStartingLaterShiftsTheFront) {
  // The same front, started on day 7: a short on 7, b on 7 + 10, c on 7 + 30.
  Chain ch = make_chain(10, 20, 5);
  Scenario s = make_scenario(
      "days: 60\nevents:\n  - {type: capacity_loss, start: 7, firms: [r], loss: 1.0}\n");
  Simulation sim(ch.world, s, with_threads(2));
  sim.run();
  auto first = sim.first_shortage_day();
  EXPECT_EQ(first[ch.a], 7);
  EXPECT_EQ(first[ch.b], 17);
  EXPECT_EQ(first[ch.c], 37);
}

// ---- (c) a star: proportional rationing gives every buyer the same fill ratio -----------------

TEST(Star, ProportionalRationingGivesEveryBuyerTheSameFillRatio) {
  // Hub h sells 1, 2, 3 to three buyers (different countries, materials and inventory days, so
  // their orders diverge) and 4 to final users: x0_h = 10. A 30% capacity loss: x_h = 7 on day
  // 0 (D_h = 10), and on every day the hub binds at capacity 7 and y_k / O_k = c / C = x / D
  // (docs/model.md 3.6, proportional).
  WorldBuilder b;
  auto X = b.country("XXX"), Y = b.country("YYY"), Z = b.country("ZZZ");
  auto ore = b.material("ore"), m1 = b.material("m1"), m2 = b.material("m2");
  auto h = b.firm("h", X, ore, 4.0);
  auto b1 = b.firm("b1", X, m1, 1.0, 5.0), b2 = b.firm("b2", Y, m1, 2.0, 10.0),
       b3 = b.firm("b3", Z, m2, 3.0, 20.0);
  std::vector<LinkId> links = {b.link(h, b1, 1.0), b.link(h, b2, 2.0), b.link(h, b3, 3.0)};
  World w = b.build();
  ASSERT_EQ(w.baseline_output()[h], 10.0);
  Scenario s = make_scenario(
      "days: 120\nevents:\n  - {type: capacity_loss, start: 0, firms: [h], loss: 0.3}\n");
  Simulation sim(w, s, with_threads(1));
  bool orders_diverged = false;
  run_days(sim, [&](int t) {
    const double x = sim.production()[h], D = sim.demand()[h];
    ASSERT_NEAR(x, 7.0, 1e-12) << t;  // capacity binds: demand only rises as stocks fall
    EXPECT_EQ(sim.binding()[h], kBindCapacity) << t;
    const double r = x / D;
    // y = O x / D (a buyer whose stock overshot may order 0 and get 0).
    for (LinkId l : links) EXPECT_NEAR(sim.delivery(l), sim.order(l) * r, 1e-13) << t;
    EXPECT_NEAR(sim.final_delivered()[h] / sim.final_demand()[h], r, 1e-14) << t;
    double r1 = sim.order(links[0]) / 1.0, r3 = sim.order(links[2]) / 3.0;
    if (std::abs(r1 - r3) > 1e-3) orders_diverged = true;
  });
  EXPECT_TRUE(orders_diverged) << "the buyers' orders should rise at different rates";
  EXPECT_EQ(sim.first_shortage_day()[b1], 0);
  EXPECT_EQ(sim.first_shortage_day()[b2], 0);
  EXPECT_EQ(sim.first_shortage_day()[b3], 0);
}

// ---- (d) a cycle -------------------------------------------------------------------------------

namespace {
World cycle_world() {
  // a -> b -> a with flows 1 and final demand 1 at each: x0 = 2 for both.
  WorldBuilder b;
  auto X = b.country("XXX");
  auto m1 = b.material("m1", 10.0), m2 = b.material("m2", 10.0);
  auto a = b.firm("a", X, m1, 1.0), bb = b.firm("b", X, m2, 1.0);
  b.link(a, bb, 1.0);
  b.link(bb, a, 1.0);
  return b.build();
}
}  // namespace

TEST(Cycle, StaysAtBaselineWithoutShock) {
  World w = cycle_world();
  Scenario s = make_scenario("days: 365\n");
  Simulation sim(w, s, with_threads(1));
  run_days(sim, [&](int t) { ASSERT_EQ(baseline_mismatch(sim, s), "") << "day " << t; });
}

TEST(Cycle, RecoversAfterALinearRecovery) {
  // a loses half its capacity on day 0, recovering linearly over 20 days (delta = 0 from the
  // end of day 19). Both firms fall below x0 during the shock (b through a's deliveries, a
  // through b's), and the economy returns to x0 (ARIO's orders refill the stocks back to n Z0).
  World w = cycle_world();
  Scenario s = make_scenario(
      "days: 365\nevents:\n  - {type: capacity_loss, start: 0, firms: [a], loss: 0.5,\n"
      "     recovery: {type: linear, days: 20}}\n");
  Simulation sim(w, s, with_threads(1));
  double min_a = 2.0;
  run_days(sim, [&](int t) {
    min_a = std::min(min_a, sim.production()[0]);
    if (t == 0) {
      EXPECT_EQ(sim.production()[0], 1.0);  // capacity (1 - 0.5) * 2
    }
    if (t >= 19) {
      EXPECT_EQ(sim.capacity_loss()[0], 0.0) << t;
    }
  });
  EXPECT_EQ(min_a, 1.0);
  for (FirmId i = 0; i < 2; ++i) EXPECT_NEAR(sim.production()[i], 2.0, 1e-6) << i;
  for (LinkId l = 0; l < 2; ++l) {
    EXPECT_NEAR(sim.stock(l), 10.0, 1e-5) << l;
    EXPECT_NEAR(sim.order(l), 1.0, 1e-6) << l;
  }
}

// ---- (e) export controls and trade cuts (docs/model.md 4)
// --------------------------------------------

namespace {
struct ControlWorld {
  World world;
  FirmId s, b1, b2, b3, jp, cn;
  LinkId l1, l2, l3, l4;
};
/// s (CHN, ga; final demand 5) sells 2 to b1 (JPN, ipef), 3 to b2 (USA, ipef), 1 to b3 (CHN):
/// x0_s = 11. jp (JPN, ga) sells 1 to cn (CHN, wf).
ControlWorld control_world() {
  WorldBuilder b;
  auto CHN = b.country("CHN"), JPN = b.country("JPN", {"ipef"}), USA = b.country("USA", {"ipef"});
  auto ga = b.material("ga", 30.0), wf = b.material("wf");
  ControlWorld cw;
  cw.s = b.firm("s", CHN, ga, 5.0);
  cw.b1 = b.firm("b1", JPN, wf, 2.0);
  cw.b2 = b.firm("b2", USA, wf, 3.0);
  cw.b3 = b.firm("b3", CHN, wf, 1.0);
  cw.jp = b.firm("jp", JPN, ga, 1.0);
  cw.cn = b.firm("cn", CHN, wf, 1.0);
  cw.l1 = b.link(cw.s, cw.b1, 2.0);
  cw.l2 = b.link(cw.s, cw.b2, 3.0);
  cw.l3 = b.link(cw.s, cw.b3, 1.0);
  cw.l4 = b.link(cw.jp, cw.cn, 1.0);
  cw.world = b.build();
  return cw;
}
}  // namespace

TEST(ExportControl, MatchedLinksGetAtMostKZ0AndTheShortageCountsTheFullOrder) {
  // k = 0.25 on CHN ga to JPN: the s -> b1 order is capped at 0.25 * 2 = 0.5 before demand.
  // Day 0: orders are baseline (2, 3, 1); served (0.5, 3, 1); D_s = 4.5 + 5 = 9.5 <= 11, so
  // every served order is met: y = (0.5, 3, 1), c = 5. b1's order backlog counts its full
  // order: O - y = 1.5, and so does country_material order_backlog (JPN, ga); its input
  // shortage (model 10) stays 0 while its stock covers what it can sell today.
  ControlWorld cw = control_world();
  Scenario s = make_scenario(
      "days: 60\nevents:\n  - {type: export_control, start: 0, exporters: [CHN], materials: [ga],"
      " targets: [JPN], license_share: 0.25}\n");
  EXPECT_TRUE(check_scenario(s, cw.world).empty());
  Simulation sim(cw.world, s, with_threads(1));
  ASSERT_TRUE(sim.step());
  EXPECT_EQ(sim.order(cw.l1), 2.0);
  EXPECT_EQ(sim.delivery(cw.l1), 0.5);
  EXPECT_EQ(sim.delivery(cw.l2), 3.0);
  EXPECT_EQ(sim.delivery(cw.l3), 1.0);
  EXPECT_EQ(sim.demand()[cw.s], 9.5);
  EXPECT_EQ(sim.production()[cw.s], 9.5);
  EXPECT_EQ(sim.final_delivered()[cw.s], 5.0);
  const std::size_t nm = cw.world.materials().size();
  const auto JPN = *cw.world.find_country("JPN"), USA = *cw.world.find_country("USA");
  const auto ga = *cw.world.find_material("ga");
  CountryMaterialDay cm = sim.country_material();
  EXPECT_EQ(cm.order_backlog[JPN * nm + ga], 1.5);
  EXPECT_EQ(cm.order_backlog[USA * nm + ga], 0.0);
  EXPECT_EQ(cm.shortage[JPN * nm + ga], 0.0);
  // The headline series alone, into a reused buffer: the same sums, the others left as they were.
  CountryMaterialDay only;
  sim.country_material(only, true);
  EXPECT_EQ(only.shortage, cm.shortage);
  EXPECT_EQ(only.production, cm.production);
  EXPECT_TRUE(only.order_backlog.empty() && only.inventory_days.empty());
  EXPECT_EQ(sim.first_shortage_day()[cw.b1], 0);
  EXPECT_DOUBLE_EQ(sim.input_shortfall()[cw.b1], 0.75);  // 1 - 0.5/2
  // Later b1 orders more (its stock falls), but is still served min(O, 0.5) = 0.5.
  run_days(sim, [&](int t) {
    EXPECT_GT(sim.order(cw.l1), 2.0) << t;
    EXPECT_EQ(sim.delivery(cw.l1), 0.5) << t;
    cm = sim.country_material();
    EXPECT_NEAR(cm.order_backlog[JPN * nm + ga], sim.order(cw.l1) - 0.5, 1e-12) << t;
    // Input shortage: b1 lacks A min(x^cap, D)/x0 - S of ga once its stock runs below a day.
    const double xt = std::min(sim.capacity()[cw.b1], sim.demand()[cw.b1]);
    const double lack =
        std::max(0.0, 2.0 * xt / cw.world.baseline_output()[cw.b1] - sim.pooled_stock(cw.b1, ga));
    EXPECT_NEAR(cm.shortage[JPN * nm + ga], lack, 1e-12) << t;
    sim.country_material(only, t % 2 == 0);
    EXPECT_EQ(only.shortage, cm.shortage) << t;
    EXPECT_EQ(only.production, cm.production) << t;
    if (t % 2 == 1) {
      EXPECT_EQ(only.order_backlog, cm.order_backlog) << t;
      EXPECT_EQ(only.inventory_days.size(), cm.inventory_days.size()) << t;
    }
  });
  EXPECT_EQ(sim.first_shortage_day()[cw.b2], -1);
  EXPECT_EQ(sim.first_shortage_day()[cw.b3], -1);
}

TEST(ExportControl, SupplierServesOthersWithWhatIsFreed) {
  // With a 20% capacity loss on s (capacity 8.8) and no control, D_s = 11 and each buyer gets
  // 8.8/11 = 80%: y_b2 = 2.4. With the control, D_s = 0.5 + 3 + 1 + 5 = 9.5 and everyone
  // served gets 8.8/9.5: y_b2 = 3 * 8.8/9.5 = 2.7789..., more than 2.4.
  ControlWorld cw = control_world();
  const std::string loss =
      "days: 1\nevents:\n  - {type: capacity_loss, start: 0, firms: [s], loss: 0.2}\n";
  Scenario without = make_scenario(loss);
  Scenario with = make_scenario(loss +
                                "  - {type: export_control, start: 0, exporters: [CHN], "
                                "materials: [ga], targets: [JPN], license_share: 0.25}\n");
  Simulation a(cw.world, without, with_threads(1));
  Simulation b(cw.world, with, with_threads(1));
  a.step();
  b.step();
  EXPECT_NEAR(a.delivery(cw.l2), 2.4, 1e-12);
  EXPECT_NEAR(b.delivery(cw.l2), 3.0 * 8.8 / 9.5, 1e-12);
  EXPECT_NEAR(b.delivery(cw.l1), 0.5 * 8.8 / 9.5, 1e-12);
  EXPECT_NEAR(b.final_delivered()[cw.s], 5.0 * 8.8 / 9.5, 1e-12);
  EXPECT_NEAR(b.production()[cw.s], 8.8, 1e-12);
}

TEST(ExportControl, DomesticLinksAndOtherTargetsUntouched) {
  // Targets [all]: an export control caps exports only; the domestic link s -> b3 (CHN -> CHN)
  // is untouched, both foreign links are capped (0.25 * 2, 0.25 * 3). Other materials (jp's
  // ga is exported by JPN, not CHN) are untouched.
  ControlWorld cw = control_world();
  Scenario s = make_scenario(
      "days: 5\nevents:\n  - {type: export_control, start: 0, exporters: [CHN], materials: [ga],"
      " targets: [all], license_share: 0.25}\n");
  Simulation sim(cw.world, s, with_threads(1));
  sim.step();
  EXPECT_EQ(sim.delivery(cw.l1), 0.5);
  EXPECT_EQ(sim.delivery(cw.l2), 0.75);
  EXPECT_EQ(sim.delivery(cw.l3), 1.0);
  EXPECT_EQ(sim.delivery(cw.l4), 1.0);
  // Group targets: ipef = JPN and USA, the same two links.
  Scenario g = make_scenario(
      "days: 5\nevents:\n  - {type: export_control, start: 0, exporters: [CHN], materials: [ga],"
      " targets: [ipef], except: [USA], license_share: 0}\n");
  Simulation sg(cw.world, g, with_threads(1));
  sg.step();
  EXPECT_EQ(sg.delivery(cw.l1), 0.0);  // JPN: k = 0
  EXPECT_EQ(sg.delivery(cw.l2), 3.0);  // USA excepted
}

TEST(ExportControl, EndsOnItsEndDay) {
  // Active on days [2, 5): served 0.5 on days 2-4. From day 5 the cap is gone and b1, which
  // ordered more to refill its stock, is served its full order again: with final_demand_last
  // s's final users absorb the excess demand (D_s - 11 stays below C = 5).
  ControlWorld cw = control_world();
  Scenario s = make_scenario(
      "days: 8\nmodel: {rationing: final_demand_last}\nevents:\n"
      "  - {type: export_control, start: 2, end: 5, exporters: [CHN],"
      " materials: [ga], targets: [JPN], license_share: 0.25}\n");
  Simulation sim(cw.world, s, with_threads(1));
  run_days(sim, [&](int t) {
    if (t >= 2 && t < 5) {
      EXPECT_EQ(sim.delivery(cw.l1), 0.5) << t;
    } else {
      ASSERT_LE(sim.demand()[cw.s] - 11.0, 5.0) << t;
      EXPECT_EQ(sim.delivery(cw.l1), sim.order(cw.l1)) << t;
    }
    if (t == 5) {
      EXPECT_GT(sim.order(cw.l1), 2.0);
    }
  });
  ASSERT_EQ(sim.event_log().size(), 2u);
  EXPECT_EQ(sim.event_log()[0].day, 2);
  EXPECT_EQ(sim.event_log()[0].type, "export_control");
  EXPECT_EQ(sim.event_log()[0].firms, 1);  // one link matched
  EXPECT_EQ(sim.event_log()[1].day, 5);
  EXPECT_EQ(sim.event_log()[1].type, "end:export_control");
}

// DISABLED: engine bug. sim/engine/engine.hpp stores the cap k in `std::vector<float> cap_share`,
// so k = 0.1 becomes 0.100000001490116 and the served order is 0.2000000029802 instead of min(O, k
// Z0) = 0.2 (relative error 1.5e-8). Enable once the cap is kept in double.
TEST(ExportControl, LicenseShareIsAppliedExactly) {
  // k = 0.1 on a flow of 2: served min(O, 0.1 * 2) = 0.2 (to rounding of 0.1 * 2 in double).
  ControlWorld cw = control_world();
  Scenario s = make_scenario(
      "days: 1\nevents:\n  - {type: export_control, start: 0, exporters: [CHN], materials: [ga],"
      " targets: [JPN], license_share: 0.1}\n");
  Simulation sim(cw.world, s, with_threads(1));
  sim.step();
  EXPECT_NEAR(sim.delivery(cw.l1), 0.1 * 2.0, 1e-15);
}

TEST(TradeCut, BothDirectionsAllMaterialsDomesticUntouched) {
  // Trade cut between CHN and JPN: s -> b1 (CHN -> JPN) and jp -> cn (JPN -> CHN) are served 0;
  // the buyers' shortage is their full order. CHN -> USA and CHN -> CHN are untouched.
  ControlWorld cw = control_world();
  Scenario s =
      make_scenario("days: 3\nevents:\n  - {type: trade_cut, start: 0, between: [[CHN], [JPN]]}\n");
  Simulation sim(cw.world, s, with_threads(1));
  sim.step();
  EXPECT_EQ(sim.delivery(cw.l1), 0.0);
  EXPECT_EQ(sim.delivery(cw.l4), 0.0);
  EXPECT_EQ(sim.delivery(cw.l2), 3.0);
  EXPECT_EQ(sim.delivery(cw.l3), 1.0);
  EXPECT_EQ(sim.demand()[cw.s], 9.0);   // 3 + 1 + 5
  EXPECT_EQ(sim.demand()[cw.jp], 1.0);  // final demand only
  const std::size_t nm = cw.world.materials().size();
  const auto JPN = *cw.world.find_country("JPN"), CHN = *cw.world.find_country("CHN");
  const auto ga = *cw.world.find_material("ga");
  CountryMaterialDay cm = sim.country_material();
  EXPECT_EQ(cm.order_backlog[JPN * nm + ga], 2.0);
  EXPECT_EQ(cm.order_backlog[CHN * nm + ga], 1.0);
  EXPECT_EQ(sim.first_shortage_day()[cw.b1], 0);
  EXPECT_EQ(sim.first_shortage_day()[cw.cn], 0);
  EXPECT_EQ(sim.first_shortage_day()[cw.b3], -1);
}

// ---- rationing rules inside the engine (which buyer is in which priority class) --------------

namespace {
struct PriorityWorld {
  World world;
  FirmId s;
  LinkId dom, grp, rest;
};
/// s (JPN, ipef; final demand 4) sells 1 to a JPN buyer (domestic), 2 to a USA buyer (shares the
/// group ipef), 3 to a CHN buyer (rest): x0 = 10.
PriorityWorld priority_world() {
  WorldBuilder b;
  auto JPN = b.country("JPN", {"ipef", "msp"}), USA = b.country("USA", {"ipef"}),
       CHN = b.country("CHN");
  auto ga = b.material("ga"), wf = b.material("wf");
  PriorityWorld pw;
  pw.s = b.firm("s", JPN, ga, 4.0);
  auto d = b.firm("d", JPN, wf, 1.0), g = b.firm("g", USA, wf, 1.0), r = b.firm("r", CHN, wf, 1.0);
  pw.dom = b.link(pw.s, d, 1.0);
  pw.grp = b.link(pw.s, g, 2.0);
  pw.rest = b.link(pw.s, r, 3.0);
  pw.world = b.build();
  return pw;
}
}  // namespace

TEST(EngineRationing, PriorityClassesFromCountriesAndGroups) {
  // Capacity 5 (50% loss) against D = 10 on day 0 (baseline orders):
  //   default order: domestic 1 (left 4), group 2 (left 2), rest 3 > 2: 2/3 of it -> 2; final 0.
  //   [final, rest, group, domestic]: final 4 (left 1), rest gets 1 of 3, group and domestic 0.
  PriorityWorld pw = priority_world();
  const std::string loss = "  - {type: capacity_loss, start: 0, firms: [s], loss: 0.5}\n";
  Scenario def = make_scenario("days: 1\nmodel: {rationing: priority}\nevents:\n" + loss);
  Simulation a(pw.world, def, with_threads(1));
  a.step();
  EXPECT_EQ(a.delivery(pw.dom), 1.0);
  EXPECT_EQ(a.delivery(pw.grp), 2.0);
  EXPECT_DOUBLE_EQ(a.delivery(pw.rest), 2.0);
  EXPECT_EQ(a.final_delivered()[pw.s], 0.0);
  Scenario custom = make_scenario(
      "days: 1\nmodel: {rationing: priority, priority: [final, rest, group, domestic]}\n"
      "events:\n" +
      loss);
  Simulation b(pw.world, custom, with_threads(1));
  b.step();
  EXPECT_EQ(b.final_delivered()[pw.s], 4.0);
  EXPECT_DOUBLE_EQ(b.delivery(pw.rest), 1.0);
  EXPECT_EQ(b.delivery(pw.grp), 0.0);
  EXPECT_EQ(b.delivery(pw.dom), 0.0);
}

TEST(EngineRationing, FinalDemandLastAndWaterfill) {
  // final_demand_last, capacity 5, D = 10: gap 5 > C = 4, so c = 0 and y = O * 5/6.
  // waterfill on baseline orders (all O/Z0 = C/C0 = 1): L = x / (sum Z0 + C0) = 0.5, y = Z0/2.
  PriorityWorld pw = priority_world();
  const std::string loss = "  - {type: capacity_loss, start: 0, firms: [s], loss: 0.5}\n";
  Scenario fdl = make_scenario("days: 1\nmodel: {rationing: final_demand_last}\nevents:\n" + loss);
  Simulation a(pw.world, fdl, with_threads(1));
  a.step();
  EXPECT_EQ(a.final_delivered()[pw.s], 0.0);
  EXPECT_DOUBLE_EQ(a.delivery(pw.dom), 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(a.delivery(pw.grp), 2.0 * 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(a.delivery(pw.rest), 3.0 * 5.0 / 6.0);
  Scenario wf = make_scenario("days: 1\nmodel: {rationing: waterfill}\nevents:\n" + loss);
  Simulation b(pw.world, wf, with_threads(1));
  b.step();
  EXPECT_DOUBLE_EQ(b.delivery(pw.dom), 0.5);
  EXPECT_DOUBLE_EQ(b.delivery(pw.grp), 1.0);
  EXPECT_DOUBLE_EQ(b.delivery(pw.rest), 1.5);
  EXPECT_DOUBLE_EQ(b.final_delivered()[pw.s], 2.0);
}

// ---- (f) demand shocks -------------------------------------------------------------------------

TEST(DemandShock, RaisesFinalDemandOfTheSelectedFirmsOnlyAndEnds) {
  // Factor 1.5 on USA ev from day 3 to day 6: C = 1.5 C0 for ev_us on days 3-5, C0 elsewhere.
  WorldBuilder b;
  auto USA = b.country("USA"), DEU = b.country("DEU");
  auto ev = b.material("ev"), pd = b.material("pd");
  auto ev_us = b.firm("ev_us", USA, ev, 4.0), ev_de = b.firm("ev_de", DEU, ev, 3.0),
       pd_us = b.firm("pd_us", USA, pd, 2.0);
  World w = b.build();
  Scenario s = make_scenario(
      "days: 8\nevents:\n  - {type: demand_shock, start: 3, end: 6, country: USA, material: ev,"
      " factor: 1.5}\n");
  Simulation sim(w, s, with_threads(1));
  run_days(sim, [&](int t) {
    const bool on = t >= 3 && t < 6;
    EXPECT_EQ(sim.final_demand()[ev_us], on ? 6.0 : 4.0) << t;
    EXPECT_EQ(sim.final_demand()[ev_de], 3.0) << t;
    EXPECT_EQ(sim.final_demand()[pd_us], 2.0) << t;
    // D = C (no buyers); capacity x0 = 4 binds, so 2 of the 6 go unmet.
    EXPECT_EQ(sim.demand()[ev_us], on ? 6.0 : 4.0) << t;
    EXPECT_EQ(sim.production()[ev_us], 4.0) << t;
    EXPECT_EQ(sim.final_delivered()[ev_us], 4.0) << t;
  });
}

TEST(DemandShock, OverlappingShocksMultiply) {
  WorldBuilder b;
  auto USA = b.country("USA", {"g"});
  auto ev = b.material("ev");
  auto f = b.firm("f", USA, ev, 4.0);
  World w = b.build();
  Scenario s = make_scenario(
      "days: 4\nevents:\n"
      "  - {type: demand_shock, start: 0, end: 3, firms: [f], factor: 0.5}\n"
      "  - {type: demand_shock, start: 1, end: 2, country: g, factor: 0.25}\n");
  Simulation sim(w, s, with_threads(1));
  std::vector<double> C;
  run_days(sim, [&](int) { C.push_back(sim.final_demand()[f]); });
  EXPECT_EQ(C, (std::vector<double>{2.0, 0.5, 2.0, 4.0}));
}

// ---- (g) capacity-loss recovery rules (docs/model.md 3.7)
// -------------------------------------------

namespace {
/// One raw firm with final demand 1 (x0 = 1) under `event`; returns the capacity x_cap used on
/// each day and delta after each day's recovery.
std::pair<std::vector<double>, std::vector<double>> recovery_run(const std::string& event,
                                                                 int days) {
  WorldBuilder b;
  auto X = b.country("XXX");
  auto m = b.material("m");
  b.firm("f", X, m, 1.0);
  World w = b.build();
  Scenario s = make_scenario("days: " + std::to_string(days) + "\nevents:\n  - " + event + "\n");
  Simulation sim(w, s, with_threads(1));
  std::vector<double> cap, delta;
  run_days(sim, [&](int) {
    cap.push_back(sim.capacity()[0]);
    delta.push_back(sim.capacity_loss()[0]);
  });
  return {cap, delta};
}
}  // namespace

TEST(Recovery, Linear) {
  // delta0 = 0.5, R = 4, start day 2: delta <- max(0, delta - 0.5/4) at the end of each day.
  // Capacity (1 - delta) during day 2 is 0.5, day 3: 0.625, day 4: 0.75, day 5: 0.875, day 6: 1.
  // delta after day 2: 0.375, 3: 0.25, 4: 0.125, 5: 0 (back to 0 after R = 4 days).
  auto [cap, delta] = recovery_run(
      "{type: capacity_loss, start: 2, firms: [f], loss: 0.5, recovery: {type: linear, days: 4}}",
      9);
  EXPECT_EQ(cap, (std::vector<double>{1, 1, 0.5, 0.625, 0.75, 0.875, 1, 1, 1}));
  EXPECT_EQ(delta, (std::vector<double>{0, 0, 0.375, 0.25, 0.125, 0, 0, 0, 0}));
}

TEST(Recovery, LinearNonDyadicReachesZeroWithinOneDay) {
  // delta0 = 0.3, R = 90: the subtraction of 0.3/90 ninety times may leave a rounding residue
  // of ~1e-17 after day 89 (the formula has no snap to 0); it is 0 by day 90 at the latest.
  auto [cap, delta] = recovery_run(
      "{type: capacity_loss, start: 0, firms: [f], loss: 0.3, recovery: {type: linear, days: 90}}",
      95);
  EXPECT_LT(delta[89], 1e-15);
  EXPECT_EQ(delta[90], 0.0);
  EXPECT_NEAR(delta[44], 0.3 * (1.0 - 45.0 / 90.0), 1e-15);
}

TEST(Recovery, ExponentialHalfLife) {
  // Half-life h = 2: delta <- delta * 2^(-1/2) each day; after day k (start 0),
  // delta = 0.5 * 2^(-(k+1)/2): 0.25 after 2 days (day 1), 0.125 after 4 (day 3).
  auto [cap, delta] = recovery_run(
      "{type: capacity_loss, start: 0, firms: [f], loss: 0.5,"
      " recovery: {type: exponential, half_life: 2}}",
      10);
  for (int k = 0; k < 10; ++k)
    EXPECT_NEAR(delta[k], 0.5 * std::pow(2.0, -(k + 1) / 2.0), 1e-15) << k;
  EXPECT_NEAR(delta[1], 0.25, 1e-15);
  EXPECT_NEAR(delta[3], 0.125, 1e-15);
  EXPECT_EQ(cap[0], 0.5);
}

TEST(Recovery, StepBackToZeroAtTheEndDay) {
  // Step: delta = 0.5 on days 2..5, 0 from day 6 (the end day: applied in phase 1 of day 6).
  auto [cap, delta] = recovery_run(
      "{type: capacity_loss, start: 2, end: 6, firms: [f], loss: 0.5, recovery: {type: step}}", 8);
  EXPECT_EQ(cap, (std::vector<double>{1, 1, 0.5, 0.5, 0.5, 0.5, 1, 1}));
  EXPECT_EQ(delta, (std::vector<double>{0, 0, 0.5, 0.5, 0.5, 0.5, 0, 0}));
}

TEST(Recovery, NoneStays) {
  auto [cap, delta] = recovery_run(
      "{type: capacity_loss, start: 1, firms: [f], loss: 0.25, recovery: {type: none}}", 5);
  EXPECT_EQ(cap, (std::vector<double>{1, 0.75, 0.75, 0.75, 0.75}));
}

// ---- (h) thread-count determinism ---------------------------------------------------------------

// random_world and state_diff: tests/test_support.hpp.

class Determinism : public ::testing::TestWithParam<std::string> {};

TEST_P(Determinism, BitIdenticalForThreads1248) {
  World w = random_world(1500, 20240601);
  Scenario s = make_scenario(
      "days: 90\nmodel: {rationing: " + GetParam() +
      "}\nevents:\n"
      "  - {type: capacity_loss, start: 5, country: C0, material: [m0, m1], loss: 0.6,"
      " recovery: {type: linear, days: 30}}\n"
      "  - {type: capacity_loss, start: 8, end: 40, country: C2, loss: 0.3}\n"
      "  - {type: export_control, start: 10, end: 60, exporters: [C1], materials: [m1, m2],"
      " targets: [g2], license_share: 0.2}\n"
      "  - {type: trade_cut, start: 20, end: 50, between: [[C2], [C3]]}\n"
      "  - {type: demand_shock, start: 0, end: 40, country: C3, factor: 1.3}\n"
      "  - {type: transport_disruption, start: 15, end: 45, between: [[C0], [all]],"
      " extra_days: 5}\n");
  ASSERT_TRUE(check_scenario(s, w).empty());
  std::vector<std::unique_ptr<Simulation>> sims;
  for (int threads : {1, 2, 4, 8})
    sims.push_back(std::make_unique<Simulation>(w, s, with_threads(threads)));
  EXPECT_EQ(sims[3]->threads(), 8);
  double max_shortage = 0.0;
  int rationed = 0;
  while (sims[0]->step()) {
    for (std::size_t k = 1; k < sims.size(); ++k) {
      ASSERT_TRUE(sims[k]->step());
      ASSERT_EQ(state_diff(*sims[0], *sims[k]), "")
          << "threads " << sims[k]->threads() << " day " << sims[0]->day();
    }
    for (double v : sims[0]->country_material().shortage) max_shortage = std::max(max_shortage, v);
    for (FirmId i = 0; i < w.num_firms(); ++i)
      rationed += sims[0]->production()[i] < sims[0]->demand()[i];
  }
  // The run must actually exercise rationing for the check to mean anything.
  EXPECT_GT(max_shortage, 0.0);
  EXPECT_GT(rationed, 1000);
}

INSTANTIATE_TEST_SUITE_P(Rationing, Determinism,
                         ::testing::Values("proportional", "final_demand_last", "waterfill",
                                           "priority"));

// ---- thread counts: the same bits on a world of many work-stealing chunks -----------------------

class ManyChunks : public ::testing::TestWithParam<std::string> {};

TEST_P(ManyChunks, OneAndFourThreadsGiveTheSameBitsEveryDay) {
  // 3,000 firms, many times TBB's grain of 256: each phase runs over several chunks of firms,
  // taken by whichever thread is free (one range on one thread).
  // Every per-firm and per-link value must be the same to the last bit as on one thread.
  SyntheticSpec spec;
  spec.firms = 3000;
  spec.links = 15000;
  spec.countries = 6;
  World w = generate_synthetic(spec);
  Scenario s = make_scenario(
      "days: 120\nmodel: {tau: 6, inventory_days: 10, rationing: " + GetParam() +
      "}\nevents:\n"
      "  - {type: capacity_loss, start: 5, loss: 0.6, material: m0, recovery: {type: linear, "
      "days: 60}}\n"
      "  - {type: export_control, start: 10, end: 50, exporters: [C0], materials: [m3], "
      "targets: [all], except: [C0], license_share: 0.2}\n");
  Simulation one(w, s, with_threads(1)), four(w, s, with_threads(4));
  auto same = [](std::span<const double> a, std::span<const double> b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
  };
  bool rationed = false;
  while (one.step()) {
    ASSERT_TRUE(four.step());
    const int t = one.day();
    ASSERT_TRUE(same(one.production(), four.production())) << "day " << t;
    ASSERT_TRUE(same(one.demand(), four.demand())) << "day " << t;
    ASSERT_TRUE(same(one.final_delivered(), four.final_delivered())) << "day " << t;
    ASSERT_TRUE(same(one.input_shortfall(), four.input_shortfall())) << "day " << t;
    for (LinkId l = 0; l < w.num_links(); ++l) {
      ASSERT_EQ(one.order(l), four.order(l)) << "day " << t << " link " << l;
      ASSERT_EQ(one.delivery(l), four.delivery(l)) << "day " << t << " link " << l;
      ASSERT_EQ(one.stock(l), four.stock(l)) << "day " << t << " link " << l;
    }
    for (FirmId i = 0; i < w.num_firms(); ++i)
      rationed = rationed || one.production()[i] < one.demand()[i];
  }
  EXPECT_FALSE(four.step());
  EXPECT_TRUE(rationed);  // the shock reached suppliers that had to ration
  EXPECT_TRUE(std::equal(one.first_shortage_day().begin(), one.first_shortage_day().end(),
                         four.first_shortage_day().begin()));
}

INSTANTIATE_TEST_SUITE_P(Rationing, ManyChunks,
                         ::testing::Values("proportional", "final_demand_last", "waterfill",
                                           "priority"));
