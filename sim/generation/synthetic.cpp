// Synthetic scale-free worlds for benchmarks and stress tests (`shortfall generate --synthetic`).
//
// Materials m0..m{K-1} form a layered recipe: material p (p >= K/4) uses one to three materials
// q < p, always including p - 1, with coefficients a_{p,q} = c_{p,q} / (number of users of q),
// c in [0.2, 1): the division keeps outputs bounded however deep the chain. No material is an
// input of itself, directly or indirectly. Firms are processed from the top material down, so
// when a firm's inputs are drawn its output x_i = (sales to buyers) + C0_i is already final:
//   - C0_i: firms of materials nobody uses sell only to final users (C0 = their Pareto size);
//     the others sell 5% on top of their sales to final users, plus a small floor so that a firm
//     nobody buys from still has output > 0.
//   - each buyer's need a_{p,q} x_i of input q is split among its suppliers of q by random
//     weights, so sum_j Z0_{ji} [p(j) = q] = a_{p,q} x_i up to rounding.
// Suppliers are drawn by an alias table with probability proportional to a Pareto(1.5)
// fitness: the out-degree follows the fitness, a power law. Every random draw comes from a
// stream seeded by (seed, firm), so the world depends on the seed only.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_set>
#include <vector>

#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/world.hpp"
#include "util/random.hpp"

namespace shortfall {

namespace {

using detail::Rng;
using detail::splitmix64;

/// A stream for (seed, purpose, index).
Rng stream(std::uint64_t seed, std::uint64_t purpose, std::uint64_t index) {
  std::uint64_t s = seed ^ (purpose * 0xd1b54a32d192ed03ULL);
  std::uint64_t a = splitmix64(s);
  a ^= index * 0x9e3779b97f4a7c15ULL;
  return Rng(splitmix64(a));
}

enum : std::uint64_t { kRecipes = 1, kCountry = 2, kFitness = 3, kFirm = 4 };

struct SyntheticRecipes {
  std::uint32_t raw = 1;  // materials [0, raw) have no inputs
  std::vector<std::vector<std::pair<std::uint32_t, double>>> inputs;  // a_{p,q}
  std::vector<std::uint32_t> users;
};

SyntheticRecipes make_recipes(std::uint32_t K, std::uint64_t seed) {
  SyntheticRecipes r;
  r.raw = std::max<std::uint32_t>(1, K / 4);
  r.inputs.resize(K);
  r.users.assign(K, 0);
  Rng rng = stream(seed, kRecipes, 0);
  std::vector<std::vector<double>> c(K);
  for (std::uint32_t p = r.raw; p < K; ++p) {
    std::uint32_t m = std::min<std::uint32_t>(p, 1 + std::uint32_t(rng.below(3)));
    std::vector<std::uint32_t> qs{p - 1};
    while (qs.size() < m) {
      auto q = std::uint32_t(rng.below(p - 1));
      if (std::find(qs.begin(), qs.end(), q) == qs.end()) qs.push_back(q);
    }
    std::sort(qs.begin(), qs.end());
    for (auto q : qs) {
      r.inputs[p].emplace_back(q, 0.2 + 0.8 * rng.uniform());
      ++r.users[q];
    }
  }
  for (std::uint32_t p = 0; p < K; ++p)
    for (auto& [q, a] : r.inputs[p]) a /= double(r.users[q]);
  return r;
}

/// Walker/Vose alias table over weights: draw index k with probability w_k / sum w.
class Alias {
 public:
  explicit Alias(const std::vector<double>& w) : prob_(w.size()), alias_(w.size()) {
    const std::size_t n = w.size();
    double total = 0;
    for (double v : w) total += v;
    std::vector<double> scaled(n);
    std::vector<std::uint32_t> small, large;
    for (std::size_t k = 0; k < n; ++k) {
      scaled[k] = w[k] * double(n) / total;
      (scaled[k] < 1.0 ? small : large).push_back(std::uint32_t(k));
    }
    while (!small.empty() && !large.empty()) {
      auto s = small.back(), l = large.back();
      small.pop_back();
      prob_[s] = scaled[s];
      alias_[s] = l;
      scaled[l] = (scaled[l] + scaled[s]) - 1.0;
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    for (auto k : large) prob_[k] = 1.0, alias_[k] = k;
    for (auto k : small) prob_[k] = 1.0, alias_[k] = k;
  }
  std::uint32_t draw(Rng& rng) const {
    auto k = std::uint32_t(rng.below(prob_.size()));
    return rng.uniform() < prob_[k] ? k : alias_[k];
  }

 private:
  std::vector<double> prob_;
  std::vector<std::uint32_t> alias_;
};

[[noreturn]] void bad_spec(const std::string& key, const std::string& what) {
  throw InputError(SourceLocation{"<synthetic>", 0, 0, key}, what);
}

/// Refuses a spec no world can be built from (InputError naming the key).
void check_spec(const SyntheticSpec& spec) {
  const std::uint64_t N = spec.firms, M = spec.links;
  const std::uint32_t K = spec.materials, C = spec.countries;
  if (K < 1) bad_spec("materials", "expected at least 1 material, found 0");
  if (C < 1) bad_spec("countries", "expected at least 1 country, found 0");
  if (N < K)
    bad_spec("firms", "expected at least one firm per material (" + std::to_string(K) +
                          "), found " + std::to_string(N));
  if (N >= std::numeric_limits<std::uint32_t>::max() ||
      M >= std::numeric_limits<std::uint32_t>::max())
    bad_spec("links", "expected fewer than 2^32 firms and links");
  if (M > 0 && K < 2) bad_spec("materials", "expected at least 2 materials for a world with links");
}

/// Draws `count` distinct suppliers (indices within a pool of `pool` firms) by fitness into
/// `chosen`; `chosen_set` is scratch space for large counts.
void choose_suppliers(const Alias& alias, std::uint64_t pool, std::uint64_t count, Rng& rng,
                      std::vector<std::uint32_t>& chosen,
                      std::unordered_set<std::uint32_t>& chosen_set) {
  chosen.clear();
  chosen_set.clear();
  const bool use_set = count > 32;
  auto taken = [&](std::uint32_t j) {
    return use_set ? chosen_set.count(j) > 0
                   : std::find(chosen.begin(), chosen.end(), j) != chosen.end();
  };
  while (chosen.size() < count) {
    std::uint32_t j = 0;
    bool found = false;
    for (int attempt = 0; attempt < 64 && !found; ++attempt) {
      j = alias.draw(rng);
      found = !taken(j);
    }
    if (!found) {  // the pool is nearly exhausted: take the next free one
      j = std::uint32_t(rng.below(pool));
      while (taken(j)) j = std::uint32_t((j + 1) % pool);
    }
    chosen.push_back(j);
    if (use_set) chosen_set.insert(j);
  }
}

}  // namespace

double synthetic_coefficient(const SyntheticSpec& spec, std::uint32_t buyer_material,
                             std::uint32_t input_material) {
  if (buyer_material >= spec.materials) return 0.0;
  auto r = make_recipes(spec.materials, spec.seed);
  for (auto& [q, a] : r.inputs[buyer_material])
    if (q == input_material) return a;
  return 0.0;
}

World generate_synthetic(const SyntheticSpec& spec) {
  const std::uint64_t N = spec.firms, M = spec.links;
  const std::uint32_t K = spec.materials, C = spec.countries;
  check_spec(spec);

  const SyntheticRecipes rec = make_recipes(K, spec.seed);

  WorldTables w;
  w.source = "<synthetic>";
  for (std::uint32_t c = 0; c < C; ++c)
    w.countries.push_back(Country{
        "C" + std::to_string(c), "Country " + std::to_string(c), {c % 2 == 0 ? "even" : "odd"}});
  for (std::uint32_t p = 0; p < K; ++p) {
    Material m;
    m.id = "m" + std::to_string(p);
    m.name = "Material " + std::to_string(p);
    m.unit = "unit";
    m.tier = rec.inputs[p].empty() ? "raw"
             : rec.users[p] == 0   ? "end"
             : 2 * p < K + rec.raw ? "processed"
                                   : "component";
    w.materials.push_back(std::move(m));
  }

  // Firms: material p owns the contiguous block [first[p], first[p+1]).
  std::vector<std::uint64_t> first(K + 1, 0);
  for (std::uint32_t p = 0; p < K; ++p) first[p + 1] = first[p] + N / K + (p < N % K ? 1 : 0);
  w.firm_id.resize(N);
  w.firm_country.resize(N);
  w.firm_material.resize(N);
  w.final_demand.assign(N, 0.0);
  w.firm_inventory_days.assign(N, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> fitness(N);
  {
    // Countries by a Zipf law (country c has weight 1/(c+1)).
    std::vector<double> cum(C);
    double t = 0;
    for (std::uint32_t c = 0; c < C; ++c) cum[c] = t += 1.0 / double(c + 1);
    for (std::uint32_t p = 0; p < K; ++p)
      for (std::uint64_t i = first[p]; i < first[p + 1]; ++i) {
        Rng rng = stream(spec.seed, kFitness, i);
        w.firm_id[i] = "f" + std::to_string(i);
        w.firm_material[i] = p;
        double u = rng.uniform() * t;
        w.firm_country[i] = CountryId(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
        if (w.firm_country[i] >= C) w.firm_country[i] = C - 1;
        fitness[i] = std::min(std::pow(1.0 - rng.uniform(), -1.0 / 1.5), 1e9);
      }
  }

  // Links per buyer: M spread evenly over the firms that have inputs.
  const std::uint64_t buyers = N - first[rec.raw];
  const std::uint64_t base = buyers ? M / buyers : 0, extra = buyers ? M % buyers : 0;
  if (M > 0 && buyers == 0)
    bad_spec("links", "expected firms with inputs, found only raw materials");

  std::vector<Alias> alias;
  alias.reserve(K);
  for (std::uint32_t p = 0; p < K; ++p)
    alias.emplace_back(std::vector<double>(fitness.begin() + std::ptrdiff_t(first[p]),
                                           fitness.begin() + std::ptrdiff_t(first[p + 1])));

  w.link_supplier.reserve(M);
  w.link_buyer.reserve(M);
  w.link_flow.reserve(M);
  std::vector<double> sales(N, 0.0);
  std::vector<std::uint32_t> chosen;
  std::vector<double> weight;
  std::unordered_set<std::uint32_t> chosen_set;
  for (std::uint32_t p = K; p-- > 0;) {
    const std::uint64_t b = first[p], e = first[p + 1];
    double total_sales = 0;
    for (std::uint64_t i = b; i < e; ++i) total_sales += sales[i];
    const double final_floor = total_sales > 0 ? 0.01 * total_sales / double(e - b) : 1.0;
    for (std::uint64_t i = b; i < e; ++i)
      w.final_demand[i] = rec.users[p] == 0 ? fitness[i] : 0.05 * sales[i] + final_floor;
    if (rec.inputs[p].empty()) continue;

    const auto& inputs = rec.inputs[p];
    for (std::uint64_t i = b; i < e; ++i) {
      Rng rng = stream(spec.seed, kFirm, i);
      const double x = sales[i] + w.final_demand[i];  // = x0_i, derived again by World
      const std::uint64_t degree = base + ((i - first[rec.raw]) < extra ? 1 : 0);
      for (std::size_t k = 0; k < inputs.size(); ++k) {
        const auto [q, a] = inputs[k];
        const std::uint64_t pool = first[q + 1] - first[q];
        std::uint64_t count = degree / inputs.size() + (k < degree % inputs.size() ? 1 : 0);
        count = std::min(count, pool);
        if (count == 0) continue;
        choose_suppliers(alias[q], pool, count, rng, chosen, chosen_set);
        weight.resize(count);
        double sum = 0;
        for (std::size_t s = 0; s < count; ++s) sum += weight[s] = 0.5 + rng.uniform();
        const double need = a * x;
        for (std::size_t s = 0; s < count; ++s) {
          const auto j = std::uint32_t(first[q] + chosen[s]);
          const double flow = need * (weight[s] / sum);
          w.link_supplier.push_back(j);
          w.link_buyer.push_back(FirmId(i));
          w.link_flow.push_back(flow);
          sales[j] += flow;
        }
      }
    }
  }
  w.link_lead_time.assign(w.link_flow.size(), 1);
  return World(std::move(w));
}

}  // namespace shortfall
