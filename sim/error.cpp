#include "shortfall/error.hpp"

namespace shortfall {

std::string SourceLocation::str() const {
  std::string out = file.empty() ? std::string("<input>") : file;
  if (line > 0) {
    out.append(1, ':').append(std::to_string(line));
    if (column > 0) out.append(1, ':').append(std::to_string(column));
  }
  if (!key_path.empty()) out.append(": ").append(key_path);
  return out;
}

InputError::InputError(SourceLocation where, const std::string& what)
    : std::runtime_error(where.str() + ": " + what), where_(std::move(where)), detail_(what) {}

}  // namespace shortfall
