// Model version 2 (docs/model.md sections 0, 3.3, 3.5, 4, 7-10): the worked example of section
// 11 with its exact numbers, the toys that motivate the version (capital goods, a half licence,
// export controls on final users), baseline exactness under every switch, and bounds that every
// shipped scenario must respect. Expected numbers are derived by hand in the comments.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/metrics.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/world.hpp"
#include "test_support.hpp"

using namespace shortfall;
using namespace shortfall::testing_support;

namespace {

Scenario v2_scenario(const std::string& body) {
  return parse_scenario("world: unused.yaml\n" + body, "test-scenario.yaml");
}

RunOptions one_thread() {
  RunOptions o;
  o.threads = 1;
  return o;
}

/// (country, material) index into the country x material arrays.
std::size_t cm_index(const World& w, const char* country, const char* material) {
  return *w.find_country(country) * w.materials().size() + *w.find_material(material);
}

// ---- Section 11: the worked example -----------------------------------------------------------

/// s (AAA, raw, no inputs, x0 = 1, all sold to b) and b (BBB, good, x0 = 1, C0 = 1, input raw
/// with A = Z0 = 1, n = 10); lead time 1. raw_utilisation: the world's u0 of raw (unset: none).
World worked_world(std::optional<double> raw_utilisation = std::nullopt) {
  WorldBuilder b;
  auto AAA = b.country("AAA"), BBB = b.country("BBB");
  auto raw = b.material("raw"), good = b.material("good");
  b.tables().materials[raw].utilisation = raw_utilisation;
  auto s = b.firm("s", AAA, raw, 0.0);
  auto buyer = b.firm("b", BBB, good, 1.0, 10.0);
  b.link(s, buyer, 1.0, 1);
  return b.build();
}

const char* kWorkedCut =
    "days: 60\n"
    "events:\n"
    "  - {type: export_control, exporters: [AAA], materials: [raw], targets: [BBB],"
    " license_share: 0, start: 0, end: 20}\n";

TEST(WorkedExample, PresetLoses50DaysAndNeverRecovers) {
  // Days 0-9 b draws its stock from 10 to 1 and produces 1; day 10 S = 0, x_b = 0. Under the
  // preset x̂ = x(t-1) = 0 from day 11, so b orders max(0, 0 + (0 - 0)/6) = 0 and never
  // produces again: 50 days of output lost in 60 (days 10-59), no recovery.
  World w = worked_world();
  Scenario s = v2_scenario(std::string("model: {preset: inoue_todo_2019}\n") + kWorkedCut);
  Simulation sim(w, s, one_thread());
  while (sim.step()) {
    const int t = sim.day();
    EXPECT_EQ(sim.production()[1], t < 10 ? 1.0 : 0.0) << t;
    if (t >= 11) {
      EXPECT_EQ(sim.order(0), 0.0) << t;
    }
  }
  const RunMetrics m = sim.run_metrics();
  const std::size_t good = cm_index(w, "BBB", "good"), raw = cm_index(w, "BBB", "raw");
  EXPECT_EQ(m.days, 60);
  EXPECT_EQ(m.output_lost_days[good], 50.0);
  EXPECT_EQ(m.unmet_final_days[good], 50.0);
  EXPECT_EQ(m.shortage_days[raw], 50.0);
  EXPECT_EQ(m.recovery_day[good], -1);
  EXPECT_EQ(m.recovery_day[raw], -1);
}

TEST(WorkedExample, Version2Loses11DaysAndRecoversOnDay21) {
  // u0 = 1 for both. From day 11 b orders 10/6 a day (x̂ = min(x^cap, D) = 1, S = 0, no
  // destocking: O = 0 + (10 - 0)/6). On day 20 the cap lifts and s ships min(x^cap = 1, 10/6)
  // = 1, which arrives on day 21: x_b = 1 from day 21 on. b's output lost: 11 days (10-20);
  // its input shortage of raw max(0, 1 x 1 - S) = 1 on days 10-20: 11 days of use; BBB's
  // unmet final demand of good 11 days of final use; recovery day 21. Its stock stays at 1
  // (s has no headroom: every day it ships 1 and b uses 1) while the order backlog stays
  // positive: the backlog is not a shortage.
  World w = worked_world();
  Scenario s = v2_scenario(std::string("model: {utilisation: 1}\n") + kWorkedCut);
  Simulation sim(w, s, one_thread());
  const std::size_t good = cm_index(w, "BBB", "good"), raw = cm_index(w, "BBB", "raw");
  while (sim.step()) {
    const int t = sim.day();
    EXPECT_EQ(sim.production()[1], t < 10 || t >= 21 ? 1.0 : 0.0) << t;
    if (t >= 11 && t <= 19) {
      EXPECT_DOUBLE_EQ(sim.order(0), 10.0 / 6.0) << t;  // 10 x (1/6): within an ulp
    }
    if (t >= 21) {
      EXPECT_EQ(sim.stock(0), 1.0) << t;
    }
    const CountryMaterialDay cm = sim.country_material();
    EXPECT_EQ(cm.shortage[raw], t >= 10 && t <= 20 ? 1.0 : 0.0) << t;
    if (t >= 21) {
      EXPECT_GT(cm.order_backlog[raw], 0.0) << t;
    }
  }
  const RunMetrics m = sim.run_metrics();
  EXPECT_EQ(m.output_lost_days[good], 11.0);
  EXPECT_EQ(m.peak_output_loss[good], 1.0);
  EXPECT_EQ(m.shortage_days[raw], 11.0);
  EXPECT_EQ(m.unmet_final_days[good], 11.0);
  EXPECT_EQ(m.first_shortage_day[raw], 10);
  EXPECT_EQ(m.recovery_day[good], 21);
  EXPECT_EQ(m.recovery_day[raw], 21);
  // The exporter lost its sales while the control lasted (days 0-19) and recovered on day 20.
  const std::size_t s_raw = cm_index(w, "AAA", "raw");
  EXPECT_EQ(m.output_lost_days[s_raw], 20.0);
  EXPECT_EQ(m.recovery_day[s_raw], 20);
}

TEST(WorkedExample, HeadroomRefillsTheStockAt1Over085MinusOneADay) {
  // u0 = 0.85 for s (raw's own utilisation in the world), 1 for b (the scenario's). From day
  // 20 s can ship up to x^cap = 1/0.85 a day and b's order 1 + (10 - S)/6 exceeds that while
  // S < 10 - 6 (1/0.85 - 1) = 8.94: each day b gains 1/0.85 - 1 = 0.1765 of stock once it
  // produces again (day 22 on: S(t) = S(t-1) + 1/0.85 - 1 x 1).
  World w = worked_world(0.85);
  Scenario s = v2_scenario(std::string("model: {utilisation: 1}\n") + kWorkedCut);
  Simulation sim(w, s, one_thread());
  double previous = 0.0;
  int checked = 0;
  while (sim.step()) {
    const int t = sim.day();
    if (t >= 22 && sim.stock(0) < 8.5) {
      EXPECT_NEAR(sim.stock(0) - previous, 1.0 / 0.85 - 1.0, 1e-12) << t;
      ++checked;
    }
    previous = sim.stock(0);
  }
  EXPECT_GE(checked, 30);
  // Under the preset the world's utilisation is ignored (u0 = 1): the preset's x^cap is x0.
  Simulation preset(w, v2_scenario(std::string("model: {preset: inoue_todo_2019}\n") + kWorkedCut),
                    one_thread());
  preset.step();
  EXPECT_EQ(preset.capacity()[0], 1.0);
}

// ---- Section 3.3: stock targets from planned output ------------------------------------------

TEST(CapitalGoods, AFivePercentDipCostsTheToolMakerFivePercentNotItsOrders) {
  // A tool maker T (no inputs) sells Z0 = 1 a day to its one customer K, which holds 3,650
  // days of tools and sells x0 = 1 to final users; K's final demand dips 5% on days 0-29.
  // Version 2: K's x̂ = min(x^cap, D(t-1)) = 0.95 x0 during the dip, its restock term
  // 3650 Z0 0.95 - S < 0 is clipped to 0, so it orders what it uses, Z0 x(t-1)/x0 >= 0.95:
  // T never falls below 0.95 of baseline. Under the preset the negative restock term
  // (-182.5/6 a day) wipes K's orders out and T's output falls to 0.
  WorldBuilder b;
  auto A = b.country("AAA");
  auto tool = b.material("tool", 3650.0), car = b.material("car");
  auto T = b.firm("T", A, tool, 0.0);
  auto K = b.firm("K", A, car, 1.0);
  b.link(T, K, 1.0, 1);
  World w = b.build();
  const std::string body =
      "days: 365\nevents:\n"
      "  - {type: demand_shock, firms: [K], factor: 0.95, start: 0, end: 30}\n";
  Simulation v2(w, v2_scenario(body), one_thread());
  double lowest = 1.0;
  while (v2.step()) lowest = std::min(lowest, v2.production()[T]);
  EXPECT_GE(lowest, 0.95 - 1e-12);
  EXPECT_LE(lowest, 0.95 + 1e-12);
  Simulation preset(w, v2_scenario("model: {preset: inoue_todo_2019}\n" + body), one_thread());
  double preset_lowest = 1.0;
  while (preset.step()) preset_lowest = std::min(preset_lowest, preset.production()[T]);
  EXPECT_EQ(preset_lowest, 0.0);
}

// ---- Section 3.5: headroom ----------------------------------------------------------------------

/// s (AAA, raw) sells Z0 = 1 to b (BBB, good, C0 = 1, n = 10).
World pair_world(double raw_utilisation) {
  WorldBuilder b;
  auto AAA = b.country("AAA"), BBB = b.country("BBB");
  auto raw = b.material("raw"), good = b.material("good");
  b.tables().materials[raw].utilisation = raw_utilisation;
  auto s = b.firm("s", AAA, raw, 0.0);
  auto buyer = b.firm("b", BBB, good, 1.0, 10.0);
  b.link(s, buyer, 1.0, 1);
  return b.build();
}

TEST(HalfLicence, WithHeadroomTheBuyersCoverReturnsToTarget) {
  // k = 0.5 on days 0-9: b receives 0.5 a day and uses 1, so its stock falls by 0.5 a day to
  // 5 after step 2 of day 10 (10 + 1 - 1 on day 0, then 0.5 less each day). With u0 = 0.85 s
  // ships up to 1/0.85 a day afterwards, b's cover climbs back towards its target of 10 days
  // and reaches it (geometrically, at 1/tau of the gap a day once orders fall below capacity).
  // With u0 = 1 s ships exactly 1 a day, what b uses: the cover stays at 5 days for good.
  const std::string body =
      "days: 365\nmodel: {utilisation: 1}\nevents:\n"
      "  - {type: export_control, exporters: [AAA], materials: [raw], targets: [BBB],"
      " license_share: 0.5, start: 0, end: 10}\n";
  World headroom = pair_world(0.85), none = pair_world(1.0);
  Simulation a(headroom, v2_scenario(body), one_thread());
  Simulation b(none, v2_scenario(body), one_thread());
  while (a.step() && b.step()) {
    const int t = a.day();
    EXPECT_EQ(a.production()[1], 1.0) << t;  // never short: 5 days of stock at the lowest
    if (t == 10) {
      EXPECT_EQ(a.pooled_stock(1, 0), 5.0);
      EXPECT_EQ(b.pooled_stock(1, 0), 5.0);
    }
    if (t > 10) {
      EXPECT_EQ(b.pooled_stock(1, 0), 5.0) << t;
    }
  }
  EXPECT_NEAR(a.pooled_stock(1, 0), 10.0, 1e-9);
}

// ---- Section 4: export controls reach final users --------------------------------------------

TEST(FinalDemandControls, AMineSellingToForeignFinalUsersStops) {
  // A mine m (AAA, ore) sells 0.7 to a refiner r in BBB and 0.3 to final users in BBB; an
  // export control by AAA on ore to BBB with k = 0. With final_demand_controls (the default)
  // both are capped: D_m = 0, so x_m = 0, and BBB's final users lack 0.3 of ore a day (their
  // full C0_{m,BBB}, attributed to the destination, none to AAA). Without it the mine keeps
  // its final sales: x_m = 0.3 (the v1 'ban' that left mines 30% of their sales).
  WorldBuilder b;
  auto AAA = b.country("AAA"), BBB = b.country("BBB");
  auto ore = b.material("ore"), refined = b.material("refined");
  auto m = b.firm("m", AAA, ore, 0.3);
  auto r = b.firm("r", BBB, refined, 0.7);
  b.link(m, r, 0.7, 1);
  b.final_demand_to(m, BBB, 0.3);
  World w = b.build();
  ASSERT_TRUE(w.has_final_demand_split());
  const std::string cut =
      "days: 10\nevents:\n"
      "  - {type: export_control, exporters: [AAA], materials: [ore], targets: [BBB],"
      " license_share: 0, start: 0}\n";
  Simulation on(w, v2_scenario(cut), one_thread());
  const std::size_t bbb = cm_index(w, "BBB", "ore"), aaa = cm_index(w, "AAA", "ore");
  while (on.step()) {
    EXPECT_EQ(on.production()[m], 0.0) << on.day();
    const CountryMaterialDay cm = on.country_material();
    EXPECT_EQ(cm.unmet_final_demand[bbb], 0.3) << on.day();
    EXPECT_EQ(cm.unmet_final_demand[aaa], 0.0) << on.day();
  }
  EXPECT_NEAR(on.run_metrics().unmet_final_days[bbb], 10.0, 1e-12);  // 0.3 / 0.3 x 10 days
  Simulation off(w, v2_scenario("model: {final_demand_controls: false}\n" + cut), one_thread());
  while (off.step()) {
    EXPECT_EQ(off.production()[m], 0.3) << off.day();
    EXPECT_EQ(off.country_material().unmet_final_demand[bbb], 0.0) << off.day();
  }
  (void)r;
}

TEST(FinalDemandSplit, UnmetFinalDemandGoesToEachDestinationInProportion) {
  // f (AAA, good, x0 = C0 = 1) sells 0.25 to final users at home, 0.75 in BBB; a 60% capacity
  // loss: x = 0.4, c = 0.4, split 0.1 home and 0.3 to BBB: unmet 0.15 in AAA, 0.45 in BBB.
  WorldBuilder b;
  auto AAA = b.country("AAA"), BBB = b.country("BBB");
  auto good = b.material("good");
  auto f = b.firm("f", AAA, good, 1.0);
  b.final_demand_to(f, AAA, 0.25);
  b.final_demand_to(f, BBB, 0.75);
  World w = b.build();
  Simulation sim(w,
                 v2_scenario("days: 2\nevents:\n  - {type: capacity_loss, firms: [f], loss: 0.6,"
                             " start: 0, end: 1, recovery: {type: step}}\n"),
                 one_thread());
  sim.step();
  // x^cap = 0.4 / 0.85 (u0 = 0.85): above the demand of 1? No: 0.4706 < 1, so x = 0.4706.
  const double x = 0.4 / 0.85;
  EXPECT_NEAR(sim.production()[f], x, 1e-15);
  const CountryMaterialDay cm = sim.country_material();
  EXPECT_NEAR(cm.unmet_final_demand[cm_index(w, "AAA", "good")], 0.25 * (1 - x), 1e-15);
  EXPECT_NEAR(cm.unmet_final_demand[cm_index(w, "BBB", "good")], 0.75 * (1 - x), 1e-15);
  const PairBaselines base = pair_baselines(w);
  EXPECT_EQ(base.final_use[cm_index(w, "AAA", "good")], 0.25);
  EXPECT_EQ(base.final_use[cm_index(w, "BBB", "good")], 0.75);
}

// ---- Section 2: no events, no motion, under every switch -------------------------------------

/// A random world whose firms with final demand sell part of it abroad (to the next country).
World split_world(std::uint32_t n, std::uint64_t seed, bool unit_lead) {
  World base = random_world(n, seed);
  WorldBuilder b;
  WorldTables& t = b.tables();
  t.countries = base.countries();
  t.materials = base.materials();
  t.firm_id = base.firm_id();
  t.firm_country = base.firm_country();
  t.firm_material = base.firm_material();
  t.final_demand = base.final_demand();
  t.firm_inventory_days = base.firm_inventory_days();
  t.link_supplier = base.link_supplier();
  t.link_buyer = base.link_buyer();
  t.link_flow = base.link_flow();
  t.lead_times = base.lead_times();
  t.link_lead_time.assign(base.link_flow().size(), unit_lead ? 1 : 0);
  if (unit_lead) t.lead_times = LeadTimes{};
  if (!unit_lead) t.link_lead_time = base.link_lead_time();
  for (FirmId i = 0; i < base.num_firms(); ++i) {
    const double c0 = base.final_demand()[i];
    if (c0 <= 0.0 || i % 3 == 0) continue;
    const CountryId home = base.firm_country()[i];
    const CountryId away = CountryId((home + 1) % base.countries().size());
    b.final_demand_to(i, home, c0 * 0.375);
    b.final_demand_to(i, away, c0 - c0 * 0.375);
  }
  t.materials[1].utilisation = 0.7;
  t.materials[2].utilisation = 1.0;
  return b.build();
}

/// "" if the simulation is exactly at its initial state after the day, else what differs.
std::string off_baseline(const Simulation& sim) {
  const World& w = sim.world();
  for (FirmId i = 0; i < w.num_firms(); ++i) {
    if (sim.production()[i] != w.baseline_output()[i]) return "x of " + w.firm_id()[i];
    if (sim.demand()[i] != w.baseline_output()[i]) return "D of " + w.firm_id()[i];
    if (sim.final_delivered()[i] != w.final_demand()[i]) return "c of " + w.firm_id()[i];
    if (sim.input_shortfall()[i] != 0.0) return "input shortfall of " + w.firm_id()[i];
  }
  for (LinkId l = 0; l < w.num_links(); ++l) {
    if (sim.order(l) != w.link_flow()[l]) return "O of link " + std::to_string(l);
    if (sim.delivery(l) != w.link_flow()[l]) return "y of link " + std::to_string(l);
  }
  const CountryMaterialDay cm = sim.country_material();
  for (std::size_t k = 0; k < cm.shortage.size(); ++k)
    if (cm.shortage[k] != 0.0 || cm.output_lost[k] != 0.0 || cm.unmet_final_demand[k] != 0.0 ||
        cm.order_backlog[k] != 0.0)
      return "country x material " + std::to_string(k);
  return "";
}

TEST(NoShockV2, StaysAtBaselineToTheLastBitUnderEverySwitchRuleLeadAndThreads) {
  // 16 switch settings and the preset, 4 rationing rules, unit and long lead times, 1 and 3
  // threads; worlds with split final demand and per-material utilisation. x̂ = min(x0/u0, x0)
  // = x0 and every restock term is 0 at baseline, so nothing may move.
  const char* rules[] = {"proportional", "final_demand_last", "waterfill", "priority"};
  std::vector<std::string> models;
  for (const char* orders : {"planned", "output_based"})
    for (const char* destock : {"false", "true"})
      for (const char* u : {"0.85", "1"})
        for (const char* fdc : {"true", "false"})
          models.push_back(std::string("orders: ") + orders + ", destocking: " + destock +
                           ", utilisation: " + u + ", final_demand_controls: " + fdc);
  models.push_back("preset: inoue_todo_2019");
  for (bool unit_lead : {true, false}) {
    const World w = split_world(240, 7 + unit_lead, unit_lead);
    for (const auto& model : models)
      for (const char* rule : rules)
        for (int threads : {1, 3}) {
          Scenario s = v2_scenario("days: 40\nmodel: {" + model + ", rationing: " + rule + "}\n");
          RunOptions o;
          o.threads = threads;
          Simulation sim(w, s, o);
          std::string diff;
          while (diff.empty() && sim.step()) diff = off_baseline(sim);
          EXPECT_EQ(diff, "") << model << " " << rule << " threads " << threads << " unit lead "
                              << unit_lead << " day " << sim.day();
          const RunMetrics m = sim.run_metrics();
          for (std::size_t k = 0; k < m.recovery_day.size(); ++k)
            ASSERT_EQ(m.recovery_day[k], 0) << k;
        }
  }
}

TEST(Preset, RejectsSwitchesItFixes) {
  for (const char* key : {"orders: planned", "destocking: false", "utilisation: 0.9"}) {
    try {
      v2_scenario(std::string("days: 1\nmodel: {preset: inoue_todo_2019, ") + key + "}\n");
      ADD_FAILURE() << key;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("fixes model."), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(v2_scenario("days: 1\nmodel: {preset: ario}\n"), InputError);
  const Scenario s = v2_scenario("days: 1\nmodel: {preset: inoue_todo_2019}\n");
  EXPECT_EQ(s.model.orders, Orders::kOutputBased);
  EXPECT_TRUE(s.model.destocking);
  EXPECT_EQ(s.model.utilisation, 1.0);
  EXPECT_TRUE(s.model.final_demand_controls);
  const Scenario d = v2_scenario("days: 1\n");
  EXPECT_EQ(d.model.orders, Orders::kPlanned);
  EXPECT_FALSE(d.model.destocking);
  EXPECT_EQ(d.model.utilisation, 0.85);
}

// ---- Every shipped scenario ------------------------------------------------------------------

std::vector<std::string> shipped_scenarios() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(SHORTFALL_SOURCE_DIR "/scenarios"))
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ShippedScenarios, InputShortageNeverExceedsWhatFirmsCouldUse) {
  // Model 10: a firm's input shortage is at most A x^cap / x0 = A alpha (1 - delta) / u0 a day,
  // so over a run of T days a (country, material) lacks at most T alpha_max / min u0 days of
  // its baseline use (alpha_max: the largest overproduction ceiling any policy can set).
  for (const auto& path : shipped_scenarios()) {
    SCOPED_TRACE(path);
    Scenario s = load_scenario(path);
    World w = load_world(s.world_path);
    double u_min = s.model.utilisation, alpha = s.model.alpha_max;
    if (!s.model.is_preset())
      for (const auto& m : w.materials()) u_min = std::min(u_min, m.utilisation.value_or(1.0));
    for (const auto& p : s.policies) {
      if (p.type == PolicyType::kSurge) alpha = std::max(alpha, p.alpha_max);
      if (p.type == PolicyType::kCrisisResponse && p.surge)
        alpha = std::max(alpha, p.surge_alpha_max);
    }
    Simulation sim(w, s);
    sim.run();
    const RunMetrics m = sim.run_metrics();
    const double bound = double(m.days) * alpha / u_min;
    for (std::size_t k = 0; k < m.shortage_days.size(); ++k)
      EXPECT_LE(m.shortage_days[k], bound * (1 + 1e-12))
          << w.countries()[k / m.materials].code << " " << w.materials()[k % m.materials].id;
    if (path.find("japan-korea-2019") != std::string::npos) {
      // All its controls end months before the last day: no firm may sit at zero output.
      int at_zero = 0;
      for (FirmId i = 0; i < w.num_firms(); ++i)
        if (w.baseline_output()[i] > 0.0 && sim.production()[i] == 0.0) ++at_zero;
      EXPECT_EQ(at_zero, 0);
    }
  }
}

}  // namespace

namespace {

TEST(CountryMaterial, BlockSumsAreTheSameBitsForAnyThreadCountAndAddUpTheFirms) {
  // 40,000 firms: country_material sums them in two fixed blocks (16,384 firms or more each),
  // in parallel, then the blocks in order. 1 and 4 threads must give the same bits, and the
  // production series must equal the firms' production summed per (country, material).
  World w = random_world(40000, 99);
  const std::string body =
      "days: 30\nevents:\n"
      "  - {type: capacity_loss, start: 2, country: C0, material: [m0, m1], loss: 0.7}\n"
      "  - {type: export_control, start: 3, exporters: [C1], materials: [m2], targets: [g2],"
      " license_share: 0.1}\n";
  RunOptions one, four;
  one.threads = 1;
  four.threads = 4;
  Simulation a(w, v2_scenario(body), one), b(w, v2_scenario(body), four);
  while (a.step() && b.step()) {
    const CountryMaterialDay ca = a.country_material(), cb = b.country_material();
    for (auto f : {&CountryMaterialDay::production, &CountryMaterialDay::output_lost,
                   &CountryMaterialDay::shortage, &CountryMaterialDay::unmet_final_demand,
                   &CountryMaterialDay::order_backlog, &CountryMaterialDay::inventory_days})
      ASSERT_EQ(std::memcmp((ca.*f).data(), (cb.*f).data(), (ca.*f).size() * sizeof(double)), 0)
          << a.day();
  }
  const std::size_t nm = w.materials().size();
  std::vector<double> sum(w.countries().size() * nm, 0.0);
  for (FirmId i = 0; i < w.num_firms(); ++i)
    sum[w.firm_country()[i] * nm + w.firm_material()[i]] += a.production()[i];
  const CountryMaterialDay cm = a.country_material();
  double shortage = 0.0;
  for (std::size_t k = 0; k < sum.size(); ++k) {
    EXPECT_NEAR(cm.production[k], sum[k], 1e-9 * sum[k]) << k;
    shortage += cm.shortage[k];
  }
  EXPECT_GT(shortage, 0.0);  // the shocks reached someone's inputs: not a vacuous comparison
}

TEST(CountryMaterial, TheMetricsPhasesSeriesAreTheSameBitsAsFreshSums) {
  // With run metrics on, the metrics phase keeps all series on the days the scenario records
  // (every 3rd here) and country_material returns them, by value or into a buffer; with them
  // off, every read sums the day afresh. Both must give the same bits on every day, and
  // run() without a recorder (which sums the headline series alone) the same last day.
  World w = random_world(2000, 7);
  const std::string body =
      "days: 20\nrecord: {every: 3}\nevents:\n"
      "  - {type: capacity_loss, start: 2, country: C0, material: [m0, m1], loss: 0.7}\n";
  RunOptions on, off;
  on.threads = off.threads = 1;
  off.metrics = false;
  Simulation a(w, v2_scenario(body), on), b(w, v2_scenario(body), off);
  auto same = [](const CountryMaterialDay& x, const CountryMaterialDay& y, bool all) {
    for (auto f : {&CountryMaterialDay::production, &CountryMaterialDay::output_lost,
                   &CountryMaterialDay::shortage, &CountryMaterialDay::unmet_final_demand,
                   &CountryMaterialDay::order_backlog, &CountryMaterialDay::inventory_days}) {
      if (!all &&
          (f == &CountryMaterialDay::order_backlog || f == &CountryMaterialDay::inventory_days))
        continue;
      if ((x.*f).size() != (y.*f).size() ||
          std::memcmp((x.*f).data(), (y.*f).data(), (x.*f).size() * sizeof(double)) != 0)
        return false;
    }
    return true;
  };
  double lost = 0.0;
  while (a.step() && b.step()) {
    const CountryMaterialDay fresh = b.country_material();
    CountryMaterialDay buf, head;
    a.country_material(buf);
    a.country_material(head, true);
    EXPECT_TRUE(same(a.country_material(), fresh, true)) << a.day();
    EXPECT_TRUE(same(buf, fresh, true)) << a.day();
    EXPECT_TRUE(same(head, fresh, false)) << a.day();
    for (double v : fresh.output_lost) lost += v;
  }
  EXPECT_GT(lost, 0.0);  // the shock moved the series: not a comparison of baselines
  Simulation c(w, v2_scenario(body), on);
  c.run();
  EXPECT_TRUE(same(c.country_material(), b.country_material(), true));
}

}  // namespace

namespace {

TEST(Stockpile, NeverReleasesIntoFullWarehouses) {
  // b (BBB) holds 10 days of raw from s (AAA). A 5-day export ban (days 0-4) takes b's stock
  // from 10 to 6 after step 2 of day 5 (it keeps producing: its input shortage stays 0). A
  // stockpile released by input shortage (ratio > 0) never opens; one with a cover trigger of
  // 8 days opens when cover falls below 8 (day 3: stock 7) and tops b's stock up towards its
  // target of 10 at its rate (here at most 1 a day); one opened on day 0 by its own start
  // rule releases nothing while b's stock is at target (days 0 and before the ban bites: the
  // gap n A - S is 0 on day 0).
  World w = pair_world(1.0);
  const std::string body =
      "days: 30\nmodel: {utilisation: 1}\nevents:\n"
      "  - {type: export_control, exporters: [AAA], materials: [raw], targets: [BBB],"
      " license_share: 0, start: 0, end: 5}\n"
      "policies:\n"
      "  - {type: stockpile, name: by-shortage, country: BBB, material: raw, quantity: 100,"
      " release: {when_shortage_ratio: 0.0, max_daily_share: 0.01}}\n"
      "  - {type: stockpile, name: by-cover, country: BBB, material: raw, quantity: 100,"
      " release: {when_cover_below_days: 8, max_daily_share: 0.01}}\n";
  Simulation sim(w, v2_scenario(body), one_thread());
  while (sim.step()) {
    const int t = sim.day();
    const auto st = sim.stockpiles();
    EXPECT_EQ(st[0].level, 100.0) << t;  // input shortage never positive
    EXPECT_EQ(sim.production()[1], 1.0) << t;
    if (t < 3) {
      EXPECT_EQ(st[1].level, 100.0) << t;
    }
  }
  EXPECT_LT(sim.stockpiles()[1].level, 100.0);
  EXPECT_NEAR(sim.pooled_stock(1, 0), 10.0, 1e-9);  // refilled to target, not beyond
  // Opened from day 0 by its own rule, at baseline: nothing to fill.
  Simulation open(w,
                  v2_scenario("days: 10\nmodel: {utilisation: 1}\npolicies:\n"
                              "  - {type: stockpile, country: BBB, material: raw, quantity: 5,"
                              " release: {start: 0}}\n"),
                  one_thread());
  open.run();
  EXPECT_EQ(open.stockpiles()[0].level, 5.0);
}

}  // namespace

// ---- Section 3.5: distinct parts ----------------------------------------------------------------

namespace {

/// s1 and s2 (AAA, raw, x0 = 1 each, all sold to b; u0 = 1, so neither can ship more) and b
/// (BBB, good, x0 = 2, C0 = 2, n = 10) with Z0 = 1 from each; lead times 1. raw is marked
/// distinct_parts. `single`: also s3 (AAA, raw, x0 = 1) selling to b3 (BBB, good, x0 = 1,
/// C0 = 1, n = 10) alone, firms 3 and 4.
World two_part_world(bool single = false) {
  WorldBuilder b;
  auto AAA = b.country("AAA"), BBB = b.country("BBB");
  auto raw = b.material("raw"), good = b.material("good");
  b.tables().materials[raw].utilisation = 1.0;
  b.tables().materials[raw].distinct_parts = true;
  auto s1 = b.firm("s1", AAA, raw, 0.0);
  auto s2 = b.firm("s2", AAA, raw, 0.0);
  auto buyer = b.firm("b", BBB, good, 2.0, 10.0);
  b.link(s1, buyer, 1.0, 1);
  b.link(s2, buyer, 1.0, 1);
  if (single) {
    auto s3 = b.firm("s3", AAA, raw, 0.0);
    b.link(s3, b.firm("b3", BBB, good, 1.0, 10.0), 1.0, 1);
  }
  return b.build();
}

const char* kStopS1 =
    "days: 30\n"
    "events:\n"
    "  - {type: capacity_loss, firms: [s1], loss: 1.0, start: 0}\n";

}  // namespace

TEST(DistinctParts, OneMissingPartStopsTheBuyerWhenItsStockIsGone) {
  // s1 stops on day 0. b draws Z0 xr = 1 a day from each part's stock (3.2, single-supplier
  // form), so s1's part falls 10, 9, ..., 0: S1 = 10 - t after step 2 of day t >= 1 (day 0's
  // arrival is the initial shipment). x_b = min(x^cap, 2 min(S1, S2), D = 2) = 2 for t <= 9 and
  // 0 from day 10 (S1 = 0, and nothing draws it any more): 20 days of b's output lost in 30,
  // and the input shortage A x~/x0 - A min(S_l/Z0_l) = 2 - 0 = 2 a day (1 day of use) from day
  // 10: 20 days of use.
  World w = two_part_world();
  Simulation sim(w, v2_scenario(kStopS1), one_thread());
  while (sim.step()) {
    const int t = sim.day();
    EXPECT_EQ(sim.production()[2], t <= 9 ? 2.0 : 0.0) << t;
  }
  const RunMetrics m = sim.run_metrics();
  EXPECT_EQ(m.output_lost_days[cm_index(w, "BBB", "good")], 20.0);
  EXPECT_EQ(m.shortage_days[cm_index(w, "BBB", "raw")], 20.0);
}

TEST(DistinctParts, PooledTheOtherSuppliersPartKeepsTheBuyerAtHalf) {
  // The same with model.distinct_parts: false: b's pooled stock P gets 1 a day (s2, at its
  // capacity) and gives 2 while b makes 2: P = 20 - t after step 2 of day t >= 1, so x_b = 2
  // through day 18, then P = 1 and x_b = 1 from day 19 (arrivals 1 = draw 1): 11 days at half,
  // 5.5 days of b's output lost in 30.
  World w = two_part_world();
  Simulation sim(w, v2_scenario(std::string("model: {distinct_parts: false}\n") + kStopS1),
                 one_thread());
  while (sim.step()) {
    const int t = sim.day();
    EXPECT_NEAR(sim.production()[2], t <= 18 ? 2.0 : 1.0, 1e-12) << t;
  }
  EXPECT_NEAR(sim.run_metrics().output_lost_days[cm_index(w, "BBB", "good")], 5.5, 1e-9);
}

TEST(DistinctParts, ChangesNothingWithoutAShockAndTheSwitchIsWritten) {
  // At baseline S_l = n Z0_l for every part, so A min_l S_l/Z0_l = n A = the pooled stock.
  World w = two_part_world();
  Scenario s = v2_scenario("days: 40\n");
  EXPECT_TRUE(s.model.distinct_parts);
  Simulation sim(w, s, one_thread());
  while (sim.step())
    for (FirmId i = 0; i < w.num_firms(); ++i)
      EXPECT_EQ(sim.production()[i], w.baseline_output()[i]) << sim.day();
  // The preset pools, as the published model does, and rejects the switch.
  EXPECT_FALSE(v2_scenario("days: 1\nmodel: {preset: inoue_todo_2019}\n").model.distinct_parts);
  EXPECT_THROW(v2_scenario("days: 1\nmodel: {preset: inoue_todo_2019, distinct_parts: true}\n"),
               InputError);
}

TEST(DistinctParts, ASingleSuppliersSlotBesideThemStillLimitsItsBuyer) {
  // two_part_world(true): b3's raw slot has one lane, so it is not a distinct slot, and its
  // input limit reads the slot's pooled stock after step 2, as any pooled slot's does (model
  // 3.5). s3 stops on day 0: b3 draws Z0 xr = 1 a day, S = 10 - t after step 2 of day t >= 1,
  // so x_b3 = min(x^cap, D, S / (A / x0)) = 1 through day 9 and 0 from day 10, as b's in the
  // first test. The slot's input limit was once left at its value before day 1 on the engine's
  // path for a slot of one lane at lead time 1 (b3 then went on making 1 a day).
  World w = two_part_world(true);
  const FirmId buyer = 2, b3 = 4;
  Simulation sim(w,
                 v2_scenario("days: 30\n"
                             "events:\n"
                             "  - {type: capacity_loss, firms: [s3], loss: 1.0, start: 0}\n"),
                 one_thread());
  while (sim.step()) {
    const int t = sim.day();
    EXPECT_EQ(sim.production()[b3], t <= 9 ? 1.0 : 0.0) << t;
    EXPECT_EQ(sim.production()[buyer], 2.0) << t;
  }
}

// ---- Section 2.1: spread of inventory cover across firms ----------------------------------------

namespace {

/// s (AAA, raw, x0 = z1 + z2, all sold to b1 and b2; u0 = 1) and two buyers b1, b2 (BBB, good,
/// C0 = their input, n from raw's inventory_days 10) with Z0 = z1 and z2; lead times 1. raw's
/// users spread their cover over `range`.
World spread_world(double z1, double z2, std::optional<std::array<double, 2>> range) {
  WorldBuilder b;
  auto AAA = b.country("AAA"), BBB = b.country("BBB");
  auto raw = b.material("raw", 10.0), good = b.material("good");
  b.tables().materials[raw].utilisation = 1.0;
  b.tables().materials[raw].inventory_days_range = range;
  auto s = b.firm("s", AAA, raw, 0.0);
  auto b1 = b.firm("b1", BBB, good, z1);
  auto b2 = b.firm("b2", BBB, good, z2);
  b.link(s, b1, z1, 1);
  b.link(s, b2, z2, 1);
  return b.build();
}

const char* kCutRaw =
    "days: 30\n"
    "events:\n"
    "  - {type: export_control, exporters: [AAA], materials: [raw], targets: [BBB],"
    " license_share: 0, start: 0}\n";

/// The day-0 stock of each buyer, in days of its use: S / Z0 = its n.
std::vector<double> start_days(const World& w, const std::string& body) {
  Simulation sim(w, v2_scenario(body), one_thread());
  return {sim.stock(0) / w.link_flow()[0], sim.stock(1) / w.link_flow()[1]};
}

}  // namespace

TEST(InventorySpread, TwoEqualBuyersHoldTheQuartilesOfTheRangeAndStopOnTheirDays) {
  // K = 2 buyers of equal use: ranks 0 and 1 get n = 2 + 16 (r + 1/2) / 2 = 6 and 14, whose
  // mean is the nominal 10 (so the scale factor is 1). Under a full cut from day 0 a buyer with
  // n days makes 1 a day on days 0 .. n-1 (day 0's arrival is the initial shipment; as in the
  // worked example, n = 10 stops on day 10) and 0 from day n: the one with 6 stops on day 6,
  // the one with 14 on day 14; the country's output lost is (30 - 6) + (30 - 14) = 40 units
  // of its 2 a day = 20 days.
  World w = spread_world(1.0, 1.0, std::array<double, 2>{2.0, 18.0});
  std::vector<double> n = start_days(w, kCutRaw);
  std::sort(n.begin(), n.end());
  EXPECT_NEAR(n[0], 6.0, 1e-12);
  EXPECT_NEAR(n[1], 14.0, 1e-12);
  Simulation sim(w, v2_scenario(kCutRaw), one_thread());
  const double n1 = sim.stock(0) / w.link_flow()[0], n2 = sim.stock(1) / w.link_flow()[1];
  while (sim.step()) {
    const int t = sim.day();
    EXPECT_EQ(sim.production()[1], t < std::lround(n1) ? 1.0 : 0.0) << t;
    EXPECT_EQ(sim.production()[2], t < std::lround(n2) ? 1.0 : 0.0) << t;
  }
  EXPECT_NEAR(sim.run_metrics().output_lost_days[cm_index(w, "BBB", "good")], 20.0, 1e-12);
  // Without the spread both hold 10 and stop on day 10: 2 x 20 units = 20 days as well, but
  // the first loss comes 4 days later.
  Simulation flat(w, v2_scenario(std::string("model: {inventory_spread: false}\n") + kCutRaw),
                  one_thread());
  EXPECT_EQ(flat.stock(0), 10.0);
  EXPECT_EQ(flat.stock(1), 10.0);
  int first = -1;
  while (flat.step())
    if (first < 0 && flat.production()[1] < 1.0) first = flat.day();
  EXPECT_EQ(first, 10);
}

TEST(InventorySpread, TheUseWeightedMeanIsTheNominalDays) {
  // Uses 1 and 3: the ranks give 6 and 14 in an order fixed by the hash, then both are scaled
  // by f = 10 (1 + 3) / (6 A_6 + 14 A_14) so that sum n A = 10 x 4 = 40 (the country's cover
  // at baseline stays 10 days) and the ratio of the two stays 14 / 6.
  World w = spread_world(1.0, 3.0, std::array<double, 2>{2.0, 18.0});
  const std::vector<double> n = start_days(w, "days: 5\n");
  EXPECT_NEAR(n[0] * 1.0 + n[1] * 3.0, 40.0, 1e-12);
  EXPECT_NEAR(std::max(n[0], n[1]) / std::min(n[0], n[1]), 14.0 / 6.0, 1e-12);
  // With no event nothing moves: the spread is the baseline (S = n Z0), not a shock.
  Simulation sim(w, v2_scenario("days: 40\n"), one_thread());
  while (sim.step())
    for (FirmId i = 0; i < w.num_firms(); ++i)
      EXPECT_EQ(sim.production()[i], w.baseline_output()[i]) << sim.day();
  EXPECT_NEAR(sim.country_material().inventory_days[cm_index(w, "BBB", "raw")], 10.0, 1e-12);
}

TEST(InventorySpread, OffUnderThePresetAndWithoutARange) {
  World w = spread_world(1.0, 3.0, std::array<double, 2>{2.0, 18.0});
  EXPECT_EQ(start_days(w, "days: 1\nmodel: {preset: inoue_todo_2019}\n"),
            (std::vector<double>{10.0, 10.0}));
  EXPECT_FALSE(v2_scenario("days: 1\nmodel: {preset: inoue_todo_2019}\n").model.inventory_spread);
  EXPECT_THROW(v2_scenario("days: 1\nmodel: {preset: inoue_todo_2019, inventory_spread: true}\n"),
               InputError);
  World flat = spread_world(1.0, 3.0, std::nullopt);
  EXPECT_EQ(start_days(flat, "days: 1\n"), (std::vector<double>{10.0, 10.0}));
  // The range is world data: it enters the world's hash, and the text and binary worlds keep it.
  EXPECT_NE(w.sha256(), flat.sha256());
  const auto dir = scratch_dir("spread", "roundtrip");
  write_world(w, dir.string());
  const World text = load_world((dir / "world.yaml").string());
  EXPECT_EQ(text.sha256(), w.sha256());
  EXPECT_EQ(text.materials()[0].inventory_days_range, (std::array<double, 2>{2.0, 18.0}));
  write_binary_world(w, (dir / "world.h5").string());
  EXPECT_EQ(load_binary_world((dir / "world.h5").string()).sha256(), w.sha256());
}

TEST(InventorySpread, ABadRangeIsAnInputErrorNamingTheKey) {
  const auto dir = scratch_dir("spread", "bad");
  auto load = [&](const std::string& range) {
    std::ofstream(dir / "world.yaml")
        << "countries: [{code: AAA}]\n"
           "materials:\n"
           "  - {id: raw, inventory_days: 10, inventory_days_range: "
        << range
        << "}\n"
           "firms: [{id: s, country: AAA, material: raw, final_demand: 1}]\n"
           "links: []\n";
    try {
      load_world((dir / "world.yaml").string());
    } catch (const InputError& e) {
      return e.where().key_path + ": " + e.detail();
    }
    return std::string("no error");
  };
  EXPECT_EQ(load("[5, 2]"),
            "materials[0].inventory_days_range: expected [low, high] with 0 < low <= high <= "
            "3650, found [5, 2]");
  EXPECT_EQ(load("[0, 2]"),
            "materials[0].inventory_days_range: expected [low, high] with 0 < low <= high <= "
            "3650, found [0, 2]");
  EXPECT_EQ(load("7"),
            "materials[0].inventory_days_range: expected a list of two numbers [low, high], "
            "found '7'");
}

// ---- Section 3.5: by-products ----------------------------------------------------------------

namespace {

/// An ore mine o (AAA, ore, x0 = 1) feeds a maker m (AAA, cobalt, x0 = 1, input ore A = Z0 = 1,
/// n 10) that sells 0.7 to a refiner r in BBB and 0.3 to final users in BBB; lead times 1.
/// cobalt is marked a by-product where `byproduct`.
World byproduct_world(bool byproduct) {
  WorldBuilder b;
  auto AAA = b.country("AAA"), BBB = b.country("BBB");
  auto ore = b.material("ore"), cobalt = b.material("cobalt"), refined = b.material("refined");
  b.tables().materials[cobalt].byproduct = byproduct;
  auto o = b.firm("o", AAA, ore, 0.0);
  auto m = b.firm("m", AAA, cobalt, 0.3, 10.0);
  auto r = b.firm("r", BBB, refined, 0.7, 10.0);
  b.link(o, m, 1.0, 1);
  b.link(m, r, 0.7, 1);
  b.final_demand_to(m, BBB, 0.3);
  return b.build();
}

const char* kBanCobalt =
    "days: 30\n"
    "events:\n"
    "  - {type: export_control, exporters: [AAA], materials: [cobalt], targets: [BBB],"
    " license_share: 0, start: 0}\n";

}  // namespace

TEST(Byproduct, TheMakerKeepsItsBaselineOutputAndOffersNoneOfTheRest) {
  // The ban caps every order and final claim on m to 0, so D_m = 0. Marked a by-product, m
  // makes max(D, x0) = 1 within its capacity 1 / 0.85 and its ore stock (3.5): no output lost.
  // Its planned output is x0 too, so it keeps ordering 1 of ore a day and the mine o sees the
  // baseline exactly (section 2: a run at baseline stays there to the last bit). What it makes
  // is not offered: r and BBB's final users get what they get without the flag, nothing.
  World by = byproduct_world(true), plain = byproduct_world(false);
  Simulation a(by, v2_scenario(kBanCobalt), one_thread());
  Simulation b(plain, v2_scenario(kBanCobalt), one_thread());
  const FirmId o = 0, m = 1, r = 2;
  while (a.step() && b.step()) {
    const int t = a.day();
    EXPECT_EQ(a.production()[m], 1.0) << t;
    EXPECT_EQ(a.production()[o], 1.0) << t;
    EXPECT_EQ(a.demand()[m], 0.0) << t;
    EXPECT_EQ(b.production()[m], 0.0) << t;  // without the flag output follows demand
    EXPECT_EQ(a.production()[r], b.production()[r]) << t;
    EXPECT_EQ(a.country_material().unmet_final_demand[cm_index(by, "BBB", "cobalt")], 0.3) << t;
  }
  EXPECT_EQ(a.run_metrics().output_lost_days[cm_index(by, "AAA", "cobalt")], 0.0);
  EXPECT_NEAR(b.run_metrics().output_lost_days[cm_index(plain, "AAA", "cobalt")], 30.0, 1e-12);
  // The refiner loses the same either way: its 10 days of stock, then nothing (day 0's arrival
  // is the last shipment, as in the worked example: output 0.7 a day on days 0 .. 9).
  EXPECT_NEAR(a.run_metrics().output_lost_days[cm_index(by, "BBB", "refined")], 20.0, 1e-12);
}

TEST(Byproduct, ASwitchOffUnderThePresetChangingNothingWithoutAShock) {
  World by = byproduct_world(true);
  Simulation off(by, v2_scenario(std::string("model: {byproduct: false}\n") + kBanCobalt),
                 one_thread());
  while (off.step()) EXPECT_EQ(off.production()[1], 0.0) << off.day();
  EXPECT_FALSE(v2_scenario("days: 1\nmodel: {preset: inoue_todo_2019}\n").model.byproduct);
  EXPECT_TRUE(v2_scenario("days: 1\n").model.byproduct);
  EXPECT_THROW(v2_scenario("days: 1\nmodel: {preset: inoue_todo_2019, byproduct: true}\n"),
               InputError);
  // At baseline D = x0: the flag changes nothing without a shock.
  Simulation calm(by, v2_scenario("days: 20\n"), one_thread());
  while (calm.step())
    for (FirmId i = 0; i < by.num_firms(); ++i)
      EXPECT_EQ(calm.production()[i], by.baseline_output()[i]) << calm.day();
  // The flag is world data: it enters the hash, and the text and binary worlds keep it.
  World plain = byproduct_world(false);
  EXPECT_NE(by.sha256(), plain.sha256());
  const auto dir = scratch_dir("byproduct", "roundtrip");
  write_world(by, dir.string());
  const World text = load_world((dir / "world.yaml").string());
  EXPECT_EQ(text.sha256(), by.sha256());
  EXPECT_TRUE(text.materials()[1].byproduct);
  write_binary_world(by, (dir / "world.h5").string());
  const World bin = load_binary_world((dir / "world.h5").string());
  EXPECT_EQ(bin.sha256(), by.sha256());
  EXPECT_TRUE(bin.materials()[1].byproduct);
  EXPECT_FALSE(bin.materials()[0].byproduct);
}

TEST(Byproduct, ItsMakerRefillsItsInputStockToTheTargetOfItsBaselineOutput) {
  // The ore mine stops on days 0-4 (capacity lost in full, back on day 5) while the ban holds:
  // m keeps making 1 a day from its 10 days of ore, so five days without arrivals leave it 5.
  // Its planned output is max(D, x0) = x0 (3.3, 3.5), so its stock target stays n x0 A = 10 and
  // it orders the 5 back, 1 + (10 - S) / 6 a day. The mine can ship at most its capacity
  // 1 / 0.85, so the stock first rises by the headroom 0.176 a day until 10 - S < 6 x 0.176 =
  // 1.06 (about 22 days from day 6), then closes the gap by 5/6 a day for the ~30 days left:
  // within 1.06 (5/6)^30 = 0.0046 of 10 on day 59. With the target on D = 0 instead, nothing
  // would be reordered (R clipped at 0): it would stay at 5.
  World by = byproduct_world(true);
  const std::string body = std::string(kBanCobalt).replace(0, 9, "days: 60\n") +
                           "  - {type: capacity_loss, firms: [o], loss: 1.0, start: 0, end: 5}\n";
  Simulation a(by, v2_scenario(body), one_thread());
  double lowest = 10.0;
  while (a.step()) {
    lowest = std::min(lowest, a.pooled_stock(1, *by.find_material("ore")));
    EXPECT_EQ(a.production()[1], 1.0) << a.day();
  }
  EXPECT_NEAR(lowest, 5.0, 1e-12);
  EXPECT_NEAR(a.pooled_stock(1, *by.find_material("ore")), 10.0, 0.0046);
}
