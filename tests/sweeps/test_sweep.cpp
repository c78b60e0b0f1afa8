// Parameter sweeps (issue 5): expansion, key paths and their errors, equality with runs alone,
// thread-count independence, interrupt and resume.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "shortfall/describe.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/sweep.hpp"
#include "shortfall/world.hpp"
#include "sweeps/journal.hpp"  // the journals, internal

using namespace shortfall;
namespace fs = std::filesystem;

namespace {

const std::string kSrc = SHORTFALL_SOURCE_DIR;
// A sweep file "in" scenarios/sweeps so that `base:` resolves like the real examples.
const std::string kSweepPath = kSrc + "/scenarios/sweeps/test-sweep.yaml";
const std::string kBase = kSrc + "/scenarios/example-gallium-cut.yaml";

SweepSpec spec_from(const std::string& body) {
  return parse_sweep("base: ../example-gallium-cut.yaml\n" + body, kSweepPath);
}

std::string tmpdir(const std::string& name) {
  fs::path p = fs::temp_directory_path() /
               ("shortfall-sweep-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

/// Every array of two RunMetrics equal bit for bit (the numbers `shortfall run` writes in its
/// `summary` group).
void expect_same_metrics(const RunMetrics& a, const RunMetrics& b, const std::string& what) {
  EXPECT_EQ(a.countries, b.countries) << what;
  EXPECT_EQ(a.materials, b.materials) << what;
  EXPECT_TRUE(same_bits(a.output_lost_days, b.output_lost_days)) << what;
  EXPECT_TRUE(same_bits(a.peak_output_loss, b.peak_output_loss)) << what;
  EXPECT_TRUE(same_bits(a.shortage_days, b.shortage_days)) << what;
  EXPECT_TRUE(same_bits(a.unmet_final_days, b.unmet_final_days)) << what;
  EXPECT_TRUE(same_bits(a.output_lost_units, b.output_lost_units)) << what;
  EXPECT_TRUE(same_bits(a.unmet_final_units, b.unmet_final_units)) << what;
  EXPECT_TRUE(same_bits(a.first_shortage_day, b.first_shortage_day)) << what;
  EXPECT_TRUE(same_bits(a.recovery_day, b.recovery_day)) << what;
}

/// Expect an InputError at the given line of the sweep file whose message contains `what`.
void expect_error_at(const std::string& body, int line, const std::string& what) {
  try {
    SweepSpec s = spec_from(body);
    plan_sweep(s);
    FAIL() << "expected an error containing '" << what << "'";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, kSweepPath) << e.what();
    EXPECT_EQ(e.where().line, line) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

const char* kExampleAxes =
    "axes:\n"
    "  events[0].license_share: {range: [0.0, 0.5], steps: 6}\n"
    "  model.tau: [3, 6, 12]\n"
    "replicates: 2\n";

/// Records the country x material series of a run alone, as the sweep keeps them.
class CmRecorder final : public Recorder {
 public:
  void begin(const Simulation&) override {}
  void record_day(const Simulation& sim) override {
    CountryMaterialDay cm = sim.country_material();
    auto add = [](std::vector<double>& to, const std::vector<double>& v) {
      to.insert(to.end(), v.begin(), v.end());
    };
    add(production, cm.production);
    add(output_lost, cm.output_lost);
    add(shortage, cm.shortage);
    add(unmet, cm.unmet_final_demand);
    add(backlog, cm.order_backlog);
    add(inventory, cm.inventory_days);
  }
  void finish(const Simulation&) override {}
  std::vector<double> production, output_lost, shortage, unmet, backlog, inventory;
};

}  // namespace

// ---- expansion -----------------------------------------------------------------------------

TEST(SweepExpand, GridIsCartesianFirstAxisSlowest) {
  SweepSpec s = spec_from(kExampleAxes);
  ASSERT_EQ(s.axes.size(), 2u);
  EXPECT_EQ(s.axes[0].name, "license_share");
  EXPECT_EQ(s.axes[0].kind, AxisKind::kReal);
  EXPECT_EQ(s.axes[1].name, "tau");
  EXPECT_EQ(s.axes[1].kind, AxisKind::kInt);
  auto pts = expand_points(s);
  ASSERT_EQ(pts.size(), 18u);
  const double ls[6] = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5};
  const std::int64_t tau[3] = {3, 6, 12};
  for (std::size_t p = 0; p < 18; ++p) {
    EXPECT_NEAR(std::get<double>(pts[p][0]), ls[p / 3], 1e-15);
    EXPECT_EQ(std::get<std::int64_t>(pts[p][1]), tau[p % 3]);
  }
  EXPECT_EQ(std::get<double>(pts[17][0]), 0.5);  // the end of a range is exact
  SweepPlan plan = plan_sweep(s);
  ASSERT_EQ(plan.num_runs(), 36u);
  for (std::size_t k = 0; k < 36; ++k) {
    EXPECT_EQ(plan.runs[k].point, k / 2);
    EXPECT_EQ(plan.runs[k].replicate, int(k % 2));
    EXPECT_EQ(plan.runs[k].seed, 1u + k % 2);  // the base scenario's seed is 1
  }
  Scenario sc = plan.run_scenario(7);  // point 3 = (0.1, 3), replicate 1
  EXPECT_EQ(sc.seed, 2u);
  EXPECT_EQ(sc.model.tau, 3.0);
  EXPECT_NEAR(sc.events[0].license_share, 0.1, 1e-15);
}

TEST(SweepExpand, IntegerRangesStayIntegers) {
  SweepSpec s = spec_from(
      "axes:\n"
      "  days: {range: [100, 200], steps: 3}\n"
      "  events[0].start: {range: [0, 20], step: 10}\n"
      "  model.inventory_days: {range: [10, 20], steps: 4}\n");
  EXPECT_EQ(s.axes[0].kind, AxisKind::kInt);
  EXPECT_EQ(s.axes[0].values, (std::vector<std::string>{"100", "150", "200"}));
  EXPECT_EQ(s.axes[1].kind, AxisKind::kInt);
  EXPECT_EQ(s.axes[1].values, (std::vector<std::string>{"0", "10", "20"}));
  EXPECT_EQ(s.axes[2].kind, AxisKind::kReal);  // 10, 13.33.., 16.66.., 20
  EXPECT_EQ(s.axes[2].values.size(), 4u);
  SweepPlan plan = plan_sweep(s);
  EXPECT_EQ(plan.num_runs(), 36u);
  // Runs of different lengths share the day coordinate of the longest.
  EXPECT_EQ(plan.days.size(), 200u);
}

TEST(SweepExpand, RandomIsDeterministicAndInRange) {
  const std::string body =
      "axes:\n"
      "  events[0].license_share: {range: [0.0, 0.5]}\n"
      "  model.tau: {range: [3, 12]}\n"
      "  model.rationing: [proportional, waterfill]\n"
      "sampling: random\nsamples: 200\nseed: 7\n";
  SweepSpec s = spec_from(body);
  EXPECT_TRUE(s.axes[0].continuous);
  EXPECT_EQ(s.axes[1].kind, AxisKind::kInt);
  EXPECT_EQ(s.axes[2].kind, AxisKind::kText);
  auto a = expand_points(s), b = expand_points(s);
  ASSERT_EQ(a.size(), 200u);
  EXPECT_EQ(a, b);
  std::set<std::int64_t> taus;
  std::set<std::string> rationing;
  for (auto& p : a) {
    double ls = std::get<double>(p[0]);
    EXPECT_GE(ls, 0.0);
    EXPECT_LT(ls, 0.5);
    std::int64_t t = std::get<std::int64_t>(p[1]);
    EXPECT_GE(t, 3);
    EXPECT_LE(t, 12);
    taus.insert(t);
    rationing.insert(std::get<std::string>(p[2]));
  }
  EXPECT_EQ(taus.size(), 10u);  // 200 draws hit every whole number in [3, 12]
  EXPECT_EQ(rationing.size(), 2u);
  SweepSpec s2 = spec_from(body.substr(0, body.size() - 2) + "8\n");
  EXPECT_NE(expand_points(s2), a);
  SweepPlan plan = plan_sweep(s);
  EXPECT_EQ(plan.run_scenario(5).model.rationing, std::get<std::string>(a[5][2]) == "waterfill"
                                                      ? Rationing::kWaterfill
                                                      : Rationing::kProportional);
}

TEST(SweepExpand, LatinHypercubeHasOneSamplePerStratum) {
  const std::size_t n = 40;
  SweepSpec s = spec_from(
      "axes:\n"
      "  events[0].license_share: {range: [0.0, 0.5]}\n"
      "  model.tau: {range: [2.0, 12.0]}\n"
      "  model.inventory_days: [5, 10, 15, 20]\n"
      "sampling: latin_hypercube\nsamples: 40\nseed: 3\n");
  auto pts = expand_points(s);
  ASSERT_EQ(pts.size(), n);
  for (std::size_t a = 0; a < 2; ++a) {
    const double lo = a == 0 ? 0.0 : 2.0, hi = a == 0 ? 0.5 : 12.0;
    std::vector<int> hits(n, 0);
    for (auto& p : pts) {
      double u = (std::get<double>(p[a]) - lo) / (hi - lo);
      ++hits[std::min<std::size_t>(n - 1, std::size_t(u * double(n)))];
    }
    for (std::size_t k = 0; k < n; ++k) EXPECT_EQ(hits[k], 1) << "axis " << a << " stratum " << k;
  }
  // A discrete axis: each value equally often (n / values).
  std::map<std::int64_t, int> count;
  for (auto& p : pts) ++count[std::get<std::int64_t>(p[2])];
  ASSERT_EQ(count.size(), 4u);
  for (auto& [v, c] : count) EXPECT_EQ(c, 10) << v;
}

TEST(SweepExpand, CoordinateNamesAreUnique) {
  SweepSpec s = spec_from(
      "axes:\n"
      "  events[0].start: [0, 10]\n"
      "  events[0].end: [120, 150]\n"
      "  seed: [1, 5]\n"
      "  model.tau: {values: [3, 6], name: adjustment}\n");
  EXPECT_EQ(s.axes[0].name, "start");
  EXPECT_EQ(s.axes[1].name, "end");
  EXPECT_EQ(s.axes[2].name, "seed_axis");  // "seed" is the per-run seed coordinate
  EXPECT_EQ(s.axes[3].name, "adjustment");
}

// ---- key paths -----------------------------------------------------------------------------

TEST(SweepKeyPath, SelectsByIndexNameAndCreatesMapKeys) {
  const std::string text =
      "name: x\nworld: w.yaml\ndays: 10\n"
      "events:\n  - {type: trade_cut, name: cut, start: 0, between: [[A], [B]]}\n"
      "policies:\n"
      "  - {type: crisis_response, name: ipef-scra, members: [ipef], meeting_days: 15,\n"
      "     actions: [match_suppliers]}\n";
  auto meet = set_key_path(text, "policies[ipef-scra].meeting_days", "5");
  EXPECT_NE(meet.find("meeting_days: 5"), std::string::npos) << meet;
  auto byname = set_key_path(text, "events[cut].start", "3");
  EXPECT_NE(byname.find("start: 3"), std::string::npos) << byname;
  auto created = set_key_path(text, "model.inventory_days", "20");
  EXPECT_EQ(parse_scenario(created, "/tmp/s.yaml").model.inventory_days, 20.0);
  auto list = set_key_path(text, "events[0].between", "[[A, C], [B]]");
  EXPECT_EQ(parse_scenario(list, "/tmp/s.yaml").events[0].side_a,
            (std::vector<std::string>{"A", "C"}));
  EXPECT_THROW(set_key_path(text, "policies[nope].meeting_days", "5"), InputError);
  EXPECT_THROW(set_key_path(text, "events[1].start", "5"), InputError);
  EXPECT_THROW(set_key_path(text, "events[0.start", "5"), InputError);
  EXPECT_THROW(set_key_path(text, "days[0]", "5"), InputError);
}

TEST(SweepKeyPath, ErrorsPointAtTheSweepFileLine) {
  // Line 1 is "base: ...", line 2 "axes:", the first axis is on line 3.
  expect_error_at("axes:\n  events[3].license_share: [0.1]\n", 3, "has 1 item");
  expect_error_at("axes:\n  model.tau: [3]\n  events[nope].license_share: [0.1]\n", 4,
                  "no item of 'events' has name 'nope'");
  expect_error_at("axes:\n  model.tua: [3, 6]\n", 3, "did you mean 'tau'");
  expect_error_at("axes:\n  model.tau: [3]\n  events[0].license_share: [0.5, 1.5]\n", 4, "1.5");
  expect_error_at("axes:\n  events[0.license_share: [0.1]\n", 3, "invalid key path");
  expect_error_at("axes:\n  evnts[0].license_share: [0.1]\n", 3, "did you mean 'events'");
  expect_error_at("axes:\n  world: [a.yaml]\n", 3, "world cannot be varied");
  expect_error_at("axes:\n  model.tau: {range: [3, 12]}\n", 3, "a grid needs 'steps'");
  expect_error_at("axes:\n  model.tau: [3]\nsampling: random\n", 1, "missing key 'samples'");
  expect_error_at("axes:\n  model.tau: [3]\nsampling: grd\n", 4, "unknown sampling");
}

// ---- running -------------------------------------------------------------------------------

class SweepRuns : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    plan_ = new SweepPlan(plan_sweep(spec_from(kExampleAxes)));
    world_ = new World(load_world(plan_->world_path));
    validate_sweep(*plan_, *world_);
  }
  static void TearDownTestSuite() {
    delete plan_;
    delete world_;
  }
  static SweepPlan* plan_;
  static World* world_;
};
SweepPlan* SweepRuns::plan_ = nullptr;
World* SweepRuns::world_ = nullptr;

TEST_F(SweepRuns, RunEqualsTheScenarioRunAlone) {
  for (std::size_t k : {0u, 7u, 35u}) {
    RunResult r = simulate_run(*plan_, *world_, k);
    Scenario alone = parse_scenario(plan_->run_scenario_text(k), kBase);
    RunOptions opt;
    opt.threads = 2;
    Simulation sim(*world_, alone, opt);
    CmRecorder rec;
    sim.run(&rec);
    const std::string what = "run " + std::to_string(k);
    EXPECT_TRUE(same_bits(r.production, rec.production)) << what;
    EXPECT_TRUE(same_bits(r.output_lost, rec.output_lost)) << what;
    EXPECT_TRUE(same_bits(r.shortage, rec.shortage)) << what;
    EXPECT_TRUE(same_bits(r.unmet_final_demand, rec.unmet)) << what;
    EXPECT_TRUE(same_bits(r.order_backlog, rec.backlog)) << what;
    EXPECT_TRUE(same_bits(r.inventory_days, rec.inventory)) << what;
    // The run's metrics are the lone run's (the numbers of its summary and `summary` group).
    expect_same_metrics(r.metrics, sim.run_metrics(), what);
  }
  // Point (license_share 0.1, tau 6), replicate 0 is the base scenario itself.
  RunResult r = simulate_run(*plan_, *world_, 8);
  Simulation sim(*world_, load_scenario(kBase), RunOptions{});
  CmRecorder rec;
  sim.run(&rec);
  EXPECT_TRUE(same_bits(r.shortage, rec.shortage));
  EXPECT_TRUE(same_bits(r.inventory_days, rec.inventory));
  expect_same_metrics(r.metrics, sim.run_metrics(), "run 8");
}

// The metrics follow from the daily series by the definitions of docs/model.md section 10
// (every day is recorded here), recomputed from the series and the world alone.
TEST_F(SweepRuns, MetricsFollowFromTheDailySeries) {
  const World& w = *world_;
  const std::size_t nc = w.countries().size(), nm = w.materials().size(), ncm = nc * nm;
  // Baselines from the world: output of the makers, use A = sum of Z0 into the users, final
  // use by destination.
  std::vector<double> out0(ncm, 0.0), use(ncm, 0.0), fin(ncm, 0.0);
  for (FirmId i = 0; i < w.num_firms(); ++i) {
    out0[w.firm_country()[i] * nm + w.firm_material()[i]] += w.baseline_output()[i];
    for (std::uint32_t q = w.final_dest_begin()[i]; q < w.final_dest_begin()[i + 1]; ++q)
      fin[w.final_dest_country()[q] * nm + w.firm_material()[i]] += w.final_dest_amount()[q];
  }
  for (LinkId l = 0; l < w.num_links(); ++l)
    use[w.firm_country()[w.link_buyer()[l]] * nm + w.firm_material()[w.link_supplier()[l]]] +=
        w.link_flow()[l];
  const int days = int(plan_->days.size());
  ASSERT_EQ(days, 240);
  int affected = 0, recovered = 0, not_recovered = 0;
  for (std::size_t run : {8u, 12u, 30u}) {
    RunResult r = simulate_run(*plan_, w, run);
    EXPECT_EQ(r.metrics.days, days);
    for (std::size_t k = 0; k < ncm; ++k) {
      double lost_days = 0, peak = 0, short_days = 0, unmet_days = 0, lost_units = 0,
             unmet_units = 0;
      int first = -1, last_bad = -1;
      for (int t = 0; t < days; ++t) {
        const std::size_t i = std::size_t(t) * ncm + k;
        const double lost = r.output_lost[i], s = r.shortage[i], u = r.unmet_final_demand[i];
        lost_units += lost;
        unmet_units += u;
        if (out0[k] > 0) lost_days += lost / out0[k], peak = std::max(peak, lost / out0[k]);
        if (use[k] > 0) short_days += s / use[k];
        if (fin[k] > 0) unmet_days += u / fin[k];
        if (first < 0 && s > 1e-9 * use[k]) first = t;
        if (!(r.production[i] >= 0.99 * out0[k] && s <= 0.01 * use[k])) last_bad = t;
      }
      const int rec = last_bad < 0 ? 0 : last_bad == days - 1 ? -1 : last_bad + 1;
      const RunMetrics& m = r.metrics;
      const double tol = 1e-12;
      EXPECT_NEAR(m.output_lost_days[k], lost_days, tol * (1 + lost_days)) << k;
      EXPECT_NEAR(m.peak_output_loss[k], peak, tol) << k;
      EXPECT_NEAR(m.shortage_days[k], short_days, tol * (1 + short_days)) << k;
      EXPECT_NEAR(m.unmet_final_days[k], unmet_days, tol * (1 + unmet_days)) << k;
      EXPECT_NEAR(m.output_lost_units[k], lost_units, tol * (1 + lost_units)) << k;
      EXPECT_NEAR(m.unmet_final_units[k], unmet_units, tol * (1 + unmet_units)) << k;
      EXPECT_EQ(m.first_shortage_day[k], first) << k;
      EXPECT_EQ(m.recovery_day[k], rec) << k;
      affected += m.affected(k);
      recovered += rec > 0;
      not_recovered += rec < 0;
    }
  }
  EXPECT_GT(affected, 0);  // the gallium cut does harm
  EXPECT_GT(recovered + not_recovered, 0);
}

TEST(SweepMetrics, TheOldThresholdKeyIsRejected) {
  // The metrics are model 10's, one definition; a sweep cannot redefine "in shortage".
  expect_error_at("axes:\n  model.tau: [6]\nmetrics: {shortage_threshold: 0}\n", 4,
                  "shortage_threshold is gone");
}

TEST_F(SweepRuns, ThreadCountDoesNotChangeTheOutput) {
  const std::string dir = tmpdir("threads");
  SweepOptions o1;
  o1.out = dir + "/t1.h5";
  o1.threads = 1;
  SweepOptions o2 = o1;
  o2.out = dir + "/t2.h5";
  o2.threads = 2;
  SweepStatus s1 = run_sweep(*plan_, *world_, o1);
  SweepStatus s2 = run_sweep(*plan_, *world_, o2);
  EXPECT_TRUE(s1.complete);
  EXPECT_TRUE(s2.complete);
  EXPECT_EQ(s1.done_now, 36u);
  EXPECT_FALSE(fs::exists(journal_path(o1.out, 0)));
  EXPECT_TRUE(read_bytes(o1.out) == read_bytes(o2.out)) << "files differ";
  SweepOutput out = read_sweep_output(o1.out);
  EXPECT_EQ(out.runs, 36u);
  ASSERT_NE(out.find("license_share"), nullptr);
  EXPECT_EQ(out.find("license_share")->key_path, "events[0].license_share");
  EXPECT_EQ(out.find("tau")->numbers[5], 12.0);
  // The summary group read back: each run's metrics, bit for bit those of the run alone.
  ASSERT_EQ(out.metrics.size(), 36u);
  for (std::size_t k : {0u, 13u, 35u}) {
    Simulation sim(*world_, parse_scenario(plan_->run_scenario_text(k), kBase), RunOptions{});
    sim.run();
    expect_same_metrics(out.metrics[k], sim.run_metrics(), "run " + std::to_string(k));
  }
  auto rows = compare_sweep(out, {"license_share"});
  ASSERT_FALSE(rows.empty());
  for (auto& r : rows) {
    EXPECT_EQ(r.runs, 6u);
    EXPECT_EQ(r.recovery_day.n + r.undisturbed + r.not_recovered, r.runs);
    EXPECT_EQ(r.output_lost_days.n, r.runs);
  }
  EXPECT_THROW(compare_sweep(out, {"meeting_days"}), InputError);
  fs::remove_all(dir);
}

TEST_F(SweepRuns, ResumeAfterAnInterruptGivesTheSameFile) {
  const std::string dir = tmpdir("resume");
  SweepOptions full;
  full.out = dir + "/full.h5";
  full.threads = 2;
  ASSERT_TRUE(run_sweep(*plan_, *world_, full).complete);

  std::atomic<bool> cancel{false};
  SweepOptions part;
  part.out = dir + "/part.h5";
  part.threads = 2;
  part.cancel = &cancel;
  part.progress = [&](std::size_t done, std::size_t) {
    if (done == 10) cancel.store(true);
  };
  SweepStatus st = run_sweep(*plan_, *world_, part);
  EXPECT_TRUE(st.interrupted);
  EXPECT_FALSE(st.complete);
  EXPECT_GE(st.done_now, 10u);
  EXPECT_LT(st.done_now, 36u);
  EXPECT_FALSE(fs::exists(part.out));
  ASSERT_TRUE(fs::exists(journal_path(part.out, 0)));
  EXPECT_EQ(completed_runs(*plan_, *world_, part.out).size(), st.done_now);

  // A torn record at the end (the process was killed while writing) is cut off.
  {
    std::ofstream j(journal_path(part.out, 0), std::ios::binary | std::ios::app);
    const char junk[100] = {'S', 'R', 'U', 'N'};
    j.write(junk, sizeof junk);
  }
  // Without --resume or --restart the partial results are not silently dropped.
  SweepOptions again = part;
  again.cancel = nullptr;
  again.progress = nullptr;
  EXPECT_THROW(run_sweep(*plan_, *world_, again), InputError);

  // A different sweep refuses these partial results.
  SweepPlan other = plan_sweep(spec_from(std::string(kExampleAxes) + "# changed\n"));
  EXPECT_THROW(completed_runs(other, *world_, part.out), InputError);

  again.resume = true;
  SweepStatus st2 = run_sweep(*plan_, *world_, again);
  EXPECT_TRUE(st2.complete);
  EXPECT_EQ(st2.done_before, st.done_now);
  EXPECT_EQ(st2.done_before + st2.done_now, 36u);
  EXPECT_FALSE(fs::exists(journal_path(part.out, 0)));
  EXPECT_TRUE(read_bytes(part.out) == read_bytes(full.out)) << "files differ";
  fs::remove_all(dir);
}

// A point whose scenario draws no random numbers is simulated once for all its replicates
// (issue 21, item 4): the file equals the one from the same runs each simulated alone (one run
// per call, so no call holds two replicates of a point).
TEST_F(SweepRuns, ReplicatesSimulatedOnceEqualRunsAlone) {
  ASSERT_EQ(plan_->spec.replicates, 2);
  ASSERT_FALSE(uses_seed(plan_->point_scenarios[0]));  // so the replicates are shared
  const std::string dir = tmpdir("replicates");
  SweepOptions o;
  o.threads = 2;
  std::vector<std::size_t> all(plan_->num_runs());
  for (std::size_t k = 0; k < all.size(); ++k) all[k] = all.size() - 1 - k;  // any order
  const std::string together = dir + "/together.h5", alone = dir + "/alone.h5";
  EXPECT_EQ(execute_runs(*plan_, *world_, all, journal_path(together, 0), o), all.size());
  join_journals(*plan_, *world_, together);
  for (std::size_t k = 0; k < all.size(); ++k)
    EXPECT_EQ(execute_runs(*plan_, *world_, {k}, journal_path(alone, 0), o), 1u);
  join_journals(*plan_, *world_, alone);
  EXPECT_TRUE(read_bytes(together) == read_bytes(alone)) << "files differ";
  // Both files went through the writer that reuses a run's compressed chunks for the next
  // run with the same series: the series of every run in the file (across the batches of 32
  // runs the writer joins at a time) are those of the run simulated alone.
  {
    hid_t f = H5Fopen(together.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, "country_material/production", H5P_DEFAULT);
    hid_t space = H5Dget_space(ds);
    std::vector<double> all_series(std::size_t(H5Sget_simple_extent_npoints(space)));
    ASSERT_GE(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all_series.data()), 0);
    H5Sclose(space);
    H5Dclose(ds);
    H5Fclose(f);
    const std::size_t per_run = all_series.size() / all.size();
    for (std::size_t k = 0; k < all.size(); ++k) {
      const RunResult alone_k = simulate_run(*plan_, *world_, k);
      ASSERT_EQ(alone_k.production.size(), per_run);
      EXPECT_EQ(std::memcmp(alone_k.production.data(), all_series.data() + k * per_run,
                            per_run * sizeof(double)),
                0)
          << "run " << k;
    }
  }
  // And each replicate's metrics are those of its own run alone (seed included).
  SweepOutput out = read_sweep_output(together);
  ASSERT_EQ(out.metrics.size(), all.size());
  for (std::size_t k : {0u, 1u, 17u})
    expect_same_metrics(out.metrics[k], simulate_run(*plan_, *world_, k).metrics,
                        "run " + std::to_string(k));
  fs::remove_all(dir);
}

TEST_F(SweepRuns, RestartDiscardsPartialResults) {
  const std::string dir = tmpdir("restart");
  SweepOptions o;
  o.out = dir + "/r.h5";
  o.threads = 1;
  // Two runs in the journal of rank 2 (as an MPI rank would leave them).
  std::vector<std::size_t> some = {3, 4};
  EXPECT_EQ(execute_runs(*plan_, *world_, some, journal_path(o.out, 2), o), 2u);
  EXPECT_EQ(completed_runs(*plan_, *world_, o.out), some);
  o.restart = true;
  SweepStatus st = run_sweep(*plan_, *world_, o);
  EXPECT_EQ(st.done_before, 0u);
  EXPECT_EQ(st.done_now, 36u);
  EXPECT_FALSE(has_journals(o.out));
  fs::remove_all(dir);
}

// The program killed with SIGKILL in the middle of a sweep, then resumed.
TEST(SweepCli, KilledSweepResumes) {
  const std::string dir = tmpdir("kill");
  const std::string sweep = dir + "/kill.yaml";
  {
    std::ofstream f(sweep);
    f << "base: " << kBase << "\n"
      << "axes:\n  events[0].license_share: {range: [0.0, 0.5], steps: 40}\n"
      << "  model.tau: {range: [2, 12], steps: 11}\nreplicates: 2\n";  // 880 runs
  }
  // posix_spawn (not fork): this process may have TBB threads running.
  auto run = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {SHORTFALL_CLI, "sweep", sweep, "--quiet", "--threads", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);  // expected errors
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0) << "cannot start " << argv[0];
    return pid;
  };
  auto wait_rc = [](pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  };
  const std::string full = dir + "/full.h5", part = dir + "/part.h5";
  ASSERT_EQ(wait_rc(run({"--out", full})), 0);

  pid_t pid = run({"--out", part});
  const std::string journal = journal_path(part, 0);
  auto t0 = std::chrono::steady_clock::now();
  bool started = false;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
    std::error_code ec;
    if (fs::exists(journal, ec) && fs::file_size(journal, ec) > 20000) {
      started = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  int rc = wait_rc(pid);
  ASSERT_TRUE(started);
  if (rc == -SIGKILL) {
    EXPECT_FALSE(fs::exists(part));
    ASSERT_TRUE(fs::exists(journal));
    EXPECT_EQ(wait_rc(run({"--out", part})), 2);  // neither --resume nor --restart
    EXPECT_EQ(wait_rc(run({"--out", part, "--resume"})), 0);
  }  // else: it finished before the kill (a very fast machine)
  EXPECT_FALSE(fs::exists(journal));
  EXPECT_TRUE(read_bytes(part) == read_bytes(full)) << "files differ";
  fs::remove_all(dir);
}

TEST_F(SweepRuns, MpiRanksGetWholeGroupsOfSharedReplicates) {
  // Under MPI each rank runs deal_runs' share: every run exactly once over the ranks, and a
  // point's replicates that cannot differ (simulated once) never split across ranks.
  ASSERT_FALSE(uses_seed(plan_->point_scenarios[0]));
  std::vector<std::size_t> all(plan_->num_runs());
  for (std::size_t k = 0; k < all.size(); ++k) all[k] = k;
  const int ranks = 4;
  std::vector<int> rank_of_run(all.size(), -1), rank_of_point(plan_->point_scenarios.size(), -1);
  for (int r = 0; r < ranks; ++r)
    for (std::size_t run : deal_runs(*plan_, all, r, ranks)) {
      ASSERT_EQ(rank_of_run.at(run), -1) << "run " << run << " dealt twice";
      rank_of_run[run] = r;
      int& p = rank_of_point.at(plan_->runs[run].point);
      EXPECT_TRUE(p == -1 || p == r) << "point " << plan_->runs[run].point << " split";
      p = r;
    }
  for (std::size_t run = 0; run < all.size(); ++run) EXPECT_NE(rank_of_run[run], -1) << run;
  // 18 points of 2 replicates over 4 ranks: 5, 5, 4 and 4 points.
  for (int r = 0; r < ranks; ++r)
    EXPECT_EQ(deal_runs(*plan_, all, r, ranks).size(), std::size_t(r < 2 ? 10 : 8)) << r;
}

TEST(SweepDeal, SeededReplicatesAreDealtOneByOne) {
  // Replicates that draw random numbers differ: each is its own simulation, spread over ranks.
  SweepPlan plan =
      plan_sweep(spec_from("axes:\n  model.substitution.enabled: [true]\n"
                           "replicates: 4\n"));
  ASSERT_TRUE(uses_seed(plan.point_scenarios[0]));
  const std::vector<std::size_t> all = {0, 1, 2, 3};
  EXPECT_EQ(deal_runs(plan, all, 0, 2), (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(deal_runs(plan, all, 1, 2), (std::vector<std::size_t>{1, 3}));
}
