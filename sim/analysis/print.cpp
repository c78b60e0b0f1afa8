// The analysis's terminal tables (print_analysis in include/shortfall/analyze.hpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "analysis/analysis_common.hpp"
#include "shortfall/analyze.hpp"

namespace shortfall {

using analysis_common::top_k;

// ---- terminal tables ----------------------------------------------------------------------------

namespace {
std::string pct(double x) {
  char b[32];
  if (!std::isfinite(x)) return "-";
  std::snprintf(b, sizeof b, "%.1f%%", 100.0 * x);
  return b;
}
std::string num(double x, const char* fmt = "%.3g") {
  char b[32];
  if (!std::isfinite(x)) return "-";
  std::snprintf(b, sizeof b, fmt, x);
  return b;
}

/// Display width of UTF-8 text: one column per code point (continuation bytes not counted).
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

/// Text split into lines of at most `cap` columns, broken after ", " or at a space, the lines
/// after the first indented by two; a word longer than `cap` stays whole (the column widens).
std::vector<std::string> wrap_cell(const std::string& s, std::size_t cap) {
  if (width(s) <= cap) return {s};
  std::vector<std::string> words;  // each with the separator that follows it
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == ' ') {
      words.push_back(s.substr(from, i + 1 - from));
      from = i + 1;
    }
  words.push_back(s.substr(from));
  std::vector<std::string> lines(1);
  for (const auto& w : words) {
    std::string trimmed = lines.back() + w;
    while (!trimmed.empty() && trimmed.back() == ' ') trimmed.pop_back();
    if (!lines.back().empty() && width(trimmed) > cap) lines.emplace_back();
    lines.back() += w;
  }
  for (std::size_t k = 0; k < lines.size(); ++k) {
    while (!lines[k].empty() && lines[k].back() == ' ') lines[k].pop_back();
    if (k) lines[k] = "  " + lines[k];  // a hanging indent marks the continued cell
  }
  return lines;
}

/// A terminal table: each column as wide as its widest cell or header (UTF-8 aware), numbers
/// and their headers right-aligned, text and its headers left-aligned, two spaces between
/// columns; text longer than its column's cap (long country names) wraps onto more lines
/// instead of being cut.
class TextTable {
 public:
  struct Column {
    std::string header;
    bool right = false;   ///< right-aligned (numbers)
    std::size_t cap = 0;  ///< wrap text longer than this (0: never)
  };
  explicit TextTable(std::vector<Column> cols) : cols_(std::move(cols)) {}
  void add(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void print(std::ostream& os, const std::string& indent = "  ") const {
    const std::size_t n = cols_.size();
    std::vector<std::vector<std::vector<std::string>>> cells;  // row, column, line
    std::vector<std::size_t> w(n);
    for (std::size_t c = 0; c < n; ++c) w[c] = width(cols_[c].header);
    for (const auto& r : rows_) {
      cells.emplace_back();
      for (std::size_t c = 0; c < n; ++c) {
        const std::string& v = c < r.size() ? r[c] : std::string();
        cells.back().push_back(cols_[c].cap ? wrap_cell(v, cols_[c].cap)
                                            : std::vector<std::string>{v});
        for (const auto& l : cells.back().back()) w[c] = std::max(w[c], width(l));
      }
    }
    auto line = [&](auto&& cell_of) {
      std::string out = indent;
      for (std::size_t c = 0; c < n; ++c) {
        const std::string v = cell_of(c);
        const std::string pad(w[c] - width(v), ' ');
        const bool last = c + 1 == n;
        if (c) out += "  ";
        out += cols_[c].right ? pad + v : (last ? v : v + pad);
      }
      while (out.size() > indent.size() && out.back() == ' ') out.pop_back();
      os << out << "\n";
    };
    line([&](std::size_t c) { return cols_[c].header; });
    for (const auto& r : cells) {
      std::size_t depth = 0;
      for (const auto& col : r) depth = std::max(depth, col.size());
      for (std::size_t k = 0; k < depth; ++k)
        line([&](std::size_t c) { return k < r[c].size() ? r[c][k] : std::string(); });
    }
  }

 private:
  std::vector<Column> cols_;
  std::vector<std::vector<std::string>> rows_;
};

constexpr std::size_t kNameCap = 30;  // country names, firm ids: wrapped beyond this

/// The tables, one function per table (printed by print_analysis in this order).
struct Tables {
  const Analysis& a;
  const World& w;
  std::ostream& os;
  std::size_t top;  ///< rows per table
  std::size_t C = w.countries().size(), M = w.materials().size();
  const std::vector<MaterialId>& E = a.dep.end_product;

  std::string cname(std::size_t c) const { return w.countries()[c].name; }
  std::string mid(std::size_t p) const { return w.materials()[p].id; }

  /// The dependency table, world level.
  void world_dependency() const {
    struct R {
      std::size_t e, p;
      double hhi;
    };
    std::vector<R> rows;
    for (std::size_t e = 0; e < E.size(); ++e)
      for (std::size_t p = 0; p < M; ++p) {
        double h = a.dep.world_hhi[e * M + p];
        if (std::isfinite(h)) rows.push_back({e, p, h});
      }
    std::stable_sort(rows.begin(), rows.end(),
                     [](const R& x, const R& y) { return x.hhi > y.hhi; });
    os << "Dependency (world): upstream materials of each end product by concentration of origin\n"
          "  (share of the total direct+indirect requirement produced in each country; HHI 1 = one "
          "country)\n";
    TextTable t({{"end product"},
                 {"upstream material"},
                 {"HHI", true},
                 {"largest origin", false, kNameCap + 7},
                 {"second", false, kNameCap + 7}});
    for (std::size_t r = 0; r < std::min(top, rows.size()); ++r) {
      const auto& x = rows[r];
      std::vector<std::pair<double, std::size_t>> o;
      for (std::size_t c = 0; c < C; ++c)
        o.emplace_back(a.dep.world_share[(x.e * M + x.p) * C + c], c);
      std::stable_sort(o.begin(), o.end(), [](auto& u, auto& v) { return u.first > v.first; });
      std::string first = o.empty() ? "-" : cname(o[0].second) + " " + pct(o[0].first);
      std::string second =
          o.size() < 2 || !(o[1].first > 0) ? "-" : cname(o[1].second) + " " + pct(o[1].first);
      t.add({mid(E[x.e]), mid(x.p), num(x.hhi, "%.3f"), first, second});
    }
    t.print(os);
    if (rows.size() > top) os << "  ... " << rows.size() - top << " more in dependency/world_hhi\n";
    os << "\n";
  }

  /// The dependency table by producer country: the largest single foreign origin.
  void producer_dependency() const {
    struct R {
      std::size_t d, e, p, c;
      double share, hhi;
    };
    std::vector<R> rows;
    for (std::size_t d = 0; d < C; ++d)
      for (std::size_t e = 0; e < E.size(); ++e)
        for (std::size_t p = 0; p < M; ++p) {
          double h = a.dep.hhi[a.dep.at(d, e, p)];
          if (!std::isfinite(h)) continue;
          R best{d, e, p, C, 0.0, h};
          for (std::size_t c = 0; c < C; ++c) {
            double s = a.dep.share[a.dep.at(d, e, p, c)];
            if (c != d && s > best.share) best.share = s, best.c = c;
          }
          if (best.c < C) rows.push_back(best);
        }
    std::stable_sort(rows.begin(), rows.end(), [](const R& x, const R& y) {
      return x.share > y.share || (x.share == y.share && x.hhi > y.hhi);
    });
    os << "Dependency (by producer country): the largest single foreign origin\n";
    TextTable t({{"producer", false, kNameCap},
                 {"end product"},
                 {"upstream material"},
                 {"foreign origin", false, kNameCap},
                 {"share", true},
                 {"HHI", true}});
    for (std::size_t r = 0; r < std::min(top, rows.size()); ++r) {
      const auto& x = rows[r];
      t.add({cname(x.d), mid(E[x.e]), mid(x.p), cname(x.c), pct(x.share), num(x.hhi, "%.3f")});
    }
    t.print(os);
    if (rows.size() > top) os << "  ... " << rows.size() - top << " more in dependency/share\n";
    os << "\n";
  }

  /// The pass-through table.
  void pass_through() const {
    struct R {
      std::size_t e, k;
      double f, o;
    };
    std::vector<R> rows;
    const std::size_t PE = a.pass.end_product.size();
    for (std::size_t e = 0; e < PE; ++e)
      for (std::size_t k = 0; k < C; ++k) {
        double f = a.pass.world_frequency[e * C + k];
        if (std::isfinite(f) && f > 0) rows.push_back({e, k, f, a.pass.world_origin[e * C + k]});
      }
    std::stable_sort(rows.begin(), rows.end(), [](const R& x, const R& y) { return x.f > y.f; });
    os << "Pass-through frequency: share of supply paths (raw-material producer -> ... -> "
          "end-product "
          "producer, on the country x material graph) passing through a country\n";
    TextTable t(
        {{"end product"}, {"country", false, kNameCap}, {"pass-through", true}, {"origin", true}});
    for (std::size_t r = 0; r < std::min(top, rows.size()); ++r) {
      const auto& x = rows[r];
      t.add({mid(a.pass.end_product[x.e]), cname(x.k), pct(x.f), pct(x.o)});
    }
    t.print(os);
    if (a.pass.dropped_cycle_edges)
      os << "  (" << a.pass.dropped_cycle_edges << " edges closing cycles were left out)\n";
    os << "\n";
  }

  /// The chokepoints by betweenness: firms, (country, material) nodes, country links.
  void betweenness() const {
    if (!a.btw.firm.empty()) {
      os << "Chokepoints by betweenness: firms\n";
      TextTable t({{"firm"}, {"country"}, {"material"}, {"betweenness", true}});
      for (auto i : top_k(a.btw.firm, top))
        t.add({w.firm_id()[i], w.countries()[w.firm_country()[i]].code, mid(w.firm_material()[i]),
               num(a.btw.firm[i], "%.4g")});
      t.print(os);
    } else {
      os << "Chokepoints by betweenness: firms skipped (more firms than the limit)\n";
    }
    os << "\nChokepoints by betweenness: (country, material)\n";
    {
      TextTable t({{"country", false, kNameCap}, {"material"}, {"betweenness", true}});
      for (auto key : top_k(a.btw.node, top))
        t.add({cname(key / M), mid(key % M), num(a.btw.node[key], "%.4g")});
      t.print(os);
    }
    os << "\nChokepoints by betweenness: country-to-country links (supplier -> buyer)\n";
    {
      TextTable t({{"from", false, kNameCap}, {"to", false, kNameCap}, {"betweenness", true}});
      for (auto key : top_k(a.btw.link, top))
        t.add({cname(key / C), cname(key % C), num(a.btw.link[key], "%.4g")});
      t.print(os);
    }
    os << "\n";
  }

  /// The chokepoints by simulated knockout.
  void knockouts() const {
    os << "Chokepoints by simulated knockout (" << a.knock.size() << " candidates, "
       << a.knockout_days
       << " days each; lost = final deliveries lost / baseline final demand, per end product)\n";
    os << "  (knock-on: deliveries lost by firms other than the removed ones; ranked by it)\n";
    TextTable t({{"kind"},
                 {"removed", false, kNameCap},
                 {"knock-on", true},
                 {"total", true},
                 {"worst-hit product"},
                 {"mean", true},
                 {"betweenness", true},
                 {"static", true}});
    static const char* kinds[] = {"firm", "country+material", "country link"};
    for (std::size_t r = 0; r < std::min(top, a.knock.size()); ++r) {
      const auto& ko = a.knock[r];
      std::size_t we = 0;
      for (std::size_t e = 1; e < ko.knock_on_share.size(); ++e)
        if (ko.knock_on_share[e] > ko.knock_on_share[we] || !std::isfinite(ko.knock_on_share[we]))
          we = e;
      std::string prod =
          ko.knock_on_share.empty() || !(ko.knock_on_worst > 0) ? "-" : w.materials()[E[we]].id;
      t.add({kinds[ko.kind], ko.label, pct(ko.knock_on_worst), pct(ko.worst), prod, pct(ko.mean),
             num(ko.betweenness, "%.4g"), num(ko.static_score, "%.3g")});
    }
    t.print(os);
    os << "\n";
  }

  /// The economic systemic risk index.
  void esri() const {
    os << "Economic systemic risk index (ESRI): mean over materials of the share of world output "
          "lost if the firm stops\n";
    TextTable t({{"firm"},
                 {"country"},
                 {"material"},
                 {"ESRI", true},
                 {"max", true},
                 {"worst-hit material"},
                 {"downstream", true},
                 {"upstream", true}});
    for (auto i : top_k(a.risk.esri, top)) {
      std::string worst = "-";
      if (!a.risk.loss_by_material.empty()) {
        std::size_t wp = 0;
        for (std::size_t p = 1; p < M; ++p)
          if (a.risk.loss_by_material[i * M + p] > a.risk.loss_by_material[i * M + wp]) wp = p;
        worst = w.materials()[wp].id;
      }
      t.add({w.firm_id()[i], w.countries()[w.firm_country()[i]].code, mid(w.firm_material()[i]),
             pct(a.risk.esri[i]), pct(a.risk.esri_max[i]), worst, pct(a.risk.esri_downstream[i]),
             pct(a.risk.esri_upstream[i])});
    }
    t.print(os);
    os << "\n";
  }
};

}  // namespace

void print_analysis(const Analysis& a, const World& w, std::ostream& os, int top_rows) {
  const std::size_t top = std::size_t(std::max(0, top_rows));
  const auto& E = a.dep.end_product;
  for (const auto& n : a.notes) os << "Note: " << n << "\n";
  os << "End products: ";
  for (std::size_t e = 0; e < E.size(); ++e) os << (e ? ", " : "") << w.materials()[E[e]].id;
  if (E.empty()) os << "none (no material of tier 'end', and every material is bought as input)";
  os << "\n\n";
  Tables t{a, w, os, top};
  t.world_dependency();
  t.producer_dependency();
  t.pass_through();
  t.betweenness();
  if (!a.knock.empty()) t.knockouts();
  if (!a.risk.esri.empty()) t.esri();
}

}  // namespace shortfall
