#pragma once
// How many threads one op may use, and the one pool of workers that runs them.
//
//   xgrad::set_num_threads(1);   // like torch::set_num_threads: xgrad's kernels and its GEMMs
//
// xgrad keeps a single pool: its workers sleep on a condition variable between jobs instead of
// spinning. Large elementwise kernels, reductions, copies, convolutions and GEMMs (split into
// blocks of rows or columns, each a single-threaded BLAS call) all run on it; OpenBLAS itself stays
// at one thread, so no second pool competes for the cores. Small work never leaves the calling
// thread: a job is split only when each part gets at least `grain` elements.
#include <cstdint>
#include <functional>

namespace xgrad {

// n >= 1 (ValueError otherwise). The default is the number of cores the process may run on.
void set_num_threads(int n);
int get_num_threads();

// Calls body(begin, end) over disjoint chunks covering [0, n), on up to get_num_threads() threads
// (the calling thread takes the first chunk). Serial, in one call, when n < 2 * grain or one thread
// is set. Chunk borders are multiples of `align` elements (so that SIMD loops and cache lines stay
// whole). An exception from a body is rethrown in the caller after every chunk has finished. Not
// reentrant: a body that calls parallel_for again runs that inner loop serially.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& body,
                  int64_t align = 16);

// parallel_for for hot kernels: a range too small to split runs inline, without wrapping the body
// in a std::function first.
template <typename Body> void parallel_range(int64_t n, int64_t grain, Body&& body, int64_t align = 16) {
  if (n < 2 * grain || get_num_threads() == 1) {
    if (n > 0) body(int64_t{0}, n);
    return;
  }
  parallel_for(n, grain, body, align);
}

}  // namespace xgrad
