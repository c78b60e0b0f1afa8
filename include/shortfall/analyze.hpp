// Network analytics of a world, before any shock is simulated (`shortfall analyze`).
//
// Four measures, each defined precisely in docs/analysis.md:
//  - dependency: input-output total requirements on the (country, material) graph, and the share
//    of each upstream material that an end product's producers get, directly or through any
//    path, from each country, with its Herfindahl-Hirschman index;
//  - pass-through frequency (after Inomata & Hanaka 2021): the share of supply paths from
//    raw-material producers to a final producer that pass through a country;
//  - chokepoints: betweenness of firms, (country, material) pairs and country-to-country links,
//    and the final deliveries lost when each of the top candidates is knocked out alone (one
//    short simulation per candidate, run in parallel);
//  - economic systemic risk index (after Diem et al. 2022): per firm, the share of output lost
//    in the network when that firm stops, by a downstream and upstream cascade.
// Quantities of different materials are never added together: every aggregate is within one
// material or a dimensionless share.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "shortfall/scenario.hpp"
#include "shortfall/world.hpp"

namespace shortfall {

struct AnalyzeOptions {
  int top = 20;             ///< rows per table in print_analysis
  int simulate_top = 10;    ///< knockout candidates per ranking and kind (0: no simulations)
  int knockout_days = 120;  ///< days simulated per knockout
  int threads = 0;          ///< worker threads (0: all cores)
  bool esri = true;         ///< compute the systemic risk index
  /// Firm-level betweenness is O(firms x links); above this many firms it is skipped.
  std::size_t max_betweenness_firms = 20000;
  /// The systemic risk index runs one cascade per firm; above this many firms it is skipped.
  std::size_t max_esri_firms = 20000;
};

/// The (country, material) graph: one node per pair that has at least one firm.
struct AggregateGraph {
  std::vector<CountryId> node_country;
  std::vector<MaterialId> node_material;
  std::vector<double> node_output;                ///< X_v = sum of x0 over the node's firms
  std::vector<std::int32_t> node_of;              ///< [country * M + material] -> node, -1 if none
  std::vector<std::uint32_t> edge_from, edge_to;  ///< one per (u, v) pair with flow > 0
  std::vector<double> edge_flow;                  ///< Z_uv = sum of Z0 over links u -> v
  [[nodiscard]] std::size_t num_nodes() const { return node_country.size(); }
};

AggregateGraph aggregate_graph(const World& world);

/// End products: materials of tier "end", plus materials nobody buys as an input that have
/// inputs themselves. Ascending MaterialId.
std::vector<MaterialId> end_products(const World& world);

/// Dependency of end-product producers on upstream materials by country of origin.
/// Arrays are dense; index helpers below. NaN where undefined (no producer, or no requirement).
struct Dependency {
  std::size_t countries = 0, materials = 0;
  std::vector<MaterialId> end_product;  ///< E entries
  /// share[((d * E + e) * M + p) * C + c]: of the total requirement of material p per unit of
  /// end product e made in country d, the part produced in country c. Sums to 1 over c.
  std::vector<double> share;
  /// requirement[(d * E + e) * M + p]: units of p needed, directly and through all paths, per
  /// unit of e made in d (the column of the total requirements matrix L - I, summed over c).
  std::vector<double> requirement;
  std::vector<double> hhi;  ///< [(d * E + e) * M + p]: sum over c of share^2
  /// World level: requirements of all producers of e, weighted by their output (same units).
  std::vector<double> world_share;        ///< [(e * M + p) * C + c]
  std::vector<double> world_requirement;  ///< [e * M + p], units of p per unit of e
  std::vector<double> world_hhi;          ///< [e * M + p]
  int iterations = 0;                     ///< power-series terms until convergence
  [[nodiscard]] std::size_t at(std::size_t d, std::size_t e, std::size_t p, std::size_t c) const {
    return ((d * end_product.size() + e) * materials + p) * countries + c;
  }
  [[nodiscard]] std::size_t at(std::size_t d, std::size_t e, std::size_t p) const {
    return (d * end_product.size() + e) * materials + p;
  }
};

Dependency dependency(const World& world, const AggregateGraph& graph);

/// Pass-through frequency on the (country, material) graph.
struct PassThrough {
  std::size_t countries = 0;
  std::vector<MaterialId> end_product;  ///< E entries
  /// frequency[(d * E + e) * C + k]: share of the supply paths from raw-material nodes to the
  /// node (d, e) that have an interior node (neither the first nor the last) in country k.
  std::vector<double> frequency;
  /// origin[(d * E + e) * C + k]: share of those paths that start in country k.
  std::vector<double> origin;
  std::vector<double> path_count;       ///< [d * E + e]: number of paths (NaN: no producer)
  std::vector<double> world_frequency;  ///< [e * C + k]: over all producers of e
  std::vector<double> world_origin;     ///< [e * C + k]
  std::size_t dropped_cycle_edges = 0;  ///< back edges left out to make the graph acyclic
};

PassThrough pass_through(const World& world, const AggregateGraph& graph);

/// Betweenness centrality (Brandes), directed and unweighted, normalised by the number of
/// ordered (source, target) pairs other than the vertex itself.
struct Betweenness {
  std::vector<double> firm;  ///< per firm, (n-1)(n-2) normalised; empty if skipped
  std::vector<double> node;  ///< [country * M + material] on the aggregate graph; NaN: no node
  /// [supplier country * C + buyer country]: sum of the edge betweenness of the aggregate
  /// graph's edges from c to d (c != d; NaN on the diagonal), normalised by N(N-1).
  std::vector<double> link;
};

Betweenness betweenness(const World& world, const AggregateGraph& graph,
                        std::size_t max_firms = 20000);

/// Economic systemic risk index (simplified from Diem et al. 2022; docs/analysis.md).
enum class CascadeMode { kDownstream, kUpstream, kBoth };

struct SystemicRisk {
  std::size_t materials = 0;
  /// Per firm: mean over materials p (with output) of the share of p's world output lost when
  /// the firm stops, downstream and upstream cascades combined.
  std::vector<double> esri;
  std::vector<double> esri_max;         ///< max over materials of the same share
  std::vector<double> esri_downstream;  ///< downstream cascade only (customers lose inputs)
  std::vector<double> esri_upstream;    ///< upstream cascade only (suppliers lose sales)
  /// [firm * M + material]: share of the material's output lost (combined); empty if too big.
  std::vector<double> loss_by_material;
};

/// Remaining relative production h of every firm when `failed` stops (h = 1 untouched).
std::vector<double> cascade(const World& world, FirmId failed, CascadeMode mode);

SystemicRisk systemic_risk(const World& world, int threads = 0);

/// One knockout simulation: a firm, all firms of a (country, material), or all exports from one
/// country to another, removed from day 0 for the whole run.
struct Knockout {
  enum Kind : std::uint8_t { kFirm = 0, kCountryMaterial = 1, kCountryLink = 2 };
  Kind kind = kFirm;
  std::uint32_t a = 0, b = 0;  ///< firm; (country, material); (exporter, importer)
  std::string label;           ///< "ga_cn1", "CHN gallium", "CHN->JPN"
  double betweenness = 0;      ///< its betweenness (firm, node or link)
  double static_score = 0;     ///< ESRI / max dependency share / max import share
  /// lost_share[e]: final deliveries of end product e lost over the run, as a share of baseline
  /// final demand for e over the same days. NaN where e has no final demand.
  std::vector<double> lost_share;
  /// knock_on_share[e]: the same, counting only firms that were not removed themselves (the
  /// loss passed on through the network). Equal to lost_share for a country link.
  std::vector<double> knock_on_share;
  double worst = 0;           ///< max over end products of lost_share
  double mean = 0;            ///< mean over end products of lost_share
  double knock_on_worst = 0;  ///< max over end products of knock_on_share (the ranking key)
};

/// Candidates: the top `k` of each kind by betweenness and the top `k` by the static score,
/// without duplicates. Simulated in parallel, each simulation on one thread.
std::vector<Knockout> knockouts(const World& world, const AggregateGraph& graph,
                                const ModelParams& model,
                                const std::vector<MaterialId>& end_product, const Betweenness& btw,
                                const SystemicRisk* risk, const Dependency& dep, int k, int days,
                                int threads = 0);

/// Simulate one knockout and fill its lost_share, worst and mean.
void simulate_knockout(const World& world, const ModelParams& model,
                       const std::vector<MaterialId>& end_product, int days, Knockout& ko);

struct Analysis {
  AggregateGraph graph;
  Dependency dep;
  PassThrough pass;
  Betweenness btw;
  SystemicRisk risk;  ///< empty vectors if not computed
  std::vector<Knockout> knock;
  int knockout_days = 0;
  std::string scenario_name;       ///< when the model parameters came from a scenario
  std::vector<std::string> notes;  ///< parts skipped or approximated, for the reader
  /// Wall seconds per part: graph, dependency, pass_through, betweenness, esri, knockouts.
  std::vector<std::pair<std::string, double>> seconds;
};

Analysis analyze(const World& world, const ModelParams& model, const AnalyzeOptions& options);

/// Load the world of `path`: a world file (explicit or description), or a scenario whose world
/// is loaded and whose model parameters are used for the knockouts.
struct AnalysisInput {
  World world;
  Scenario scenario;  ///< default parameters when `path` is a world
  bool from_scenario = false;
};
AnalysisInput load_analysis_input(const std::string& path);

/// Write the groups dependency, pass_through, chokepoints and esri. Throws IoError.
void write_analysis(const Analysis& analysis, const World& world, const std::string& path);

/// Readable tables, `top` rows each.
void print_analysis(const Analysis& analysis, const World& world, std::ostream& os, int top);

}  // namespace shortfall
