// Parsing scenarios (docs/input.md) and checking them against a world.
#include <algorithm>
#include <set>

#include "shortfall/error.hpp"
#include "shortfall/scenario.hpp"
#include "util/csv.hpp"
#include "util/text.hpp"
#include "util/yaml_util.hpp"
#include "world/selection.hpp"

namespace shortfall {

using detail::YNode;

const char* event_type_name(EventType t) {
  switch (t) {
    case EventType::kCapacityLoss:
      return "capacity_loss";
    case EventType::kExportControl:
      return "export_control";
    case EventType::kTradeCut:
      return "trade_cut";
    case EventType::kDemandShock:
      return "demand_shock";
    case EventType::kTransportDisruption:
      return "transport_disruption";
    case EventType::kFrontLoading:
      return "front_loading";
  }
  return "?";
}

namespace {

constexpr int kMaxDays = 36500;  // 100 years of days

void read_selector(const YNode& e, Selector& s) {
  if (auto v = e.get("firms")) s.firms = v->as_string_list();
  for (const char* k : {"country", "countries"})
    if (auto v = e.get(k)) {
      auto l = v->as_string_list();
      s.countries.insert(s.countries.end(), l.begin(), l.end());
    }
  for (const char* k : {"material", "materials"})
    if (auto v = e.get(k)) {
      auto l = v->as_string_list();
      s.materials.insert(s.materials.end(), l.begin(), l.end());
    }
  if (auto v = e.get("except")) s.except_countries = v->as_string_list();
  if (auto v = e.get("except_materials")) s.except_materials = v->as_string_list();
}

void read_between(const YNode& e, Event& ev) {
  YNode b = e.at("between");
  if (!b.is_seq() || b.size() != 2)
    b.fail("expected two sides, e.g. [[RUS], [eu]], found " + detail::describe(b.node));
  ev.side_a = b.item(0).as_string_list();
  ev.side_b = b.item(1).as_string_list();
}

/// The listed ids, or "all" for an empty list (a selection that names nothing takes all).
std::string join(const std::vector<std::string>& v) {
  return v.empty() ? "all" : util::join(v);
}

/// "gallium in CHN", or "firms a,b" when firms are named.
std::string selection(const Selector& s) {
  if (!s.firms.empty()) {
    std::string out = "firms " + join(s.firms);
    if (!s.materials.empty()) out += " (" + join(s.materials) + ")";
    return out;
  }
  return join(s.materials) + " in " + join(s.countries) +
         (s.except_countries.empty() ? "" : " except " + join(s.except_countries));
}

/// An event's type, from its 'type' key, once its keys are checked against those the type takes.
EventType read_event_type(const YNode& e) {
  std::string type = e.at("type").as_string();
  static const std::set<std::string_view> kSel = {
      "firms", "country", "countries", "material", "materials", "except", "except_materials"};
  EventType t{};
  if (type == "capacity_loss") {
    t = EventType::kCapacityLoss;
    e.check_keys({"type", "start", "end", "name", "loss", "firms_csv", "recovery", "firms",
                  "country", "countries", "material", "materials", "except", "except_materials"});
  } else if (type == "export_control") {
    t = EventType::kExportControl;
    e.check_keys({"type", "start", "end", "name", "exporters", "materials", "material", "targets",
                  "except", "license_share"});
  } else if (type == "trade_cut") {
    t = EventType::kTradeCut;
    e.check_keys({"type", "start", "end", "name", "between"});
  } else if (type == "demand_shock") {
    t = EventType::kDemandShock;
    e.check_keys({"type", "start", "end", "name", "factor", "firms", "country", "countries",
                  "material", "materials", "except", "except_materials"});
  } else if (type == "transport_disruption") {
    t = EventType::kTransportDisruption;
    e.check_keys({"type", "start", "end", "name", "between", "extra_days"});
  } else if (type == "front_loading") {
    t = EventType::kFrontLoading;
    e.check_keys({"type", "start", "end", "name", "targets", "except", "materials", "material",
                  "extra_days"});
  } else {
    e.at("type").fail("unknown event type '" + type +
                      "'; expected one of: capacity_loss, export_control, trade_cut, "
                      "demand_shock, transport_disruption, front_loading");
  }
  (void)kSel;
  return t;
}

/// A capacity_loss event's recovery: its 'recovery' key, else a step back at 'end' if it ends.
void read_recovery(const YNode& e, Event& ev) {
  if (auto r = e.get("recovery")) {
    r->check_keys({"type", "days", "half_life"});
    std::string rt = r->at("type").as_string();
    if (rt == "none") {
      ev.recovery.type = RecoveryType::kNone;
    } else if (rt == "linear") {
      ev.recovery.type = RecoveryType::kLinear;
      ev.recovery.days = r->at("days").as_double_in(1e-9, 1e6);
    } else if (rt == "exponential") {
      ev.recovery.type = RecoveryType::kExponential;
      ev.recovery.days = r->at("half_life").as_double_in(1e-9, 1e6);
    } else if (rt == "step") {
      ev.recovery.type = RecoveryType::kStep;
      if (!ev.end) r->fail("a 'step' recovery needs the event's 'end' day");
    } else {
      r->at("type").fail("unknown recovery type '" + rt +
                         "'; expected none, linear, exponential or step");
    }
  } else if (ev.end) {
    ev.recovery.type = RecoveryType::kStep;
  }
}

/// A capacity_loss event's keys: the firms, their loss (one for all, or a table by firm) and
/// the recovery.
void read_capacity_loss(const YNode& e, const std::string& scenario_path, Event& ev,
                        const std::string& label, const std::string& span) {
  read_selector(e, ev.firms);
  if (auto csv = e.get("firms_csv")) {
    if (e.has("loss")) e.at("loss").fail("expected either 'loss' or 'firms_csv', found both");
    std::string file = detail::resolve_path(scenario_path, csv->as_string());
    detail::read_csv(
        file, {"firm", "loss"}, {}, [&](const detail::CsvRow& row, const detail::CsvColumns& cols) {
          double v = row.number(cols.index[1]);
          if (v < 0 || v > 1)
            row.fail(cols.index[1],
                     "expected a loss in [0, 1], found " + std::string(row.text(cols.index[1])));
          ev.firm_losses.emplace_back(std::string(row.text(cols.index[0])), v);
        });
  } else {
    ev.loss = e.at("loss").as_double_in(0, 1);
    if (ev.firms.empty())
      e.fail("expected a selection of firms (firms, country, material) for capacity_loss");
  }
  read_recovery(e, ev);
  ev.description =
      (label.empty() ? "" : label + ": ") + "capacity loss " +
      (ev.firm_losses.empty() ? util::num(ev.loss)
                              : std::to_string(ev.firm_losses.size()) + " firms from table") +
      " of " + selection(ev.firms) + ", " + span;
}

/// An event's 'material'/'materials' keys; `what` names them in the error when both are absent.
void read_event_materials(const YNode& e, Event& ev, const char* what) {
  for (const char* k : {"material", "materials"})
    if (auto v = e.get(k)) {
      auto l = v->as_string_list();
      ev.materials.insert(ev.materials.end(), l.begin(), l.end());
    }
  if (ev.materials.empty()) e.fail(std::string("missing key 'materials' (") + what + ", or [all])");
}

/// An export_control event's keys: exporters, materials, targets (and exceptions), license share.
void read_export_control(const YNode& e, Event& ev, const std::string& label,
                         const std::string& span) {
  ev.exporters = e.at("exporters").as_string_list();
  read_event_materials(e, ev, "the controlled materials");
  ev.targets = e.at("targets").as_string_list();
  if (auto v = e.get("except")) ev.except_targets = v->as_string_list();
  ev.license_share = e.get("license_share") ? e.at("license_share").as_double_in(0, 1) : 0.0;
  ev.description = (label.empty() ? "" : label + ": ") + "export control by " + join(ev.exporters) +
                   " on " + join(ev.materials) + " to " + join(ev.targets) +
                   (ev.except_targets.empty() ? "" : " except " + join(ev.except_targets)) +
                   ", license share " + util::num(ev.license_share) + ", " + span;
}

Event parse_event(const YNode& e, const std::string& scenario_path) {
  e.expect_map();
  Event ev;
  ev.where = e.where();
  ev.type = read_event_type(e);
  ev.start = int(e.at("start").as_int_in(0, kMaxDays));
  if (auto end = e.get("end")) {
    ev.end = int(end->as_int_in(0, kMaxDays));
    if (*ev.end <= ev.start)
      end->fail("expected end > start (" + std::to_string(ev.start) + "), found " +
                std::to_string(*ev.end));
  }
  std::string label = e.get("name") ? e.at("name").as_string() : "";
  std::string span = "day " + std::to_string(ev.start) +
                     (ev.end ? " to " + std::to_string(*ev.end) : std::string());

  switch (ev.type) {
    case EventType::kCapacityLoss:
      read_capacity_loss(e, scenario_path, ev, label, span);
      break;
    case EventType::kExportControl:
      read_export_control(e, ev, label, span);
      break;
    case EventType::kTradeCut:
      read_between(e, ev);
      ev.description = (label.empty() ? "" : label + ": ") + "trade cut between " +
                       join(ev.side_a) + " and " + join(ev.side_b) + ", " + span;
      break;
    case EventType::kDemandShock:
      read_selector(e, ev.firms);
      ev.factor = e.at("factor").as_double_in(0, 1e6);
      if (ev.firms.empty()) e.fail("expected a selection of firms (firms, country, material)");
      ev.description = (label.empty() ? "" : label + ": ") + "final demand x" +
                       util::num(ev.factor) + " for " + selection(ev.firms) + ", " + span;
      break;
    case EventType::kFrontLoading:
      // Buyers raise their stock target of these inputs (docs/model.md 3.1).
      read_event_materials(e, ev, "the inputs whose stock the buyers raise");
      ev.targets = e.at("targets").as_string_list();
      if (auto v = e.get("except")) ev.except_targets = v->as_string_list();
      ev.stock_days = e.at("extra_days").as_double_in(0, 3650);
      ev.description =
          (label.empty() ? "" : label + ": ") + "front-loading: buyers in " + join(ev.targets) +
          (ev.except_targets.empty() ? "" : " except " + join(ev.except_targets)) + " hold " +
          util::num(ev.stock_days) + " more days of " + join(ev.materials) + ", " + span;
      break;
    case EventType::kTransportDisruption:
      read_between(e, ev);
      ev.extra_days = int(e.at("extra_days").as_int_in(0, 3650));
      ev.description = (label.empty() ? "" : label + ": ") + "transport +" +
                       std::to_string(ev.extra_days) + " days between " + join(ev.side_a) +
                       " and " + join(ev.side_b) + ", " + span;
      break;
  }
  return ev;
}

Policy parse_policy(const YNode& e, int days) {
  e.expect_map();
  Policy p;
  p.where = e.where();
  std::string type = e.at("type").as_string();
  if (type == "crisis_response") {
    p.type = PolicyType::kCrisisResponse;
    e.check_keys({"type", "name", "members", "materials", "trigger", "meeting_days",
                  "implementation_days", "actions", "surge"});
    p.members = e.at("members").as_string_list();
    if (auto v = e.get("materials")) p.materials = v->as_string_list();
    if (auto t = e.get("trigger")) {
      t->check_keys({"shortage_ratio", "cover_below_days", "days"});
      if (t->get("shortage_ratio") && t->get("cover_below_days"))
        t->fail("expected one trigger, shortage_ratio or cover_below_days, found both");
      if (auto v = t->get("shortage_ratio")) p.trigger_shortage_ratio = v->as_double_in(0, 1e6);
      if (auto v = t->get("cover_below_days")) p.trigger_cover_days = v->as_double_in(0, 3650);
      if (auto v = t->get("days")) p.trigger_days = int(v->as_int_in(1, kMaxDays));
    }
    if (auto v = e.get("meeting_days")) p.meeting_days = int(v->as_int_in(0, kMaxDays));
    if (auto v = e.get("implementation_days"))
      p.implementation_days = int(v->as_int_in(0, kMaxDays));
    YNode actions = e.at("actions");
    for (std::size_t k = 0; k < actions.as_string_list().size(); ++k) {
      std::string a = actions.as_string_list()[k];
      if (a == "match_suppliers")
        p.match_suppliers = true;
      else if (a == "surge")
        p.surge = true;
      else if (a == "release_stockpiles")
        p.release_stockpiles = true;
      else
        (actions.is_seq() ? actions.item(k) : actions)
            .fail("unknown action '" + a +
                  "'; expected match_suppliers, surge or release_stockpiles");
    }
    if (auto sg = e.get("surge")) {
      sg->check_keys({"alpha_max"});
      p.surge_alpha_max = sg->at("alpha_max").as_double_in(1.0, 100.0);
    }
    p.name = e.get("name") ? e.at("name").as_string() : "crisis_response";
  } else if (type == "stockpile") {
    p.type = PolicyType::kStockpile;
    e.check_keys({"type", "name", "country", "material", "days_of_use", "quantity", "release"});
    p.country = e.at("country").as_string();
    p.material = e.at("material").as_string();
    if (auto v = e.get("days_of_use")) p.days_of_use = v->as_double_in(0, 36500);
    if (auto v = e.get("quantity")) p.quantity = v->as_double_in(0, kMaxQuantity);
    if (p.days_of_use.has_value() == p.quantity.has_value())
      e.fail("expected exactly one of 'days_of_use' or 'quantity'");
    if (auto r = e.get("release")) {
      r->check_keys({"when_shortage_ratio", "when_cover_below_days", "start", "max_daily_share"});
      if (auto v = r->get("when_shortage_ratio"))
        p.release_shortage_ratio = v->as_double_in(0, 1e6);
      if (auto v = r->get("when_cover_below_days")) p.release_cover_days = v->as_double_in(0, 3650);
      if (auto v = r->get("start")) p.release_start = int(v->as_int_in(0, kMaxDays));
      if (auto v = r->get("max_daily_share")) p.max_daily_share = v->as_double_in(1e-12, 1.0);
    }
    // A stockpile without a release rule of its own opens only through a crisis mechanism
    // (model section 9).
    p.name = e.get("name") ? e.at("name").as_string() : "stockpile " + p.country + " " + p.material;
  } else if (type == "surge") {
    p.type = PolicyType::kSurge;
    e.check_keys({"type", "name", "countries", "country", "materials", "material", "start", "end",
                  "alpha_max"});
    for (const char* k : {"country", "countries"})
      if (auto v = e.get(k)) {
        auto l = v->as_string_list();
        p.countries.insert(p.countries.end(), l.begin(), l.end());
      }
    for (const char* k : {"material", "materials"})
      if (auto v = e.get(k)) {
        auto l = v->as_string_list();
        p.materials.insert(p.materials.end(), l.begin(), l.end());
      }
    if (p.countries.empty()) e.fail("missing key 'countries'");
    if (p.materials.empty()) e.fail("missing key 'materials'");
    p.start = e.get("start") ? int(e.at("start").as_int_in(0, kMaxDays)) : 0;
    if (auto v = e.get("end")) {
      p.end = int(v->as_int_in(0, kMaxDays));
      if (*p.end <= p.start) v->fail("expected end > start");
    }
    p.alpha_max = e.at("alpha_max").as_double_in(1.0, 100.0);
    p.name = e.get("name") ? e.at("name").as_string() : "surge";
  } else {
    e.at("type").fail("unknown policy type '" + type +
                      "'; expected one of: crisis_response, stockpile, surge");
  }
  (void)days;
  return p;
}

}  // namespace

namespace {
/// `record:` (what the run file holds; docs/input.md).
RecordConfig parse_record(const YNode& r) {
  RecordConfig rec;
  r.check_keys({"firm_level", "every", "compression", "firm_dtype"});
  if (auto v = r.get("firm_level")) rec.firm_level = v->as_bool();
  if (auto v = r.get("every")) rec.every = int(v->as_int_in(1, kMaxDays));
  if (auto v = r.get("compression")) {
    const std::string c = v->as_string();
    if (c != "deflate" && c != "fast" && c != "none")
      v->fail("unknown compression '" + c + "'; expected deflate, fast or none");
    rec.compression = c == "deflate" ? Compression::kDeflate
                      : c == "fast"  ? Compression::kFast
                                     : Compression::kNone;
  }
  if (auto v = r.get("firm_dtype")) {
    const std::string t = v->as_string();
    if (t != "float64" && t != "float32")
      v->fail("unknown firm_dtype '" + t + "'; expected float64 or float32");
    rec.firm_float32 = t == "float32";
  }
  return rec;
}
}  // namespace

Scenario parse_scenario(const std::string& text, const std::string& path) {
  YNode root = detail::parse_yaml(text, path);
  root.expect_map();
  root.check_keys(
      {"name", "description", "world", "days", "seed", "model", "record", "events", "policies"});
  Scenario s;
  s.path = path;
  s.text = text;
  s.name = root.get("name") ? root.at("name").as_string() : std::string("unnamed");
  s.world_path = detail::resolve_path(path, root.at("world").as_string());
  s.world_where = root.at("world").where();
  s.days = int(root.at("days").as_int_in(1, kMaxDays));
  if (auto seed = root.get("seed")) s.seed = std::uint64_t(seed->as_int_in(0, (1LL << 62)));
  if (auto m = root.get("model")) {
    m->check_keys({"preset", "orders", "destocking", "utilisation", "final_demand_controls", "tau",
                   "inventory_days", "rationing", "priority", "alpha_max", "tau_alpha",
                   "substitution", "distinct_parts", "inventory_spread", "byproduct"});
    if (auto v = m->get("preset")) {
      const std::string name = v->as_string();
      if (!s.model.apply_preset(name))
        v->fail("unknown preset '" + name + "'; expected inoue_todo_2019");
      for (const char* key : {"orders", "destocking", "utilisation", "distinct_parts",
                              "inventory_spread", "byproduct"})
        if (auto k = m->get(key))
          k->fail(std::string("preset '") + name + "' fixes model." + key +
                  "; remove one of the two");
    }
    if (auto v = m->get("orders")) {
      const std::string o = v->as_string();
      if (o == "planned")
        s.model.orders = Orders::kPlanned;
      else if (o == "output_based")
        s.model.orders = Orders::kOutputBased;
      else
        v->fail("unknown orders '" + o + "'; expected planned or output_based");
    }
    if (auto v = m->get("destocking")) s.model.destocking = v->as_bool();
    if (auto v = m->get("utilisation")) {
      s.model.utilisation = v->as_double_in(0.0, 1.0);
      if (!(s.model.utilisation > 0.0))
        v->fail("expected a capacity utilisation in (0, 1], found 0");
    }
    if (auto v = m->get("final_demand_controls")) s.model.final_demand_controls = v->as_bool();
    if (auto v = m->get("distinct_parts")) s.model.distinct_parts = v->as_bool();
    if (auto v = m->get("inventory_spread")) s.model.inventory_spread = v->as_bool();
    if (auto v = m->get("byproduct")) s.model.byproduct = v->as_bool();
    if (auto v = m->get("tau")) s.model.tau = v->as_double_in(1e-9, 1e6);
    if (auto v = m->get("alpha_max")) s.model.alpha_max = v->as_double_in(1.0, 100.0);
    if (auto v = m->get("tau_alpha")) s.model.tau_alpha = v->as_double_in(1e-9, 1e6);
    if (auto sub = m->get("substitution")) {
      sub->check_keys({"enabled", "threshold", "search_days", "home_bias", "group_bias"});
      auto& p = s.model.substitution;
      p.enabled = sub->get("enabled") ? sub->at("enabled").as_bool() : true;
      if (auto v = sub->get("threshold")) p.threshold = v->as_double_in(0.0, 1.0);
      if (auto v = sub->get("search_days")) {
        if (!(v->is_scalar() && v->node.Scalar() == "material"))
          p.search_days = v->as_double_in(1.0, 36500.0);
      }
      if (auto v = sub->get("home_bias")) p.home_bias = v->as_double_in(0.0, 1e6);
      if (auto v = sub->get("group_bias")) p.group_bias = v->as_double_in(0.0, 1e6);
    }
    if (auto v = m->get("inventory_days")) s.model.inventory_days = v->as_double_in(0, 3650);
    if (auto v = m->get("rationing")) {
      std::string r = v->as_string();
      if (r == "proportional")
        s.model.rationing = Rationing::kProportional;
      else if (r == "final_demand_last")
        s.model.rationing = Rationing::kFinalDemandLast;
      else if (r == "waterfill")
        s.model.rationing = Rationing::kWaterfill;
      else if (r == "priority")
        s.model.rationing = Rationing::kPriority;
      else
        v->fail("unknown rationing '" + r +
                "'; expected proportional, final_demand_last, waterfill or priority");
    }
    if (auto v = m->get("priority")) {
      s.model.priority.clear();
      v->expect_seq();
      std::set<std::string> seen;
      for (std::size_t k = 0; k < v->size(); ++k) {
        std::string c = v->item(k).as_string();
        if (!seen.insert(c).second) v->item(k).fail("class '" + c + "' listed twice");
        if (c == "domestic")
          s.model.priority.push_back(PriorityClass::kDomestic);
        else if (c == "group")
          s.model.priority.push_back(PriorityClass::kGroup);
        else if (c == "rest")
          s.model.priority.push_back(PriorityClass::kRest);
        else if (c == "final")
          s.model.priority.push_back(PriorityClass::kFinal);
        else
          v->item(k).fail("unknown priority class '" + c +
                          "'; expected domestic, group, rest or final");
      }
      if (s.model.priority.size() != 4)
        v->fail("expected all four classes (domestic, group, rest, final) in order of service");
    }
  }
  if (auto r = root.get("record")) s.record = parse_record(*r);
  if (auto pol = root.get("policies")) {
    if (!pol->node.IsNull()) {
      pol->expect_seq();
      for (std::size_t k = 0; k < pol->size(); ++k)
        s.policies.push_back(parse_policy(pol->item(k), s.days));
    }
  }
  if (auto ev = root.get("events")) {
    if (!ev->node.IsNull()) {
      ev->expect_seq();
      for (std::size_t k = 0; k < ev->size(); ++k)
        s.events.push_back(parse_event(ev->item(k), path));
    }
  }
  return s;
}

Scenario load_scenario(const std::string& path) {
  return parse_scenario(detail::read_file(path), path);
}

namespace {
/// InputError at `where` unless every name is a country, a group or "all".
void known_countries(const World& w, const std::vector<std::string>& names, const char* key,
                     const SourceLocation& where) {
  for (const auto& n : names)
    if (n != "all" && !w.find_country(n) && !w.is_group(n))
      throw InputError(where, std::string("unknown country or group '") + n + "' in '" + key + "'");
}
/// InputError at `where` unless every name is a material or "all".
void known_materials(const World& w, const std::vector<std::string>& names, const char* key,
                     const SourceLocation& where) {
  for (const auto& n : names)
    if (n != "all" && !w.find_material(n))
      throw InputError(where, std::string("unknown material '") + n + "' in '" + key + "'");
}
}  // namespace

std::vector<std::string> check_scenario(const Scenario& s, const World& w) {
  std::vector<std::string> warnings;
  for (const auto& ev : s.events) {
    auto fail = [&](const std::string& what) { throw InputError(ev.where, what); };
    auto countries = [&](const auto& names, const char* key) {
      known_countries(w, names, key, ev.where);
    };
    auto materials = [&](const auto& names, const char* key) {
      known_materials(w, names, key, ev.where);
    };
    countries(ev.firms.countries, "countries");
    countries(ev.firms.except_countries, "except");
    materials(ev.firms.materials, "materials");
    materials(ev.firms.except_materials, "except_materials");
    for (auto& f : ev.firms.firms)
      if (!w.find_firm(f)) fail("unknown firm '" + f + "' in 'firms'");
    for (auto& [f, loss] : ev.firm_losses)
      if (!w.find_firm(f)) fail("unknown firm '" + f + "' in firms_csv");
    countries(ev.exporters, "exporters");
    countries(ev.targets, "targets");
    countries(ev.except_targets, "except");
    materials(ev.materials, "materials");
    countries(ev.side_a, "between");
    countries(ev.side_b, "between");
    (void)0;
    if (ev.type == EventType::kExportControl) {
      // Does any cross-border link go from an exporter's firm of a controlled material to a
      // target country? If not, the control changes nothing: say so.
      const ExportControlReach control(w, ev);
      bool any = false;
      for (LinkId l = 0; l < w.num_links() && !any; ++l) {
        const FirmId j = w.link_supplier()[l];
        any = control.applies(w.firm_country()[j], w.firm_material()[j],
                              w.firm_country()[w.link_buyer()[l]]);
      }
      if (!any)
        warnings.push_back(ev.where.str() + ": export control matches no link of the world (" +
                           ev.description + ")");
    }
    if (ev.start >= s.days)
      warnings.push_back(ev.where.str() + ": event starts on day " + std::to_string(ev.start) +
                         ", after the last simulated day " + std::to_string(s.days - 1));
  }
  for (const auto& p : s.policies) {
    auto fail = [&](const std::string& what) { throw InputError(p.where, what); };
    auto countries = [&](const auto& names, const char* key) {
      known_countries(w, names, key, p.where);
    };
    auto materials = [&](const auto& names, const char* key) {
      known_materials(w, names, key, p.where);
    };
    countries(p.members, "members");
    countries(p.countries, "countries");
    materials(p.materials, "materials");
    if (p.type == PolicyType::kSurge && p.alpha_max <= s.model.alpha_max)
      warnings.push_back(p.where.str() + ": surge alpha_max " + std::to_string(p.alpha_max) +
                         " is not above model.alpha_max " + std::to_string(s.model.alpha_max) +
                         ": it changes nothing");
    if (p.type == PolicyType::kCrisisResponse && p.surge && p.surge_alpha_max <= s.model.alpha_max)
      warnings.push_back(p.where.str() + ": crisis surge alpha_max " +
                         std::to_string(p.surge_alpha_max) + " is not above model.alpha_max " +
                         std::to_string(s.model.alpha_max) + ": it changes nothing");
    if (p.type == PolicyType::kStockpile) {
      if (!w.find_country(p.country)) fail("unknown country '" + p.country + "' in 'country'");
      if (!w.find_material(p.material)) fail("unknown material '" + p.material + "' in 'material'");
    }
  }
  return warnings;
}

}  // namespace shortfall
