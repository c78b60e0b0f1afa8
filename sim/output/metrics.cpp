// The run metrics of model section 10: one definition (see include/shortfall/metrics.hpp).
#include "shortfall/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <limits>
#include <ostream>

#include "shortfall/error.hpp"
#include "shortfall/simulation.hpp"
#include "world/network.hpp"

namespace shortfall {

PairBaselines pair_baselines(const World& w) {
  PairBaselines b;
  const std::size_t nc = w.countries().size(), nm = w.materials().size();
  b.countries = nc;
  b.materials = nm;
  b.output.assign(nc * nm, 0.0);
  b.use.assign(nc * nm, 0.0);
  b.final_use.assign(nc * nm, 0.0);
  for (FirmId i = 0; i < w.num_firms(); ++i) {
    const MaterialId p = w.firm_material()[i];
    b.output[w.firm_country()[i] * nm + p] += w.baseline_output()[i];
    for (std::uint32_t k = w.final_dest_begin()[i]; k < w.final_dest_begin()[i + 1]; ++k)
      b.final_use[w.final_dest_country()[k] * nm + p] += w.final_dest_amount()[k];
  }
  const auto& net = w.network();
  for (detail::Slot s = 0; s < net.num_slots(); ++s) {
    double a = 0.0;
    for (detail::Lane l = net.slot_lane_begin[s]; l < net.slot_lane_begin[s + 1]; ++l)
      a += w.link_flow()[net.lane_link[l]];
    b.use[w.firm_country()[net.slot_firm[s]] * nm + net.slot_material[s]] += a;
  }
  b.unit_value.resize(nm);
  for (MaterialId p = 0; p < nm; ++p)
    b.unit_value[p] =
        w.materials()[p].unit_value.value_or(std::numeric_limits<double>::quiet_NaN());
  return b;
}

bool RunMetrics::affected(std::size_t k) const {
  return output_lost_days[k] > kNoiseShare || shortage_days[k] > kNoiseShare ||
         unmet_final_days[k] > kNoiseShare;
}

MetricsAccumulator::MetricsAccumulator(const World& world) : base_(pair_baselines(world)) {
  const std::size_t n = base_.countries * base_.materials;
  m_.countries = base_.countries;
  m_.materials = base_.materials;
  for (auto* v : {&m_.output_lost_days, &m_.peak_output_loss, &m_.shortage_days,
                  &m_.unmet_final_days, &m_.output_lost_units, &m_.unmet_final_units})
    v->assign(n, 0.0);
  m_.first_shortage_day.assign(n, -1);
  m_.recovery_day.assign(n, 0);
  last_unrecovered_.assign(n, -1);
}

void MetricsAccumulator::add_day(int t, const CountryMaterialDay& cm) {
  const std::size_t n = base_.countries * base_.materials;
  for (std::size_t k = 0; k < n; ++k) {
    const double out0 = base_.output[k], use = base_.use[k], fin = base_.final_use[k];
    const double lost = cm.output_lost[k], shortage = cm.shortage[k];
    const double unmet = cm.unmet_final_demand[k];
    m_.output_lost_units[k] += lost;
    m_.unmet_final_units[k] += unmet;
    if (out0 > 0.0) {
      m_.output_lost_days[k] += lost / out0;
      m_.peak_output_loss[k] = std::max(m_.peak_output_loss[k], lost / out0);
    }
    if (use > 0.0) m_.shortage_days[k] += shortage / use;
    if (fin > 0.0) m_.unmet_final_days[k] += unmet / fin;
    if (m_.first_shortage_day[k] < 0 && shortage > kNoiseShare * use) m_.first_shortage_day[k] = t;
    const bool recovered =
        cm.production[k] >= (1.0 - kRecoveryEps) * out0 && shortage <= kRecoveryEps * use;
    if (!recovered) last_unrecovered_[k] = t;
  }
  last_day_ = t;
  ++m_.days;
}

RunMetrics MetricsAccumulator::result() const {
  RunMetrics r = m_;
  for (std::size_t k = 0; k < r.recovery_day.size(); ++k) {
    const int last = last_unrecovered_[k];
    r.recovery_day[k] = last < 0 ? 0 : last == last_day_ ? -1 : last + 1;
  }
  return r;
}

CountryValues country_values(const RunMetrics& m, const PairBaselines& base) {
  CountryValues v;
  v.output_lost.assign(m.countries, 0.0);
  v.unmet_final.assign(m.countries, 0.0);
  for (std::size_t c = 0; c < m.countries; ++c)
    for (std::size_t p = 0; p < m.materials; ++p) {
      const double value = base.unit_value[p];
      if (std::isnan(value)) continue;
      v.any = true;
      v.output_lost[c] += m.output_lost_units[c * m.materials + p] * value;
      v.unmet_final[c] += m.unmet_final_units[c * m.materials + p] * value;
    }
  return v;
}

}  // namespace shortfall
