// Hindcasts (docs/hindcast.md): record parsing and its errors, the metrics on a case whose
// numbers follow from the model by hand, and the command's lines and exit codes.
//
// The case: one maker of `part` in AAA sells to one maker of `good` in BBB, which sells its
// whole output x0 = 10 to final users. Both materials run at full utilisation (u0 = 1: capacity
// = x0). On day 10 the good's maker loses half of its capacity, for good. It has the inputs and
// the demand to make x0, so capacity binds: production is 0.5 x0 exactly from day 10 on
// (docs/model.md 3.5), output lost 0.5 x0 a day. Hence, over days 0-39: min production 0.5,
// output lost 30 x 0.5 = 15 days of output, peak loss 0.5, first loss day 10, no recovery.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_support.hpp"
#include "shortfall/error.hpp"
#include "shortfall/hindcast.hpp"

namespace fs = std::filesystem;
using namespace shortfall;

namespace {

const std::string kCli = SHORTFALL_CLI;

fs::path temp_dir(const std::string& tag) {
  return testing_support::fresh_temp_dir("shortfall-hindcast", tag);
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
}

const char* kWorld = R"(countries:
  - {code: AAA, name: A, groups: []}
  - {code: BBB, name: B, groups: []}
materials:
  - {id: part, name: Part, unit: t, tier: raw, inventory_days: 10, utilisation: 1.0}
  - {id: good, name: Good, unit: t, tier: end, inventory_days: 10, utilisation: 1.0}
firms:
  - {id: p, country: AAA, material: part, final_demand: 0}
  - {id: g, country: BBB, material: good, final_demand: 10}
links:
  - {supplier: p, buyer: g, flow: 5}
)";

const char* kScenario = R"(name: half-capacity
world: world.yaml
days: 40
seed: 1
events:
  - {type: capacity_loss, start: 10, loss: 0.5, firms: [g]}
)";

std::string record(const std::string& checks) {
  return "event: case\ntitle: Half the capacity\nkind: loss\nscenario: case.scenario.yaml\n"
         "start: 2020-01-01\nhalf: fit\nsummary: A made-up case.\nchecks:\n" +
         checks;
}

const char* kGoodChecks =
    R"(  - {id: trough, observed: half, source: K1, quality: S, metric: min_production,
     country: BBB, material: good, window: [0, 39], range: [0.49, 0.51]}
  - {id: lost, observed: fifteen days, source: K1, quality: S, metric: output_lost_days,
     country: BBB, material: good, window: [0, 39], range: [14.99, 15.01]}
  - {id: first, observed: day ten, source: K1, quality: W, metric: first_loss_day,
     country: BBB, material: good, window: [0, 39], range: [10, 10]}
  - {id: never, observed: not back, source: K1, quality: A, metric: recovery_day,
     country: BBB, material: good, window: [0, 39], at_least: 40}
)";

fs::path make_case(const std::string& tag, const std::string& checks) {
  fs::path d = temp_dir(tag);
  write(d / "world.yaml", kWorld);
  write(d / "case.scenario.yaml", kScenario);
  write(d / "case.record.yaml", record(checks));
  write(d / "sources.md", "| key | source |\n|---|---|\n| K1 | a made-up source |\n");
  return d;
}

using Result = testing_support::ShellResult;

Result run_cli(const std::string& args) {
  return testing_support::run_shell("'" + kCli + "' " + args + " 2>&1");
}

}  // namespace

TEST(Hindcast, MetricsFollowFromTheModelByHand) {
  const fs::path d = make_case("metrics", kGoodChecks);
  const auto keys = read_source_keys((d / "sources.md").string());
  const auto events = load_hindcast_records(d.string(), &keys);
  ASSERT_EQ(events.size(), 1u);
  const HindcastOutcome o = run_hindcast_event(events[0], 1);
  ASSERT_EQ(o.checks.size(), 4u);
  EXPECT_EQ(o.checks[0].value, 0.5);
  EXPECT_EQ(o.checks[1].value, 15.0);
  EXPECT_EQ(o.checks[2].value, 10.0);
  EXPECT_TRUE(std::isinf(o.checks[3].value));
  for (const auto& c : o.checks) EXPECT_TRUE(c.holds);
  EXPECT_EQ(o.held(), 4u);
}

TEST(Hindcast, CommandHoldsAndExitsZero) {
  const fs::path d = make_case("ok", kGoodChecks);
  const Result r = run_cli("hindcast " + d.string() + " --sources " + (d / "sources.md").string());
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("4 of 4 checks hold (1 events)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fit half: 4 of 4; held-out half: 0 of 0"), std::string::npos) << r.out;
}

TEST(Hindcast, AViolatedCheckIsReportedAndExitsOne) {
  // Production falls to 0.5, so a record saying it stayed above 0.9 must not hold.
  const std::string checks = std::string(kGoodChecks) +
                             R"(  - {id: wrong, observed: no loss, source: K1, quality: S,
     metric: min_production, country: BBB, material: good, window: [0, 39], at_least: 0.9}
)";
  const fs::path d = make_case("violated", checks);
  const std::string base = "hindcast " + d.string() + " --sources " + (d / "sources.md").string();
  Result r = run_cli(base);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("FAILS wrong: BBB good min_production d0-39  record >= 0.9"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("model 0.5\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 of 5 checks hold (1 events)\n"), std::string::npos) << r.out;
  // The floor: 0.8 of the checks hold.
  EXPECT_EQ(run_cli(base + " --min-share 0.8").rc, 0);
  EXPECT_EQ(run_cli(base + " --min-share 0.81").rc, 1);
}

TEST(Hindcast, HtmlAndMarkdownAreWrittenWhole) {
  const fs::path d = make_case("pages", kGoodChecks);
  const Result r =
      run_cli("hindcast " + d.string() + " --sources " + (d / "sources.md").string() + " --html " +
              (d / "h.html").string() + " --markdown " + (d / "v.md").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  std::ifstream h(d / "h.html"), m(d / "v.md");
  const std::string html((std::istreambuf_iterator<char>(h)), {});
  const std::string md((std::istreambuf_iterator<char>(m)), {});
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_NE(md.find("**4 of 4 checks hold (1 events).**"), std::string::npos) << md;
  for (const auto& e : fs::directory_iterator(d))  // no temporary left behind
    EXPECT_EQ(e.path().filename().string().find("partial"), std::string::npos) << e.path();
  // A directory as the output is found before anything runs.
  const Result bad = run_cli("hindcast " + d.string() + " --html " + d.string());
  EXPECT_EQ(bad.rc, 2) << bad.out;
}

namespace {

// Loads the record and returns the InputError's message ("" if it loaded).
std::string record_error(const std::string& tag, const std::string& checks) {
  const fs::path d = make_case(tag, checks);
  const auto keys = read_source_keys((d / "sources.md").string());
  try {
    const auto events = load_hindcast_records(d.string(), &keys);
    run_hindcast_event(events[0], 1);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Hindcast, MalformedRecordsNameFileLineAndKey) {
  std::string e =
      record_error("metric", R"(  - {id: a, observed: x, source: K1, quality: S, metric: min_output,
     country: BBB, material: good, window: [0, 39], at_least: 0.9}
)");
  EXPECT_NE(e.find("case.record.yaml:9:"), std::string::npos) << e;
  EXPECT_NE(e.find("checks[0].metric"), std::string::npos) << e;
  EXPECT_NE(e.find("found 'min_output'"), std::string::npos) << e;

  e = record_error("source", R"(  - {id: a, observed: x, source: NOPE-1, quality: S,
     metric: min_production, country: BBB, material: good, window: [0, 39], at_least: 0.9}
)");
  EXPECT_NE(e.find("checks[0].source"), std::string::npos) << e;
  EXPECT_NE(e.find("'NOPE-1'"), std::string::npos) << e;

  e = record_error("bounds",
                   R"(  - {id: a, observed: x, source: K1, quality: S, metric: min_production,
     country: BBB, material: good, window: [0, 39], at_least: 0.9, at_most: 1.0}
)");
  EXPECT_NE(e.find("exactly one bound"), std::string::npos) << e;

  e = record_error("country",
                   R"(  - {id: a, observed: x, source: K1, quality: S, metric: min_production,
     country: CCC, material: good, window: [0, 39], at_least: 0.9}
)");
  EXPECT_NE(e.find("checks[0].country"), std::string::npos) << e;
  EXPECT_NE(e.find("found 'CCC'"), std::string::npos) << e;

  e = record_error("window",
                   R"(  - {id: a, observed: x, source: K1, quality: S, metric: min_production,
     country: BBB, material: good, window: [0, 40], at_least: 0.9}
)");
  EXPECT_NE(e.find("checks[0].window"), std::string::npos) << e;
  EXPECT_NE(e.find("0-39"), std::string::npos) << e;

  // AAA makes parts but no goods: the metric cannot be taken.
  e = record_error("pair",
                   R"(  - {id: a, observed: x, source: K1, quality: S, metric: min_production,
     country: AAA, material: good, window: [0, 39], at_least: 0.9}
)");
  EXPECT_NE(e.find("AAA makes no good"), std::string::npos) << e;

  // And the command exits 2 on it.
  const fs::path d = make_case("cli2", R"(  - {id: a, observed: x, source: K1, quality: X,
     metric: min_production, country: BBB, material: good, window: [0, 39], at_least: 0.9}
)");
  const Result r = run_cli("hindcast " + d.string() + " --sources " + (d / "sources.md").string());
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_NE(r.out.find("checks[0].quality"), std::string::npos) << r.out;
}

// Sensitivity: at u0 = 0.5 the good's maker has capacity 2 x0, so losing half of it leaves x0:
// no loss, and every check of the case (all about the loss) flips. At u0 = 1 nothing changes.
// A scenario parameter, the event's loss at 0, does the same.
TEST(Hindcast, SensitivityFlipsTheChecksThatDependOnAParameter) {
  const fs::path d = make_case("sens", kGoodChecks);
  write(d / "sensitivity.yaml", R"(parameters:
  - {name: utilisation of goods, target: world, paths: ["materials[good].utilisation"],
     low: 0.5, high: 1.0, base: 1.0, source: A}
  - {name: the loss, target: scenario, paths: ["events[0].loss"], low: 0.0, high: 0.5,
     base: 0.5, source: A}
)");
  const auto keys = read_source_keys((d / "sources.md").string());
  const auto events = load_hindcast_records(d.string(), &keys);
  std::vector<HindcastOutcome> base;
  for (const auto& e : events) base.push_back(run_hindcast_event(e, 1));
  const auto params = load_sensitivity((d / "sensitivity.yaml").string());
  const auto r = run_sensitivity(events, base, params, 1);
  ASSERT_EQ(r.size(), 2u);
  const std::vector<std::string> all = {"-case/trough", "-case/lost", "-case/first", "-case/never"};
  for (const auto& x : r) {
    EXPECT_EQ(x.held_low, 0u) << x.parameter->name;
    EXPECT_EQ(x.flips_low, all) << x.parameter->name;
    EXPECT_EQ(x.held_high, 4u) << x.parameter->name;
    EXPECT_TRUE(x.flips_high.empty()) << x.parameter->name;
  }
  // The edited world is a temporary file: nothing is left next to the world.
  for (const auto& f : fs::directory_iterator(d))
    EXPECT_EQ(f.path().filename().string().rfind(".hindcast-", 0), std::string::npos);
  // The command prints it and draws the tornado.
  const Result c = run_cli("hindcast " + d.string() + " --sources " + (d / "sources.md").string() +
                           " --sensitivity " + (d / "sensitivity.yaml").string() + " --html " +
                           (d / "s.html").string());
  EXPECT_EQ(c.rc, 0) << c.out;
  EXPECT_NE(c.out.find("    low  0.5: 0 of 4  -case/trough -case/lost -case/first -case/never"),
            std::string::npos)
      << c.out;
  std::ifstream h(d / "s.html");
  const std::string html((std::istreambuf_iterator<char>(h)), {});
  EXPECT_NE(html.find("Which assumptions carry the result?"), std::string::npos);
}
