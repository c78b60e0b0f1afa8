// Shared helpers of the libFuzzer targets: a private scratch directory with small valid tables
// that fuzzed YAML may refer to by relative path, and a guard against special files.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace shortfall::fuzz {

/// A per-process directory (removed at exit) holding firms.csv, links.csv and losses.csv that
/// match the example world (and base.yaml, a scenario for sweep files), so inputs like `firms_csv:
/// firms.csv` reach the CSV code paths.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d =
        std::filesystem::temp_directory_path() / ("shortfall-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    auto put = [&](const char* name, const char* text) { std::ofstream(d / name) << text; };
    put("firms.csv",
        "id,country,material,final_demand,inventory_days\n"
        "ga_cn,CHN,gallium,1.0,\n"
        "wf_jp,JPN,gan_wafer,0,30\n"
        "\"ev,us\",USA,ev,400,\n");
    put("links.csv",
        "supplier,buyer,flow,lead_time\n"
        "ga_cn,wf_jp,0.06,14\n"
        "wf_jp,\"ev,us\",700,\n");
    put("losses.csv", "firm,loss\nga_cn,0.5\nwf_jp,1\n");
    // A base scenario for sweep files (`base: base.yaml`).
    put("base.yaml",
        "name: base\nworld: world.yaml\ndays: 30\nseed: 1\n"
        "model: {tau: 6, inventory_days: 15, rationing: proportional}\n"
        "events:\n"
        "  - {type: export_control, start: 0, end: 20, exporters: [CHN], materials: [gallium],\n"
        "     targets: [JPN], license_share: 0.1, name: ctl}\n"
        "  - {type: capacity_loss, start: 1, loss: 0.5, country: CHN, material: gallium,\n"
        "     recovery: {type: linear, days: 10}}\n");
    static const std::filesystem::path keep = d;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(keep, ec);
    });
    return d;
  }();
  return dir;
}

/// Write `text` to a file in the scratch directory and return its path.
inline std::string write_scratch(const char* name, std::string_view text) {
  auto p = scratch_dir() / name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(text.data(), std::streamsize(text.size()));
  return p.string();
}

/// Inputs naming special file systems could make a parser read /dev/zero or /dev/stdin forever;
/// those are not parser bugs, so skip them.
inline bool names_special_files(std::string_view text) {
  return text.find("/dev") != text.npos || text.find("/proc") != text.npos ||
         text.find("/sys") != text.npos;
}

}  // namespace shortfall::fuzz
