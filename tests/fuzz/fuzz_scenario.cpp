// libFuzzer target: the scenario parser, shortfall::parse_scenario(text, path).
// Every input must either parse or raise InputError/IoError (a firms_csv it names may be
// missing); anything else escapes and libFuzzer reports it as a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "shortfall/error.hpp"
#include "shortfall/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (shortfall::fuzz::names_special_files(text)) return 0;
  // Relative paths in the scenario (world, firms_csv) resolve into the scratch directory.
  const std::string path = (shortfall::fuzz::scratch_dir() / "scenario.yaml").string();
  try {
    shortfall::Scenario s = shortfall::parse_scenario(text, path);
    (void)s;
  } catch (const shortfall::InputError&) {
  } catch (const shortfall::IoError&) {
  }
  return 0;
}
