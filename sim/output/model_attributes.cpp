// The run file's model attributes (output/model_attributes.hpp).
#include "output/model_attributes.hpp"

#include <algorithm>

namespace shortfall::detail {

void write_model_attributes(const H5Writer& w, hid_t file, const ModelParams& m,
                            const World& world) {
  w.attr_scalar<double>(file, "tau", H5T_NATIVE_DOUBLE, m.tau);
  w.attr_string(file, "model.preset", m.preset.empty() ? "none" : m.preset);
  w.attr_string(file, "model.orders", m.orders == Orders::kPlanned ? "planned" : "output_based");
  w.attr_string(file, "model.destocking", m.destocking ? "true" : "false");
  w.attr_scalar<double>(file, "model.utilisation", H5T_NATIVE_DOUBLE, m.utilisation);
  w.attr_string(file, "model.utilisation_source",
                m.is_preset() ? "the preset (the world's material utilisation is ignored)"
                              : "the world's material utilisation where given, else "
                                "model.utilisation");
  w.attr_string(file, "model.final_demand_controls", m.final_demand_controls ? "true" : "false");
  // Only where the world marks a material distinct_parts: without one the switch means
  // nothing, and files of such worlds stay as they were.
  if (std::any_of(world.materials().begin(), world.materials().end(),
                  [](const Material& p) { return p.distinct_parts; }))
    w.attr_string(file, "model.distinct_parts", m.distinct_parts ? "true" : "false");
  if (std::any_of(world.materials().begin(), world.materials().end(),
                  [](const Material& p) { return p.inventory_days_range.has_value(); }))
    w.attr_string(file, "model.inventory_spread", m.inventory_spread ? "true" : "false");
  if (std::any_of(world.materials().begin(), world.materials().end(),
                  [](const Material& p) { return p.byproduct; }))
    w.attr_string(file, "model.byproduct", m.byproduct ? "true" : "false");
  w.attr_scalar<double>(file, "model.tau", H5T_NATIVE_DOUBLE, m.tau);
  w.attr_scalar<double>(file, "model.inventory_days", H5T_NATIVE_DOUBLE, m.inventory_days);
  w.attr_scalar<double>(file, "model.alpha_max", H5T_NATIVE_DOUBLE, m.alpha_max);
  w.attr_scalar<double>(file, "model.tau_alpha", H5T_NATIVE_DOUBLE, m.tau_alpha);
  static const char* kRationing[] = {"proportional", "final_demand_last", "waterfill", "priority"};
  w.attr_string(file, "model.rationing", kRationing[int(m.rationing)]);
  w.attr_string(file, "model.substitution", m.substitution.enabled ? "true" : "false");
  if (m.substitution.enabled) {
    w.attr_scalar<double>(file, "model.substitution.threshold", H5T_NATIVE_DOUBLE,
                          m.substitution.threshold);
    w.attr_scalar<double>(file, "model.substitution.search_days", H5T_NATIVE_DOUBLE,
                          m.substitution.search_days.value_or(-1.0));
    w.attr_scalar<double>(file, "model.substitution.home_bias", H5T_NATIVE_DOUBLE,
                          m.substitution.home_bias);
    w.attr_scalar<double>(file, "model.substitution.group_bias", H5T_NATIVE_DOUBLE,
                          m.substitution.group_bias);
  }
}

}  // namespace shortfall::detail
