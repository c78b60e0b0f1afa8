// Checkpoints (issue 8) written from the state's own field list (issue 20): the compile-time
// guard that a field list names every member, every listed field of the state through a save
// and a load, and a run resumed from a checkpoint against an uninterrupted one.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "engine/engine.hpp"
#include "test_support.hpp"
#include "util/fields.hpp"

namespace shortfall {
namespace {

using testing_support::state_diff;

// ---- the guard --------------------------------------------------------------------------------

struct Listed {
  int a = 0;
  std::vector<double> b;
  RunMetrics nested;  // an aggregate member counts once (no brace elision)
  template <class Self>
  static auto fields(Self& s) {
    return std::tie(s.a, s.b, s.nested);
  }
};
// `c` added, the list not updated: what the static_asserts in run_state.hpp stop.
struct Forgetful {
  int a = 0;
  std::vector<double> b;
  bool c = false;
  template <class Self>
  static auto fields(Self& s) {
    return std::tie(s.a, s.b);
  }
};
static_assert(util::member_count<Listed>() == 3);
static_assert(util::member_count<Forgetful>() == 3);
static_assert(util::member_count<EventRecord>() == 7);
static_assert(util::lists_every_member<Listed>());
static_assert(!util::lists_every_member<Forgetful>());

TEST(CheckpointFields, GuardCountsMembersAtCompileTime) {
  // The assertions above are the test; this records that the file compiled.
  SUCCEED();
}

// ---- every listed field through a save and a load -----------------------------------------------

template <class T>
constexpr bool kVector = false;
template <class T>
constexpr bool kVector<std::vector<T>> = true;

/// Fills every field that the field lists reach with values from a counter: every number
/// differs from its neighbours and from a default-constructed one, every vector has 1-3
/// elements, so a field a load skips, swaps or truncates reads differently.
struct Filler {
  std::uint64_t k = 0;
  template <class T>
  void operator()(T& v) {
    ++k;
    if constexpr (std::is_same_v<T, bool>) {
      v = k % 2 == 1;
    } else if constexpr (std::is_arithmetic_v<T>) {
      v = T(k % 100 + 1);
      if constexpr (std::is_floating_point_v<T>) v += T(0.25);
    } else if constexpr (std::is_same_v<T, std::string>) {
      v = "s" + std::to_string(k);
    } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
      v = {true, false, k % 2 == 0};
    } else if constexpr (kVector<T>) {
      v.resize(1 + k % 3);
      for (auto& e : v) (*this)(e);
    } else {
      std::apply([this](auto&... m) { ((*this)(m), ...); }, T::fields(v));
    }
  }
};

/// Every field reached by the field lists, compared bit for bit; `path` names the first that
/// differs.
struct Same {
  std::string path;
  std::uint64_t leaves = 0;
  template <class T>
  bool operator()(const T& a, const T& b, const std::string& at) {
    bool same = true;
    if constexpr (std::is_arithmetic_v<T>) {
      ++leaves;
      same = std::memcmp(&a, &b, sizeof(T)) == 0;
    } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<bool>>) {
      ++leaves;
      same = a == b;
    } else if constexpr (kVector<T>) {
      same = a.size() == b.size();
      for (std::size_t i = 0; same && i < a.size(); ++i)
        same = (*this)(a[i], b[i], at + "[" + std::to_string(i) + "]");
    } else {
      auto fa = T::fields(a), fb = T::fields(b);
      return each(fa, fb, at, std::make_index_sequence<std::tuple_size_v<decltype(fa)>>{});
    }
    if (!same && path.empty()) path = at;
    return same;
  }
  template <class Tuple, std::size_t... I>
  bool each(const Tuple& a, const Tuple& b, const std::string& at, std::index_sequence<I...>) {
    return ((*this)(std::get<I>(a), std::get<I>(b), at + "." + std::to_string(I)) && ...);
  }
};

TEST(CheckpointFields, EveryListedFieldOfTheStateSurvivesASaveAndALoad) {
  RunState a;
  Filler{}(a);
  std::ostringstream saved;
  engine::write_state(saved, a);

  RunState b;  // a fresh state: every field at its default
  Same differs;
  EXPECT_FALSE(differs(a, b, "state")) << "the filled state should differ from a fresh one";
  std::istringstream in(saved.str());
  engine::read_state(in, b);
  Same same;
  EXPECT_TRUE(same(a, b, "state")) << "field " << same.path << " differs after a load";
  // Every listed member is reached: at least one leaf for each of RunState's members.
  EXPECT_GE(same.leaves, std::tuple_size_v<decltype(RunState::fields(a))>);
  EXPECT_EQ(in.peek(), std::char_traits<char>::eof()) << "a load reads every byte a save wrote";

  std::ostringstream again;
  engine::write_state(again, b);
  EXPECT_EQ(again.str(), saved.str());
}

TEST(CheckpointFields, ATruncatedStateIsRefused) {
  RunState a;
  Filler{}(a);
  std::ostringstream saved;
  engine::write_state(saved, a);
  const std::string bytes = saved.str();
  for (std::size_t cut : {std::size_t(0), std::size_t(5), bytes.size() / 2, bytes.size() - 1}) {
    std::istringstream in(bytes.substr(0, cut));
    RunState b;
    EXPECT_THROW(engine::read_state(in, b), InputError) << "cut at " << cut;
  }
}

// ---- a run resumed from a checkpoint ----------------------------------------------------------

// On the example world: lead times, an export control (on final users too), capacity losses with
// both recoveries, a demand shock, front-loading and every policy, so that the state holds rings,
// caps, new links, losses, stockpiles, mechanisms and crisis surges.
Scenario resume_scenario(const std::string& rule) {
  return parse_scenario(
      "name: checkpoint-test\nworld: unused.yaml\ndays: 150\nseed: 7\n"
      "model: {rationing: " +
          rule +
          ", alpha_max: 1.1, tau_alpha: 30, final_demand_controls: true,"
          " substitution: {enabled: true, search_days: 5}}\n"
          "events:\n"
          "  - {type: export_control, start: 0, end: 90, exporters: [CHN], materials: [gallium],"
          " targets: [ipef], license_share: 0.1}\n"
          "  - {type: transport_disruption, start: 20, end: 60, between: [[JPN], [USA]],"
          " extra_days: 7}\n"
          "  - {type: capacity_loss, start: 30, loss: 0.5, country: DEU, material: gan_wafer,"
          " recovery: {type: linear, days: 80}}\n"
          "  - {type: capacity_loss, start: 45, loss: 0.3, country: USA, material: power_device,"
          " recovery: {type: exponential, half_life: 25}}\n"
          "  - {type: demand_shock, start: 30, end: 130, country: DEU, material: ev, factor: 1.3}\n"
          "  - {type: front_loading, start: 10, end: 70, targets: [JPN, USA], materials: [gallium],"
          " extra_days: 20}\n"
          "policies:\n"
          "  - {type: crisis_response, name: scra, members: ipef, meeting_days: 10,"
          " implementation_days: 3, actions: [match_suppliers, surge, release_stockpiles]}\n"
          "  - {type: stockpile, country: JPN, material: gallium, days_of_use: 30}\n"
          // No firm of its own, but its start recomputes every ceiling, the crisis surge's
          // from the state's surges (which no later day reads otherwise).
          "  - {type: surge, countries: [DEU], materials: [gallium], start: 125, alpha_max: "
          "1.05}\n",
      "checkpoint-test.yaml");
}

std::string bytes_of(const RunMetrics& m) {
  std::ostringstream os;
  std::apply(
      [&](const auto&... f) {
        auto put = [&](const auto& v) {
          if constexpr (kVector<std::decay_t<decltype(v)>>)
            os.write(reinterpret_cast<const char*>(v.data()),
                     std::streamsize(v.size() * sizeof(v[0])));
          else
            os.write(reinterpret_cast<const char*>(&v), sizeof v);
        };
        (put(f), ...);
      },
      RunMetrics::fields(m));
  return os.str();
}

class CheckpointResume : public ::testing::TestWithParam<const char*> {};

TEST_P(CheckpointResume, ResumedRunIsBitIdenticalToAnUninterruptedOne) {
  const World w = load_world(SHORTFALL_SOURCE_DIR "/scenarios/worlds/example.yaml");
  const Scenario s = resume_scenario(GetParam());
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("shortfall-test-" + std::to_string(::getpid()) + "-" + GetParam() + ".checkpoint"))
          .string();

  Simulation whole(w, s);
  while (whole.step()) {
  }
  // Day 0; during the export control, the transport disruption and the losses (lanes added,
  // lead times changed); a crisis request pending; after its surge, a stockpile releasing.
  for (int at : {0, 37, 90, 105}) {
    Simulation first(w, s);
    for (int t = 0; t <= at; ++t) ASSERT_TRUE(first.step());
    first.save_checkpoint(path, nullptr);
    Simulation resumed(w, s);
    resumed.load_checkpoint(path, nullptr);
    ASSERT_EQ(resumed.day(), at);
    EXPECT_EQ(state_diff(first, resumed), "") << "right after the load, day " << at;
    resumed.resume(nullptr);
    EXPECT_EQ(state_diff(whole, resumed), "") << "resumed after day " << at;
    EXPECT_EQ(bytes_of(whole.run_metrics()), bytes_of(resumed.run_metrics())) << at;
    ASSERT_EQ(whole.event_log().size(), resumed.event_log().size()) << at;
    Same same;
    for (std::size_t k = 0; k < whole.event_log().size(); ++k)
      EXPECT_TRUE(same(whole.event_log()[k], resumed.event_log()[k], "log")) << k;
    const auto sa = whole.stockpiles(), sb = resumed.stockpiles();
    ASSERT_EQ(sa.size(), sb.size());
    for (std::size_t k = 0; k < sa.size(); ++k)
      EXPECT_EQ(std::memcmp(&sa[k].level, &sb[k].level, sizeof(double)), 0) << k;
  }
  // The state the checkpoints carry is there: links added, a stockpile released, a surge.
  EXPECT_GT(whole.added_links(), 0u);
  auto logged = [&](const std::string& type, int from, int to) {
    for (const auto& e : whole.event_log())
      if (e.type == type && e.day >= from && e.day <= to) return true;
    return false;
  };
  EXPECT_TRUE(logged("crisis_request", 0, 90));
  EXPECT_TRUE(logged("crisis_meeting", 91, 150));
  EXPECT_TRUE(logged("crisis_implementation", 0, 105));
  EXPECT_TRUE(logged("stockpile_release", 0, 105));
  EXPECT_TRUE(logged("stockpile_release", 106, 150));
  std::remove(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(Rules, CheckpointResume,
                         ::testing::Values("proportional", "waterfill", "priority"));

TEST(CheckpointResume, OrdersTheSuppliersGatherAreCheckpointedAsServed) {
  // Where the buyers leave o_out alone and the suppliers gather their orders from O instead
  // (gather_orders: every lead time 1, no export control, no link that can be added,
  // proportional rationing), a checkpoint fills o_out from the orders first, so that it holds
  // what the buyers' scatter would have left; and a run resumed from it ends the same. On a day
  // whose metrics sum the headline series alone (recorded every 5 days; saved after day 12),
  // the buyer and shipping phases also leave the ordered and received sums of slots of one lane
  // unwritten (slot_sums_left): the checkpoint fills them too, so that it holds the bytes of the
  // same run recording every day, which keeps them.
  const World w = testing_support::random_world(3000, 7, true);
  auto scenario = [](int every) {
    return parse_scenario("world: unused.yaml\ndays: 30\nrecord: {every: " + std::to_string(every) +
                              "}\nmodel: {tau: 3, rationing: proportional}\nevents:\n"
                              "  - {type: capacity_loss, start: 2, material: m0, loss: 0.8,"
                              " recovery: {type: linear, days: 20}}\n",
                          "t.yaml");
  };
  const Scenario s = scenario(5);
  auto temp = [](const std::string& name) {
    return (std::filesystem::temp_directory_path() /
            ("shortfall-test-" + std::to_string(::getpid()) + "-" + name + ".checkpoint"))
        .string();
  };
  const std::string path = temp("gather"), kept_path = temp("gather-kept");
  // The file: its format, the run's identity, then the simulation's bytes (the metrics flag,
  // then the state), each as a 64-bit count and its bytes.
  auto simulation_bytes = [](const std::string& file) {
    std::ifstream f(file, std::ios::binary);
    auto next = [&] {
      std::uint64_t n = 0;
      f.read(reinterpret_cast<char*>(&n), sizeof n);
      std::string bytes(n, '\0');
      f.read(bytes.data(), std::streamsize(n));
      return bytes;
    };
    next();
    next();
    std::string bytes = next();
    EXPECT_TRUE(f.good()) << file;
    return bytes;
  };
  Simulation whole(w, s);
  while (whole.step()) {
  }
  Simulation first(w, s), kept(w, scenario(1));
  for (int t = 0; t <= 12; ++t) {
    ASSERT_TRUE(first.step());
    ASSERT_TRUE(kept.step());
  }
  first.save_checkpoint(path, nullptr);
  kept.save_checkpoint(kept_path, nullptr);
  const std::string bytes = simulation_bytes(path);
  EXPECT_TRUE(bytes == simulation_bytes(kept_path))
      << "the state saved on a day that sums the headline series alone is not the state of "
         "the run that records every day";
  std::istringstream sim(bytes.substr(1));
  RunState saved;
  engine::read_state(sim, saved);
  ASSERT_EQ(saved.O.size(), w.num_links());
  ASSERT_EQ(saved.o_out.size(), w.num_links());
  std::size_t differ = 0, moved = 0;
  for (Lane l = 0; l < saved.O.size(); ++l) {
    differ += std::memcmp(&saved.o_out[saved.out_pos[l]], &saved.O[l], sizeof(double)) != 0;
    moved += saved.O[l] != saved.z0[l];
  }
  EXPECT_EQ(differ, 0u) << "served orders that are not the lanes' orders";
  EXPECT_GT(moved, 0u) << "the shock should move some orders off their baseline";
  Simulation resumed(w, s);
  resumed.load_checkpoint(path, nullptr);
  resumed.resume(nullptr);
  EXPECT_EQ(state_diff(whole, resumed), "");
  EXPECT_EQ(bytes_of(whole.run_metrics()), bytes_of(resumed.run_metrics()));
  std::remove(path.c_str());
  std::remove(kept_path.c_str());
}

TEST(CheckpointResume, OtherRunOptionsAreRefused) {
  const World w = load_world(SHORTFALL_SOURCE_DIR "/scenarios/worlds/example.yaml");
  const Scenario s = resume_scenario("proportional");
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("shortfall-test-" + std::to_string(::getpid()) + "-opt.checkpoint"))
                               .string();
  Simulation first(w, s);
  first.step();
  first.save_checkpoint(path, nullptr);
  RunOptions no_metrics;
  no_metrics.metrics = false;
  Simulation other(w, s, no_metrics);
  try {
    other.load_checkpoint(path, nullptr);
    ADD_FAILURE() << "a checkpoint with metrics loaded into a run without";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("other run options (metrics)"), std::string::npos)
        << e.what();
  }
  // Cut short: refused as truncated, not read as a shorter state.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  Simulation again(w, s);
  try {
    again.load_checkpoint(path, nullptr);
    ADD_FAILURE() << "a truncated checkpoint loaded";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace shortfall
