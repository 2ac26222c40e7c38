#pragma once
// Private to data/: SplitMix64, the seed mixer behind the loader's per-epoch orders and the
// augmentations' per-example draws (so both derive from (seed, epoch, index) the same way).
#include <cstdint>

namespace xgrad::data::detail {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace xgrad::data::detail
