// Policies and adaptive behaviour (docs/model.md sections 6-9) on small analytic worlds built with
// WorldBuilder, with the expected numbers worked out by hand in the comments; then the
// switched-off and never-triggered cases against the core bit for bit, thread-count determinism
// with links added during the run, and the shipped IPEF response-timing study
// (scenarios/ipef-response-timing*.yaml).
//
// Conventions of the small worlds: every firm's baseline output is 1 unit a day (x0 = sales to
// firms + final demand), lead times are 1 day, tau = 6 (the default), so at baseline the buyer's
// stock of an input is n Z0 and its order is exactly Z0 (docs/model.md 2-3).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "shortfall/generator.hpp"
#include "shortfall/metrics.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/world.hpp"
#include "test_support.hpp"

using namespace shortfall;
using namespace shortfall::testing_support;

namespace {

/// The event-log rows of one type, in order.
std::vector<EventRecord> rows(const Simulation& sim, const std::string& type) {
  std::vector<EventRecord> out;
  for (const auto& e : sim.event_log())
    if (e.type == type) out.push_back(e);
  return out;
}

FirmId firm(const World& w, const char* id) {
  return *w.find_firm(id);
}

// ---- Section 7: a buyer switches to the only alternative supplier -----------------------------

/// s1 (XXX) sells ore to b (BBB) 1 unit/day; s2 (YYY) makes the same ore for final users only.
/// Ore users hold n = 10 days.
World switch_world() {
  WorldBuilder b;
  auto X = b.country("XXX"), B = b.country("BBB"), Y = b.country("YYY");
  auto ore = b.material("ore", 10.0), good = b.material("good");
  auto s1 = b.firm("s1", X, ore, 0.0);
  b.firm("s2", Y, ore, 1.0);
  auto buyer = b.firm("b", B, good, 1.0);
  b.link(s1, buyer, 1.0, 1);
  return b.build();
}

TEST(NewSupplier, SwitchesToTheOnlyAlternativeOnDayTSearchWithItsSpareCapacity) {
  // s1 loses all capacity on day 0, so b receives y = 0 of its order O every day from day 0:
  // its fill ratio sum y / sum O is 0 < theta = 0.9 on days 0, 1, 2, 3, ... With T_search = 4
  // the fourth consecutive day, day 3, is the day of the switch (and not day 2).
  // s2's final demand is halved from day 0: D = C = 0.5, x = 0.5, x^cap = 1, so its spare
  // capacity sigma = x^cap - x = 0.5 exactly. The shortfall W = Z0 (1 - y/O) = 1 (y = 0).
  // New link flow = min(sigma, W) = 0.5; the old link's baseline drops to 1 - 0.5 = 0.5, so
  // A_{b,ore} stays 1. s2 is the only candidate (s1 is linked and has no spare capacity).
  World w = switch_world();
  const FirmId s2 = firm(w, "s2"), b = firm(w, "b");
  Scenario s = make_scenario(
      "days: 10\n"
      "model: {substitution: {enabled: true, threshold: 0.9, search_days: 4}}\n"
      "events:\n"
      "  - {type: capacity_loss, start: 0, firms: [s1], loss: 1.0}\n"
      "  - {type: demand_shock, start: 0, firms: [s2], factor: 0.5}\n");
  ASSERT_TRUE(check_scenario(s, w).empty());
  Simulation sim(w, s, with_threads(1));
  double xr_day3 = 0.0;
  while (sim.step()) {
    const int t = sim.day();
    EXPECT_EQ(sim.delivery(0), 0.0) << t;
    if (t <= 3) {
      // sigma_{s2} = 1 - 0.5 before the switch.
      EXPECT_EQ(sim.capacity()[s2] - sim.production()[s2], 0.5) << t;
    }
    if (t < 3) {
      EXPECT_EQ(sim.added_links(), 0u) << "switched on day " << t << ", before T_search";
    } else {
      ASSERT_EQ(sim.added_links(), 1u) << t;
      auto [sup, buy, z0] = sim.added_link(0);
      EXPECT_EQ(sup, s2);
      EXPECT_EQ(buy, b);
      EXPECT_EQ(z0, 0.5);
    }
    if (t == 3) xr_day3 = sim.production()[b] / w.baseline_output()[b];
    if (t == 4) {
      // The next day's orders use the new baselines (docs/model.md 3.3 with l = 1, T = 0):
      // old lane: O = max(0, 0.5 xr + (10 * 0.5 xr - S_old) / 6), S_old its stock after step 2.
      const double xr = xr_day3;
      EXPECT_EQ(xr, 1.0);  // b still produces from its 10 days of stock
      EXPECT_NEAR(sim.order(0), std::max(0.0, 0.5 * xr + (10 * 0.5 * xr - sim.stock(0)) / 6.0),
                  1e-14);
      // New lane: no stock, nothing in transit: O = 0.5 xr + 10 * 0.5 xr / 6; s2's demand is
      // its final demand 0.5 plus that order.
      EXPECT_NEAR(sim.demand()[s2], 0.5 + 0.5 * xr + 10 * 0.5 * xr / 6.0, 1e-14);
    }
  }
  // No second switch: the only other ore producer (s1) is already linked.
  EXPECT_EQ(sim.added_links(), 1u);
  auto sw = rows(sim, "supplier_switch");
  ASSERT_EQ(sw.size(), 1u);
  EXPECT_EQ(sw[0].day, 3);
  EXPECT_EQ(sw[0].country, "BBB");
  EXPECT_EQ(sw[0].material, "ore");
  EXPECT_EQ(sw[0].firms, 2);
  EXPECT_EQ(sw[0].quantity, 0.5);
}

TEST(NewSupplier, FlowIsTheShortfallWhenThatIsSmallerThanTheSpareCapacity) {
  // As above, but s1 keeps 60% of its capacity: x^cap = 0.6, D = O = 1 on day 0, y = 0.6,
  // fill 0.6 < 0.9. s2's final demand is cut to 0 (factor 0): sigma = 1. With T_search = 1
  // the switch is on day 0, W = Z0 (1 - y/O) = 1 - 0.6/1 = 0.4 (the order is exactly Z0 = 1 on
  // day 0), and the new flow is min(1, 0.4) = 0.4 = W, computed as 1 * (1 - 0.6 / 1).
  World w = switch_world();
  Scenario s = make_scenario(
      "days: 1\n"
      "model: {substitution: {enabled: true, search_days: 1}}\n"
      "events:\n"
      "  - {type: capacity_loss, start: 0, firms: [s1], loss: 0.4}\n"
      "  - {type: demand_shock, start: 0, firms: [s2], factor: 0.0}\n");
  Simulation sim(w, s, with_threads(1));
  sim.run();
  EXPECT_EQ(sim.order(0), 1.0);
  EXPECT_EQ(sim.delivery(0), 0.6);
  ASSERT_EQ(sim.added_links(), 1u);
  EXPECT_EQ(std::get<2>(sim.added_link(0)), 1.0 * (1.0 - 0.6 / 1.0));
}

// Under waterfill a supplier keeps the sum of its customers' Z0 (its weight) between days; a
// switch moves part of a link's baseline away, and the weight must follow. s1 also sells 1 to
// its own final users (C0 = 1), so x0 = 2; it loses 75% of its capacity from day 0: x = 0.5.
// Day 0: O = 1 (ratio 1) and C = 1 (ratio 1), L = x / (Z0 + C0) = 0.25, y = 0.25, fill 0.25,
// W = Z0 (1 - y/O) = 0.75, and s2 (spare 1: its final demand cut to 0) takes 0.75: the old
// link's Z0 becomes 0.25 and s1's weight 0.25 + 1 = 1.25. s1 runs short every day after
// (its final demand alone exceeds x), and then ships all it makes: y + c = x, with
// y = min(O, L 0.25), c = min(1, L). A weight left at 2 gives L too small by 1.25 / 2 and
// ships less than x.
TEST(NewSupplier, WaterfillWeightFollowsTheMovedBaseline) {
  WorldBuilder b;
  auto X = b.country("XXX"), Y = b.country("YYY"), B = b.country("BBB");
  auto ore = b.material("ore", 10.0), good = b.material("good");
  auto s1 = b.firm("s1", X, ore, 1.0);
  b.firm("s2", Y, ore, 1.0);
  auto buyer = b.firm("b", B, good, 1.0);
  b.link(s1, buyer, 1.0, 1);
  const World w = b.build();
  Scenario s = make_scenario(
      "days: 30\n"
      "model: {rationing: waterfill, substitution: {enabled: true, search_days: 1}}\n"
      "events:\n"
      "  - {type: capacity_loss, start: 0, firms: [s1], loss: 0.75}\n"
      "  - {type: demand_shock, start: 0, firms: [s2], factor: 0.0}\n");
  ASSERT_TRUE(check_scenario(s, w).empty());
  Simulation sim(w, s, with_threads(1));
  int short_days = 0;
  while (sim.step()) {
    const int t = sim.day();
    if (t == 0) {
      EXPECT_EQ(sim.delivery(0), 0.25);
      ASSERT_EQ(sim.added_links(), 1u);
      EXPECT_EQ(std::get<2>(sim.added_link(0)), 0.75);
      continue;
    }
    const double x = sim.production()[s1];
    EXPECT_EQ(x, 0.5) << t;
    ASSERT_GT(sim.demand()[s1], x) << t;
    ++short_days;
    EXPECT_NEAR(sim.delivery(0) + sim.final_delivered()[s1], x, 1e-15) << t;
  }
  EXPECT_EQ(short_days, 29);
}

/// b (BBB, group g1) buys ore from s1 (XXX). Candidates: x2 (XXX, blocked by the export
/// control), h (BBB, domestic), g (GGG, shares group g1 with BBB), r (RRR, no group).
World choice_world() {
  WorldBuilder b;
  auto X = b.country("XXX"), B = b.country("BBB", {"g1"}), G = b.country("GGG", {"g1"}),
       R = b.country("RRR");
  auto ore = b.material("ore", 10.0), good = b.material("good");
  auto s1 = b.firm("s1", X, ore, 0.0);
  const std::vector<std::pair<const char*, CountryId>> candidates = {
      {"x2", X}, {"h", B}, {"g", G}, {"r", R}};
  for (const auto& [id, c] : candidates) b.firm(id, c, ore, 1.0);
  auto buyer = b.firm("b", B, good, 1.0);
  b.link(s1, buyer, 1.0, 1);
  return b.build();
}

struct ChoiceCase {
  double home_bias, group_bias;
  const char* winner;
};

class CandidateChoice : public ::testing::TestWithParam<ChoiceCase> {};

TEST_P(CandidateChoice, LargestSpareTimesBiasAmongUnblockedCandidates) {
  // Export control XXX -> BBB on ore with k = 0 from day 0: y(s1 -> b) = 0, and x2 (XXX) is
  // not a candidate however large its spare capacity (sigma = 1: its demand is cut to 0).
  // Spare capacities from final-demand cuts: h 1 - 0.7 = 0.3, g 0.5, r 0.7.
  // Scores sigma x bias: h 0.3 home_bias, g 0.5 group_bias, r 0.7.
  //   home 2, group 1.5: h 0.6, g 0.75, r 0.7 -> g
  //   home 3, group 1.5: h 0.9, g 0.75, r 0.7 -> h
  //   home 1, group 1:   h 0.3, g 0.5,  r 0.7 -> r
  // W = 1 > sigma of each, so the new flow is the winner's sigma. T_search = 2: day 1.
  const ChoiceCase& cc = GetParam();
  World w = choice_world();
  Scenario s = make_scenario(
      "days: 2\n"
      "model: {substitution: {enabled: true, search_days: 2, home_bias: " +
      std::to_string(cc.home_bias) + ", group_bias: " + std::to_string(cc.group_bias) +
      "}}\n"
      "events:\n"
      "  - {type: export_control, start: 0, exporters: [XXX], materials: [ore], targets: [BBB],"
      " license_share: 0}\n"
      "  - {type: demand_shock, start: 0, firms: [x2], factor: 0.0}\n"
      "  - {type: demand_shock, start: 0, firms: [h], factor: 0.7}\n"
      "  - {type: demand_shock, start: 0, firms: [g], factor: 0.5}\n"
      "  - {type: demand_shock, start: 0, firms: [r], factor: 0.3}\n");
  ASSERT_TRUE(check_scenario(s, w).empty());
  Simulation sim(w, s, with_threads(1));
  sim.step();
  EXPECT_EQ(sim.added_links(), 0u);
  sim.step();
  ASSERT_EQ(sim.added_links(), 1u);
  auto [sup, buy, z0] = sim.added_link(0);
  const FirmId win = firm(w, cc.winner);
  EXPECT_EQ(w.firm_id()[sup], cc.winner);
  EXPECT_EQ(buy, firm(w, "b"));
  EXPECT_EQ(z0, sim.capacity()[win] - sim.production()[win]);
  EXPECT_EQ(rows(sim, "supplier_switch").at(0).day, 1);
}

INSTANTIATE_TEST_SUITE_P(Biases, CandidateChoice,
                         ::testing::Values(ChoiceCase{2.0, 1.5, "g"}, ChoiceCase{3.0, 1.5, "h"},
                                           ChoiceCase{1.0, 1.0, "r"}));

TEST(NewSupplier, TiesAreBrokenByTheSeedTheSameForAnyThreadCount) {
  // Two candidates in one country with the same spare capacity 0.5 tie on every score; on day 1
  // (T_search = 2) the draw keyed on (seed, buyer, material, day, candidate) picks one. Over 16
  // seeds both must win at least once (all alike has probability 2^-15), and each seed's pick is
  // the same for 1 and 4 threads and on a rerun.
  WorldBuilder wb;
  auto X = wb.country("XXX"), B = wb.country("BBB"), R = wb.country("RRR");
  auto ore = wb.material("ore", 10.0), good = wb.material("good");
  auto s1 = wb.firm("s1", X, ore, 0.0);
  wb.firm("c1", R, ore, 1.0);
  wb.firm("c2", R, ore, 1.0);
  auto buyer = wb.firm("b", B, good, 1.0);
  wb.link(s1, buyer, 1.0, 1);
  World w = wb.build();
  std::set<FirmId> winners;
  for (int seed = 1; seed <= 16; ++seed) {
    Scenario s =
        make_scenario("days: 2\nseed: " + std::to_string(seed) +
                      "\nmodel: {substitution: {enabled: true, search_days: 2}}\n"
                      "events:\n"
                      "  - {type: capacity_loss, start: 0, firms: [s1], loss: 1.0}\n"
                      "  - {type: demand_shock, start: 0, firms: [c1, c2], factor: 0.5}\n");
    std::vector<FirmId> pick;
    for (int n : {1, 4, 1}) {
      Simulation sim(w, s, with_threads(n));
      sim.run();
      ASSERT_EQ(sim.added_links(), 1u);
      pick.push_back(std::get<0>(sim.added_link(0)));
    }
    EXPECT_EQ(pick[0], pick[1]) << "seed " << seed;
    EXPECT_EQ(pick[0], pick[2]) << "seed " << seed;
    winners.insert(pick[0]);
  }
  EXPECT_EQ(winners.size(), 2u);
}

// ---- Section 9: stockpiles -----------------------------------------------------------------

/// s1 (XXX) sells ore to b (BBB) 1 unit/day; b holds n = 10 days and sells 1 unit/day to final
/// users. BBB's baseline daily use of ore is 1 (b's A; no BBB firm makes ore).
World stockpile_world() {
  WorldBuilder b;
  auto X = b.country("XXX"), B = b.country("BBB");
  auto ore = b.material("ore", 10.0), good = b.material("good");
  auto s1 = b.firm("s1", X, ore, 0.0);
  auto buyer = b.firm("b", B, good, 1.0);
  b.link(s1, buyer, 1.0, 1);
  return b.build();
}

const char* kCut = "events:\n  - {type: capacity_loss, start: 0, firms: [s1], loss: 1.0}\n";

/// Runs `s` and returns b's stock S (after the day, releases included) and output per day.
std::pair<std::vector<double>, std::vector<double>> stock_and_output(const World& w,
                                                                     const Scenario& s,
                                                                     Simulation* out = nullptr) {
  std::unique_ptr<Simulation> own;
  Simulation* sim = out;
  if (!sim) {
    own = std::make_unique<Simulation>(w, s, with_threads(1));
    sim = own.get();
  }
  std::vector<double> S, x;
  while (sim->step()) {
    S.push_back(sim->stock(0));
    x.push_back(sim->production()[1]);
  }
  return {S, x};
}

TEST(Stockpile, KUnitsBuyExactlyKDaysOfOutputOnceInputsRunShort) {
  // Without a stockpile (s1 stops on day 0): b's stock after step 2 on day t is 10 - t (the
  // day-0 arrival of 1 is the last), the draw is exactly 1 a day, b's output stays 1 while
  // S >= 1 and is 0 from day 10 (S = 0).
  // With k = 6 units (quantity: 6, or days_of_use: 6 x BBB's baseline use 1 of ore) released
  // when the input shortage ratio passes 0.5 at up to 100% a day: nothing opens while b's stock
  // covers its use (input shortage max(0, A min(x^cap, D)/x0 - S) = max(0, 1 - S) = 0 on days
  // 0-9); on day 10 the shortage is 1, the stockpile opens and releases min(level 6, rate 6,
  // gap to target n A - S = 10) = 6 into b's stock. b then produces 1 on days 11-16 (stock 6 ..
  // 1 after step 2) and 0 from day 17: the 6 units buy exactly 6 days of output.
  World w = stockpile_world();
  auto [S0, x0] = stock_and_output(w, make_scenario(std::string("days: 30\n") + kCut));
  Scenario with =
      make_scenario(std::string("days: 30\n") + kCut +
                    "policies:\n"
                    "  - {type: stockpile, name: reserve, country: BBB, material: ore, quantity: 6,"
                    " release: {when_shortage_ratio: 0.5, max_daily_share: 1.0}}\n");
  Simulation sim(w, with, with_threads(1));
  std::vector<double> S1, x1, level;
  while (sim.step()) {
    S1.push_back(sim.stock(0));
    x1.push_back(sim.production()[1]);
    auto st = sim.stockpiles();
    ASSERT_EQ(st.size(), 1u);
    EXPECT_EQ(st[0].initial, 6.0);
    level.push_back(st[0].level);
  }
  for (int t = 0; t < 30; ++t) {
    EXPECT_EQ(x0[std::size_t(t)], t < 10 ? 1.0 : 0.0) << t;
    EXPECT_EQ(level[std::size_t(t)], t < 10 ? 6.0 : 0.0) << t;
    EXPECT_EQ(x1[std::size_t(t)], (t < 10 || (t >= 11 && t <= 16)) ? 1.0 : 0.0) << t;
  }
  for (int t = 0; t < 10; ++t) EXPECT_EQ(S1[std::size_t(t)], S0[std::size_t(t)]) << t;
  auto rel = rows(sim, "stockpile_release");
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].day, 10);
  EXPECT_EQ(rel[0].quantity, 6.0);
  EXPECT_EQ(rel[0].country, "BBB");
  EXPECT_EQ(rel[0].material, "ore");
  EXPECT_EQ(rel[0].firms, 1);
  // Output lost over the run (model 10): 20 days without the stockpile, 14 with it.
  EXPECT_EQ(sim.run_metrics().output_lost_days[1 * w.materials().size() + 1], 14.0);
  // days_of_use: 6 is the same stockpile (6 x 1 unit of daily use), bit for bit.
  Scenario by_days = make_scenario(
      std::string("days: 30\n") + kCut +
      "policies:\n"
      "  - {type: stockpile, name: reserve, country: BBB, material: ore, days_of_use: 6,"
      " release: {when_shortage_ratio: 0.5, max_daily_share: 1.0}}\n");
  auto [S2, x2] = stock_and_output(w, by_days);
  EXPECT_EQ(S2, S1);
  EXPECT_EQ(x2, x1);
}

TEST(Stockpile, ReleaseIsCappedAtTheMaximumDailyShare) {
  // quantity 3, max_daily_share 0.125: rate 0.375 a day. It opens on day 10, b's first day
  // short (see above), and releases 0.375 a day while b's stock is below its target of 10
  // (it never gets there): exactly 3 / 0.375 = 8 releases of 0.375 on days 10..17, and the
  // level after day t >= 10 is 3 - 0.375 (t - 9).
  World w = stockpile_world();
  Scenario s =
      make_scenario(std::string("days: 22\n") + kCut +
                    "policies:\n"
                    "  - {type: stockpile, name: reserve, country: BBB, material: ore, quantity: 3,"
                    " release: {when_shortage_ratio: 0.5, max_daily_share: 0.125}}\n");
  Simulation sim(w, s, with_threads(1));
  while (sim.step()) {
    const int t = sim.day();
    EXPECT_EQ(sim.stockpiles()[0].level, t < 10 ? 3.0 : std::max(0.0, 3.0 - 0.375 * (t - 9))) << t;
  }
  auto rel = rows(sim, "stockpile_release");
  ASSERT_EQ(rel.size(), 8u);
  for (int t = 0; t < 8; ++t) {
    EXPECT_EQ(rel[std::size_t(t)].day, 10 + t);
    EXPECT_EQ(rel[std::size_t(t)].quantity, 0.375);
  }
}

TEST(Stockpile, ReleaseFromAStartDayOrNeverWithoutARule) {
  // release: {start: 3}: nothing on days 0-2 although short; from day 3 at the default rate
  // 5% of 6 = 0.3 a day (< need). release: {max_daily_share: ...} alone has no rule of its own
  // (only a crisis mechanism can switch it on): it never releases.
  World w = stockpile_world();
  Scenario s = make_scenario(
      std::string("days: 6\n") + kCut +
      "policies:\n"
      "  - {type: stockpile, name: from-day-3, country: BBB, material: ore, quantity: 6,"
      " release: {start: 3}}\n"
      "  - {type: stockpile, name: shut, country: BBB, material: ore, quantity: 6,"
      " release: {max_daily_share: 0.5}}\n");
  Simulation sim(w, s, with_threads(1));
  sim.run();
  auto rel = rows(sim, "stockpile_release");
  ASSERT_EQ(rel.size(), 3u);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(rel[k].day, 3 + k);
    EXPECT_EQ(rel[k].quantity, 0.05 * 6.0);
    EXPECT_EQ(rel[k].description.rfind("from-day-3", 0), 0u);
  }
  EXPECT_EQ(sim.stockpiles()[1].level, 6.0);
}

// ---- Section 8: crisis-response mechanisms ---------------------------------------------------

/// b (BBB, ipef) buys ore from s1 (XXX, not a member); s2 (MMM, ipef) and r (RRR, not a member)
/// make ore for final users. Ore users hold 60 days, so b keeps producing for the whole test.
World crisis_world() {
  WorldBuilder b;
  auto X = b.country("XXX"), B = b.country("BBB", {"ipef"}), M = b.country("MMM", {"ipef"}),
       R = b.country("RRR");
  auto ore = b.material("ore", 60.0), good = b.material("good");
  auto s1 = b.firm("s1", X, ore, 0.0);
  b.firm("s2", M, ore, 1.0);
  b.firm("r", R, ore, 1.0);
  auto buyer = b.firm("b", B, good, 1.0);
  b.link(s1, buyer, 1.0, 1);
  return b.build();
}

class CrisisTiming : public ::testing::TestWithParam<std::pair<int, int>> {};

TEST_P(CrisisTiming, MeetingOnRequestDayPlusMeetingDaysThenTheMeasures) {
  // From day 10 XXX licenses no ore to ipef members: y(10) = 0, so b's stock after step 2 is
  // 60 on day 10 (the last arrival), 59 on day 11, 58 on day 12: its cover (S / A, A = 1) is
  // below 60 days on days 11 and 12, and the second consecutive day, day 12, is the request
  // (trigger: cover below 60 days for 2 days; b is never short of ore in this test, so an
  // input-shortage trigger would never fire).
  // Meeting: 12 + M; measures (implementation): 12 + M + I = T. On day T:
  //  - match_suppliers: b (fill 0 < 0.9) takes on s2, the member with spare capacity
  //    sigma = 1 - 0.5 = 0.5, not r (sigma 0.8 but not a member); flow min(0.5, W = 1) = 0.5;
  //  - release_stockpiles: BBB's stockpile (no rule of its own) releases from day T, to b's
  //    gap to its stock target (opened by a cover trigger);
  //  - surge: member producers of ore (s2) get alpha_max 1.2. Alpha first moves the next day
  //    (section 6 runs in the shipping phase, before the day-end policies): on day T + 1 s2 is
  //    short (D = 0.5 + its new buyer's order > x^cap = 1), s = (D - x)/D and
  //    alpha = 1 + (1.2 - 1) s / 365.
  const auto [M, I] = GetParam();
  World w = crisis_world();
  const FirmId s2 = firm(w, "s2"), b = firm(w, "b");
  const int T = 12 + M + I;
  Scenario s = make_scenario(
      "days: " + std::to_string(T + 2) +
      "\nevents:\n"
      "  - {type: export_control, start: 10, exporters: [XXX], materials: [ore], targets: [ipef],"
      " license_share: 0}\n"
      "  - {type: demand_shock, start: 0, firms: [s2], factor: 0.5}\n"
      "  - {type: demand_shock, start: 0, firms: [r], factor: 0.2}\n"
      "policies:\n"
      "  - type: crisis_response\n"
      "    name: scra\n"
      "    members: [ipef]\n"
      "    trigger: {cover_below_days: 60, days: 2}\n"
      "    meeting_days: " +
      std::to_string(M) +
      "\n"
      "    implementation_days: " +
      std::to_string(I) +
      "\n"
      "    actions: [match_suppliers, surge, release_stockpiles]\n"
      "    surge: {alpha_max: 1.2}\n"
      "  - {type: stockpile, name: reserve, country: BBB, material: ore, quantity: 30,"
      " release: {max_daily_share: 0.1}}\n");
  ASSERT_TRUE(check_scenario(s, w).empty());
  Simulation sim(w, s, with_threads(1));
  EXPECT_EQ(sim.mechanisms(), std::vector<std::string>{"scra"});
  while (sim.step()) {
    const int t = sim.day();
    auto req = sim.crisis_requests();
    if (t < 12) {
      EXPECT_TRUE(req.empty()) << t;
    } else {
      ASSERT_EQ(req.size(), 1u) << t;
      EXPECT_EQ(req[0].mechanism, "scra");
      EXPECT_EQ(w.countries()[req[0].country].code, "BBB");
      EXPECT_EQ(w.materials()[req[0].material].id, "ore");
      EXPECT_EQ(req[0].request_day, 12);
      EXPECT_EQ(req[0].meeting_day, 12 + M);
      EXPECT_EQ(req[0].implementation_day, T);
    }
    EXPECT_EQ(sim.added_links(), t < T ? 0u : 1u) << t;
    EXPECT_EQ(sim.stockpiles()[0].level < 30.0, t >= T) << t;
    if (t <= T) {
      for (double a : sim.overproduction()) EXPECT_EQ(a, 1.0) << t;
    }
    if (t == T + 1) {
      const double D = sim.demand()[s2], x = sim.production()[s2];
      EXPECT_EQ(x, 1.0);
      EXPECT_GT(D, 1.0);
      EXPECT_DOUBLE_EQ(sim.overproduction()[s2], 1.0 + (1.2 - 1.0) * ((D - x) / D) / 365.0);
      for (FirmId i = 0; i < w.num_firms(); ++i) {
        if (i != s2) {
          EXPECT_EQ(sim.overproduction()[i], 1.0) << w.firm_id()[i];
        }
      }
    }
  }
  auto one = [&](const char* type) {
    auto r = rows(sim, type);
    EXPECT_EQ(r.size(), 1u) << type;
    return r.empty() ? EventRecord{} : r[0];
  };
  EXPECT_EQ(one("crisis_request").day, 12);
  EXPECT_EQ(one("crisis_meeting").day, 12 + M);
  EXPECT_EQ(one("crisis_meeting").quantity, double(M));
  EXPECT_EQ(one("crisis_implementation").day, T);
  EventRecord match = one("crisis_match");
  EXPECT_EQ(match.day, T);
  EXPECT_EQ(match.country, "BBB");
  EXPECT_EQ(match.material, "ore");
  EXPECT_EQ(match.quantity, 0.5);
  ASSERT_EQ(sim.added_links(), 1u);
  EXPECT_EQ(sim.added_link(0), std::make_tuple(s2, b, 0.5));
  auto rel = rows(sim, "stockpile_release");
  ASSERT_FALSE(rel.empty());
  EXPECT_EQ(rel[0].day, T);
  EXPECT_TRUE(rows(sim, "supplier_switch").empty());  // substitution itself is off
}

INSTANTIATE_TEST_SUITE_P(MeetingAndImplementationDays, CrisisTiming,
                         ::testing::Values(std::pair{5, 7}, std::pair{15, 7}, std::pair{30, 7},
                                           std::pair{0, 0}));

// ---- Section 6: overproduction (ARIO) ----------------------------------------------------------

TEST(Overproduction, AlphaFollowsScarcityTowardAlphaMaxThenDecaysToOne) {
  // One raw firm f (no inputs), x0 = C0 = 1; final demand x1.5 on days 0-4.
  // Day 0: x^cap = alpha x0 = 1, D = 1.5, x = 1, s = 0.5/1.5 = 1/3:
  //   alpha <- 1 + (1.25 - 1)(1/3)/365 = 1 + 0.25/1095 (checked with the numbers).
  // Day t: x^cap = alpha(t-1), x = x^cap, s = (1.5 - x)/1.5, alpha += (1.25 - alpha) s / 365.
  // Day 5 (shock over): D = 1 < x^cap, x = 1, s = 0: alpha += (1 - alpha)/365.
  WorldBuilder wb;
  auto A = wb.country("AAA");
  auto m = wb.material("m");
  wb.firm("f", A, m, 1.0);
  World w = wb.build();
  Scenario s = make_scenario(
      "days: 7\nmodel: {alpha_max: 1.25, tau_alpha: 365}\n"
      "events:\n  - {type: demand_shock, start: 0, end: 5, firms: [f], factor: 1.5}\n");
  Simulation sim(w, s, with_threads(1));
  double alpha = 1.0;
  while (sim.step()) {
    const int t = sim.day();
    const double D = sim.demand()[0], x = sim.production()[0], a = sim.overproduction()[0];
    EXPECT_EQ(sim.capacity()[0], alpha) << t;  // x^cap = alpha(t-1) (1 - 0) x0
    if (t < 5) {
      EXPECT_EQ(D, 1.5);
      EXPECT_EQ(x, alpha);
      EXPECT_DOUBLE_EQ(a, alpha + (1.25 - alpha) * ((1.5 - x) / 1.5) / 365.0) << t;
    } else {
      EXPECT_EQ(x, 1.0);
      EXPECT_DOUBLE_EQ(a, alpha + (1.0 - alpha) / 365.0) << t;
      EXPECT_LT(a, alpha);
    }
    if (t == 0) {
      EXPECT_DOUBLE_EQ(a, 1.0 + 0.25 / 1095.0);
    }
    alpha = a;
  }
}

TEST(Overproduction, SurgeRaisesTheCeilingOnlyInItsWindowCountriesAndMaterials) {
  // Two raw firms in AAA: f makes m (selected by the surge), g makes q (not). Both face D = 1.5
  // from day 0. The model's alpha_max is 1 (off), so alpha stays exactly 1 until the surge
  // starts on day 3; on days 3-5 f's alpha moves toward 1.5 (x^cap from day 4 on reflects it);
  // from day 6 (end) the ceiling is 1 again and, still short, alpha moves back toward 1.
  WorldBuilder wb;
  auto A = wb.country("AAA");
  auto m = wb.material("m"), q = wb.material("q");
  wb.firm("f", A, m, 1.0);
  wb.firm("g", A, q, 1.0);
  World w = wb.build();
  Scenario s = make_scenario(
      "days: 9\nmodel: {tau_alpha: 10}\n"
      "events:\n  - {type: demand_shock, start: 0, firms: [f, g], factor: 1.5}\n"
      "policies:\n"
      "  - {type: surge, name: push, countries: [AAA], materials: [m], start: 3, end: 6,"
      " alpha_max: 1.5}\n");
  ASSERT_TRUE(check_scenario(s, w).empty());
  Simulation sim(w, s, with_threads(1));
  double prev = 1.0;
  while (sim.step()) {
    const int t = sim.day();
    const double a = sim.overproduction()[0], x = sim.production()[0];
    const double scarcity = (1.5 - x) / 1.5;
    EXPECT_EQ(sim.overproduction()[1], 1.0) << t;
    if (t < 3) {
      EXPECT_EQ(a, 1.0) << t;
    } else if (t < 6) {
      EXPECT_DOUBLE_EQ(a, prev + (1.5 - prev) * scarcity / 10.0) << t;
    } else {
      EXPECT_GT(scarcity, 0.0);
      EXPECT_DOUBLE_EQ(a, prev + (1.0 - prev) * scarcity / 10.0) << t;
    }
    prev = a;
  }
  auto on = rows(sim, "surge"), off = rows(sim, "end:surge");
  ASSERT_EQ(on.size(), 1u);
  ASSERT_EQ(off.size(), 1u);
  EXPECT_EQ(on[0].day, 3);
  EXPECT_EQ(off[0].day, 6);
  EXPECT_EQ(on[0].quantity, 1.5);
}

// ---- Switched off, never triggered, and thread counts: against the core bit for bit ------------

const char* kRandomEvents =
    "events:\n"
    "  - {type: capacity_loss, start: 5, country: C0, material: [m0, m1], loss: 0.6,"
    " recovery: {type: linear, days: 30}}\n"
    "  - {type: capacity_loss, start: 8, end: 40, country: C2, loss: 0.3}\n"
    "  - {type: export_control, start: 10, end: 60, exporters: [C1], materials: [m1, m2],"
    " targets: [g2], license_share: 0.2}\n"
    "  - {type: demand_shock, start: 0, end: 40, country: C3, factor: 1.3}\n";

/// Steps `a` and `b` together and returns "" if they agree bit for bit on every day.
std::string lockstep(Simulation& a, Simulation& b) {
  while (a.step()) {
    if (!b.step()) return "b ended early";
    std::string d = state_diff(a, b);
    if (!d.empty()) return d + " on day " + std::to_string(a.day());
  }
  return b.step() ? "a ended early" : "";
}

TEST(Inert, PoliciesThatNeverTriggerReproduceTheCoreBitForBit) {
  // Substitution on with theta = 0 (a fill ratio is never < 0), a mechanism whose trigger is
  // never reached, stockpiles whose release conditions never hold, a surge that starts after
  // the last day: the run must be the core run to the last bit, every day.
  World w = random_world(1500, 20240601);
  Scenario core = make_scenario(std::string("days: 90\n") + kRandomEvents);
  Scenario inert = make_scenario(
      std::string("days: 90\nmodel: {substitution: {enabled: true, threshold: 0.0,"
                  " search_days: 1}}\n") +
      kRandomEvents +
      "policies:\n"
      "  - {type: crisis_response, members: [g1, g2], trigger: {shortage_ratio: 1000000, days: 1},"
      " meeting_days: 0, implementation_days: 0,"
      " actions: [match_suppliers, surge, release_stockpiles]}\n"
      "  - {type: stockpile, country: C0, material: m1, days_of_use: 30,"
      " release: {when_shortage_ratio: 1000000}}\n"
      "  - {type: stockpile, country: C3, material: m2, quantity: 5, release: {start: 1000}}\n"
      "  - {type: surge, countries: [C0, C1], materials: [m0, m3], start: 1000, alpha_max: 2}\n");
  ASSERT_TRUE(check_scenario(inert, w).empty());
  Simulation a(w, core, with_threads(2)), b(w, inert, with_threads(2));
  EXPECT_EQ(lockstep(a, b), "");
  EXPECT_EQ(b.added_links(), 0u);
  EXPECT_TRUE(b.crisis_requests().empty());
  EXPECT_EQ(b.event_log().size(), a.event_log().size());
  for (const auto& st : b.stockpiles()) EXPECT_EQ(st.level, st.initial);
}

TEST(Inert, AlphaMaxOneReproducesTheCoreEvenWithTheOverproductionUpdateRunning) {
  // model alpha_max 1 with tau_alpha 30, and a surge to alpha_max = 1 active from day 0 (so the
  // section-6 update runs every day): alpha += (1 - 1) s / 30 = 0 and += (1 - 1) / 30 = 0 leave
  // alpha = 1 exactly, so capacity = x0 (1 - delta) as in the core. Substitution is given but
  // switched off (enabled: false).
  World w = random_world(1500, 7);
  Scenario core = make_scenario(std::string("days: 90\n") + kRandomEvents);
  Scenario one = make_scenario(
      std::string("days: 90\nmodel: {alpha_max: 1, tau_alpha: 30, substitution: {enabled: false,"
                  " threshold: 1, search_days: 1}}\n") +
      kRandomEvents +
      "policies:\n"
      "  - {type: surge, countries: [all], materials: [all], start: 0, alpha_max: 1.0}\n");
  Simulation a(w, core, with_threads(2)), b(w, one, with_threads(2));
  EXPECT_EQ(lockstep(a, b), "");
  for (double x : b.overproduction()) ASSERT_EQ(x, 1.0);
}

TEST(PolicyDeterminism, NewLinksAndPoliciesBitIdenticalForThreads124) {
  // Everything on: substitution (T_search 3), a crisis mechanism with all actions, stockpiles,
  // a surge and ARIO overproduction; links are added during the run. Threads 1, 2 and 4 must
  // agree on every state variable, every added link and every event, every day. Under the
  // default model (version 2), with the mechanism triggered by inventory cover.
  World w = random_world(1500, 20240601);
  Scenario s = parse_scenario(
      "world: unused.yaml\n" +
          std::string("days: 90\nseed: 42\nmodel: {alpha_max: 1.1, tau_alpha: 60, substitution:"
                      " {enabled: true, threshold: 0.9, search_days: 3}}\n") +
          kRandomEvents +
          "policies:\n"
          "  - {type: crisis_response, name: m, members: [g1], trigger: {shortage_ratio: 0.001, "
          "days: 1},"
          " meeting_days: 3, implementation_days: 2, actions: [match_suppliers, surge,"
          " release_stockpiles], surge: {alpha_max: 1.3}}\n"
          "  - {type: stockpile, country: C0, material: m1, days_of_use: 10}\n"
          "  - {type: stockpile, country: C1, material: m2, days_of_use: 20,"
          " release: {max_daily_share: 0.1}}\n"
          "  - {type: surge, countries: [C2], materials: [m3, m4], start: 20, end: 70, alpha_max: "
          "1.4}\n",
      "test-scenario.yaml");
  ASSERT_TRUE(check_scenario(s, w).empty());
  std::vector<std::unique_ptr<Simulation>> sims;
  for (int n : {1, 2, 4}) sims.push_back(std::make_unique<Simulation>(w, s, with_threads(n)));
  while (sims[0]->step()) {
    for (std::size_t k = 1; k < sims.size(); ++k) {
      ASSERT_TRUE(sims[k]->step());
      ASSERT_EQ(state_diff(*sims[0], *sims[k]), "")
          << "threads " << sims[k]->threads() << " day " << sims[0]->day();
    }
  }
  // The case is not vacuous: links were added both ways and every policy acted.
  EXPECT_GT(rows(*sims[0], "supplier_switch").size(), 0u);
  EXPECT_GT(rows(*sims[0], "crisis_match").size(), 0u);
  EXPECT_GT(rows(*sims[0], "stockpile_release").size(), 0u);
  for (std::size_t k = 1; k < sims.size(); ++k) {
    const auto &la = sims[0]->event_log(), &lb = sims[k]->event_log();
    ASSERT_EQ(la.size(), lb.size());
    for (std::size_t r = 0; r < la.size(); ++r) {
      EXPECT_EQ(la[r].day, lb[r].day);
      EXPECT_EQ(la[r].type, lb[r].type);
      EXPECT_EQ(la[r].description, lb[r].description);
      EXPECT_EQ(std::memcmp(&la[r].quantity, &lb[r].quantity, sizeof(double)), 0);
    }
  }
}

// ---- The shipped IPEF response-timing study ---------------------------------------------------

std::string source_path(const std::string& rel) {
  return std::string(SHORTFALL_SOURCE_DIR) + "/" + rel;
}

/// A run's losses per material, summed over days and over the IPEF members (units of the
/// material): output lost, input shortage and unmet final demand (docs/model.md section 10).
struct MemberLosses {
  std::vector<double> output_lost, shortage, unmet_final;
};
MemberLosses member_losses(const World& w, const Scenario& s) {
  Simulation sim(w, s, with_threads(2));
  sim.run();
  const RunMetrics m = sim.run_metrics();
  const PairBaselines& base = sim.pair_baselines();
  const std::size_t nc = w.countries().size(), nm = w.materials().size();
  MemberLosses out{std::vector<double>(nm, 0.0), std::vector<double>(nm, 0.0),
                   std::vector<double>(nm, 0.0)};
  for (std::size_t c = 0; c < nc; ++c) {
    const auto& g = w.countries()[c].groups;
    if (std::find(g.begin(), g.end(), "ipef") == g.end()) continue;
    for (std::size_t p = 0; p < nm; ++p) {
      const std::size_t k = c * nm + p;
      out.output_lost[p] += m.output_lost_units[k];
      out.shortage[p] += m.shortage_days[k] * base.use[k];
      out.unmet_final[p] += m.unmet_final_units[k];
    }
  }
  return out;
}

TEST(IpefResponseTiming, ShippedVariantsDifferOnlyInTheMeetingDays) {
  Scenario base = load_scenario(source_path("scenarios/ipef-response-timing.yaml"));
  ASSERT_EQ(base.policies.size(), 3u);
  EXPECT_EQ(base.policies[0].type, PolicyType::kCrisisResponse);
  EXPECT_EQ(base.policies[0].meeting_days, 15);
  for (int m : {5, 30}) {
    Scenario v =
        load_scenario(source_path("scenarios/ipef-response-timing-" + std::to_string(m) + ".yaml"));
    ASSERT_EQ(v.policies.size(), 3u);
    EXPECT_EQ(v.policies[0].meeting_days, m);
    EXPECT_EQ(v.policies[0].implementation_days, base.policies[0].implementation_days);
    EXPECT_EQ(v.policies[0].trigger_shortage_ratio, base.policies[0].trigger_shortage_ratio);
    EXPECT_EQ(v.events.size(), base.events.size());
    EXPECT_EQ(v.events[0].license_share, base.events[0].license_share);
    EXPECT_EQ(v.events[0].end.value_or(-1), base.events[0].end.value_or(-1));
    EXPECT_EQ(v.world_path, base.world_path);
  }
  Scenario none = load_scenario(source_path("scenarios/ipef-response-timing-none.yaml"));
  ASSERT_EQ(none.policies.size(), 2u);
  for (const auto& p : none.policies) EXPECT_EQ(p.type, PolicyType::kStockpile);
}

TEST(IpefResponseTiming, EarlierMeetingsNeverRaiseAMembersLossesAndCutWaferOutputLost) {
  // The question of scenarios/ipef-response-timing.yaml, in the real terms of docs/model.md
  // section 10, run in-process: meeting_days 5, 15, 30 and no mechanism on the default world
  // (loaded once). For every material p, the IPEF members' output lost and input shortage
  // (units of p, summed over members and days) must not rise when the meeting comes earlier:
  // 5 <= 15 <= 30 <= none, up to 1e-9 relative (rounding). The members' wafer makers are the
  // ones that stop for want of gallium: each earlier step must cut their output lost by more
  // than 1%. Unmet final demand is not asserted: a meeting can raise it where the members'
  // restocking orders crowd out final users of gallium (under model version 1 it did; on the
  // current case the members' unmet final demand of gallium is 0 in every run); the test
  // prints those totals.
  Scenario base = load_scenario(source_path("scenarios/ipef-response-timing.yaml"));
  World w = load_world(base.world_path);
  ASSERT_TRUE(check_scenario(base, w).empty());
  std::vector<std::pair<std::string, MemberLosses>> runs;
  for (int m : {5, 15, 30}) {
    Scenario s = base;
    for (auto& p : s.policies)
      if (p.type == PolicyType::kCrisisResponse) p.meeting_days = m;
    runs.emplace_back(std::to_string(m), member_losses(w, s));
  }
  Scenario none = base;
  std::erase_if(none.policies,
                [](const Policy& p) { return p.type == PolicyType::kCrisisResponse; });
  runs.emplace_back("none", member_losses(w, none));

  for (MaterialId p = 0; p < w.materials().size(); ++p)
    for (std::size_t k = 0; k + 1 < runs.size(); ++k) {
      const MemberLosses &earlier = runs[k].second, &later = runs[k + 1].second;
      auto no_more = [&](double a, double b, const char* what) {
        EXPECT_LE(a, b * (1.0 + 1e-9) + 1e-300)
            << w.materials()[p].id << " " << what << ": meeting " << runs[k].first << " gives " << a
            << ", more than " << runs[k + 1].first << " (" << b << ")";
      };
      no_more(earlier.output_lost[p], later.output_lost[p], "output lost");
      no_more(earlier.shortage[p], later.shortage[p], "input shortage");
    }
  const MaterialId ga = *w.find_material("gallium");
  for (const auto& [label, r] : runs)
    std::cout << "meeting " << label << ": members' unmet final demand of gallium "
              << r.unmet_final[ga] << " (units)\n";
  const MaterialId wafer = *w.find_material("gan_gaas_wafer");
  for (std::size_t k = 0; k + 1 < runs.size(); ++k)
    EXPECT_LT(runs[k].second.output_lost[wafer], 0.99 * runs[k + 1].second.output_lost[wafer])
        << "wafers: meeting " << runs[k].first << " vs " << runs[k + 1].first;
}

// The stockpiles' triggers read the day's input shortage and inventory cover (docs/model.md 9)
// from the same sums as the recorded series (the policies sum only those two): on a world of
// more than one summation block (country_material sums blocks of 16,384 firms), a stockpile
// opens on the first day its pair's recorded cover falls below its threshold, another on the
// first day its pair's recorded shortage over baseline use exceeds its ratio, at one and two
// threads. The thresholds sit where the series cross them slowly (the cover falls by about
// 0.76 days a day through 4.47 and 3.71; the shortage climbs through 0.84 and 0.88 of use), so
// sums off by a percent move the day.
TEST(StockpileTriggers, OpenOnTheDayTheRecordedSeriesCrossTheThreshold) {
  SyntheticSpec spec;
  spec.firms = 40000;
  spec.links = 120000;
  spec.materials = 4;
  spec.countries = 4;
  const World w = generate_synthetic(spec);
  ASSERT_GT(w.num_firms(), 2u * 16384u);
  const Scenario s = parse_scenario(
      "world: unused.yaml\ndays: 40\nmodel: {inventory_days: 6}\nevents:\n"
      "  - {type: capacity_loss, start: 0, loss: 0.8, material: m0}\npolicies:\n"
      "  - {type: stockpile, name: by cover, country: C1, material: m0, days_of_use: 30,\n"
      "     release: {when_cover_below_days: 4.45, max_daily_share: 0.02}}\n"
      "  - {type: stockpile, name: by shortage, country: C2, material: m0, days_of_use: 30,\n"
      "     release: {when_shortage_ratio: 0.85, max_daily_share: 0.02}}\n",
      "test-scenario.yaml");
  const std::size_t nm = w.materials().size();
  const MaterialId m0 = *w.find_material("m0");
  const std::size_t k1 = *w.find_country("C1") * nm + m0, k2 = *w.find_country("C2") * nm + m0;
  const std::vector<double> use = pair_baselines(w).use;
  ASSERT_GT(use[k1], 0.0);
  ASSERT_GT(use[k2], 0.0);
  for (int threads : {1, 2}) {
    Simulation sim(w, s, with_threads(threads));
    int cover_day = -1, short_day = -1;
    while (sim.step()) {
      const CountryMaterialDay cm = sim.country_material();
      if (cover_day < 0 && cm.inventory_days[k1] < 4.45) cover_day = sim.day();
      if (short_day < 0 && cm.shortage[k2] / use[k2] > 0.85) short_day = sim.day();
    }
    ASSERT_GE(cover_day, 0) << "the cover of C1 m0 never fell below 4.45 days";
    ASSERT_GE(short_day, 0) << "the shortage of C2 m0 never exceeded 85% of its use";
    int cover_open = -1, short_open = -1;
    for (const auto& e : rows(sim, "stockpile_release")) {
      if (cover_open < 0 && e.description.rfind("by cover:", 0) == 0) cover_open = e.day;
      if (short_open < 0 && e.description.rfind("by shortage:", 0) == 0) short_open = e.day;
    }
    EXPECT_EQ(cover_open, cover_day) << threads << " threads";
    EXPECT_EQ(short_open, short_day) << threads << " threads";
  }
}

}  // namespace
