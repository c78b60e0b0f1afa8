// The run file's root attributes that say which model ran (docs/output.md: every model switch
// and parameter in force after the preset, model 10's metadata).
#pragma once

#include <hdf5.h>

#include "shortfall/scenario.hpp"
#include "shortfall/world.hpp"
#include "util/h5_writer.hpp"

namespace shortfall::detail {

/// Every model switch and parameter of `m` as attributes of `file`; the switches of
/// distinct parts, inventory spread and by-products only where `world` has such a material.
void write_model_attributes(const H5Writer& w, hid_t file, const ModelParams& m,
                            const World& world);

}  // namespace shortfall::detail
