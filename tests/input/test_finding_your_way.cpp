// Finding your way (issue 19): `info` gives the ids and full tables of a world, `validate`
// shows everything a run will do and warns about what will do nothing, `sweep` reports axes and
// replicates that change nothing before the runs start, and `run --help` states the real
// default thread rule. Each test runs the program as a user would.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.hpp"

namespace fs = std::filesystem;

namespace {

const std::string kSource = SHORTFALL_SOURCE_DIR;
const std::string kCli = SHORTFALL_CLI;

struct Result {
  int rc = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  return shortfall::testing_support::read_text(p);
}

fs::path temp_dir(const std::string& tag) {
  return shortfall::testing_support::fresh_temp_dir("shortfall-fyw", tag);
}

/// Run the program with `args` from the source directory; stdout and stderr kept apart (or
/// both in `out`, in the order written, with `merged`).
Result run_cli(const std::string& args, bool merged = false) {
  const fs::path d = temp_dir("io");
  const std::string cmd = "cd '" + kSource + "' && '" + kCli + "' " + args + " >'" +
                          (d / "out").string() + "' " +
                          (merged ? std::string("2>&1") : "2>'" + (d / "err").string() + "'");
  Result r;
  const int status = std::system(cmd.c_str());
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(d / "out");
  if (!merged) r.err = slurp(d / "err");
  fs::remove_all(d);
  return r;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

/// Whitespace runs collapsed to one space (wrapped lines read as one text).
std::string flat(const std::string& s) {
  std::string o;
  for (char c : s) {
    const bool ws = c == ' ' || c == '\n' || c == '\t';
    if (ws && !o.empty() && o.back() == ' ') continue;
    o.push_back(ws ? ' ' : c);
  }
  return o;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

std::string pct(double share) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", 100.0 * share);
  return b;
}

const std::string kExampleWorld = kSource + "/scenarios/worlds/example.yaml";

}  // namespace

// ---- info ----------------------------------------------------------------------------------

TEST(FindingYourWay, InfoOverviewGivesTheIds) {
  Result r = run_cli("info scenarios/worlds/example.yaml");
  ASSERT_EQ(r.rc, 0) << r.err;
  // The counts stay.
  EXPECT_NE(r.out.find("countries   4\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("materials   0 with utilisation, 0 with unit_value\n"), std::string::npos);
  // Countries with their groups (scenarios/worlds/example.yaml), groups with their member
  // counts (msp: JPN, USA, DEU; ipef: JPN, USA; eu: DEU), materials with tier and unit.
  const std::string f = flat(r.out);
  for (const char* s :
       {"CHN, JPN (ipef, msp), USA (ipef, msp), DEU (eu, msp)", "eu (1), ipef (2), msp (3)",
        "gallium (raw, t)", "gan_wafer (processed, wafer)", "ev (end, vehicle)",
        "--list countries|groups|materials"})
    EXPECT_NE(f.find(s), std::string::npos) << s << "\n" << r.out;
  // A planner's screen: no line wider than 100 characters.
  for (const auto& l : lines_of(r.out)) EXPECT_LE(l.size(), 100u) << l;
}

TEST(FindingYourWay, InfoListCountriesHasNamesAndGroupsInAlignedColumns) {
  Result r = run_cli("info scenarios/worlds/example.yaml --list countries");
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto lines = lines_of(r.out);
  std::size_t head = 0;
  while (head < lines.size() && lines[head].find("country") == std::string::npos) ++head;
  ASSERT_LT(head + 4, lines.size()) << r.out;
  const std::size_t groups_at = lines[head].find("groups"), name_at = lines[head].find("name");
  ASSERT_NE(groups_at, std::string::npos) << r.out;
  ASSERT_NE(name_at, std::string::npos) << r.out;
  // code, firms (CHN: ga_cn1, ga_cn2, wf_cn, ev_cn; JPN: ga_jp, wf_jp, pd_jp; USA: pd_us,
  // ev_us; DEU: wf_de, ev_de), groups, name: each column starts where its header does.
  const std::vector<std::tuple<std::string, int, std::string, std::string>> want = {
      {"CHN", 4, "-", "China"},
      {"JPN", 3, "ipef, msp", "Japan"},
      {"USA", 2, "ipef, msp", "United States"},
      {"DEU", 2, "eu, msp", "Germany"}};
  for (std::size_t k = 0; k < want.size(); ++k) {
    const std::string& l = lines[head + 1 + k];
    const auto& [code, firms, groups, name] = want[k];
    EXPECT_EQ(l.find("  " + code), 0u) << l;
    EXPECT_TRUE(std::regex_search(l, std::regex("^  " + code + " +" + std::to_string(firms) + " ")))
        << l;
    EXPECT_EQ(l.substr(groups_at, groups.size()), groups) << l;
    EXPECT_EQ(l.substr(name_at), name) << l;
  }
}

TEST(FindingYourWay, InfoListWrapsLongNamesAtWordsUnderTheirColumn) {
  const fs::path d = temp_dir("longname");
  const std::string longname =
      "Rest of world (Madagascar, Mozambique, Tanzania, Tajikistan, Mexico, Mongolia, Bolivia, "
      "Zimbabwe, New Caledonia)";
  write(d / "world.yaml",
        "countries:\n"
        "  - {code: AAA, name: Short, groups: [g1]}\n"
        "  - {code: ROW, name: \"" +
            longname +
            "\", groups: [g1, a_rather_long_group_name]}\n"
            "materials:\n"
            "  - {id: ore, unit: t, tier: raw}\n"
            "firms:\n"
            "  - {id: a, country: AAA, material: ore, final_demand: 1}\n"
            "  - {id: r, country: ROW, material: ore, final_demand: 3}\n");
  Result r = run_cli("info '" + (d / "world.yaml").string() + "' --list countries");
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto lines = lines_of(r.out);
  std::size_t head = 0;
  while (head < lines.size() && lines[head].find("country") == std::string::npos) ++head;
  ASSERT_LT(head, lines.size());
  const std::size_t name_at = lines[head].find("name");
  // The name column: every line of the ROW row holds a run of whole words from its name, at
  // the column's start; together they are the name, word for word.
  std::string joined;
  std::size_t row_lines = 0;
  for (std::size_t k = head + 2; k < lines.size(); ++k) {
    ASSERT_GT(lines[k].size(), name_at) << lines[k];
    EXPECT_NE(lines[k][name_at], ' ') << lines[k];
    EXPECT_EQ(lines[k][name_at - 1], ' ') << lines[k];
    if (!joined.empty()) joined.push_back(' ');
    joined.append(lines[k], name_at);
    ++row_lines;
  }
  EXPECT_GT(row_lines, 1u) << "the long name should wrap\n" << r.out;
  EXPECT_EQ(joined, longname) << r.out;
  fs::remove_all(d);
}

TEST(FindingYourWay, InfoListGroupsGivesMembers) {
  Result r = run_cli("info scenarios/worlds/example.yaml --list groups");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\n  eu +1  DEU\n"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\n  ipef +2  JPN, USA\n"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\n  msp +3  JPN, USA, DEU\n"))) << r.out;
}

TEST(FindingYourWay, InfoListMaterialsGivesProducersByShareOfOutput) {
  Result r = run_cli("info scenarios/worlds/example.yaml --list materials");
  ASSERT_EQ(r.rc, 0) << r.err;
  // Baseline output x0 = sales to firms + final demand (scenarios/worlds/example.yaml):
  // gallium: ga_cn1 0.06 + 0.04 + 1.0, ga_cn2 0.05 + 0.5 (CHN); ga_jp 0.01 (JPN).
  const double cn = 0.06 + 0.04 + 1.0 + 0.05 + 0.5, jp = 0.01;
  const std::string gallium = "CHN " + pct(cn / (cn + jp)) + ", JPN " + pct(jp / (cn + jp));
  // gan_wafer: wf_jp 700 + 400, wf_cn 200 + 500, wf_de 300: largest first.
  const double w = 1100 + 700 + 300;
  const std::string wafer =
      "JPN " + pct(1100 / w) + ", CHN " + pct(700 / w) + ", DEU " + pct(300 / w);
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\n  gallium +raw +t +3  " + gallium + "\n")))
      << gallium << "\n"
      << r.out;
  EXPECT_TRUE(
      std::regex_search(r.out, std::regex("\n  gan_wafer +processed +wafer +3  " + wafer + "\n")))
      << wafer << "\n"
      << r.out;
  EXPECT_NE(r.out.find("Gallium (refined)"), std::string::npos) << r.out;  // the name
}

TEST(FindingYourWay, InfoListMaterialsOfTheDefaultWorldFollowsItsProducerShares) {
  // critical-materials.yaml: gallium producers {CHN: 0.775058, RUS: 0.005543, JPN: 0.125635,
  // DEU: 0.040185, USA: 0.026790, TWN: 0.013395}, ROW the remainder 0.013394, listed largest
  // first (ties in the order given, ROW last).
  Result r = run_cli("info scenarios/worlds/critical-materials.yaml --list materials");
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string f = flat(r.out);
  EXPECT_NE(f.find("CHN " + pct(0.775058) + ", JPN " + pct(0.125635) + ", DEU " + pct(0.040185) +
                   ", USA " + pct(0.026790)),
            std::string::npos)
      << r.out;
  EXPECT_NE(f.find("anode_material"), std::string::npos);
}

TEST(FindingYourWay, InfoListRejectsAnUnknownTable) {
  Result r = run_cli("info scenarios/worlds/example.yaml --list firms");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("countries"), std::string::npos) << r.err;
}

// ---- validate ------------------------------------------------------------------------------

TEST(FindingYourWay, ValidateShowsModelPoliciesRecordingAndOutput) {
  Result r = run_cli("validate scenarios/ipef-response-timing.yaml");
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string f = flat(r.out);
  // What scenarios/ipef-response-timing.yaml sets, and the defaults in force.
  for (const char* s :
       {"orders planned", "destocking false", "tau 6 days", "rationing proportional",
        "substitution off", "overproduction alpha_max 1, tau_alpha 365 days", "policies 3",
        "ipef-scra: crisis response of ipef (14 countries) on all materials",
        "input shortage above 10.0% of use for 3 days", "meeting 15 days later",
        "measures 7 days after it: match suppliers, surge to alpha_max 1.15, release the "
        "members' stockpiles",
        "JPN gallium stockpile: JPN gallium, 60 days of use", "opened only by a crisis mechanism",
        "at most 5.0% of it a day", "lead times domestic 1 day, otherwise 28 days",
        "every day: 450 of 450 days recorded", "output outputs/ipef-response-timing.h5",
        "seed 1: breaks ties"})
    EXPECT_NE(f.find(s), std::string::npos) << s << "\n" << r.out;
}

TEST(FindingYourWay, ValidateWarnsAboutWhatWillDoNothing) {
  const fs::path d = temp_dir("noop");
  // One setting a line, so that each warning can be checked against its line.
  write(
      d / "s.yaml",
      "name: noops\n"  // 1
      "world: " +
          kExampleWorld +
          "\n"                             // 2
          "days: 100\n"                    // 3
          "model: {tau: 6,\n"              // 4
          "        inventory_days: 20}\n"  // 5
          "record: {every: 7}\n"           // 6
          "events:\n"                      // 7
          "  - {type: export_control, start: 0, exporters: [CHN], materials: [gallium], targets: "
          "[ipef]}\n"                                                                          // 8
          "  - {type: capacity_loss, start: 0, loss: 0.5, country: DEU, material: gallium}\n"  // 9
          "  - {type: demand_shock, start: 0, factor: 2, material: gan_wafer}\n"               // 10
          "  - {type: trade_cut, start: 0, between: [[USA], [CHN]]}\n"                         // 11
          "  - {type: front_loading, start: 0, targets: [DEU], materials: [ev], extra_days: 9}\n"
          // 12
          "policies:\n"  // 13
          "  - {type: crisis_response, name: us-ga, members: [USA], materials: [gallium], actions: "
          "[surge]}\n"  // 14
          "  - {type: stockpile, country: DEU, material: ev, days_of_use: 30, release: {start: "
          "0}}\n"                                                                        // 15
          "  - {type: stockpile, country: JPN, material: gallium, days_of_use: 30}\n");  // 16
  Result r = run_cli("validate '" + (d / "s.yaml").string() + "'");
  EXPECT_EQ(r.rc, 0) << r.out << r.err;  // warnings only
  const std::string at = (d / "s.yaml").string() + ":";
  // Every model.inventory_days of the example world's materials is set: 20 is used by no firm.
  // DEU makes no gallium; no firm of gan_wafer sells to final users; no link joins USA and
  // CHN; no DEU firm uses ev (front-loading, stockpile); no USA firm uses gallium; JPN's
  // gallium stockpile has no release rule and no mechanism opens it.
  const std::vector<std::pair<int, std::string>> want = {
      {5, "is used by no firm"},
      {9, "capacity loss selects no firm"},
      {10, "none of which sells to final users"},
      {11, "trade cut matches no link"},
      {12, "front-loading: no buyer in DEU uses ev: it changes nothing"},
      {14, "us-ga can never trigger"},
      {15, "no one to release to"},
      {16, "never opens"}};
  for (const auto& [line, what] : want) {
    const std::regex re(
        "\nwarning: " + std::regex_replace(at, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
        std::to_string(line) + ":[0-9]+: [^\n]*" + what);
    EXPECT_TRUE(std::regex_search(r.out, re)) << line << " " << what << "\n" << r.out;
  }
  // The export control (line 8) reaches links (ga_cn1 -> wf_jp): no warning for it.
  EXPECT_EQ(r.out.find(at + "8:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("valid, with 8 warnings\n"), std::string::npos) << r.out;
  // Recording as set: every 7th day of 100 (0, 7, ..., 98) and the last (99).
  EXPECT_NE(r.out.find("every 7 days: 16 of 100 days recorded"), std::string::npos) << r.out;
  fs::remove_all(d);
}

TEST(FindingYourWay, ValidateOfACleanScenarioHasNoWarnings) {
  Result r = run_cli("validate scenarios/example-gallium-cut.yaml");
  ASSERT_EQ(r.rc, 0);
  EXPECT_EQ(r.out.find("warning"), std::string::npos) << r.out;
  EXPECT_TRUE(r.out.size() >= 6 && r.out.substr(r.out.size() - 6) == "valid\n") << r.out;
  // The export control reaches one link: ga_cn1 (CHN) -> wf_jp (JPN); USA buys no gallium.
  EXPECT_NE(r.out.find("[1 link, 0 final-demand exports]"), std::string::npos) << r.out;
}

// ---- sweep ---------------------------------------------------------------------------------

namespace {
/// A sweep of `base` (absolute) with `axes` (YAML lines) in a temporary directory.
fs::path sweep_file(const fs::path& d, const std::string& base, const std::string& axes,
                    int replicates) {
  write(d / "sweep.yaml", "name: t\nbase: " + base + "\naxes:\n" + axes +
                              "sampling: grid\nreplicates: " + std::to_string(replicates) +
                              "\nrecord: {level: country_material, every: 30}\n");
  return d / "sweep.yaml";
}
}  // namespace

TEST(FindingYourWay, SweepReportsAnAxisThatChangesNothingBeforeTheRuns) {
  const fs::path d = temp_dir("axis");
  // Every material of the example world sets inventory_days: model.inventory_days is unused.
  // No policy or substitution: the seed draws nothing, so replicates are identical.
  const fs::path f = sweep_file(d, kSource + "/scenarios/example-gallium-cut.yaml",
                                "  model.inventory_days: [10, 20]\n  model.tau: [3, 6]\n", 2);
  Result dry = run_cli("sweep '" + f.string() + "' --dry-run");
  ASSERT_EQ(dry.rc, 0) << dry.err;
  EXPECT_TRUE(std::regex_search(
      dry.err, std::regex("warning: [^\n]*sweep.yaml:4:[^\n]*model.inventory_days[^\n]*changes "
                          "nothing")))
      << dry.err;
  EXPECT_EQ(dry.err.find("model.tau) changes nothing"), std::string::npos) << dry.err;
  EXPECT_TRUE(std::regex_search(
      dry.err, std::regex("warning: [^\n]*sweep.yaml:7:[^\n]*2 replicates[^\n]*identical")))
      << dry.err;

  // The real sweep says so before it runs anything.
  Result run = run_cli("sweep '" + f.string() + "' --out '" + (d / "o.h5").string() + "'", true);
  ASSERT_EQ(run.rc, 0) << run.out;
  const auto warned = run.out.find("changes nothing"), ran = run.out.find("\nran ");
  ASSERT_NE(warned, std::string::npos) << run.out;
  ASSERT_NE(ran, std::string::npos) << run.out;
  EXPECT_LT(warned, ran) << run.out;
  fs::remove_all(d);
}

TEST(FindingYourWay, SweepOfModelInventoryDaysOnTheDefaultWorldIsReported) {
  // The case of the shipped graphite-lhs.yaml before it was fixed: every material of
  // critical-materials.yaml sets inventory_days.
  const fs::path d = temp_dir("graphite");
  const fs::path f = sweep_file(d, kSource + "/scenarios/graphite-2023.yaml",
                                "  model.inventory_days: [10, 30]\n", 1);
  Result r = run_cli("sweep '" + f.string() + "' --dry-run");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("model.inventory_days) changes nothing"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("all 2 runs of the sweep will be identical"), std::string::npos) << r.err;
  fs::remove_all(d);
}

TEST(FindingYourWay, SweepOfDistinctPartsMattersOnlyWhereTheWorldMarksAMaterial) {
  // The default world marks the automotive parts distinct_parts (docs/model.md 3.5): the
  // switch reaches the run. The example world marks none: the axis changes nothing.
  const fs::path d = temp_dir("distinct");
  const fs::path on = sweep_file(d, kSource + "/scenarios/validation/tohoku-2011.scenario.yaml",
                                 "  model.distinct_parts: [false, true]\n", 1);
  Result r = run_cli("sweep '" + on.string() + "' --dry-run");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err.find("changes nothing"), std::string::npos) << r.err;
  const fs::path off = sweep_file(d, kSource + "/scenarios/example-gallium-cut.yaml",
                                  "  model.distinct_parts: [false, true]\n", 1);
  r = run_cli("sweep '" + off.string() + "' --dry-run");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("model.distinct_parts) changes nothing"), std::string::npos) << r.err;
  fs::remove_all(d);
}

TEST(FindingYourWay, ShippedSweepsVaryWhatMatters) {
  // graphite-lhs sweeps licence shares and tau, all of which reach the run; ipef-meeting-days
  // matches suppliers (seeded draws), so its replicates differ; ipef-trigger's two axes both
  // reach the crisis mechanism.
  for (const char* f :
       {"scenarios/sweeps/graphite-lhs.yaml", "scenarios/sweeps/ipef-meeting-days.yaml",
        "scenarios/sweeps/ipef-trigger.yaml"}) {
    Result r = run_cli(std::string("sweep ") + f + " --dry-run");
    ASSERT_EQ(r.rc, 0) << f << r.err;
    EXPECT_EQ(r.err.find("changes nothing"), std::string::npos) << f << "\n" << r.err;
    EXPECT_EQ(r.err.find("replicates"), std::string::npos) << f << "\n" << r.err;
  }
}

// ---- run --help ----------------------------------------------------------------------------

TEST(FindingYourWay, RunHelpStatesTheThreadRuleTheProgramUses) {
  Result h = run_cli("run --help");
  ASSERT_EQ(h.rc, 0);
  EXPECT_EQ(h.out.find("all cores"), std::string::npos) << h.out;
  EXPECT_NE(flat(h.out).find("one per 100,000 links"), std::string::npos) << h.out;
  // And the program does so: the example world has 14 links, so one thread.
  const fs::path d = temp_dir("threads");
  Result r = run_cli("run scenarios/example-gallium-cut.yaml --days 3 --out '" +
                     (d / "o.h5").string() + "'");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("run         3 days on 1 thread in"), std::string::npos) << r.out;
  fs::remove_all(d);
  // README says the same.
  const std::string readme = flat(slurp(kSource + "/README.md"));
  EXPECT_NE(readme.find("`--threads 0` (the default) uses one thread per 100,000 links"),
            std::string::npos);
}
