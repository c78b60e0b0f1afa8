// Bad input: every class of bad scenario, world or CSV table in tests/data/bad/ fails before the
// run with exit code 2 and a message naming the file, line, column and key path.
//
// Each case is tests/data/bad/<name>.yaml (a scenario; world-level cases point at
// tests/data/bad/worlds/<name>.yaml) with a sidecar <name>.expected holding the exact first
// line `shortfall validate tests/data/bad/<name>.yaml` prints on stderr, run from the source
// directory. The same case is checked through the library (InputError::where()).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "shortfall/error.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/world.hpp"

namespace fs = std::filesystem;
using namespace shortfall;

namespace {

const std::string kSource = SHORTFALL_SOURCE_DIR;
const std::string kCli = SHORTFALL_CLI;
const std::string kBad = "tests/data/bad/";

struct BadCase {
  const char* name;
  const char* file;  ///< relative to the source dir
  int line, column;  ///< 0: not known
  const char* key_path;
};

void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.name;
}

// Where each case must be reported (the message text is in the .expected sidecar).
const BadCase kCases[] = {
    {"yaml_syntax", "yaml_syntax.yaml", 6, 1, ""},  // yaml-cpp notices the unclosed '{' at EOF
    {"unknown_top_key", "unknown_top_key.yaml", 2, 1, "dayz"},
    {"unknown_event_type", "unknown_event_type.yaml", 4, 12, "events[0].type"},
    {"wrong_type", "wrong_type.yaml", 2, 7, "days"},
    {"days_zero", "days_zero.yaml", 2, 7, "days"},
    {"days_huge", "days_huge.yaml", 2, 7, "days"},
    {"nan_value", "nan_value.yaml", 7, 11, "events[0].loss"},
    {"inf_value", "inf_value.yaml", 4, 58, "events[0].factor"},
    {"unknown_country_event", "unknown_country_event.yaml", 5, 5, "events[1]"},
    {"license_share_above_one", "license_share_above_one.yaml", 5, 21, "events[0].license_share"},
    {"end_before_start", "end_before_start.yaml", 4, 38, "events[0].end"},
    {"non_utf8", "non_utf8.yaml", 2, 0, ""},
    {"negative_flow", "worlds/negative_flow.yaml", 7, 35, "links[0].flow"},
    {"missing_firm", "worlds/missing_firm.yaml", 8, 26, "links[1].buyer"},
    {"duplicate_firm", "worlds/duplicate_firm.yaml", 6, 10, "firms[2].id"},
    // Found after loading, when the links are grouped; the loader maps them back to the
    // YAML entry that defined the link or firm.
    {"duplicate_link", "worlds/duplicate_link.yaml", 8, 5, "links[1]"},
    {"empty_world", "worlds/empty_world.yaml", 3, 8, "firms"},
    {"zero_output_firm", "worlds/zero_output_firm.yaml", 6, 5, "firms[b]"},
    // Found by fuzzing: a flow sequence used as a map key.
    {"nonscalar_key", "nonscalar_key.yaml", 4, 24, "events[0]"},
    // CSV: line of the row, column = field number.
    {"csv_bad_number", "worlds/csv_bad_number.links.csv", 2, 3, "column 'flow'"},
    {"csv_missing_column", "worlds/csv_missing_column.links.csv", 1, 0, "header"},
    {"csv_field_count", "worlds/csv_field_count.links.csv", 3, 0, ""},
    // Version 2 world data (docs/model.md section 1): a destination that is not a country of the
    // world (inline map: the key's position); a split table whose rows for firm s give
    // 0.5 + 0.25 = 0.75 != C0 = 1 (reported at s's first row, column 3 = amount); u0 outside
    // (0, 1]; a value per unit that is not > 0.
    {"split_unknown_country", "worlds/split_unknown_country.yaml", 4, 97,
     "firms[0].final_demand_to.KOR"},
    {"split_not_summing", "worlds/split_not_summing.split.csv", 2, 3, "column 'amount'"},
    {"utilisation_out_of_range", "worlds/utilisation_out_of_range.yaml", 3, 27,
     "materials[0].utilisation"},
    {"unit_value_not_positive", "worlds/unit_value_not_positive.yaml", 4, 39,
     "materials[1].unit_value"},
};

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Run a shell command; returns (exit status, first line of stderr).
std::pair<int, std::string> run_cli(const std::string& args) {
  const std::string cmd = "cd '" + kSource + "' && '" + kCli + "' " + args + " 2>&1 1>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, first_line(out)};
}

/// Run the body with the current directory set to the source dir (relative paths as on the
/// command line), restoring it afterwards.
template <class F>
void in_source_dir(F&& body) {
  const fs::path old = fs::current_path();
  fs::current_path(kSource);
  try {
    body();
  } catch (...) {
    fs::current_path(old);
    throw;
  }
  fs::current_path(old);
}

/// What `shortfall validate` does, through the library.
void validate(const std::string& scenario_path) {
  Scenario sc = load_scenario(scenario_path);
  World w = load_world(sc.world_path);
  (void)check_scenario(sc, w);
}

}  // namespace

TEST(BadInputCatalogue, EveryCaseHasAnExpectedLineAndAnEntry) {
  std::set<std::string> on_disk, in_table;
  for (const auto& e : fs::directory_iterator(kSource + "/" + kBad))
    if (e.path().extension() == ".yaml") on_disk.insert(e.path().stem().string());
  for (const auto& c : kCases) in_table.insert(c.name);
  EXPECT_EQ(on_disk, in_table);
  for (const auto& name : on_disk)
    EXPECT_TRUE(fs::exists(kSource + "/" + kBad + name + ".expected")) << name;
  EXPECT_GE(on_disk.size(), 25u);
}

class BadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInput, CliExitsWith2AndTheExpectedMessage) {
  const BadCase& c = GetParam();
  const std::string expected = first_line(read_text(kSource + "/" + kBad + c.name + ".expected"));
  ASSERT_FALSE(expected.empty()) << c.name;
  auto [rc, line] = run_cli("validate " + kBad + c.name + ".yaml");
  EXPECT_EQ(rc, 2) << c.name;
  EXPECT_EQ(line, expected) << c.name;
  // The message names the file as given (relative to where the program was started).
  EXPECT_EQ(expected.rfind("error: " + kBad + c.file, 0), 0u) << expected;
}

TEST_P(BadInput, LibraryThrowsInputErrorWithTheLocation) {
  const BadCase& c = GetParam();
  const std::string expected = first_line(read_text(kSource + "/" + kBad + c.name + ".expected"));
  in_source_dir([&] {
    try {
      validate(kBad + c.name + ".yaml");
      ADD_FAILURE() << c.name << ": no error";
    } catch (const InputError& e) {
      EXPECT_EQ("error: " + first_line(e.what()), expected) << c.name;
      EXPECT_EQ(e.where().file, kBad + c.file) << c.name;
      EXPECT_EQ(e.where().line, c.line) << c.name;
      EXPECT_EQ(e.where().column, c.column) << c.name;
      EXPECT_EQ(e.where().key_path, c.key_path) << c.name;
      EXPECT_EQ(std::string(e.what()), e.where().str() + ": " + e.detail()) << c.name;
    }
  });
}

INSTANTIATE_TEST_SUITE_P(Catalogue, BadInput, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(BadInput, RunFailsBeforeTheRunAndWritesNothing) {
  // `run` checks the same way before simulating: exit 2, and no output file.
  const fs::path dir = fs::temp_directory_path() / ("shortfall-bad-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string out = (dir / "out.h5").string();
  for (const char* name : {"days_zero", "missing_firm", "unknown_country_event"}) {
    auto [rc, line] = run_cli(std::string("run ") + kBad + name + ".yaml --out '" + out + "'");
    EXPECT_EQ(rc, 2) << name;
    EXPECT_EQ(line, first_line(read_text(kSource + "/" + kBad + name + ".expected"))) << name;
    EXPECT_FALSE(fs::exists(out)) << name;
  }
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST(BadInput, MissingFilesAreIoErrorsWithExitCode3) {
  auto [rc, line] = run_cli("validate " + kBad + "no_such_scenario.yaml");
  EXPECT_EQ(rc, 3);
  EXPECT_EQ(line, "error: " + kBad +
                      "no_such_scenario.yaml: cannot open file (No such file or directory)");
  in_source_dir([&] {
    EXPECT_THROW(load_scenario(kBad + "no_such_scenario.yaml"), IoError);
    EXPECT_THROW(load_world(kBad + "worlds/no_such_world.yaml"), IoError);
  });
}

TEST(BadInput, UnknownCommandLineOptionIsExit2) {
  auto [rc, line] = run_cli("run " + kBad + "days_zero.yaml --no-such-option");
  EXPECT_EQ(rc, 2);
}
