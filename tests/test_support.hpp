// Helpers shared by the engine and policy tests: a seeded random world and a bit-for-bit
// comparison of two simulations' state.
#pragma once

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "scratch.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/simulation.hpp"
#include "shortfall/world.hpp"

namespace shortfall::testing_support {

/// The scenario under the published model (model.preset: inoue_todo_2019, docs/model.md
/// section 0): the tests written for model version 1 run under it unchanged.
inline Scenario under_preset(Scenario s) {
  s.model.apply_preset("inoue_todo_2019");
  return s;
}

/// A scenario from YAML text under the published model (the tests written for version 1's
/// math); `world:` is not read (the Simulation takes the World directly).
inline Scenario make_scenario(const std::string& body) {
  return under_preset(parse_scenario("world: unused.yaml\n" + body, "test-scenario.yaml"));
}

/// A fresh, empty directory under the system's temporary directory, named after the test
/// (`prefix`, `name`) and this process; removed at the end if every test passed (scratch.hpp).
inline std::filesystem::path scratch_dir(const std::string& prefix, const std::string& name) {
  const std::filesystem::path d =
      std::filesystem::temp_directory_path() /
      ("shortfall-" + prefix + "-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  remove_at_exit(d);
  return d;
}

/// Run options with a thread count (the rest default).
inline RunOptions with_threads(int threads) {
  RunOptions o;
  o.threads = threads;
  return o;
}

inline std::string numbered(const char* prefix, std::uint64_t k) {
  std::string s(prefix);
  s.append(std::to_string(k));
  return s;
}

/// A random world of `n` firms: 5 countries in groups g1/g2, 6 materials (odd ones with
/// inventory days); firm i makes material i % 6 and buys from 1-4 firms of lower materials,
/// a third of the links with lead times 1-6; lead times 1 domestic, 4 across borders
/// (`lead_one`: every lead time 1).
inline World random_world(std::uint32_t n, std::uint64_t seed, bool lead_one = false) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  WorldBuilder b;
  std::vector<CountryId> cs = {b.country("C0", {"g1"}), b.country("C1", {"g1"}),
                               b.country("C2", {"g2"}), b.country("C3", {"g1", "g2"}),
                               b.country("C4")};
  std::vector<MaterialId> ms;
  for (int p = 0; p < 6; ++p)
    ms.push_back(b.material(numbered("m", std::uint64_t(p)),
                            p % 2 ? std::optional<double>(5.0 + 10 * p) : std::nullopt));
  b.tables().lead_times.domestic = 1;
  b.tables().lead_times.international = lead_one ? 1 : 4;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::optional<double> inv;
    if (i % 7 == 0) inv = 3.0 + 20.0 * u(rng);
    b.firm(numbered("f", i), cs[rng() % cs.size()], ms[i % 6], 0.1 + 2.0 * u(rng), inv);
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t p = i % 6;
    if (p == 0) continue;
    std::set<std::uint32_t> sup;
    const int k = 1 + int(rng() % 4);
    for (int q = 0; q < k; ++q) {
      std::uint32_t j = std::uint32_t(rng() % n);
      while (j % 6 >= p) j = std::uint32_t(rng() % n);
      sup.insert(j);
    }
    for (std::uint32_t j : sup) {
      if (lead_one) {
        b.link(j, i, 0.1 + 4.9 * u(rng), 1);
        continue;
      }
      b.link(j, i, 0.1 + 4.9 * u(rng), rng() % 3 ? 0 : 1 + int(rng() % 6));
    }
  }
  return b.build();
}

/// The first difference in state between two simulations of one world, "" if none: every firm
/// array, every link's stock, order, delivery, in-transit goods and lead time, the country x
/// material totals and the links added during the run, compared bit for bit.
inline std::string state_diff(const Simulation& a, const Simulation& b) {
  auto same = [](auto x, auto y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size_bytes()) == 0;
  };
  if (!same(a.production(), b.production())) return "production";
  if (!same(a.demand(), b.demand())) return "demand";
  if (!same(a.capacity(), b.capacity())) return "capacity";
  if (!same(a.capacity_loss(), b.capacity_loss())) return "capacity_loss";
  if (!same(a.final_demand(), b.final_demand())) return "final_demand";
  if (!same(a.final_delivered(), b.final_delivered())) return "final_delivered";
  if (!same(a.input_shortfall(), b.input_shortfall())) return "input_shortfall";
  if (!same(a.binding(), b.binding())) return "binding";
  if (!same(a.first_shortage_day(), b.first_shortage_day())) return "first_shortage_day";
  if (!same(a.overproduction(), b.overproduction())) return "overproduction";
  const World& w = a.world();
  for (LinkId l = 0; l < w.num_links(); ++l) {
    double va[4] = {a.stock(l), a.order(l), a.delivery(l), a.in_transit(l)};
    double vb[4] = {b.stock(l), b.order(l), b.delivery(l), b.in_transit(l)};
    if (std::memcmp(va, vb, sizeof va) != 0 || a.lead_time(l) != b.lead_time(l))
      return "link " + std::to_string(l);
  }
  CountryMaterialDay ca = a.country_material(), cb = b.country_material();
  auto same_vec = [](const std::vector<double>& x, const std::vector<double>& y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0;
  };
  if (!same_vec(ca.production, cb.production)) return "cm production";
  if (!same_vec(ca.shortage, cb.shortage)) return "cm shortage";
  if (!same_vec(ca.unmet_final_demand, cb.unmet_final_demand)) return "cm unmet";
  if (!same_vec(ca.order_backlog, cb.order_backlog)) return "cm order_backlog";
  if (!same_vec(ca.inventory_days, cb.inventory_days)) return "cm inventory_days";
  const RunMetrics ma = a.run_metrics(), mb = b.run_metrics();
  if (!same_vec(ma.output_lost_days, mb.output_lost_days)) return "run output_lost_days";
  if (!same_vec(ma.peak_output_loss, mb.peak_output_loss)) return "run peak_output_loss";
  if (!same_vec(ma.shortage_days, mb.shortage_days)) return "run shortage_days";
  if (!same_vec(ma.unmet_final_days, mb.unmet_final_days)) return "run unmet_final_days";
  if (ma.first_shortage_day != mb.first_shortage_day) return "run first_shortage_day";
  if (ma.recovery_day != mb.recovery_day) return "run recovery_day";
  if (a.added_links() != b.added_links()) return "added links";
  for (std::size_t k = 0; k < a.added_links(); ++k)
    if (a.added_link(k) != b.added_link(k)) return "added link " + std::to_string(k);
  return "";
}

}  // namespace shortfall::testing_support
