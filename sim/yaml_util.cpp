#include "yaml_util.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace shortfall::detail {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  std::string s = node.Scalar();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return "'" + s + "'";
}

SourceLocation YNode::where() const {
  SourceLocation loc{file, 0, 0, path};
  if (node.IsDefined()) {
    auto mark = node.Mark();
    if (mark.line >= 0) {
      loc.line = mark.line + 1;
      loc.column = mark.column + 1;
    }
  }
  return loc;
}

void YNode::fail(const std::string& what) const { throw InputError(where(), what); }

bool YNode::has(const char* key) const { return node.IsMap() && node[key].IsDefined(); }

std::optional<YNode> YNode::get(const char* key) const {
  if (!node.IsMap()) return std::nullopt;
  YAML::Node child = node[key];
  if (!child.IsDefined()) return std::nullopt;
  return YNode{child, file, path.empty() ? std::string(key) : path + "." + key};
}

YNode YNode::at(const char* key) const {
  expect_map();
  auto child = get(key);
  if (!child) fail(std::string("missing key '") + key + "'");
  return *child;
}

YNode YNode::item(std::size_t index) const {
  return YNode{node[index], file, path + "[" + std::to_string(index) + "]"};
}

void YNode::expect_map() const {
  if (!node.IsMap()) fail("expected a map, found " + describe(node));
}
void YNode::expect_seq() const {
  if (!node.IsSequence()) fail("expected a list, found " + describe(node));
}

void YNode::check_keys(std::initializer_list<std::string_view> allowed) const {
  expect_map();
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar())
      YNode{it->first, file, path}.fail("expected a key name, found " + describe(it->first) +
                                        " used as a key");
    std::string key = it->first.Scalar();
    bool ok = false;
    for (auto a : allowed) ok = ok || a == key;
    if (ok) continue;
    std::string best;
    std::size_t best_d = 3;
    for (auto a : allowed) {
      auto d = edit_distance(key, a);
      if (d < best_d) best_d = d, best = std::string(a);
    }
    std::string expected;
    for (auto a : allowed) expected += (expected.empty() ? "" : ", ") + std::string(a);
    YNode k{it->first, file, path.empty() ? key : path + "." + key};
    k.fail("unknown key '" + key + "'" + (best.empty() ? "" : " (did you mean '" + best + "'?)") +
           "; expected one of: " + expected);
  }
}

std::string YNode::as_string() const {
  if (!node.IsScalar()) fail("expected a text value, found " + describe(node));
  return node.Scalar();
}

double YNode::as_double() const {
  if (!node.IsScalar()) fail("expected a number, found " + describe(node));
  const std::string& s = node.Scalar();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) {
    // YAML spellings of special values
    if (s == ".nan" || s == ".NaN" || s == ".inf" || s == ".Inf" || s == "-.inf")
      fail("expected a finite number, found '" + s + "'");
    fail("expected a number, found " + describe(node));
  }
  if (!std::isfinite(v)) fail("expected a finite number, found '" + s + "'");
  return v;
}

double YNode::as_double_in(double lo, double hi) const {
  double v = as_double();
  if (v < lo || v > hi) {
    std::ostringstream os;
    os << "expected a number in [" << lo << ", " << hi << "], found " << node.Scalar();
    fail(os.str());
  }
  return v;
}

long long YNode::as_int() const {
  if (!node.IsScalar()) fail("expected a whole number, found " + describe(node));
  const std::string& s = node.Scalar();
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size()) fail("expected a whole number, found " + describe(node));
  if (errno == ERANGE) fail("expected a whole number in range, found " + describe(node));
  return v;
}

long long YNode::as_int_in(long long lo, long long hi) const {
  long long v = as_int();
  if (v < lo || v > hi)
    fail("expected a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
         "], found " + node.Scalar());
  return v;
}

bool YNode::as_bool() const {
  if (!node.IsScalar()) fail("expected true or false, found " + describe(node));
  const std::string& s = node.Scalar();
  if (s == "true" || s == "True" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "False" || s == "no" || s == "off") return false;
  fail("expected true or false, found " + describe(node));
}

std::vector<std::string> YNode::as_string_list() const {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
    return out;
  }
  if (!node.IsSequence()) fail("expected a name or a list of names, found " + describe(node));
  for (std::size_t i = 0; i < node.size(); ++i) out.push_back(item(i).as_string());
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open file (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError(path + ": read error");
  return ss.str();
}

void check_utf8(std::string_view text, const std::string& file) {
  int line = 1;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {  // ASCII: the common case
      if (c == '\n') ++line;
      ++i;
      continue;
    }
    const std::size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(text[i + k]) >> 6) == 2;
    if (!ok)
      throw InputError(SourceLocation{file, line, 0, ""},
                       "expected UTF-8 text, found an invalid byte sequence");
    i += len;
  }
}

YNode parse_yaml(const std::string& text, const std::string& file) {
  check_utf8(text, file);
  try {
    YAML::Node root = YAML::Load(text);
    return YNode{root, file, ""};
  } catch (const YAML::Exception& e) {
    throw InputError(SourceLocation{file, e.mark.line + 1, e.mark.column + 1, ""},
                     "YAML syntax error: " + e.msg);
  }
}

YNode load_yaml_file(const std::string& path, std::string* text_out) {
  std::string text = read_file(path);
  YNode root = parse_yaml(text, path);
  if (text_out) *text_out = std::move(text);
  return root;
}

std::string resolve_path(const std::string& base_file, const std::string& relative) {
  std::filesystem::path rel(relative);
  if (rel.is_absolute()) return rel.string();
  return (std::filesystem::path(base_file).parent_path() / rel).lexically_normal().string();
}

}  // namespace shortfall::detail
