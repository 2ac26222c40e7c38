#pragma once
// How many threads one op may use, and the one pool of workers that runs them.
//
//   xgrad::set_num_threads(1);   // like torch::set_num_threads: BLAS and xgrad's own kernels
//
// xgrad keeps a single pool: the BLAS (OpenBLAS) runs GEMMs on its threads, and large elementwise
// kernels run on xgrad's workers, which sleep on a condition variable between jobs instead of
// spinning, so the two never compete for the cores while idle. Small work never leaves the
// calling thread: a job is split only when each part gets at least `grain` elements.
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

}  // namespace xgrad
