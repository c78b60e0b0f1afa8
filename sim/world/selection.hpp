// Selections of the world by name: the countries or materials a list of codes, groups or "all"
// names, the flows an export control reaches, and the buyers a front-loading event reaches. The
// one rule the engine, the scenario checks and the descriptions of `validate` follow.
#pragma once

#include <string>
#include <vector>

#include "shortfall/scenario.hpp"
#include "shortfall/world.hpp"

namespace shortfall {

/// Countries named by codes, groups or "all"; an empty list means all where `empty_means_all`.
inline std::vector<bool> country_mask(const World& w, const std::vector<std::string>& names,
                                      bool empty_means_all) {
  std::vector<bool> mask(w.countries().size(), names.empty() && empty_means_all);
  for (const auto& n : names)
    for (CountryId c : w.resolve_countries(n)) mask[c] = true;
  return mask;
}

inline std::vector<bool> material_mask(const World& w, const std::vector<std::string>& names,
                                       bool empty_means_all) {
  std::vector<bool> mask(w.materials().size(), names.empty() && empty_means_all);
  for (const auto& n : names) {
    if (n == "all")
      std::fill(mask.begin(), mask.end(), true);
    else if (auto p = w.find_material(n))
      mask[*p] = true;
  }
  return mask;
}

/// The flows an export control reaches (model section 4): from an exporter country, of one of
/// its materials, across a border to a target country that is not excepted. The one rule for
/// the links of the world, for final users abroad, and for links added during the run.
struct ExportControlReach {
  std::vector<bool> exporter, material, target, excepted;
  ExportControlReach() = default;  // reaches nothing
  ExportControlReach(const World& w, const Event& ev)
      : exporter(country_mask(w, ev.exporters, false)),
        material(material_mask(w, ev.materials, false)),
        target(country_mask(w, ev.targets, false)),
        excepted(country_mask(w, ev.except_targets, false)) {}
  /// Whether the control reaches what a maker of material p in `from` sells to `to`.
  [[nodiscard]] bool applies(CountryId from, MaterialId p, CountryId to) const {
    return from != to && exporter[from] && material[p] && target[to] && !excepted[to];
  }
};

/// The buyers a front-loading event reaches (model section 3.1): firms in a target country that
/// is not excepted, on the named inputs. The one rule for the engine's stock targets and for
/// `validate`'s description of the event.
struct FrontLoadingReach {
  std::vector<bool> buyer, excepted, input;
  FrontLoadingReach(const World& w, const Event& ev)
      : buyer(country_mask(w, ev.targets, false)),
        excepted(country_mask(w, ev.except_targets, false)),
        input(material_mask(w, ev.materials, false)) {}
  /// Whether the event raises the stock target of a buyer in country c for input p.
  [[nodiscard]] bool applies(CountryId c, MaterialId p) const {
    return buyer[c] && !excepted[c] && input[p];
  }
};

}  // namespace shortfall
