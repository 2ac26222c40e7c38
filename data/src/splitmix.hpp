#pragma once
// Private to data/: the draws that must not depend on the standard library. SplitMix64, the seed
// mixer behind the loader's per-epoch orders and the augmentations' per-example draws (so both
// derive from (seed, epoch, index) the same way), and bounded integers.
#include <cstdint>
#include <random>

namespace xgrad::data::detail {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A uniform draw in [0, bound) without modulo bias (rejection on the top slice), the same with
// every standard library (std::uniform_int_distribution is not).
inline uint64_t bounded(std::mt19937_64& engine, uint64_t bound) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t r = 0;
  do r = engine();
  while (r >= limit);
  return r % bound;
}

}  // namespace xgrad::data::detail
