// The world generator (docs/model.md section 1, "generated"): from a description with countries,
// materials (world output, producer shares), recipes and lead times to firms and links that
// satisfy the baseline identity by material balance.
//
// Method, one material p at a time, from end products down through the recipes (a topological
// order of "q uses p", so that every user of p is done before p):
//   1. Needs. Every firm i of a material q whose recipe uses p needs r_i = a_{q,p} x_i per day.
//      Intermediate use U_p = sum_i r_i.
//   2. Output. output_p = world output (final_p = output_p - U_p >= 0, the uses outside the
//      modelled network), or U_p + final_demand, or U_p when neither is given.
//   3. Countries. Country c produces O_c = share_c output_p and makes F_c of the final demand
//      output_p - U_p: F_c = O_c (output_p - U_p) / output_p, or f_c (output_p - U_p) where p
//      has `final_demand_from` (shares f_c, sum 1; F_c > O_c is an error). It sells
//      S_c = O_c - F_c to firms. The country-pair matrix T_{c,b} (supplier country c, buyer country
//      b) is the biproportional (RAS) fit of the prior share_c * bias(c, b) to row sums S_c and
//      column sums R_b (the needs of buyers in b); bias is the home bias for c = b and the group
//      bias for countries sharing a bias group.
//   4. Buyers to countries. In each buyer country b, every buyer's need is cut into equal
//      sourcing slots, the slots are shuffled and laid end to end on [0, R_b] against the
//      countries' intervals T_{c,b}; overlaps give d_{i,c}, what buyer i gets from c. A buyer of
//      average size (among the buyers of p making the same material) has `sourcing_slots`
//      slots; larger buyers have more, m sqrt(r_i / mean r), up to `max_sourcing_slots`, so big
//      firms source from more countries, as they do.
//   5. Countries to firms. In each supplier country c, the pieces d_{i,c} (all buyer countries)
//      are shuffled and laid end to end against the firms of c, firm j's interval proportional
//      to its Pareto size w_j; overlaps are the links' flows. A buyer gets one contiguous run of
//      firms per country, so no link is duplicated.
//   6. Exactness. Each buyer's flows of p are rescaled to sum to r_i; firm j's output is
//      x_j = (its sales) + C0_j with C0_j = w_j / W_c F_c, the final demand.
//   7. Destinations. Where p has `final_use_shares` (country or group -> share f_d of p's final
//      demand, sum <= 1; a group's share divided equally among its members), firm j's final
//      demand is split C0_{j,d} = f_d C0_j, plus (1 - sum f) C0_j to j's own country; the
//      largest part is C0_j minus the others, so the parts add up to C0_j.
// So sum_j Z_{ji} [p(j) = p] = a_{q,p} x_i for every firm (to rounding), x0 = sales + C0 by
// construction, and country c's output of p is share_c output_p.
//
// Reading the description is in description.cpp; the steps here are named after the numbers
// above (generate_material runs 1-7 for one material, build_world makes the world).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "generation/generator_steps.hpp"
#include "shortfall/error.hpp"
#include "shortfall/generator.hpp"
#include "shortfall/world.hpp"
#include "util/random.hpp"
#include "util/yaml_util.hpp"

namespace shortfall {

namespace generation {

namespace {

// ---- deterministic random numbers (splitmix64 seeding, xoshiro256**) -------------------------

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

using detail::Rng;
using detail::splitmix64;

/// A stream for one purpose (`what`) of one material, independent of the others.
Rng stream(std::uint64_t seed, const std::string& material, std::uint64_t what) {
  std::uint64_t s = seed;
  std::uint64_t a = splitmix64(s) ^ fnv1a(material);
  std::uint64_t b = splitmix64(a) ^ (what * 0xd1b54a32d192ed03ULL);
  return Rng(b);
}

struct GenFirm {
  CountryId country;
  MaterialId material;
  int number;  // 1-based within (country, material)
  double weight;
  double sales = 0;  // per day, to firms
  double final_demand = 0;
  double output = 0;
};

struct Flow {
  std::uint32_t supplier, buyer;
  double amount;
};

/// Lay `a` (consumers) and `b` (producers) end to end on [0, 1], each normalised by its own sum,
/// and call emit(i, j, fraction) for every overlap of a[i] with b[j]. Boundaries are prefix
/// sums divided by the total, so both sides end exactly at 1.
template <typename Emit>
void overlap(const std::vector<double>& a, const std::vector<double>& b, Emit&& emit) {
  if (a.empty() || b.empty()) return;
  double ta = 0, tb = 0;
  for (double v : a) ta += v;
  for (double v : b) tb += v;
  std::size_t i = 0, j = 0;
  double ca = a[0], cb = b[0];  // prefix sums up to and including i, j
  double pos = 0;
  while (i < a.size() && j < b.size()) {
    double ea = i + 1 == a.size() ? 1.0 : ca / ta;
    double eb = j + 1 == b.size() ? 1.0 : cb / tb;
    double end = std::min(ea, eb);
    if (end > pos) emit(i, j, end - pos);
    pos = std::max(pos, end);
    if (ea <= eb) {
      if (++i < a.size()) ca += a[i];
    }
    if (eb <= ea) {
      if (++j < b.size()) cb += b[j];
    }
  }
}

/// Split a firm's final demand C0 > 0 by destination: shares[c] (sum <= 1) of it to country c
/// and the remainder to `home`, the firm's own country. C0_{i,d} = share_d C0 for every
/// destination but the one with the largest share (the first such in country order), which
/// takes C0 minus the others; the others are rounded to multiples of ulp(C0) so that the parts
/// add up to C0 exactly, in any order (World and the engine add them).
/// Returns (country, amount) in country order; a single entry (home, C0) means no split.
constexpr double kHuge = std::numeric_limits<double>::max();

std::vector<std::pair<CountryId, double>> split_final_demand(const std::vector<double>& shares,
                                                             CountryId home, double c0) {
  std::vector<double> s = shares;
  double named = 0;
  for (double v : s) named += v;
  s[home] += std::max(0.0, 1.0 - named);
  std::vector<std::pair<CountryId, double>> out;
  std::size_t big = 0;
  for (CountryId c = 0; c < s.size(); ++c) {
    if (!(s[c] > 0)) continue;
    if (out.empty() || s[c] > s[out[big].first]) big = out.size();
    out.emplace_back(c, s[c] * c0);
  }
  // Every part but the largest is rounded to a multiple of u = ulp(C0). Then every partial sum
  // is a multiple of u below 2 C0, so it is exact, and so is C0 minus the others: the parts add
  // up to C0 exactly in any order (each part is off its share by at most u/2).
  const double u = std::nextafter(c0, kHuge) - c0;
  double others = 0;
  for (std::size_t k = 0; k < out.size(); ++k)
    if (k != big) others += out[k].second = std::round(out[k].second / u) * u;
  out[big].second = c0 - others;
  return out;
}

using FirmsOf = std::vector<std::vector<std::vector<std::uint32_t>>>;  // [material][country]

/// A firm that uses the material, with its need per day and its number of sourcing slots.
struct Buyer {
  std::uint32_t firm;
  double need;
  int slots;
};

/// What a buyer gets from a supplier country.
struct Piece {
  std::uint32_t buyer;  // index into buyers
  CountryId country;
  double amount;
};

/// A part of a firm's final demand that goes to final users in another country.
struct Destination {
  std::uint32_t firm;
  CountryId country;
  double amount;
};

/// Firms of every (material, country), in description order, with Pareto sizes.
void make_firms(const Description& d, std::uint64_t seed, std::vector<GenFirm>& firms,
                FirmsOf& firms_of) {
  const std::size_t nc = d.countries.size(), np = d.materials.size();
  for (MaterialId p = 0; p < np; ++p) {
    const auto& m = d.materials[p];
    Rng rng = stream(seed, m.id, 1);
    const long long total = m.firms_total.value_or(d.per_material);
    for (CountryId c = 0; c < nc; ++c) {
      if (m.share[c] <= 0) continue;
      long long n;
      if (!m.firms_by_country.empty()) {
        auto it = m.firms_by_country.find(c);
        n = it != m.firms_by_country.end() ? it->second : d.min_per_country;
      } else {
        n = std::llround(double(total) * m.share[c]);
        n = std::clamp(n, d.min_per_country, d.max_per_country);
      }
      for (long long k = 0; k < n; ++k) {
        double u = rng.uniform();
        double w = std::min(std::pow(1.0 - u, -1.0 / d.pareto_alpha), d.max_size_ratio);
        firms_of[p][c].push_back(std::uint32_t(firms.size()));
        firms.push_back(GenFirm{c, p, int(k + 1), w});
      }
    }
  }
}

/// bias(c, b): the prior weight of supplier country c for buyers in b (step 3): home_bias on the
/// diagonal, group_bias for countries that share a (bias) group, else 1.
std::vector<double> bias_matrix(const Description& d) {
  const std::size_t nc = d.countries.size();
  std::vector<double> bias(nc * nc, 1.0);
  for (CountryId c = 0; c < nc; ++c)
    for (CountryId b = 0; b < nc; ++b) {
      if (c == b) {
        bias[c * nc + b] = d.home_bias;
        continue;
      }
      bool shared = false;
      for (const auto& g : d.countries[c].groups) {
        const auto& gb = d.countries[b].groups;
        bool relevant =
            d.bias_groups.empty() ||
            std::find(d.bias_groups.begin(), d.bias_groups.end(), g) != d.bias_groups.end();
        shared = shared || (relevant && std::find(gb.begin(), gb.end(), g) != gb.end());
      }
      if (shared) bias[c * nc + b] = d.group_bias;
    }
  return bias;
}

/// 1. Needs of the users of p (whose outputs are final: they come earlier in the order).
std::vector<Buyer> find_buyers(const Description& d, MaterialId p,
                               const std::vector<GenFirm>& firms, const FirmsOf& firms_of) {
  const std::size_t nc = d.countries.size(), np = d.materials.size();
  std::vector<Buyer> buyers;
  for (MaterialId q = 0; q < np; ++q)
    for (auto& [pp, a] : d.recipes[q].inputs) {
      if (pp != p) continue;
      const std::size_t first = buyers.size();
      double sum = 0;
      for (CountryId c = 0; c < nc; ++c)
        for (auto i : firms_of[q][c])
          if (firms[i].output > 0) {
            buyers.push_back(Buyer{i, a * firms[i].output, 0});
            sum += buyers.back().need;
          }
      const double mean = sum / double(std::max<std::size_t>(1, buyers.size() - first));
      for (std::size_t k = first; k < buyers.size(); ++k) {
        double slots = std::round(d.sourcing_slots * std::sqrt(buyers[k].need / mean));
        buyers[k].slots =
            int(std::clamp(slots, double(d.sourcing_slots), double(d.max_sourcing_slots)));
      }
    }
  return buyers;
}

/// 2. Output of p per day (final demand = output - use); a world output below the intermediate
/// use, or no output at all, is an error.
double material_output(const Description& d, MaterialId p, double use,
                       const std::vector<GenFirm>& firms, const FirmsOf& firms_of) {
  const std::size_t nc = d.countries.size(), np = d.materials.size();
  const double per_year = d.days_per_year;
  const auto& m = d.materials[p];
  double output;
  if (m.world_output) {
    output = *m.world_output / per_year;
    if (use > output * (1 + 1e-9)) {
      std::string users;
      for (MaterialId q = 0; q < np; ++q)
        for (auto& [pp, a] : d.recipes[q].inputs)
          if (pp == p) {
            double out_q = 0;
            for (CountryId c = 0; c < nc; ++c)
              for (auto i : firms_of[q][c]) out_q += firms[i].output;
            users +=
                (users.empty() ? "" : ", ") + d.materials[q].id + " " + fmt(a * out_q * per_year);
          }
      m.world_output_node->fail("expected a world output of at least the intermediate use " +
                                fmt(use * per_year) + " (" + users + "), found " +
                                fmt(*m.world_output) +
                                "; lower the recipe coefficients or the users' outputs");
    }
    output = std::max(output, use);
  } else {
    output = use + m.final_demand.value_or(0.0) / per_year;
  }
  if (!(output > 0))
    m.node.fail("material '" + m.id +
                "' has no output: it is no recipe's input and has no "
                "'world_output' or 'final_demand'");
  return output;
}

/// 3. Country-pair matrix T_{c,b} by RAS: the prior share_c bias(c, b) fitted to row sums S
/// (sales of supplier countries to firms) and column sums R (needs of buyer countries). Cells
/// with a sourced share f (`sourcing:`) are fixed at f R_b; the others are fitted to the row and
/// column sums less the fixed cells.
std::vector<double> country_pairs(const Description& d, const DescMaterial& m,
                                  const std::vector<double>& bias, const std::vector<double>& S,
                                  const std::vector<double>& R, double use) {
  const std::size_t nc = S.size();
  std::vector<double> T(nc * nc, 0.0), F(nc * nc, 0.0);
  std::vector<char> fixed(nc * nc, 0);
  std::vector<double> Sf = S, Rf = R;  // what the free cells must add up to
  for (const auto& fs : m.sourcing) {
    const std::size_t k = fs.supplier * nc + fs.buyer;
    if (!(R[fs.buyer] > 0) || fixed[k]) continue;  // no buyers of this material there
    F[k] = fs.share * R[fs.buyer];
    fixed[k] = 1;
    Sf[fs.supplier] -= F[k];
    Rf[fs.buyer] -= F[k];
    if (Sf[fs.supplier] < -1e-9 * S[fs.supplier])
      fs.node.fail("expected sourcing shares that supplier country " +
                   d.countries[fs.supplier].code + " can meet: its firms sell " +
                   fmt(S[fs.supplier]) + " a day of " + m.id + " to firms, the shares ask " +
                   fmt(S[fs.supplier] - Sf[fs.supplier]));
  }
  auto positive = [](double rest, double whole) { return rest > 1e-12 * whole; };
  if (use > 0) {
    for (CountryId c = 0; c < nc; ++c)
      for (CountryId b = 0; b < nc; ++b)
        if (!fixed[c * nc + b] && positive(Sf[c], S[c]) && positive(Rf[b], R[b]))
          T[c * nc + b] = m.share[c] * bias[c * nc + b];
    for (int it = 0; it < 10000; ++it) {
      double worst = 0;
      for (CountryId c = 0; c < nc; ++c) {
        if (!positive(Sf[c], S[c])) continue;
        double s = 0;
        for (CountryId b = 0; b < nc; ++b) s += T[c * nc + b];
        if (!(s > 0)) continue;
        worst = std::max(worst, std::abs(s - Sf[c]) / Sf[c]);
        for (CountryId b = 0; b < nc; ++b) T[c * nc + b] *= Sf[c] / s;
      }
      for (CountryId b = 0; b < nc; ++b) {
        if (!positive(Rf[b], R[b])) continue;
        double s = 0;
        for (CountryId c = 0; c < nc; ++c) s += T[c * nc + b];
        if (!(s > 0)) continue;
        for (CountryId c = 0; c < nc; ++c) T[c * nc + b] *= Rf[b] / s;
      }
      if (worst < 1e-13) break;
    }
  }
  for (std::size_t k = 0; k < T.size(); ++k)
    if (fixed[k]) T[k] = F[k];
  // Fixed cells can leave a supplier country nobody free to sell the rest to (every buyer
  // country it could sell to fixed): its output would not be its share, so say so.
  if (!m.sourcing.empty())
    for (CountryId c = 0; c < nc; ++c) {
      double row = 0;
      for (CountryId b = 0; b < nc; ++b) row += T[c * nc + b];
      if (std::abs(row - S[c]) > 1e-9 * S[c])
        m.sourcing.front().node.fail(
            "expected sourcing shares that leave supplier country " + d.countries[c].code +
            "'s sales to firms (" + fmt(S[c]) + " a day of " + m.id +
            ") a buyer country to go to; the fixed and fitted shares take " + fmt(row));
    }
  return T;
}

/// 4. Buyers to supplier countries, by shuffled sourcing slots.
std::vector<Piece> buyers_to_countries(const std::vector<Buyer>& buyers,
                                       const std::vector<GenFirm>& firms,
                                       const std::vector<double>& R, const std::vector<double>& T,
                                       Rng& rng) {
  const std::size_t nc = R.size();
  std::vector<Piece> pieces;
  for (CountryId b = 0; b < nc; ++b) {
    if (R[b] <= 0) continue;
    std::vector<std::uint32_t> slot_buyer;
    for (std::uint32_t k = 0; k < buyers.size(); ++k)
      if (firms[buyers[k].firm].country == b)
        for (int s = 0; s < buyers[k].slots; ++s) slot_buyer.push_back(k);
    rng.shuffle(slot_buyer);
    std::vector<double> slot_len(slot_buyer.size());
    for (std::size_t s = 0; s < slot_buyer.size(); ++s)
      slot_len[s] = buyers[slot_buyer[s]].need / buyers[slot_buyer[s]].slots;
    std::vector<double> country_len;
    std::vector<CountryId> country_of;
    for (CountryId c = 0; c < nc; ++c)
      if (T[c * nc + b] > 0) {
        country_len.push_back(T[c * nc + b]);
        country_of.push_back(c);
      }
    std::vector<Piece> local;
    overlap(slot_len, country_len, [&](std::size_t s, std::size_t k, double frac) {
      double amount = frac * R[b];
      if (amount > 1e-9 * slot_len[s]) local.push_back(Piece{slot_buyer[s], country_of[k], amount});
    });
    // Merge the slots of one buyer that landed in the same country (stable: the sum of
    // equal keys is taken in layout order on every standard library).
    std::stable_sort(local.begin(), local.end(), [](const Piece& x, const Piece& y) {
      return x.buyer != y.buyer ? x.buyer < y.buyer : x.country < y.country;
    });
    for (auto& pc : local) {
      if (!pieces.empty() && pieces.back().buyer == pc.buyer && pieces.back().country == pc.country)
        pieces.back().amount += pc.amount;
      else
        pieces.push_back(pc);
    }
  }
  return pieces;
}

/// 5. Supplier countries to firms, by size (the flows' buyers are indices into buyers).
std::vector<Flow> countries_to_firms(MaterialId p, const std::vector<Piece>& pieces,
                                     const std::vector<GenFirm>& firms, const FirmsOf& firms_of,
                                     Rng& rng) {
  const std::size_t nc = firms_of[p].size();
  std::vector<Flow> local_flows;  // buyer = index into buyers for now
  for (CountryId c = 0; c < nc; ++c) {
    std::vector<Piece> mine;
    for (auto& pc : pieces)
      if (pc.country == c) mine.push_back(pc);
    if (mine.empty()) continue;
    rng.shuffle(mine);
    std::vector<double> piece_len(mine.size()), firm_len;
    double total = 0;
    for (std::size_t k = 0; k < mine.size(); ++k) total += piece_len[k] = mine[k].amount;
    const auto& supplier_firms = firms_of[p][c];
    for (auto j : supplier_firms) firm_len.push_back(firms[j].weight);
    overlap(piece_len, firm_len, [&](std::size_t k, std::size_t j, double frac) {
      double amount = frac * total;
      if (amount > 1e-9 * piece_len[k])
        local_flows.push_back(Flow{supplier_firms[j], mine[k].buyer, amount});
    });
  }
  return local_flows;
}

/// 6. Each buyer's flows of p sum to its need a_{q,p} x_i; they join `flows` with firm ids and
/// add to their suppliers' sales.
void rescale_to_needs(std::vector<Flow>& local_flows, const std::vector<Buyer>& buyers,
                      std::vector<GenFirm>& firms, std::vector<Flow>& flows) {
  std::sort(local_flows.begin(), local_flows.end(), [](const Flow& x, const Flow& y) {
    return x.buyer != y.buyer ? x.buyer < y.buyer : x.supplier < y.supplier;
  });
  for (std::size_t k = 0; k < local_flows.size();) {
    std::size_t e = k;
    double sum = 0;
    while (e < local_flows.size() && local_flows[e].buyer == local_flows[k].buyer)
      sum += local_flows[e++].amount;
    const Buyer& b = buyers[local_flows[k].buyer];
    const double scale = b.need / sum;
    for (; k < e; ++k) {
      Flow f = local_flows[k];
      f.amount *= scale;
      f.buyer = b.firm;
      firms[f.supplier].sales += f.amount;
      flows.push_back(f);
    }
  }
}

/// 3. Each country's output O_c split into F_c, the part of p's final demand (output - use)
/// it makes, and S_c, what it sells to firms; a country asked for more final demand than its
/// output is an error (at `final_demand_from`).
struct CountrySplit {
  std::vector<double> final, sales;  // F_c, S_c
};
CountrySplit split_by_country(const Description& d, const DescMaterial& m, double output,
                              double use) {
  const std::size_t nc = d.countries.size();
  const double final_share = (output - use) / output;
  CountrySplit split{std::vector<double>(nc), std::vector<double>(nc)};
  for (CountryId c = 0; c < nc; ++c) {
    const double O = m.share[c] * output;
    double& F = split.final[c];
    if (m.final_from.empty()) {  // each country its output share (the arithmetic as before)
      F = O * final_share;
      split.sales[c] = O * (1 - final_share);
      continue;
    }
    F = m.final_from[c] * (output - use);
    if (F > O * (1 + 1e-9))
      m.final_from_node->fail("expected final_demand_from shares that country " +
                              d.countries[c].code + " can make: it produces " + fmt(O) +
                              " a day of " + m.id + ", the share asks " + fmt(F) +
                              " of the final demand");
    F = std::min(F, O);
    split.sales[c] = O - F;
  }
  return split;
}

/// 6-7. Outputs of p's firms: sales + final demand F_c, split among c's firms by size; the
/// final demand split by destination where p has final_use_shares.
MaterialBalance firm_outputs(const Description& d, MaterialId p, const std::vector<double>& F,
                             double use, std::vector<GenFirm>& firms, const FirmsOf& firms_of,
                             std::vector<Destination>& destinations) {
  const std::size_t nc = d.countries.size();
  const double per_year = d.days_per_year;
  const auto& m = d.materials[p];
  double produced = 0, final_total = 0;
  for (CountryId c = 0; c < nc; ++c) {
    double weights = 0;
    for (auto j : firms_of[p][c]) weights += firms[j].weight;
    const double final_c = F[c];
    for (auto j : firms_of[p][c]) {
      firms[j].final_demand = final_c * firms[j].weight / weights;
      firms[j].output = firms[j].sales + firms[j].final_demand;
      produced += firms[j].output;
      final_total += firms[j].final_demand;
      if (m.final_use.empty() || !(firms[j].final_demand > 0)) continue;
      auto split = split_final_demand(m.final_use, c, firms[j].final_demand);
      if (split.size() == 1 && split[0].first == c) continue;  // all at home: no split
      for (const auto& [dest, amount] : split) destinations.push_back({j, dest, amount});
    }
  }
  return MaterialBalance{m.id, produced * per_year, use * per_year, final_total * per_year};
}

/// Steps 1-7 for material p: its flows join `flows`, its firms get their outputs.
MaterialBalance generate_material(const Description& d, MaterialId p, std::uint64_t seed,
                                  const std::vector<double>& bias, std::vector<GenFirm>& firms,
                                  const FirmsOf& firms_of, std::vector<Flow>& flows,
                                  std::vector<Destination>& destinations) {
  const std::size_t nc = d.countries.size();
  const auto& m = d.materials[p];
  Rng rng = stream(seed, m.id, 2);

  const std::vector<Buyer> buyers = find_buyers(d, p, firms, firms_of);  // 1
  double use = 0;
  for (auto& b : buyers) use += b.need;
  const double output = material_output(d, p, use, firms, firms_of);  // 2
  const CountrySplit split = split_by_country(d, m, output, use);     // 3: F_c and S_c

  // 3-5: what each buyer gets from each supplier firm; R: needs of the buyers in each country.
  std::vector<double> R(nc, 0.0);
  for (auto& b : buyers) R[firms[b.firm].country] += b.need;
  const std::vector<double> T = country_pairs(d, m, bias, split.sales, R, use);
  const std::vector<Piece> pieces = buyers_to_countries(buyers, firms, R, T, rng);
  std::vector<Flow> local_flows = countries_to_firms(p, pieces, firms, firms_of, rng);
  rescale_to_needs(local_flows, buyers, firms, flows);  // 6
  return firm_outputs(d, p, split.final, use, firms, firms_of, destinations);
}

/// The world: firms with output > 0, links sorted by (buyer, supplier), final demand by
/// destination, lead times.
World build_world(const Description& d, const std::vector<GenFirm>& firms, std::vector<Flow>& flows,
                  const std::vector<Destination>& destinations) {
  const std::size_t nc = d.countries.size();
  WorldBuilder builder;
  for (const auto& c : d.countries) builder.country(c.code, c.groups, c.name);
  for (const auto& m : d.materials) {
    MaterialId id = builder.material(m.id, m.inventory_days, m.unit);
    Material& mat = builder.tables().materials[id];
    mat.name = m.name;
    mat.tier = m.tier;
    mat.requalification_days = m.requalification_days;
    mat.utilisation = m.utilisation;
    mat.unit_value = m.unit_value;
    mat.distinct_parts = m.distinct_parts;
    mat.byproduct = m.byproduct;
    mat.inventory_days_range = m.inventory_days_range;
  }
  std::vector<std::uint32_t> new_id(firms.size(), std::numeric_limits<std::uint32_t>::max());
  for (std::uint32_t i = 0; i < firms.size(); ++i) {
    const auto& f = firms[i];
    if (!(f.output > 0)) continue;
    new_id[i] = builder.firm(d.materials[f.material].id + "." + d.countries[f.country].code + "." +
                                 std::to_string(f.number),
                             f.country, f.material, f.final_demand);
  }
  std::sort(flows.begin(), flows.end(), [](const Flow& x, const Flow& y) {
    return x.buyer != y.buyer ? x.buyer < y.buyer : x.supplier < y.supplier;
  });
  for (const auto& f : flows) {
    auto s = new_id[f.supplier], b = new_id[f.buyer];
    builder.link(s, b, f.amount, d.lead[firms[f.supplier].country][firms[f.buyer].country]);
  }
  for (const auto& e : destinations) builder.final_demand_to(new_id[e.firm], e.country, e.amount);
  WorldTables& t = builder.tables();
  t.source = d.file;
  t.lead_times.domestic = d.domestic;
  t.lead_times.international = d.international;
  for (CountryId a = 0; a < nc; ++a)
    for (CountryId b = 0; b < nc; ++b) {
      int expected = a == b ? d.domestic : d.international;
      if (d.lead[a][b] != expected) t.lead_times.pairs[{a, b}] = d.lead[a][b];
    }
  return builder.build();
}

}  // namespace

Generated generate(const Description& d, std::uint64_t seed) {
  const std::size_t nc = d.countries.size(), np = d.materials.size();
  const auto order = top_down_order(d);
  std::vector<GenFirm> firms;
  FirmsOf firms_of(np, std::vector<std::vector<std::uint32_t>>(nc));
  make_firms(d, seed, firms, firms_of);
  const std::vector<double> bias = bias_matrix(d);
  std::vector<Flow> flows;
  std::vector<MaterialBalance> balances(np);
  std::vector<Destination> destinations;  // final demand split by destination
  for (MaterialId p : order)
    balances[p] = generate_material(d, p, seed, bias, firms, firms_of, flows, destinations);
  World world = build_world(d, firms, flows, destinations);
  return Generated{std::move(world), std::move(balances)};
}

/// Recipes indexed by the world's material ids (matched by material id).
std::vector<std::vector<std::pair<MaterialId, double>>> world_recipes(const Description& d,
                                                                      const World& w) {
  std::vector<std::vector<std::pair<MaterialId, double>>> out(w.materials().size());
  for (MaterialId q = 0; q < d.materials.size(); ++q) {
    auto wq = w.find_material(d.materials[q].id);
    if (!wq) continue;
    for (auto& [p, a] : d.recipes[q].inputs) {
      auto wp = w.find_material(d.materials[p].id);
      if (wp) out[*wq].emplace_back(*wp, a);
    }
  }
  return out;
}

double residual(const World& w,
                const std::vector<std::vector<std::pair<MaterialId, double>>>& recipes) {
  const std::size_t n = w.num_firms();
  std::vector<std::size_t> begin(n + 1, 0);
  for (FirmId i = 0; i < n; ++i) begin[i + 1] = begin[i] + recipes[w.firm_material()[i]].size();
  std::vector<double> got(begin[n], 0.0);
  double worst = 0;
  for (LinkId l = 0; l < w.num_links(); ++l) {
    FirmId i = w.link_buyer()[l];
    MaterialId q = w.firm_material()[w.link_supplier()[l]];
    const auto& r = recipes[w.firm_material()[i]];
    std::size_t k = 0;
    while (k < r.size() && r[k].first != q) ++k;
    if (k == r.size()) {
      worst = 1.0;  // an input that is not in the recipe
      continue;
    }
    got[begin[i] + k] += w.link_flow()[l];
  }
  for (FirmId i = 0; i < n; ++i) {
    const auto& r = recipes[w.firm_material()[i]];
    for (std::size_t k = 0; k < r.size(); ++k) {
      double want = r[k].second * w.baseline_output()[i];
      if (want <= 0) continue;
      worst = std::max(worst, std::abs(got[begin[i] + k] - want) / want);
    }
  }
  return worst;
}

}  // namespace generation

using generation::Description;
using generation::Generated;
using generation::parse_description;
using generation::residual;
using generation::world_recipes;

bool is_world_description(const std::string& path) {
  try {
    YAML::Node root = YAML::LoadFile(path);
    return root.IsMap() && root["recipes"].IsDefined();
  } catch (const YAML::Exception&) {
    return false;
  }
}

World generate_world(const std::string& description_path) {
  return generate_world(description_path, GenerateOptions{}, nullptr);
}

World generate_world(const std::string& description_path, const GenerateOptions& options,
                     GenerationReport* report) {
  const auto t0 = std::chrono::steady_clock::now();
  Description d = parse_description(description_path);
  const std::uint64_t seed = options.seed.value_or(d.seed);
  Generated g = generate(d, seed);
  if (report) {
    report->seed = seed;
    report->countries = g.world.countries().size();
    report->materials = g.world.materials().size();
    report->firms = g.world.num_firms();
    report->links = g.world.num_links();
    report->balances = std::move(g.balances);
    report->max_balance_residual = residual(g.world, world_recipes(d, g.world));
    report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return std::move(g.world);
}

double balance_residual(const World& world, const std::string& description_path) {
  Description d = parse_description(description_path);
  return residual(world, world_recipes(d, world));
}

}  // namespace shortfall
