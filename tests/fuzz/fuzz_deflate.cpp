// libFuzzer target: the fast deflate encoder shortfall::detail::row_deflate
// (sim/output/row_deflate.hpp). The first two bytes pick the row distance, the third how many
// times the rest is repeated (each copy with one byte changed), so that inputs reach both
// distances, several blocks, stored and fixed and fitted codes. Every stream must inflate, by
// zlib, to exactly the input; anything else aborts.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "output/row_deflate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::size_t row = (std::size_t(data[0]) | std::size_t(data[1]) << 8) % 40000;
  const std::size_t copies = 1 + data[2] % 16;
  std::vector<unsigned char> in;
  for (std::size_t c = 0; c < copies; ++c) {
    in.insert(in.end(), data + 3, data + size);
    if (c > 0 && size > 3) in[in.size() - 1 - (c * 7919) % (size - 3)] ^= 0x5A;
  }
  const std::vector<unsigned char> z = shortfall::detail::row_deflate(in.data(), in.size(), row);
  std::vector<unsigned char> out(in.size() + 1);
  uLongf len = uLongf(out.size());
  if (uncompress(out.data(), &len, z.data(), uLong(z.size())) != Z_OK || len != in.size() ||
      (len > 0 && std::memcmp(out.data(), in.data(), len) != 0))
    std::abort();
  return 0;
}
