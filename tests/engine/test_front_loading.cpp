// Front-loading (docs/model.md 3.1): while the event is active, the buyers of the named inputs in
// the target countries hold `extra_days` more days of stock as their target n (3.3); the orders
// and stocks follow from sections 3.2-3.3 alone, so the expected values below are that
// recurrence, computed here, not the program's output.
#include <gtest/gtest.h>

#include <string>

#include "shortfall/error.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/world.hpp"
#include "test_support.hpp"

using namespace shortfall;
using testing_support::random_world;
using testing_support::state_diff;
using testing_support::with_threads;

namespace {

Scenario v2_scenario(const std::string& body) {
  return parse_scenario("world: unused.yaml\n" + body, "test-scenario.yaml");
}

}  // namespace

TEST(FrontLoading, BuyersInTheTargetsOrderUpToTheRaisedTargetAndKeepIt) {
  // s (AAA, m, final demand 10) sells Z0 = 1 to b (BBB) and 1 to c (CCC); n = 10 days of m,
  // tau 4, lead times 1. b and c sell 1 a day to their final users and use 1 of m a unit.
  // Front-loading of 8 days by BBB's buyers of m on days [5, 20). With final_demand_last, s's
  // final users absorb what s cannot make, so b's orders are shipped in full and
  //   S(t) = S(t-1) + O(t-1) - 1                          (3.2: single supplier, x = x0)
  //   O(t) = 1 + R(t) / tau,  R(t) = n(t) - S(t)           (3.3: x̂ = x0), clipped at 0
  // with n(t) = 18 on days 5-19, else 10; with destocking R is not clipped, and b's stock
  // comes back to 10 once the event ends.
  for (bool destocking : {false, true}) {
    SCOPED_TRACE(destocking ? "destocking" : "no destocking");
    WorldBuilder wb;
    auto A = wb.country("AAA"), B = wb.country("BBB"), C = wb.country("CCC");
    auto m = wb.material("m", 10.0), p = wb.material("p");
    auto s = wb.firm("s", A, m, 10.0), b = wb.firm("b", B, p, 1.0), c = wb.firm("c", C, p, 1.0);
    const LinkId sb = wb.link(s, b, 1.0, 1), sc = wb.link(s, c, 1.0, 1);
    World w = wb.build();
    Scenario sn =
        v2_scenario("days: 60\nmodel: {tau: 4, rationing: final_demand_last, destocking: " +
                    std::string(destocking ? "true" : "false") +
                    "}\nevents:\n"
                    "  - {type: front_loading, start: 5, end: 20, targets: [BBB], materials: [m],"
                    " extra_days: 8}\n");
    ASSERT_TRUE(check_scenario(sn, w).empty());
    Simulation sim(w, sn, with_threads(1));
    double S = 10.0, O = 1.0;  // the state before day 0
    const double tau = 4.0;
    const std::size_t nm = w.materials().size();
    while (sim.step()) {
      const int t = sim.day();
      const double n = t >= 5 && t < 20 ? 18.0 : 10.0;
      S = S + O - 1.0;
      double R = n - S;
      if (!destocking) R = std::max(0.0, R);
      O = std::max(0.0, 1.0 + R / tau);
      EXPECT_NEAR(sim.stock(sb), S, 1e-12) << t;
      EXPECT_NEAR(sim.order(sb), O, 1e-12) << t;
      EXPECT_NEAR(sim.delivery(sb), O, 1e-12) << t;  // shipped in full
      EXPECT_NEAR(sim.country_material().inventory_days[B * nm + m], S, 1e-12) << t;
      // CCC's buyer is not in the targets: it stays at rest, bit for bit.
      EXPECT_EQ(sim.stock(sc), 10.0) << t;
      EXPECT_EQ(sim.order(sc), 1.0) << t;
      EXPECT_EQ(sim.production()[b], 1.0) << t;
      if (t == 19) {
        EXPECT_GT(S, 17.0);  // most of the 8 extra days are in stock after 15 days
      }
    }
    // Without destocking the extra stock stays (orders never fall below use); with it, b's
    // stock returns to its target of 10 days.
    if (destocking) {
      EXPECT_NEAR(S, 10.0, 1e-3);
    } else {
      EXPECT_GT(S, 17.0);
    }
    (void)c;
  }
}

TEST(FrontLoading, ExtraStockCarriesBuyersThroughALongerCut) {
  // The same world; a total export control by AAA on m to BBB and CCC from day 20 to 40. b
  // front-loads 8 more days on days [5, 20) and c does not. c's last delivery arrives on day 20
  // (shipped on day 19), so S(t) = 10 - (t - 20) from day 20 and its output falls on day 30,
  // when it has nothing left; b starts the cut with more than 17 days and produces to day 36
  // at least.
  WorldBuilder wb;
  auto A = wb.country("AAA"), B = wb.country("BBB"), C = wb.country("CCC");
  auto m = wb.material("m", 10.0), p = wb.material("p");
  auto s = wb.firm("s", A, m, 10.0), b = wb.firm("b", B, p, 1.0), c = wb.firm("c", C, p, 1.0);
  wb.link(s, b, 1.0, 1);
  wb.link(s, c, 1.0, 1);
  World w = wb.build();
  Scenario sn = v2_scenario(
      "days: 45\nmodel: {tau: 4, rationing: final_demand_last}\nevents:\n"
      "  - {type: front_loading, start: 5, end: 20, targets: [BBB], materials: [m],"
      " extra_days: 8}\n"
      "  - {type: export_control, start: 20, end: 40, exporters: [AAA], materials: [m],"
      " targets: [all], license_share: 0}\n");
  Simulation sim(w, sn, with_threads(1));
  int c_first_short = -1, b_first_short = -1;
  while (sim.step()) {
    const int t = sim.day();
    if (c_first_short < 0 && sim.production()[c] < 1.0) c_first_short = t;
    if (b_first_short < 0 && sim.production()[b] < 1.0) b_first_short = t;
  }
  EXPECT_EQ(c_first_short, 30);
  EXPECT_GE(b_first_short, 37);
}

TEST(FrontLoading, GroupsAndExceptionsSelectTheBuyersAndThreadsAgree) {
  // On a random world (5 countries in groups g1, g2): front-loading by g1 except C1 (so C0 and
  // C3) on m1 and m3, then an export control from C2; on 1 and 2 threads the same state, bit
  // for bit, every day. (Checkpoints: tests/engine/test_checkpoint.cpp resumes a run with a
  // front-loading event.)
  const World w = random_world(3000, 11);
  const std::string control =
      "  - {type: export_control, start: 30, end: 60, exporters: [C2], materials: [all],"
      " targets: [all], license_share: 0.2}\n";
  const Scenario sn = v2_scenario(
      "days: 80\nevents:\n"
      "  - {type: front_loading, start: 3, end: 40, targets: [g1], except: [C1],"
      " materials: [m1, m3], extra_days: 12.5}\n" +
      control);
  const Scenario without = v2_scenario("days: 80\nevents:\n" + control);
  ASSERT_TRUE(check_scenario(sn, w).empty());
  Simulation one(w, sn, with_threads(1)), two(w, sn, with_threads(2)), base(w, without);
  const std::size_t nm = w.materials().size();
  while (one.step()) {
    ASSERT_TRUE(two.step());
    ASSERT_TRUE(base.step());
    ASSERT_EQ(state_diff(one, two), "") << "day " << one.day();
    if (one.day() != 25) continue;
    // By day 25 (22 days at tau 6) the targeted buyers hold several of the 12.5 extra days
    // (how many depends on their suppliers' headroom; the exact path: the test above).
    const auto with = one.country_material().inventory_days,
               plain = base.country_material().inventory_days;
    for (const char* code : {"C0", "C3"})
      for (const char* mat : {"m1", "m3"}) {
        const std::size_t k = *w.find_country(code) * nm + *w.find_material(mat);
        EXPECT_GT(with[k], plain[k] + 5.0) << code << " " << mat;
      }
  }
  // Before it starts, the run is the plain one.
  Simulation early(w, sn, with_threads(1)), plain(w, without);
  for (int t = 0; t < 3; ++t) {
    early.step();
    plain.step();
  }
  EXPECT_EQ(state_diff(early, plain), "");
}

TEST(FrontLoading, BadInputNamesTheKey) {
  auto error_of = [](const std::string& event) {
    try {
      (void)v2_scenario("days: 5\nevents:\n  - " + event + "\n");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string negative =
      error_of("{type: front_loading, start: 0, targets: [all], materials: [m], extra_days: -3}");
  EXPECT_NE(negative.find("events[0].extra_days"), std::string::npos) << negative;
  EXPECT_NE(negative.find("-3"), std::string::npos) << negative;
  const std::string no_targets =
      error_of("{type: front_loading, start: 0, materials: [m], extra_days: 3}");
  EXPECT_NE(no_targets.find("targets"), std::string::npos) << no_targets;
  const std::string no_materials =
      error_of("{type: front_loading, start: 0, targets: [all], extra_days: 3}");
  EXPECT_NE(no_materials.find("materials"), std::string::npos) << no_materials;
  const std::string exporters = error_of(
      "{type: front_loading, start: 0, targets: [all], materials: [m], extra_days: 3,"
      " exporters: [CHN]}");
  EXPECT_NE(exporters.find("exporters"), std::string::npos) << exporters;
  // Names are checked against the world.
  const World w = random_world(50, 3);
  const Scenario unknown = v2_scenario(
      "days: 5\nevents:\n  - {type: front_loading, start: 0, targets: [XXX], materials: [m1],"
      " extra_days: 3}\n");
  try {
    (void)check_scenario(unknown, w);
    ADD_FAILURE() << "an unknown country was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("XXX"), std::string::npos) << e.what();
  }
}
