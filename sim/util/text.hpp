// Small text helpers shared by the readers, the engine's event log and the printed tables.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace shortfall::util {

/// The items separated by `sep` ("" for no items).
inline std::string join(const std::vector<std::string>& items, const char* sep = ",") {
  std::string out;
  for (std::size_t k = 0; k < items.size(); ++k) out += (k ? sep : "") + items[k];
  return out;
}

/// `v` as printf's %g writes it (30, 7.5, 1e+06).
inline std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

/// "1 firm", "3 firms".
inline std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace shortfall::util
