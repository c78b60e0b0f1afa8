// libFuzzer target: the world YAML loader, shortfall::load_world(path). The input is written
// to a scratch file next to small valid firms.csv/links.csv tables, so explicit worlds with
// inline or CSV firms and links are reached (and generator descriptions, which have `recipes`).
// Every input must either load or raise InputError/IoError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "shortfall/error.hpp"
#include "shortfall/world.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (shortfall::fuzz::names_special_files(text)) return 0;
  const std::string path = shortfall::fuzz::write_scratch("world.yaml", text);
  try {
    shortfall::World w = shortfall::load_world(path);
    (void)w;
  } catch (const shortfall::InputError&) {
  } catch (const shortfall::IoError&) {
  }
  return 0;
}
