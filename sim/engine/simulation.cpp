// The daily simulation: docs/model.md sections 2-5, one day in this order:
//   1 events, 2 inventory (arrivals and draw-down), 3 orders, 4 demand, 5 production,
//   6 rationing, shipping, 7 recovery, 8 record.
// Phases 2-3 run per buyer over its input lanes, 4-6 per supplier over its out-lanes, then
// shipping and bookkeeping per buyer again. Each phase writes only values owned by the index it
// runs over, so a day gives the same bits for any number of threads.
#include "engine/engine.hpp"

namespace shortfall {

Simulation::Simulation(const World& world, const Scenario& scenario, RunOptions options)
    : impl_(std::make_unique<Impl>(world, scenario, options)) {}
Simulation::~Simulation() = default;

bool Simulation::step() {
  return impl_->step();
}

void Simulation::run(Recorder* recorder) {
  if (recorder) recorder->begin(*this);
  resume(recorder);
}

void Simulation::resume(Recorder* recorder) {
  const int every = std::max(1, impl_->scenario.record.every);
  // Without a recorder nothing reads the recorded days' full series: the metrics phase sums
  // the headline four alone (the same bits; country_material sums the day on demand).
  impl_->full_series = recorder != nullptr;
  struct Restore {
    bool& flag;
    ~Restore() { flag = true; }
  } restore{impl_->full_series};
  const RunOptions& opt = impl_->options;
  while (true) {
    if (impl_->cancel && impl_->cancel->load()) throw Interrupted();
    if (!impl_->step()) break;
    const int t = impl_->day;
    if (recorder && (t % every == 0 || t == impl_->total_days - 1)) recorder->record_day(*this);
    if (opt.checkpoint_every > 0 && !opt.checkpoint_path.empty() &&
        (t + 1) % opt.checkpoint_every == 0 && t + 1 < impl_->total_days)
      save_checkpoint(opt.checkpoint_path, recorder);
  }
  if (recorder) recorder->finish(*this);
}

void check_finite(const CountryMaterialDay& cm, int day, const World& world) {
  const std::size_t nm = world.materials().size();
  auto check = [&](const std::vector<double>& v, const char* name, bool nan_ok) {
    bool ok = true;
    for (double d : v)
      ok &= std::abs(d) <= std::numeric_limits<double>::max() || (nan_ok && d != d);
    if (ok) return;
    for (std::size_t k = 0; k < v.size(); ++k)
      if (!(std::isfinite(v[k]) || (nan_ok && std::isnan(v[k]))))
        throw InternalError("day " + std::to_string(day) + ": " + name + " of " +
                            world.countries()[k / nm].code + " " + world.materials()[k % nm].id +
                            " is " + std::to_string(v[k]) +
                            ", not a finite number: the model's state overflowed (a bug, or an "
                            "input beyond the documented bounds); no output is written. Please "
                            "report it with the scenario and world.");
  };
  check(cm.production, "production", false);
  check(cm.output_lost, "output lost", false);
  check(cm.shortage, "input shortage", false);
  check(cm.unmet_final_demand, "unmet final demand", false);
  check(cm.order_backlog, "order backlog", false);
  check(cm.inventory_days, "inventory cover", true);
}

int Simulation::day() const {
  return impl_->day;
}
int Simulation::total_days() const {
  return impl_->total_days;
}
const World& Simulation::world() const {
  return impl_->world;
}
const Scenario& Simulation::scenario() const {
  return impl_->scenario;
}
int Simulation::threads() const {
  return impl_->threads;
}
const RunOptions& Simulation::options() const {
  return impl_->options;
}
std::span<const double> Simulation::production() const {
  return impl_->x;
}
std::span<const double> Simulation::demand() const {
  return impl_->D;
}
std::span<const double> Simulation::capacity() const {
  return impl_->cap;
}
std::span<const double> Simulation::capacity_loss() const {
  return impl_->delta;
}
std::span<const double> Simulation::final_demand() const {
  return impl_->C;
}
std::span<const double> Simulation::final_delivered() const {
  return impl_->c;
}
std::span<const double> Simulation::input_shortfall() const {
  return impl_->input_short;
}
std::span<const std::uint8_t> Simulation::binding() const {
  return impl_->binding;
}
std::span<const std::int32_t> Simulation::first_shortage_day() const {
  return impl_->first_short;
}
double Simulation::stock(LinkId link) const {
  return impl_->S[impl_->net.link_lane[link]];
}
double Simulation::order(LinkId link) const {
  return impl_->O[impl_->net.link_lane[link]];
}
double Simulation::delivery(LinkId link) const {
  return impl_->y[impl_->net.link_lane[link]];
}
int Simulation::lead_time(LinkId link) const {
  return impl_->lead_of(impl_->net.link_lane[link]);
}
void Simulation::link_state(LinkVariable variable, std::span<double> out) const {
  const Impl& m = *impl_;
  const std::size_t n = m.world.num_links();
  if (out.size() != n)
    throw std::invalid_argument("link_state: expected room for " + std::to_string(n) +
                                " links, found " + std::to_string(out.size()));
  const auto& lane = m.net.link_lane;
  switch (variable) {
    case LinkVariable::kStock:
      for (LinkId k = 0; k < n; ++k) out[k] = m.S[lane[k]];
      break;
    case LinkVariable::kOrder:
      for (LinkId k = 0; k < n; ++k) out[k] = m.O[lane[k]];
      break;
    case LinkVariable::kDelivery:
      for (LinkId k = 0; k < n; ++k) out[k] = m.y[lane[k]];
      break;
    case LinkVariable::kLeadTime:
      for (LinkId k = 0; k < n; ++k) out[k] = double(m.lead_of(lane[k]));
      break;
    case LinkVariable::kInTransit:
      for (LinkId k = 0; k < n; ++k) out[k] = in_transit(k);
      break;
  }
}

double Simulation::in_transit(LinkId link) const {
  const Lane l = impl_->net.link_lane[link];
  if (impl_->unit_lead) return impl_->y[l];  // today's shipment, arriving tomorrow
  double total = 0.0;
  for (int q = 0; q < impl_->ring_len[l]; ++q) {
    const std::uint32_t k = impl_->ring_off[l] + std::uint32_t(q);
    total += double(impl_->ring_cnt[k]) * impl_->z0[l] + impl_->ring_dev[k];
  }
  return total;
}
double Simulation::pooled_stock(FirmId firm, MaterialId material) const {
  const auto& net = impl_->net;
  for (Slot s = net.slot_begin[firm]; s < net.slot_begin[firm + 1]; ++s)
    if (net.slot_material[s] == material) return impl_->slot_stock[s];
  return 0.0;
}
CountryMaterialDay Simulation::country_material() const {
  // The metrics phase summed today's series already where the scenario records the day.
  if (impl_->metrics_day_full == impl_->day && impl_->day >= 0) return impl_->metrics_day;
  CountryMaterialDay out;
  impl_->country_material<true>(out);
  return out;
}
void Simulation::country_material(CountryMaterialDay& out, bool headline_only) const {
  if (impl_->metrics_day_full == impl_->day && impl_->day >= 0) {  // as above, buffers reused
    const CountryMaterialDay& m = impl_->metrics_day;
    out.production = m.production;
    out.output_lost = m.output_lost;
    out.shortage = m.shortage;
    out.unmet_final_demand = m.unmet_final_demand;
    if (!headline_only) {
      out.order_backlog = m.order_backlog;
      out.inventory_days = m.inventory_days;
    }
    return;
  }
  if (headline_only)
    impl_->country_material<false>(out);
  else
    impl_->country_material<true>(out);
}
const std::vector<EventRecord>& Simulation::event_log() const {
  return impl_->log;
}
RunMetrics Simulation::run_metrics() const {
  return impl_->metrics.result();
}
const PairBaselines& Simulation::pair_baselines() const {
  return impl_->metrics.baselines();
}
std::span<const double> Simulation::final_demand_wanted() const {
  return impl_->C_want;
}
PhaseTimes Simulation::phase_seconds() const {
  return impl_->times;
}

std::vector<StockpileStatus> Simulation::stockpiles() const {
  std::vector<StockpileStatus> out;
  for (const auto& st : impl_->stockpiles)
    out.push_back(StockpileStatus{impl_->scenario.policies[st.policy].name, st.country, st.material,
                                  st.initial, st.level});
  return out;
}

std::vector<std::string> Simulation::mechanisms() const {
  std::vector<std::string> out;
  for (const auto& m : impl_->mechanisms) out.push_back(impl_->scenario.policies[m.policy].name);
  return out;
}

std::vector<CrisisRequest> Simulation::crisis_requests() const {
  std::vector<CrisisRequest> out;
  const std::size_t nm = impl_->world.materials().size();
  for (const auto& m : impl_->mechanisms)
    for (std::size_t k = 0; k < m.request_day.size(); ++k)
      if (m.request_day[k] >= 0)
        out.push_back(CrisisRequest{impl_->scenario.policies[m.policy].name, CountryId(k / nm),
                                    MaterialId(k % nm), m.request_day[k], m.meeting_day[k],
                                    m.implementation_day[k]});
  return out;
}

std::span<const double> Simulation::overproduction() const {
  return impl_->alpha;
}
std::size_t Simulation::added_links() const {
  return impl_->extra_supplier.size();
}
std::tuple<FirmId, FirmId, double> Simulation::added_link(std::size_t k) const {
  const Lane l = Lane(impl_->net.num_links + k);
  return {impl_->extra_supplier[k], impl_->extra_buyer[k], impl_->z0[l]};
}

}  // namespace shortfall
