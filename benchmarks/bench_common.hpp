#pragma once
// Helpers shared by the benchmark programs.
#include <chrono>

namespace xgrad::bench {

// Runs `body` for about `seconds` before the timed loop. The first touches of freshly mapped
// memory are slow (page faults; on a VM much slower), and Google Benchmark 1.7 has no warm-up
// option: without this, a short run of a 16 MiB benchmark measures the page faults.
template <typename F> void warm_up(F&& body, double seconds = 0.3) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  do body();
  while (std::chrono::steady_clock::now() < end);
}

}  // namespace xgrad::bench
