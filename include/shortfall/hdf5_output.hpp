// HDF5 output (layout in README.md, "Output").
#pragma once

#include <memory>
#include <string>

#include "shortfall/simulation.hpp"

namespace shortfall {

/// A recorder that writes one run to an HDF5 file. The file is written under a temporary name
/// next to `path` and renamed to `path` only in finish(); if the run fails or is interrupted,
/// no file (and no damage to an existing file) is left behind. Throws IoError.
std::unique_ptr<Recorder> make_hdf5_recorder(const std::string& path);

}  // namespace shortfall
