// The daily simulation (docs/model.md sections 2-5 and 10).
//
// A Simulation derives its mutable state from a frozen World and a Scenario and steps it one
// day at a time. Every phase of a day is a kernel over dense ids with one writer per value, so
// results are bit-identical for any number of threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "shortfall/metrics.hpp"
#include "shortfall/scenario.hpp"
#include "shortfall/world.hpp"

namespace shortfall {

struct RunOptions {
  int threads = 0;  ///< 0: one per 100,000 links, at most the hardware's threads
  int days = 0;     ///< 0: the scenario's days
  /// If set and true, run() stops before the next day and throws Interrupted.
  const std::atomic<bool>* cancel = nullptr;
  /// Time each phase of the day (Simulation::phase_seconds); costs a clock read per phase.
  bool profile = false;
  /// Accumulate the run metrics of model 10 every day (Simulation::run_metrics); costs one pass
  /// over the firms a day.
  bool metrics = true;
  /// With a path: run() writes a restartable checkpoint there every `checkpoint_every` days.
  int checkpoint_every = 0;
  std::string checkpoint_path;
};

/// Wall-clock seconds spent in each phase of the day so far (with RunOptions::profile).
struct PhaseTimes {
  double events = 0, inventory_orders = 0, demand_production_rationing = 0, shipping = 0,
         policies = 0, metrics = 0;
};

/// Thrown by Simulation::run when RunOptions::cancel was raised.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

/// One row of the event log: something that took effect on a day.
struct EventRecord {
  int day = 0;
  std::string type;         ///< capacity_loss, export_control, ..., end:<type>
  std::string description;  ///< human-readable
  std::string country;      ///< where relevant, else ""
  std::string material;     ///< where relevant, else ""
  std::int64_t firms = 0;   ///< number of firms or links affected
  double quantity = 0.0;    ///< loss, share, factor or days, by type
  /// Every member, for a checkpoint of the run's event log.
  template <class Self>
  static auto fields(Self& s) {
    return std::tie(s.day, s.type, s.description, s.country, s.material, s.firms, s.quantity);
  }
};

/// Which constraint set a firm's output (docs/model.md 3.5).
enum Binding : std::uint8_t { kBindDemand = 0, kBindCapacity = 1, kBindInputs = 2 };

/// Country x material totals of one day (model section 10), in units of the material,
/// row-major [country][material].
struct CountryMaterialDay {
  std::vector<double> production;   ///< sum of x over firms in c making p
  std::vector<double> output_lost;  ///< sum of max(0, x0 - x) over those firms
  /// The input shortage (the headline): sum over firms i in c using p of
  /// max(0, A_ip min(x^cap_i, D_i) / x0_i - S_ip), S_ip the pooled stock after step 2.
  std::vector<double> shortage;
  /// Final users of c short of p: sum over makers j of p of C_{j,c} - c_{j,c} (C before caps).
  std::vector<double> unmet_final_demand;
  /// Diagnostic: sum over buyers in c of (orders - deliveries) of p, restocking included.
  std::vector<double> order_backlog;
  std::vector<double> inventory_days;  ///< sum S / sum A; NaN where no firm uses the material
};

/// InternalError unless every number of day `day`'s totals is finite (inventory_days: finite or
/// the NaN of "no users"): what a writer calls before it writes a day, so that no NaN or inf is
/// ever written silently.
void check_finite(const CountryMaterialDay& cm, int day, const World& world);

/// A stockpile's state (docs/model.md section 9).
struct StockpileStatus {
  std::string name;
  CountryId country = 0;
  MaterialId material = 0;
  double initial = 0.0;  ///< units of the material
  double level = 0.0;    ///< units left after the last simulated day
};

/// One crisis-response request (docs/model.md section 8); days are -1 where not (yet) reached.
struct CrisisRequest {
  std::string mechanism;
  CountryId country = 0;
  MaterialId material = 0;
  int request_day = -1, meeting_day = -1, implementation_day = -1;
};

class Recorder;

class Simulation {
 public:
  Simulation(const World& world, const Scenario& scenario, RunOptions options = {});
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  /// Simulate one day (the next one). Returns false when all days are done.
  bool step();
  /// Simulate all remaining days, recording each recorded day (begin, record_day, finish).
  void run(Recorder* recorder = nullptr);
  /// Write the state after the last simulated day, and the recorder's, to `path` (written
  /// under a temporary name and renamed). Throws IoError.
  void save_checkpoint(const std::string& path, Recorder* recorder) const;
  /// Restore a checkpoint of the same world and scenario (InputError if it is not), then
  /// resume() continues the run; the result is bit-identical to an uninterrupted run.
  void load_checkpoint(const std::string& path, Recorder* recorder);
  /// Simulate the remaining days after load_checkpoint (record_day, finish; no begin).
  void resume(Recorder* recorder);

  [[nodiscard]] int day() const;  ///< the last simulated day, -1 before the first step
  [[nodiscard]] int total_days() const;
  [[nodiscard]] const World& world() const;
  [[nodiscard]] const Scenario& scenario() const;
  [[nodiscard]] int threads() const;
  [[nodiscard]] const RunOptions& options() const;

  // Firm state after the last simulated day (index = FirmId).
  [[nodiscard]] std::span<const double> production() const;       ///< x_i
  [[nodiscard]] std::span<const double> demand() const;           ///< D_i
  [[nodiscard]] std::span<const double> capacity() const;         ///< x^cap_i
  [[nodiscard]] std::span<const double> capacity_loss() const;    ///< delta_i (after recovery)
  [[nodiscard]] std::span<const double> final_demand() const;     ///< C_i, after caps
  [[nodiscard]] std::span<const double> final_delivered() const;  ///< c_i
  [[nodiscard]] std::span<const double> input_shortfall() const;  ///< 1 - min_p fill ratio
  [[nodiscard]] std::span<const std::uint8_t> binding() const;
  [[nodiscard]] std::span<const std::int32_t> first_shortage_day() const;

  // Link state after the last simulated day, by the world's LinkId.
  [[nodiscard]] double stock(LinkId link) const;       ///< S_ji
  [[nodiscard]] double order(LinkId link) const;       ///< O_ji as wanted (before export caps)
  [[nodiscard]] double delivery(LinkId link) const;    ///< y_ji shipped today
  [[nodiscard]] double in_transit(LinkId link) const;  ///< T_ji after today's shipment
  [[nodiscard]] int lead_time(LinkId link) const;      ///< current l_ji

  /// A per-link variable for every link at once, by the world's LinkId (out.size() must be
  /// world().num_links(); std::invalid_argument otherwise): the same values as the one-link
  /// functions above, without a call per link.
  enum class LinkVariable { kStock, kOrder, kDelivery, kInTransit, kLeadTime };
  void link_state(LinkVariable variable, std::span<double> out) const;

  /// Pooled stock S_{i,p} of firm i's input material p (0 if none).
  [[nodiscard]] double pooled_stock(FirmId firm, MaterialId material) const;

  /// Country x material totals of the last simulated day.
  [[nodiscard]] CountryMaterialDay country_material() const;
  /// The same into `out`, reusing its buffers; with headline_only, production, output_lost,
  /// shortage and unmet_final_demand alone (the same bits; order_backlog and inventory_days are
  /// left as they were), for statistics taken every day.
  void country_material(CountryMaterialDay& out, bool headline_only = false) const;

  /// The run metrics of model 10 over the days simulated so far (RunOptions::metrics).
  [[nodiscard]] RunMetrics run_metrics() const;
  /// Their baseline denominators per country and material.
  [[nodiscard]] const PairBaselines& pair_baselines() const;
  /// What final users wanted today, before export-control caps: C0_i times any demand shock.
  [[nodiscard]] std::span<const double> final_demand_wanted() const;

  [[nodiscard]] const std::vector<EventRecord>& event_log() const;
  [[nodiscard]] PhaseTimes phase_seconds() const;

  // Policies (docs/model.md 6-9).
  [[nodiscard]] std::vector<StockpileStatus> stockpiles() const;
  [[nodiscard]] std::vector<std::string> mechanisms() const;  ///< crisis_response names
  [[nodiscard]] std::vector<CrisisRequest> crisis_requests() const;
  [[nodiscard]] std::span<const double> overproduction() const;  ///< alpha_i
  /// Links added during the run (new suppliers): count, and (supplier, buyer, Z0) of each.
  [[nodiscard]] std::size_t added_links() const;
  [[nodiscard]] std::tuple<FirmId, FirmId, double> added_link(std::size_t k) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Receives the simulation's state on recorded days. Sees only const state.
class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void begin(const Simulation& sim) = 0;
  virtual void record_day(const Simulation& sim) = 0;
  /// Called once after the last day; a recorder that writes a file makes it visible here.
  virtual void finish(const Simulation& sim) = 0;
  /// Make everything recorded so far durable and append the recorder's own state to `state`.
  virtual void checkpoint(const Simulation& sim, std::ostream& state);
  /// Continue a recording from a state written by checkpoint(), instead of begin().
  virtual void restore(const Simulation& sim, std::istream& state);
};

}  // namespace shortfall
