// A test-only door into a finished World (include it from tests, never from the library).
//
// A World is immutable: its constructor checks the tables and derives the rest, and it has no
// mutators, so the simulation can rely on every bound the checks enforce. Some tests must
// nevertheless put a run into a state those checks forbid (e.g. a final demand of 1e306, beyond
// kMaxQuantity, to see how a run that overflows stops): they change the checked tables through
// this door. Only the tables change; the derived data (baseline output, adjacency, destinations,
// hash) stay as they were, as they would after such an edit.
#pragma once

#include "shortfall/world.hpp"

namespace shortfall::detail {

struct WorldTestAccess {
  /// The world's checked tables, writable.
  static WorldTables& tables(World& w) { return w.t_; }
};

}  // namespace shortfall::detail
