// shortfall hindcast [DIR] [--html FILE] [--markdown FILE] [--min-share S] [--sources FILE]
//                    [--sensitivity FILE]
//
// Replays every historical event of DIR (default scenarios/validation; docs/hindcast.md) and
// compares the model with the record, one line per check, ending with "N of M checks hold
// (E events)". Exit 0 when every check holds (or, with --min-share, when at least that share
// does), 1 otherwise, 2 on bad input.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "shortfall/error.hpp"
#include "shortfall/hindcast.hpp"
#include "util/atomic_file.hpp"

namespace shortfall::cli {

namespace {

struct HindcastArgs {
  std::string dir = "scenarios/validation", html, markdown, sources, sensitivity;
  double min_share = -1.0;
  int threads = 0;
};

int run_hindcast(const HindcastArgs& a, const std::string& command) {
  namespace fs = std::filesystem;
  if (!a.html.empty()) check_output_file(a.html, "--html");
  if (!a.markdown.empty()) check_output_file(a.markdown, "--markdown");
  std::string sources = a.sources;
  if (sources.empty()) sources = (fs::path(a.dir) / ".." / "worlds" / "sources.md").string();
  std::set<std::string> keys;
  const bool have_sources = fs::is_regular_file(sources);
  if (!a.sources.empty() && !have_sources)
    throw InputError({a.sources, 0, 0, "--sources"}, "expected a sources file, found nothing");
  if (have_sources) keys = read_source_keys(sources);
  const auto events = load_hindcast_records(a.dir, have_sources ? &keys : nullptr);
  std::vector<HindcastOutcome> outcomes;
  for (const auto& e : events) outcomes.push_back(run_hindcast_event(e, a.threads));
  print_hindcast(outcomes, std::cout);
  std::vector<SensitivityParameter> params;
  std::vector<SensitivityResult> sens;
  if (!a.sensitivity.empty()) {
    params = load_sensitivity(a.sensitivity);
    sens = run_sensitivity(events, outcomes, params, a.threads);
    const HindcastTally base = tally(outcomes);
    print_sensitivity(sens, base.held, base.total, std::cout);
  }
  if (!have_sources)
    std::cout << "note: no sources file at " << sources
              << ": the checks' source keys were not verified\n";
  if (!a.html.empty()) {
    std::ostringstream s;
    write_hindcast_html(outcomes, s, sens.empty() ? nullptr : &sens);
    util::write_file_atomically(a.html, "the page", s.str());
  }
  if (!a.markdown.empty()) {
    std::string notes;
    const fs::path notes_path = fs::path(a.dir) / "notes.md";
    if (fs::is_regular_file(notes_path)) {
      std::ifstream f(notes_path);
      std::ostringstream s;
      s << f.rdbuf();
      notes = s.str();
    }
    std::ostringstream s;
    write_hindcast_markdown(outcomes, notes, command, s);
    util::write_file_atomically(a.markdown, "the record", s.str());
  }
  const HindcastTally t = tally(outcomes);
  if (a.min_share >= 0.0) {
    if (t.share() + 1e-12 < a.min_share) {
      std::printf("below the floor: %.3f of the checks hold, --min-share %.3f\n", t.share(),
                  a.min_share);
      return kExitFailure;
    }
    return kExitOk;
  }
  return t.held == t.total ? kExitOk : kExitFailure;
}

}  // namespace

Command add_hindcast_command(CLI::App& app) {
  auto args = std::make_shared<HindcastArgs>();
  auto* sub = app.add_subcommand(
      "hindcast", "Replay historical events and compare with the record (docs/hindcast.md)");
  sub->add_option("dir", args->dir, "Directory of *.record.yaml (default scenarios/validation)");
  sub->add_option("--html", args->html, "Also write the comparison as an HTML page");
  sub->add_option("--markdown", args->markdown,
                  "Also write the validation report (scenarios/VALIDATION.md)");
  sub->add_option("--min-share", args->min_share,
                  "Exit 0 when at least this share of the checks hold (else 1)")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--sources", args->sources,
                  "Sources file whose keys the checks cite (default DIR/../worlds/sources.md)");
  sub->add_option("--sensitivity", args->sensitivity,
                  "Vary each parameter of this file (e.g. DIR/sensitivity.yaml) to the ends of "
                  "its range, one at a time, and report the checks that flip")
      ->check(CLI::ExistingFile);
  sub->add_option("--threads,-t", args->threads, "Worker threads per run (default: by size)")
      ->check(CLI::Range(0, 4096));
  return {sub, [args] {
            std::string command = "shortfall hindcast";
            if (args->dir != "scenarios/validation") command += " " + args->dir;
            if (!args->markdown.empty()) command += " --markdown " + args->markdown;
            return run_hindcast(*args, command);
          }};
}

}  // namespace shortfall::cli
