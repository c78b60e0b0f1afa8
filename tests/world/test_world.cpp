// The world is immutable after loading (issue 20, item 5): WorldTables are checked and completed
// by World's constructor, which derives the rest; the World has only const accessors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "shortfall/error.hpp"
#include "shortfall/world.hpp"

using namespace shortfall;

namespace {

// No way to change a finished world: every accessor gives a const reference (or a value).
template <class T>
constexpr bool kConstRef = std::is_same_v<T, std::remove_cvref_t<T> const&>;
static_assert(kConstRef<decltype(std::declval<World&>().countries())>);
static_assert(kConstRef<decltype(std::declval<World&>().materials())>);
static_assert(kConstRef<decltype(std::declval<World&>().firm_id())>);
static_assert(kConstRef<decltype(std::declval<World&>().final_demand())>);
static_assert(kConstRef<decltype(std::declval<World&>().link_flow())>);
static_assert(kConstRef<decltype(std::declval<World&>().link_lead_time())>);
static_assert(kConstRef<decltype(std::declval<World&>().lead_times())>);
static_assert(kConstRef<decltype(std::declval<World&>().baseline_output())>);
static_assert(kConstRef<decltype(std::declval<World&>().final_dest_amount())>);
static_assert(kConstRef<decltype(std::declval<World&>().sha256())>);
static_assert(kConstRef<decltype(std::declval<World&>().tables())>);
static_assert(
    !std::is_assignable_v<decltype(std::declval<World&>().final_demand()), std::vector<double>>);
// Tables become a World only explicitly (the checks run there), and Worlds keep value semantics.
static_assert(!std::is_convertible_v<WorldTables, World>);
static_assert(std::is_constructible_v<World, WorldTables>);
static_assert(std::is_copy_constructible_v<World> && std::is_move_constructible_v<World>);

/// Two countries, two materials; s (CHN, ga) sells 2 to b (JPN, wf) and 1 to c (CHN, wf).
WorldTables small_tables() {
  WorldTables t;
  t.source = "small.yaml";
  t.countries = {Country{"CHN", "China", {"g"}}, Country{"JPN", "Japan", {"g"}}};
  Material ga;
  ga.id = "ga";
  Material wf;
  wf.id = "wf";
  wf.name = "wafer";
  t.materials = {ga, wf};
  t.firm_id = {"s", "b", "c"};
  t.firm_country = {0, 1, 0};
  t.firm_material = {0, 1, 1};
  t.final_demand = {0.5, 4.0, 3.0};
  t.link_supplier = {0, 0};
  t.link_buyer = {1, 2};
  t.link_flow = {2.0, 1.0};
  t.lead_times.domestic = 2;
  t.lead_times.international = 9;
  return t;
}

}  // namespace

TEST(WorldTables, TheConstructorCompletesTheTablesAndDerivesTheRest) {
  const World w(small_tables());
  // Defaults filled in: a material's name is its id; a firm without inventory days has NaN; a
  // link without a lead time takes the table's, by country pair (s CHN -> b JPN: 9, -> c: 2).
  EXPECT_EQ(w.materials()[0].name, "ga");
  EXPECT_EQ(w.materials()[1].name, "wafer");
  ASSERT_EQ(w.firm_inventory_days().size(), 3u);
  EXPECT_TRUE(std::isnan(w.firm_inventory_days()[2]));
  EXPECT_EQ(w.link_lead_time(), (std::vector<std::int32_t>{9, 2}));
  // x0 = sales to firms + final demand: s 2 + 1 + 0.5, b 4, c 3.
  EXPECT_EQ(w.baseline_output(), (std::vector<double>{3.5, 4.0, 3.0}));
  // No split: each firm's final demand goes to its own country.
  EXPECT_EQ(w.final_dest_begin(), (std::vector<std::uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(w.final_dest_country(), (std::vector<CountryId>{0, 1, 0}));
  EXPECT_FALSE(w.has_final_demand_split());
  EXPECT_EQ(w.sha256().size(), 64u);
  EXPECT_EQ(w.source(), "small.yaml");
  EXPECT_EQ(w.find_firm("c"), FirmId(2));
  EXPECT_EQ(&w.tables().final_demand, &w.final_demand());  // one copy of each table
}

TEST(WorldTables, AWorldRebuiltFromItsTablesIsTheSameWorld) {
  const World w(small_tables());
  const World again(w.tables());
  EXPECT_EQ(again.sha256(), w.sha256());
  EXPECT_EQ(again.baseline_output(), w.baseline_output());
  EXPECT_EQ(again.link_lead_time(), w.link_lead_time());
  // And a copy shares nothing mutable: it is the same world.
  const World copy = w;
  EXPECT_EQ(copy.sha256(), w.sha256());
  EXPECT_EQ(copy.find_firm("b"), FirmId(1));
  EXPECT_EQ(&copy.network(), &w.network());  // the adjacency is shared, read-only
}

TEST(WorldTables, LookupsByNameAgreeWithTheWorlds) {
  const WorldTables t = small_tables();
  const World w(t);
  EXPECT_EQ(t.find_country("JPN"), w.find_country("JPN"));
  EXPECT_EQ(t.find_material("wf"), w.find_material("wf"));
  EXPECT_EQ(t.resolve_countries("g"), (std::vector<CountryId>{0, 1}));
  EXPECT_TRUE(t.is_group("g"));
  EXPECT_FALSE(t.find_country("USA"));
}

TEST(WorldTables, BadTablesAreAnInputErrorNamingTheSourceAndKey) {
  WorldTables t = small_tables();
  t.link_flow[1] = -1.0;
  try {
    (void)World(std::move(t));
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, "small.yaml");
    EXPECT_EQ(e.where().key_path, "links[1].flow");
    EXPECT_NE(e.detail().find("found -1"), std::string::npos) << e.detail();
  }
}
