// libFuzzer target: the sweep parser, shortfall::parse_sweep(text, path), followed by the
// expansion of its points (plan_sweep). Relative paths resolve into the scratch directory,
// which holds a valid base scenario `base.yaml`. Every input must either parse and expand or
// raise InputError/IoError.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "shortfall/error.hpp"
#include "shortfall/sweep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (shortfall::fuzz::names_special_files(text)) return 0;
  const std::string path = (shortfall::fuzz::scratch_dir() / "sweep.yaml").string();
  try {
    shortfall::SweepSpec spec = shortfall::parse_sweep(text, path);
    // Keep the expansion small: a fuzzed grid may ask for billions of points, which is a
    // (checked) size limit, not something to allocate here.
    double points = spec.sampling == shortfall::Sampling::kGrid ? 1.0 : double(spec.samples);
    if (spec.sampling == shortfall::Sampling::kGrid)
      for (const auto& a : spec.axes) points *= double(std::max<std::size_t>(1, a.values.size()));
    if (points * spec.replicates <= 4096) {
      shortfall::SweepPlan plan = shortfall::plan_sweep(spec);
      (void)plan;
    }
  } catch (const shortfall::InputError&) {
  } catch (const shortfall::IoError&) {
  }
  return 0;
}
