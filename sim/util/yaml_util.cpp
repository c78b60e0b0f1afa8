#include "util/yaml_util.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

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

void YNode::fail(const std::string& what) const {
  throw InputError(where(), what);
}

bool YNode::has(const char* key) const {
  return node.IsMap() && node[key].IsDefined();
}

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

std::array<double, 2> YNode::as_positive_range(double max) const {
  if (!node.IsSequence() || node.size() != 2)
    fail("expected a list of two numbers [low, high], found " + describe(node));
  const double lo = item(0).as_double(), hi = item(1).as_double();
  if (!(lo > 0.0 && lo <= hi && hi <= max)) {
    std::ostringstream os;
    os << "expected [low, high] with 0 < low <= high <= " << max << ", found [" << lo << ", " << hi
       << "]";
    fail(os.str());
  }
  return {lo, hi};
}

long long YNode::as_int() const {
  if (!node.IsScalar()) fail("expected a whole number, found " + describe(node));
  const std::string& s = node.Scalar();
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size())
    fail("expected a whole number, found " + describe(node));
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
  // One allocation of the file's size and one read: no stream buffer copy (a 1M/5M world's
  // links table is about 150 MB; a stringstream held it twice).
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw IoError(path + ": cannot open file (" + std::strerror(errno) + ")");
  std::string text;
  char chunk[1 << 16];
  struct stat st {};
  if (::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    text.reserve(std::size_t(st.st_size));
  std::size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) text.append(chunk, got);
  const int err = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (err != 0) throw IoError(path + ": read error (" + std::strerror(err) + ")");
  return text;
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

namespace {

/// Where a flow collection ('[', '{') or a quoted scalar ('"', '\'') was opened.
struct Opener {
  char c;
  int line, column;  // 1-based
};

/// The innermost flow collection or quoted scalar still open after the first `end` bytes of
/// `text`, if any. A light scan of YAML's flow and quote syntax (comments, plain scalars that
/// merely contain brackets or quotes, and block scalars are skipped), used only to explain a
/// syntax error that yaml-cpp reports where it gave up (often the end of the file) rather than
/// where the unclosed bracket or quote was opened.
std::optional<Opener> open_at(std::string_view text, std::size_t end) {
  end = std::min(end, text.size());
  std::vector<Opener> flow;
  std::optional<Opener> quote;
  int line = 1, column = 1;
  bool node_start = true;  // the next character may begin a node (after ": ", "- ", ",", ...)
  bool after_space = true;
  int indent = 0;  // indentation of the current line
  bool counting_indent = true;
  int block_indent = -1;  // inside a block scalar: lines indented more than this are text
  auto is_space = [&](std::size_t k) {
    return k >= text.size() || text[k] == ' ' || text[k] == '\t' || text[k] == '\n' ||
           text[k] == '\r';
  };
  for (std::size_t i = 0; i < end; ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line, column = 1, indent = 0, counting_indent = true, after_space = true;
      if (flow.empty() && !quote) node_start = true;
      continue;
    }
    if (counting_indent && !quote) {
      if (c == ' ') {
        ++indent, ++column;
        continue;
      }
      counting_indent = false;
      if (block_indent >= 0) {
        if (indent > block_indent || c == '\r') {  // a line of the block scalar's text
          const std::size_t nl = text.find('\n', i);
          if (nl == std::string_view::npos || nl >= end) break;
          i = nl - 1;
          continue;
        }
        block_indent = -1;
      }
    }
    ++column;
    if (quote) {
      counting_indent = false;
      if (quote->c == '"' && c == '\\') {
        ++i, ++column;
      } else if (quote->c == '\'' && c == '\'' && i + 1 < end && text[i + 1] == '\'') {
        ++i, ++column;
      } else if (c == quote->c) {
        quote.reset();
        node_start = false;
      }
      continue;
    }
    const Opener here{c, line, column - 1};
    const bool was_space = after_space;
    after_space = c == ' ' || c == '\t' || c == '\r';
    if (after_space) continue;
    if (c == '#' && was_space) {  // a comment to the end of the line
      const std::size_t nl = text.find('\n', i);
      if (nl == std::string_view::npos || nl >= end) break;
      i = nl - 1;
      continue;
    }
    if (c == '[' || c == '{') {
      if (node_start) flow.push_back(here);
      continue;  // node_start stays true: a collection's first entry may follow
    }
    if ((c == ']' || c == '}') && !flow.empty()) {
      flow.pop_back();
      node_start = false;
      continue;
    }
    if (c == ',' && !flow.empty()) {
      node_start = true;
      continue;
    }
    if ((c == ':' || c == '-' || c == '?') && (is_space(i + 1) || (c == ':' && !flow.empty()))) {
      node_start = true;
      continue;
    }
    if ((c == '"' || c == '\'') && node_start) {
      quote = here;
      continue;
    }
    if ((c == '|' || c == '>') && node_start && flow.empty()) {
      block_indent = indent;
      const std::size_t nl = text.find('\n', i);
      if (nl == std::string_view::npos || nl >= end) break;
      i = nl - 1;
      continue;
    }
    if ((c == '&' || c == '!' || c == '*') && node_start) {  // an anchor, tag or alias
      while (i + 1 < end && !is_space(i + 1)) ++i, ++column;
      node_start = c != '*';
      continue;
    }
    node_start = false;
  }
  if (quote) return quote;
  if (!flow.empty()) return flow.back();
  return std::nullopt;
}

/// InputError at the later of two equal keys of a map anywhere under `root`, naming both lines.
/// (yaml-cpp keeps both entries and lookups find the first: the second would be ignored.)
void check_duplicate_keys(const YAML::Node& root, const std::string& file) {
  struct Item {
    YAML::Node node;
    std::string path;
  };
  std::vector<Item> todo{{root, ""}};
  std::unordered_set<int> seen;  // collections visited (an alias repeats a node)
  std::vector<std::pair<std::string_view, YAML::Mark>> keys;
  std::unordered_map<std::string_view, YAML::Mark> index;
  while (!todo.empty()) {
    Item item = std::move(todo.back());
    todo.pop_back();
    const YAML::Node& n = item.node;
    if (!n.IsMap() && !n.IsSequence()) continue;
    if (!seen.insert(n.Mark().pos).second) continue;
    auto child_path = [&](const std::string& part, bool index_part) {
      if (index_part) return item.path + "[" + part + "]";
      return item.path.empty() ? part : item.path + "." + part;
    };
    if (n.IsSequence()) {
      for (std::size_t k = n.size(); k-- > 0;)
        if (n[k].IsMap() || n[k].IsSequence())
          todo.push_back({n[k], child_path(std::to_string(k), true)});
      continue;
    }
    keys.clear();
    index.clear();
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar()) continue;  // reported by check_keys
      const std::string& key = it->first.Scalar();
      const YAML::Mark mark = it->first.Mark();
      std::optional<YAML::Mark> first;
      if (keys.size() < 16) {
        for (const auto& [k, m] : keys)
          if (k == key) first = m;
      } else {
        if (index.empty())
          for (const auto& [k, m] : keys) index.emplace(k, m);
        if (auto f = index.find(key); f != index.end()) first = f->second;
        index.emplace(key, mark);
      }
      if (first)
        throw InputError(
            SourceLocation{file, mark.line + 1, mark.column + 1, child_path(key, false)},
            "key '" + key + "' given twice, at line " + std::to_string(first->line + 1) +
                " and at line " + std::to_string(mark.line + 1) +
                "; expected each key once (remove or merge one of them)");
      keys.emplace_back(key, mark);
      if (it->second.IsMap() || it->second.IsSequence())
        todo.push_back({it->second, child_path(key, false)});
    }
  }
}

}  // namespace

YNode parse_yaml(const std::string& text, const std::string& file) {
  check_utf8(text, file);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    const std::string at =
        "line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1);
    if (e.mark.pos >= 0)
      if (auto open = open_at(text, std::size_t(e.mark.pos))) {
        const bool quote = open->c == '"' || open->c == '\'';
        throw InputError(
            SourceLocation{file, open->line, open->column, ""},
            std::string("YAML syntax error: the ") + (quote ? "quoted text " : "") + "'" +
                std::string(1, open->c) + "' opened here is not closed (" + e.msg +
                (e.mark.pos >= int(text.size()) ? " at the end of the file, " : " at ") + at + ")");
      }
    throw InputError(SourceLocation{file, e.mark.line + 1, e.mark.column + 1, ""},
                     "YAML syntax error: " + e.msg);
  }
  check_duplicate_keys(root, file);
  return YNode{root, file, ""};
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
