// One day (docs/model.md section 3): the declared phases run in order, and the check that the state
// stays finite.
#include "engine/engine.hpp"

namespace shortfall {

bool Simulation::Impl::step() {
  // The day (the class is complete here, so its phases can be named).
  static constexpr DayPhase kDay[] = {
      {Phase::kEvents, "3.1", &PhaseTimes::events, &Impl::phase_events},
      {Phase::kPolicyStart, "6", &PhaseTimes::events, &Impl::phase_policy_start},
      {Phase::kBuyers, "3.2-3.3", &PhaseTimes::inventory_orders, &Impl::phase_buyers},
      {Phase::kSuppliers, "3.4-3.6", &PhaseTimes::demand_production_rationing,
       &Impl::phase_suppliers},
      {Phase::kShipping, "3.6-3.7", &PhaseTimes::shipping, &Impl::phase_shipping},
      {Phase::kPolicyEnd, "6-9", &PhaseTimes::policies, &Impl::phase_policy_end},
      {Phase::kMetrics, "10", &PhaseTimes::metrics, &Impl::phase_metrics},
  };
  if (day + 1 >= total_days) return false;
  const int t = ++day;
  using Clock = std::chrono::steady_clock;
  auto mark = profile ? Clock::now() : Clock::time_point{};
  for (const DayPhase& p : kDay) {
    running = p.phase;
    (this->*p.run)(t);
    if (profile) {
      const auto now = Clock::now();
      times.*p.time += std::chrono::duration<double>(now - mark).count();
      mark = now;
    }
  }
  running = Phase::kNone;
  // Never publish a NaN: the state is checked at the end of the run (and, in debug builds, on
  // every recorded day) before the recorder writes the day.
#ifndef NDEBUG
  if (t + 1 >= total_days || t % std::max(1, scenario.record.every) == 0) check_finite(t);
#else
  if (t + 1 >= total_days) check_finite(t);
#endif
  return true;
}

void Simulation::Impl::check_finite(int t) const {
  auto all_finite = [](const std::vector<double>& v) {
    bool ok = true;
    for (double d : v) ok &= std::abs(d) <= std::numeric_limits<double>::max();
    return ok;
  };
  auto fail = [&](const std::string& what, double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    throw InternalError("day " + std::to_string(t) + ": " + what + " is " + buf +
                        ", not a finite number: the model's state overflowed (a bug, or an "
                        "input beyond the documented bounds); the run is stopped and no output "
                        "is written. Please report it with the scenario and world.");
  };
  auto check = [&](const std::vector<double>& v, const char* name, auto&& who) {
    if (all_finite(v)) return;
    for (std::size_t k = 0; k < v.size(); ++k)
      if (!std::isfinite(v[k])) fail(std::string(name) + " " + who(k), v[k]);
  };
  auto firm = [&](std::size_t i) { return "of firm '" + world.firm_id()[i] + "'"; };
  auto lane = [&](std::size_t l) {
    return "of the link " + world.firm_id()[sup(Lane(l))] + " -> " + world.firm_id()[buy(Lane(l))];
  };
  auto slot = [&](std::size_t s) {
    return "of firm '" + world.firm_id()[net.slot_firm[s]] + "' (input " +
           world.materials()[net.slot_material[s]].id + ")";
  };
  check(x, "production", firm);
  check(D, "demand", firm);
  check(cap, "capacity", firm);
  check(C, "final demand", firm);
  check(C_want, "final demand wanted", firm);
  check(c, "final deliveries", firm);
  check(input_short, "input shortfall", firm);
  check(alpha, "overproduction", firm);
  check(slot_stock, "stock", slot);
  check(S, "stock", lane);
  check(O, "order", lane);
  check(y, "shipment", lane);
  check(ring_dev, "goods in transit", [](std::size_t) { return std::string("of a link"); });
  for (const auto& st : stockpiles)
    if (!std::isfinite(st.level))
      fail("the level of stockpile '" + scenario.policies[st.policy].name + "'", st.level);
  if (options.metrics) {
    const RunMetrics m = metrics.result();
    auto pair = [&](std::size_t k) {
      return "of " + world.countries()[k / m.materials].code + " " +
             world.materials()[k % m.materials].id;
    };
    check(m.output_lost_days, "output lost", pair);
    check(m.shortage_days, "input shortage", pair);
    check(m.unmet_final_days, "unmet final demand", pair);
    check(m.output_lost_units, "output lost (units)", pair);
    check(m.unmet_final_units, "unmet final demand (units)", pair);
  }
}

}  // namespace shortfall
