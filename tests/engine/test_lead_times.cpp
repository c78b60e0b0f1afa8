// Lead times and the in-transit pipeline (docs/model.md 5), and transport disruptions.
// Expectations derived by hand; the comments state the math.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/world.hpp"
#include "test_support.hpp"

using namespace shortfall;

namespace {

using testing_support::make_scenario;
using testing_support::random_world;
using testing_support::state_diff;
using testing_support::with_threads;

TEST(LinkState, BulkReadsEqualTheOneLinkFunctionsEveryDay) {
  // Three links with lead times 1 and 3 and a transport disruption that changes one of them:
  // link_state gives, for every link and day, the values the one-link functions give.
  WorldBuilder wb;
  auto CHN = wb.country("CHN"), JPN = wb.country("JPN");
  auto ga = wb.material("ga", 10.0), ch = wb.material("ch", 10.0), wf = wb.material("wf");
  auto s = wb.firm("s", CHN, ga, 10.0), d = wb.firm("d", JPN, ch), b = wb.firm("b", JPN, wf, 1.0);
  const LinkId sb = wb.link(s, b, 1.0, 3), db = wb.link(d, b, 1.0);
  auto u = wb.firm("u", JPN, wf, 1.0);
  const LinkId su = wb.link(s, u, 2.0);
  World w = wb.build();
  Scenario sc = make_scenario(
      "days: 12\nevents:\n  - {type: capacity_loss, start: 2, end: 6, firms: [s], loss: 0.5}\n"
      "  - {type: transport_disruption, start: 4, end: 9, between: [[CHN], [JPN]],"
      " extra_days: 2}\n");
  Simulation sim(w, sc, with_threads(1));
  using V = Simulation::LinkVariable;
  std::vector<double> bulk(w.num_links());
  while (sim.step()) {
    for (LinkId k : {sb, db, su}) {
      sim.link_state(V::kStock, bulk);
      EXPECT_EQ(bulk[k], sim.stock(k));
      sim.link_state(V::kOrder, bulk);
      EXPECT_EQ(bulk[k], sim.order(k));
      sim.link_state(V::kDelivery, bulk);
      EXPECT_EQ(bulk[k], sim.delivery(k));
      sim.link_state(V::kInTransit, bulk);
      EXPECT_EQ(bulk[k], sim.in_transit(k));
      sim.link_state(V::kLeadTime, bulk);
      EXPECT_EQ(bulk[k], double(sim.lead_time(k)));
    }
  }
  std::vector<double> short_buffer(w.num_links() - 1);
  EXPECT_THROW(sim.link_state(V::kStock, short_buffer), std::invalid_argument);
}

}  // namespace

TEST(LeadTimes, AreOneWhereNoLinkOrEventMakesThemLonger) {
  // Every link's lead time 1 and no transport disruption: the engine keeps no array of lead
  // times (the run's peak memory), and lead_time and link_state still give 1 for every link on
  // every day.
  WorldBuilder wb;
  auto X = wb.country("XXX"), Y = wb.country("YYY");
  auto m = wb.material("m", 10.0), g = wb.material("g");
  auto s = wb.firm("s", X, m), t = wb.firm("t", Y, m);
  auto b = wb.firm("b", Y, g, 2.0);
  wb.link(s, b, 1.0, 1);
  wb.link(t, b, 1.0, 1);
  World w = wb.build();
  Scenario sc = make_scenario(
      "days: 5\nevents:\n  - {type: capacity_loss, start: 1, firms: [s], loss: 0.5}\n");
  Simulation sim(w, sc, with_threads(1));
  std::vector<double> bulk(w.num_links());
  while (sim.step()) {
    sim.link_state(Simulation::LinkVariable::kLeadTime, bulk);
    EXPECT_EQ(bulk, std::vector<double>(w.num_links(), 1.0));
    for (LinkId k = 0; k < w.num_links(); ++k) EXPECT_EQ(sim.lead_time(k), 1);
  }
}

TEST(LeadTimes, InitialPipelineDrainsWhenTheSupplierStops) {
  // s -> b with lead time 4, Z0 = 2, n = 10 (b's stock 20). The initial state holds one shipment
  // of Z0 from each of the 4 days before day 0, arriving on days 0..3. s stops on day 0 (100%
  // loss), so everything shipped from day 0 on is 0 and arrives from day 4.
  //   in transit after day t's shipment: the initial shipments still due after t: (3 - t) Z0.
  //   b's stock: arrivals Z0 and draws Z0 (b at x0) on days 0..3 keep S = 20; then S(t) =
  //   20 - 2 (t - 3) while b still produces x0, i.e. S(4) = 18, S(5) = 16, ...
  WorldBuilder b;
  auto X = b.country("XXX");
  auto m = b.material("m", 10.0), g = b.material("g");
  auto s = b.firm("s", X, m);
  auto buyer = b.firm("b", X, g, 2.0);
  auto link = b.link(s, buyer, 2.0, 4);
  World w = b.build();
  Scenario sc = make_scenario(
      "days: 8\nevents:\n  - {type: capacity_loss, start: 0, firms: [s], loss: 1.0}\n");
  Simulation sim(w, sc, with_threads(1));
  std::vector<double> transit, stock;
  while (sim.step()) {
    transit.push_back(sim.in_transit(link));
    stock.push_back(sim.stock(link));
    EXPECT_EQ(sim.lead_time(link), 4);
  }
  EXPECT_EQ(transit, (std::vector<double>{6, 4, 2, 0, 0, 0, 0, 0}));
  EXPECT_EQ(stock, (std::vector<double>{20, 20, 20, 20, 18, 16, 14, 12}));
  EXPECT_EQ(sim.first_shortage_day()[buyer], 0);  // y(0) = 0 < O(0)
}

TEST(LeadTimes, ChainFrontIsDelayedByLeadTimes) {
  // The chain of test_engine.cpp (r -> a -> b -> c, all flows 1, n_a = 10, n_b = 20, n_c = 5)
  // with lead time l = 3 on every link; r loses all capacity on day 0.
  // a: the initial pipeline arrives on days 0..l-1 = 0..2, nothing from day 3, so
  //    S_a(k) = n_a - (k - 2) for k >= 3, and x_a(k) < 1 first when S_a(k) < 1:
  //    k = n_a + l - 1 = 12 (S_a(12) = 0). b is first short on day 12.
  // b: a's shipments are 1 until day 11, 0 from day 12, arriving 3 days later: nothing arrives
  //    from day 15, S_b(k) = n_b - (k - 14), and b first fails on k = n_b + 14 = 34:
  //    c is first short on day n_a + n_b + 2 (l - 1) = 34.
  // c: b's last full shipment (day 33) arrives on day 36, S_c(k) = n_c - (k - 36) from day 37,
  //    x_c(k) = 0 first at k = n_c + 36 = 41.
  WorldBuilder b;
  auto X = b.country("XXX");
  auto ore = b.material("ore"), ma = b.material("ma"), mb = b.material("mb"), mc = b.material("mc");
  b.tables().lead_times.domestic = 3;
  auto r = b.firm("r", X, ore), a = b.firm("a", X, ma, 0.0, 10.0),
       bb = b.firm("b", X, mb, 0.0, 20.0), c = b.firm("c", X, mc, 1.0, 5.0);
  b.link(r, a, 1.0);
  b.link(a, bb, 1.0);
  b.link(bb, c, 1.0);
  World w = b.build();
  Scenario sc = make_scenario(
      "days: 50\nevents:\n  - {type: capacity_loss, start: 0, firms: [r], loss: 1.0}\n");
  Simulation sim(w, sc, with_threads(1));
  std::vector<double> xc;
  while (sim.step()) xc.push_back(sim.production()[c]);
  auto first = sim.first_shortage_day();
  EXPECT_EQ(first[a], 0);
  EXPECT_EQ(first[bb], 12);
  EXPECT_EQ(first[c], 34);
  EXPECT_EQ(xc[40], 1.0);
  EXPECT_EQ(xc[41], 0.0);
}

TEST(TransportDisruption, RaisesLeadTimesOfMatchingCrossBorderLinksOnly) {
  // s (CHN, ga, final demand 10) sells 1 to b (JPN) and 2 to u (USA); d (JPN, ch) sells 1 to b.
  // All lead times 1. A transport disruption between CHN and JPN on days [5, 20) adds 4 days:
  // only s -> b matches (d -> b is domestic, s -> u is CHN -> USA).
  WorldBuilder wb;
  auto CHN = wb.country("CHN"), JPN = wb.country("JPN"), USA = wb.country("USA");
  auto ga = wb.material("ga", 10.0), ch = wb.material("ch", 10.0), wf = wb.material("wf");
  auto s = wb.firm("s", CHN, ga, 10.0), d = wb.firm("d", JPN, ch), b = wb.firm("b", JPN, wf, 1.0),
       u = wb.firm("u", USA, wf, 1.0);
  const LinkId sb = wb.link(s, b, 1.0), su = wb.link(s, u, 2.0), db = wb.link(d, b, 1.0);
  World w = wb.build();
  // final_demand_last: s's final users absorb the extra orders, so every order is shipped in
  // full and the only effect on b is the delay.
  Scenario sc = make_scenario(
      "days: 40\nmodel: {tau: 4, rationing: final_demand_last}\nevents:\n"
      "  - {type: transport_disruption, start: 5, end: 20, between: [[CHN], [JPN]],"
      " extra_days: 4}\n");
  ASSERT_TRUE(check_scenario(sc, w).empty());
  Simulation sim(w, sc, with_threads(1));

  // Shipment log of s -> b: day shipped -> (amount, lead time when shipped).
  std::map<int, std::pair<double, int>> shipped;
  shipped[-1] = {1.0, 1};  // the initial pipeline: Z0 shipped on day -1 with lead 1
  double prev_stock = 10.0, prev_xr = 1.0;
  const double n = 10.0, z0 = 1.0, tau = 4.0;
  while (sim.step()) {
    const int t = sim.day();
    const int l = sim.lead_time(sb);
    EXPECT_EQ(l, t >= 5 && t < 20 ? 5 : 1) << t;
    EXPECT_EQ(sim.lead_time(su), 1) << t;
    EXPECT_EQ(sim.lead_time(db), 1) << t;
    shipped[t] = {sim.delivery(sb), l};
    // Goods keep the arrival day they had when shipped: expected arrivals today.
    double arrival = 0.0, transit = 0.0;
    for (const auto& [day, v] : shipped) {
      if (day + v.second == t) arrival += v.first;
      if (day <= t && day + v.second > t) transit += v.first;
    }
    // Step 2 with a single supplier of ga: S(t) = S(t-1) + arrival - xr(t-1) Z0.
    EXPECT_NEAR(sim.stock(sb), prev_stock + arrival - prev_xr * z0, 1e-12) << t;
    EXPECT_NEAR(sim.in_transit(sb), transit, 1e-12) << t;
    // Step 3 with section 5's pipeline term; T before today's shipment = transit - y(t).
    const double T = transit - sim.delivery(sb);
    const double want = prev_xr * z0 + ((n + l - 1) * z0 * prev_xr - sim.stock(sb) - T) / tau;
    EXPECT_NEAR(sim.order(sb), std::max(0.0, want), 1e-12) << t;
    if (t == 5) {
      // S(5) = 10 (day 4's shipment arrived), T = 0, l = 5:
      // O = 1 + ((10 + 5 - 1) - 10 - 0)/4 = 2.
      EXPECT_EQ(sim.order(sb), 2.0);
      EXPECT_EQ(sim.delivery(sb), 2.0);
    }
    if (t >= 6 && t <= 9) {
      EXPECT_EQ(arrival, 0.0) << t;  // nothing arrives while day 5's shipment travels
    }
    if (t == 21) {
      // Day 16's shipment (lead 5) and day 20's (lead 1 again) both land on day 21.
      EXPECT_NEAR(arrival, shipped[16].first + shipped[20].first, 0.0);
      EXPECT_GT(shipped[16].first, 0.0);
      EXPECT_GT(shipped[20].first, 0.0);
    }
    EXPECT_EQ(sim.delivery(sb), sim.order(sb)) << t;  // every order shipped in full
    prev_stock = sim.stock(sb);
    prev_xr = sim.production()[b] / w.baseline_output()[b];
  }
  // Delays are not shortages: b got everything it ordered, only later.
  EXPECT_EQ(sim.first_shortage_day()[b], -1);
  EXPECT_EQ(sim.first_shortage_day()[u], -1);
  ASSERT_EQ(sim.event_log().size(), 2u);
  EXPECT_EQ(sim.event_log()[1].type, "end:transport_disruption");
  EXPECT_EQ(sim.event_log()[1].day, 20);
}

TEST(TransportDisruption, GroupsAndAllMatchEitherDirection) {
  // between [[g], [all]]: any cross-border link with either end in group g.
  WorldBuilder wb;
  auto A = wb.country("AAA", {"g"}), B = wb.country("BBB"), C = wb.country("CCC");
  auto m = wb.material("m"), n = wb.material("n");
  auto a = wb.firm("a", A, m, 1.0), a2 = wb.firm("a2", A, n, 1.0), bf = wb.firm("b", B, n, 1.0),
       cf = wb.firm("c", C, n, 1.0), b2 = wb.firm("b2", B, m, 1.0);
  const LinkId ab = wb.link(a, bf, 1.0), ba = wb.link(b2, a2, 1.0), bc = wb.link(b2, cf, 1.0),
               aa = wb.link(a, a2, 1.0);
  World w = wb.build();
  Scenario sc = make_scenario(
      "days: 2\nevents:\n  - {type: transport_disruption, start: 0, between: [[g], [all]],"
      " extra_days: 7}\n");
  Simulation sim(w, sc, with_threads(1));
  sim.step();
  EXPECT_EQ(sim.lead_time(ab), 8);  // AAA -> BBB
  EXPECT_EQ(sim.lead_time(ba), 8);  // BBB -> AAA (either direction)
  EXPECT_EQ(sim.lead_time(bc), 1);  // BBB -> CCC: neither side in g
  EXPECT_EQ(sim.lead_time(aa), 1);  // domestic
}

TEST(LeadTimes, FullRingsAgreeWithRingsThatCanLengthen) {
  // Without transport disruptions every ring is exactly as long as its lead time and holds one
  // shipment a day, and the engine skips the shipment counts (arrive_full/ship_full). A
  // disruption that matches every cross-border link but starts after the last day leaves the
  // model unchanged and forces the general rings (3 slots longer, counts kept). The two must
  // agree day by day, under a shock that makes shortages come and go (stocks or orders at 0),
  // with lead times 1 to 9. Not to the last bit: the longer rings hold the same shipments in
  // another slot order, and in-transit deviations are summed in slot order; a wrong count or
  // slot is off by whole shipments.
  WorldBuilder wb;
  auto A = wb.country("AAA"), B = wb.country("BBB"), C = wb.country("CCC");
  auto raw = wb.material("raw", 8.0), mid = wb.material("mid", 5.0), fin = wb.material("fin");
  auto r1 = wb.firm("r1", A, raw, 2.0), r2 = wb.firm("r2", B, raw, 1.0);
  auto m1 = wb.firm("m1", B, mid, 1.0), m2 = wb.firm("m2", C, mid);
  auto f1 = wb.firm("f1", C, fin, 3.0), f2 = wb.firm("f2", A, fin, 2.0);
  std::vector<LinkId> links{wb.link(r1, m1, 3.0, 9), wb.link(r2, m1, 1.0, 1),
                            wb.link(r1, m2, 2.0, 4), wb.link(r2, m2, 2.0, 6),
                            wb.link(m1, f1, 2.5, 3), wb.link(m2, f1, 1.5, 2),
                            wb.link(m1, f2, 1.0, 7), wb.link(m2, f2, 2.0, 5)};
  World w = wb.build();
  const std::string later =
      "  - {type: transport_disruption, start: 500, between: [[all], [all]], extra_days: 3}\n";
  for (const std::string rule : {"proportional", "waterfill", "priority"}) {
    const std::string body =
        "days: 60\nmodel: {tau: 3, inventory_days: 2, rationing: " + rule +
        "}\nevents:\n"
        "  - {type: capacity_loss, start: 2, firms: [r1], loss: 0.9,"
        " recovery: {type: linear, days: 25}}\n"
        "  - {type: export_control, start: 10, end: 30, exporters: [BBB], materials: [raw, mid],"
        " targets: [all], license_share: 0.3}\n";
    Simulation full(w, make_scenario(body), with_threads(1));
    Simulation rings(w, make_scenario(body + later), with_threads(2));
    auto near = [](double a, double b) {
      return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(a));
    };
    bool some_zero = false;
    while (full.step()) {
      ASSERT_TRUE(rings.step());
      const int t = full.day();
      for (FirmId i = 0; i < w.num_firms(); ++i) {
        EXPECT_PRED2(near, full.production()[i], rings.production()[i]) << rule << " day " << t;
        EXPECT_PRED2(near, full.input_shortfall()[i], rings.input_shortfall()[i])
            << rule << " day " << t;
      }
      for (LinkId l : links) {
        EXPECT_EQ(full.lead_time(l), rings.lead_time(l));
        EXPECT_PRED2(near, full.stock(l), rings.stock(l)) << rule << " day " << t;
        EXPECT_PRED2(near, full.order(l), rings.order(l)) << rule << " day " << t;
        EXPECT_PRED2(near, full.delivery(l), rings.delivery(l)) << rule << " day " << t;
        EXPECT_PRED2(near, full.in_transit(l), rings.in_transit(l)) << rule << " day " << t;
        some_zero = some_zero || full.stock(l) == 0.0 || full.order(l) == 0.0;
      }
    }
    EXPECT_TRUE(some_zero) << rule << ": the shock should bring some stock or order to 0";
  }
}

TEST(LeadTimes, SlotsOfOneLaneTakenApartGiveTheGeneralLoopsBits) {
  // Where every lead time is 1 the buyer and shipping phases take a block's slots of one lane
  // in one flat loop and its other slots after them (buyer_one_lane, ship_one_lane), each
  // slot with the general loops' operations in the same order, and the supplier phase takes
  // its input limits, and the metrics pass its sums over slots, a block at a time
  // (supplier_loop<true, ..>, cm_accumulate<.., true>). Without export controls, under
  // proportional rationing and final demand last, the buyers also leave their orders unscattered
  // and the suppliers gather them (gather_orders). The supplier phase divides only where a
  // quotient can lower production and flags the firms short of an input, whose blocks alone
  // the metrics pass then sums on the days not recorded in full (record every 4 days); on those
  // days the buyer and shipping phases also leave the sums of slots of one lane unwritten
  // (slot_sums_left), and the order backlog summed on demand (state_diff) takes them from the
  // lanes. Substitution with a threshold of 0 (no fill ratio is below 0, so no link is ever added)
  // keeps the model as it is and makes the engine list no slots and take its general loops
  // (buyer_any, ship_range's) and the input limits and the metrics sums firm by firm: the two
  // must agree bit for bit (state and run metrics), on one thread and on three (ranges cut
  // anywhere in the lists), in a world of 3,000 firms (twelve blocks of 256) where slots of one
  // lane and of several sit side by side, under a shock (and export controls) that bring
  // stocks, orders and fills to 0 and back and leave firms short of inputs. Under model
  // version 2 (planned orders, no destocking) and the published model.
  const World w = random_world(3000, 7, true);
  for (const bool controls : {true, false})
    for (const std::string model : {"", ", preset: inoue_todo_2019"})
      for (const std::string rule :
           {"proportional", "waterfill", "priority", "final_demand_last"}) {
        const std::string what = rule + model + (controls ? ", controls" : "");
        auto body = [&](const std::string& more) {
          return "world: unused.yaml\ndays: 40\nrecord: {every: 4}\nmodel: {tau: 3, rationing: " +
                 rule + model + more +
                 "}\nevents:\n"
                 "  - {type: capacity_loss, start: 2, material: m0, loss: 0.8,"
                 " recovery: {type: linear, days: 20}}\n" +
                 (controls ? "  - {type: export_control, start: 5, end: 25, exporters: [C1],"
                             " materials: [m1, m2], targets: [g2], license_share: 0.2}\n"
                           : "");
        };
        auto scenario = [&](const std::string& more) {
          return parse_scenario(body(more), "t.yaml");
        };
        Simulation listed(w, scenario(""), with_threads(1));
        Simulation general(w, scenario(", substitution: {threshold: 0.0}"), with_threads(1));
        Simulation listed3(w, scenario(""), with_threads(3));
        bool some_short = false;
        while (listed.step()) {
          ASSERT_TRUE(general.step());
          ASSERT_TRUE(listed3.step());
          ASSERT_EQ(state_diff(listed, general), "") << what << " day " << listed.day();
          ASSERT_EQ(state_diff(listed, listed3), "") << what << " day " << listed.day();
          for (double v : listed.input_shortfall()) some_short = some_short || v > 0.0;
        }
        EXPECT_TRUE(some_short) << what << ": the shock should leave some firm short of an input";
        const std::vector<double> days_short = listed.run_metrics().shortage_days;
        EXPECT_GT(*std::max_element(days_short.begin(), days_short.end()), 0.0)
            << what << ": some firm's stock should fall below its use";
      }
}
