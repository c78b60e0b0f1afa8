// SHA-256 (sim/util/sha256.hpp): the digests of FIPS 180-2's examples, by the portable
// compression and by the SHA extensions where the CPU has them, and both the same on inputs fed
// in pieces of every size.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "util/sha256.hpp"

namespace shortfall::detail {
namespace {

std::string digest(std::string_view text, bool portable) {
  Sha256 h(portable);
  h.update(text);
  return h.hex();
}

// FIPS 180-2 (2002), Appendix B: SHA-256 examples B.1 ("abc"), B.2 (448 bits), B.3 (a million
// "a"); the empty message's digest as coreutils' `sha256sum /dev/null` prints it (which also
// prints B.1's and B.3's).
TEST(Sha256, DigestsOfTheStandardsExamples) {
  const std::string million(1000000, 'a');
  for (bool portable : {true, false}) {
    SCOPED_TRACE(portable ? "portable" : "default");
    EXPECT_EQ(digest("", portable),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(digest("abc", portable),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", portable),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(digest(million, portable),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
}

// The same bytes in pieces of random sizes (update and update_pod mixed) give the digest of the
// whole, with either compression: the buffer's edges, whole blocks straight from the input.
TEST(Sha256, PiecesOfAnySizeGiveTheWholesDigest) {
  std::mt19937_64 rng(20261207);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::uint8_t> bytes(rng() % 700);
    for (auto& b : bytes) b = std::uint8_t(rng());
    Sha256 whole(true);
    whole.update(bytes.data(), bytes.size());
    const std::string want = whole.hex();
    for (bool portable : {true, false}) {
      Sha256 h(portable);
      for (std::size_t at = 0; at < bytes.size();) {
        if (bytes.size() - at >= 8 && rng() % 3 == 0) {
          std::uint64_t v;
          std::memcpy(&v, bytes.data() + at, 8);
          h.update_pod(v);
          at += 8;
          continue;
        }
        const std::size_t k = std::min<std::size_t>(bytes.size() - at, rng() % 150);
        h.update(bytes.data() + at, k);
        at += k;
      }
      EXPECT_EQ(h.hex(), want) << "trial " << trial << ", " << bytes.size() << " bytes, "
                               << (portable ? "portable" : "default");
    }
  }
}

}  // namespace
}  // namespace shortfall::detail
