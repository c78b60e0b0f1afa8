// Reading YAML with errors that name the file, line, column and key path.
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shortfall/error.hpp"

namespace shortfall::detail {

/// A YAML node together with where it is: the file and its key path.
struct YNode {
  YAML::Node node;
  std::string file;
  std::string path;  ///< "events[2].recovery"

  [[nodiscard]] SourceLocation where() const;
  [[noreturn]] void fail(const std::string& what) const;

  [[nodiscard]] bool has(const char* key) const;
  /// Child by key (must exist: else "missing key").
  [[nodiscard]] YNode at(const char* key) const;
  /// Child by key, or nullopt if absent.
  [[nodiscard]] std::optional<YNode> get(const char* key) const;
  [[nodiscard]] YNode item(std::size_t index) const;
  [[nodiscard]] std::size_t size() const { return node.size(); }
  [[nodiscard]] bool is_map() const { return node.IsMap(); }
  [[nodiscard]] bool is_seq() const { return node.IsSequence(); }
  [[nodiscard]] bool is_scalar() const { return node.IsScalar(); }

  void expect_map() const;
  void expect_seq() const;
  /// Fail on keys not in `allowed`, naming the nearest allowed key.
  void check_keys(std::initializer_list<std::string_view> allowed) const;

  [[nodiscard]] std::string as_string() const;
  [[nodiscard]] double as_double() const;  ///< finite
  [[nodiscard]] double as_double_in(double lo, double hi) const;
  /// A list of two numbers [low, high] with 0 < low <= high <= max.
  [[nodiscard]] std::array<double, 2> as_positive_range(double max) const;
  [[nodiscard]] long long as_int() const;
  [[nodiscard]] long long as_int_in(long long lo, long long hi) const;
  [[nodiscard]] bool as_bool() const;
  /// A scalar or a list of scalars, as strings.
  [[nodiscard]] std::vector<std::string> as_string_list() const;
};

/// Levenshtein distance (for "did you mean" suggestions).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// "a list", "a map", "'text'", "nothing".
std::string describe(const YAML::Node& node);

/// Read a file (IoError if unreadable) and parse it (InputError with line/column on syntax).
YNode load_yaml_file(const std::string& path, std::string* text_out = nullptr);
YNode parse_yaml(const std::string& text, const std::string& file);
/// InputError naming the line of the first byte sequence that is not UTF-8.
void check_utf8(std::string_view text, const std::string& file);

/// Read a whole file; IoError if it cannot be read.
std::string read_file(const std::string& path);
/// Resolve `relative` against the directory of `base_file` (absolute paths pass through).
std::string resolve_path(const std::string& base_file, const std::string& relative);

}  // namespace shortfall::detail
