// The machine's limits for the comparison, at each thread count given (default 1 and 2):
//   sgemm: bare cblas_sgemm, 1024 x 1024 x 1024 float32, GFLOP/s (the matmul workloads' ceiling);
//   triad: STREAM's a[i] = b[i] + s * c[i] over float32 arrays far larger than the caches, GB/s
//          counting 3 x 4 bytes per element (the ceiling of the memory-bound workloads).
// Also elementwise_large written by hand, unfused and fused (elementwise_floors below).
// Each is the best of several passes (as STREAM reports): a ceiling, and on a shared machine the best
// pass is the one least disturbed by other work. One line per figure:
//   LIMIT name=sgemm threads=1 value=123.4 unit=GFLOP/s
//   INFO openblas=<OpenBLAS's build config>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <cblas.h>  // OpenBLAS's: declares openblas_set_num_threads and openblas_get_config too

namespace {

double seconds_of(const auto& body) {
  const auto start = std::chrono::steady_clock::now();
  body();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double fastest(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

double sgemm_gflops(int threads) {
  constexpr int kN = 1024;
  openblas_set_num_threads(threads);
  std::vector<float> a(kN * kN), b(kN * kN), c(kN * kN);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<float>(i % 17) * 0.1f - 0.8f;
    b[i] = static_cast<float>(i % 13) * 0.1f - 0.6f;
  }
  const auto gemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kN, kN, kN, 1.0f, a.data(), kN, b.data(), kN, 0.0f, c.data(),
                kN);
  };
  for (int i = 0; i < 3; ++i) gemm();  // warm-up: thread start, caches
  std::vector<double> times;
  for (int i = 0; i < 25; ++i) times.push_back(seconds_of(gemm));
  return 2.0 * kN * kN * kN / fastest(times) / 1e9;
}

// Each thread owns a contiguous part of the arrays and touches it first (so it is mapped where it runs).
double triad_gbs(int threads) {
  constexpr size_t kN = size_t{1} << 24;  // 16 Mi floats: 64 MiB per array, far beyond any cache
  const std::unique_ptr<float[]> a(new float[kN]), b(new float[kN]), c(new float[kN]);
  const auto parallel = [&](auto&& part) {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(part, kN * t / threads, kN * (t + 1) / threads);
    part(size_t{0}, kN / threads);
    for (std::thread& th : pool) th.join();
  };
  parallel([&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; ++i) a[i] = 0.0f, b[i] = 1.0f, c[i] = 2.0f;
  });
  const float s = 3.0f;
  const auto triad = [&] {
    parallel([&, s](size_t lo, size_t hi) {
      float* __restrict pa = a.get();
      const float* __restrict pb = b.get();
      const float* __restrict pc = c.get();
      for (size_t i = lo; i < hi; ++i) pa[i] = pb[i] + s * pc[i];
    });
  };
  triad();
  std::vector<double> times;
  for (int i = 0; i < 20; ++i) times.push_back(seconds_of(triad));
  if (a[kN / 2] != 7.0f) std::fprintf(stderr, "compare_limits: triad gave %g, not 7\n", static_cast<double>(a[kN / 2]));
  return 3.0 * sizeof(float) * static_cast<double>(kN) / fastest(times) / 1e9;
}

// elementwise_large by hand, as GB/s on the workload's minimal bytes (a, b, c read, three gradients
// written: 6 x 4 bytes per element), best of several passes. Plain loops the compiler vectorizes,
// over the same 4 Mi floats and one thread part per core, branch-free (a branch per element would
// mispredict on half the elements), in two forms:
//   unfused: one pass per op, as the best eager framework runs them: a*b, then + c and relu in
//            place, then the sum forward; the relu mask and both product gradients (one pass)
//            backward, c's gradient being the mask;
//   fused:   one pass forward (the sum of relu(a*b+c), nothing written) and one backward (all three
//            gradients), what compiling the chain would reach.
// Together they bound what any framework executing ops one at a time can do on this workload.
struct ElementwiseFloors {
  double unfused_gbs, fused_gbs;
};

// The passes over [lo, hi), each a function of __restrict pointers so that the compiler vectorizes
// it (through captured pointers it must assume a store may change them); hi - lo is a multiple of 16.
using Floats = float* __restrict;
using Input = const float* __restrict;

void multiply(Input a, Input b, Floats out, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; ++i) out[i] = a[i] * b[i];
}
void add_to(Floats x, Input b, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; ++i) x[i] += b[i];
}
void relu_in_place(Floats x, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; ++i) x[i] = std::max(x[i], 0.0f);
}
void positive(Input x, Floats out, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; ++i) out[i] = static_cast<float>(x[i] > 0.0f);
}
void product_grads(Input g, Input a, Input b, Floats ga, Floats gb, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; ++i) ga[i] = g[i] * b[i], gb[i] = g[i] * a[i];
}
// In 16 independent double lanes: one accumulator would wait on each add instead of streaming.
double sum(Input x, size_t lo, size_t hi) {
  double lanes[16] = {};
  for (size_t i = lo; i < hi; i += 16)
    for (size_t k = 0; k < 16; ++k) lanes[k] += static_cast<double>(x[i + k]);
  double s = 0;
  for (const double lane : lanes) s += lane;
  return s;
}
double fused_forward(Input a, Input b, Input c, size_t lo, size_t hi) {
  double lanes[16] = {};
  for (size_t i = lo; i < hi; i += 16)
    for (size_t k = 0; k < 16; ++k) lanes[k] += static_cast<double>(std::max(a[i + k] * b[i + k] + c[i + k], 0.0f));
  double s = 0;
  for (const double lane : lanes) s += lane;
  return s;
}
void fused_backward(Input a, Input b, Input c, Floats ga, Floats gb, Floats gc, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; ++i) {
    const auto keep = static_cast<float>(a[i] * b[i] + c[i] > 0.0f);
    ga[i] = keep * b[i], gb[i] = keep * a[i], gc[i] = keep;
  }
}

ElementwiseFloors elementwise_floors(int threads) {
  constexpr size_t kN = size_t{1} << 22;
  // 64-byte aligned, as xgrad's large buffers are: a vector load then never straddles cache lines.
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::vector<std::unique_ptr<float, Free>> arrays;
  const auto array = [&] {
    return arrays.emplace_back(static_cast<float*>(std::aligned_alloc(64, kN * sizeof(float)))).get();
  };
  float *a = array(), *b = array(), *c = array(), *y = array(), *mask = array(), *ga = array(), *gb = array();
  std::vector<double> partial(static_cast<size_t>(threads));
  const auto parallel = [&](auto&& part) {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(part, t, kN * t / threads, kN * (t + 1) / threads);
    part(0, size_t{0}, kN / threads);
    for (std::thread& th : pool) th.join();
  };
  parallel([&](int, size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; ++i) {
      a[i] = static_cast<float>(i % 7) - 3.0f, b[i] = static_cast<float>(i % 5) - 2.0f, c[i] = 0.5f;
      y[i] = mask[i] = ga[i] = gb[i] = 0.0f;
    }
  });
  const auto unfused = [&] {
    parallel([&](int, size_t lo, size_t hi) { multiply(a, b, y, lo, hi); });
    parallel([&](int, size_t lo, size_t hi) { add_to(y, c, lo, hi); });
    parallel([&](int, size_t lo, size_t hi) { relu_in_place(y, lo, hi); });
    parallel([&](int t, size_t lo, size_t hi) { partial[static_cast<size_t>(t)] = sum(y, lo, hi); });
    parallel([&](int, size_t lo, size_t hi) { positive(y, mask, lo, hi); });
    parallel([&](int, size_t lo, size_t hi) { product_grads(mask, a, b, ga, gb, lo, hi); });
  };
  const auto fused = [&] {
    parallel([&](int t, size_t lo, size_t hi) { partial[static_cast<size_t>(t)] = fused_forward(a, b, c, lo, hi); });
    parallel([&](int, size_t lo, size_t hi) { fused_backward(a, b, c, ga, gb, mask, lo, hi); });
  };
  const auto best_gbs = [&](const auto& body) {
    body();
    std::vector<double> times;
    for (int i = 0; i < 15; ++i) times.push_back(seconds_of(body));
    return 6.0 * sizeof(float) * static_cast<double>(kN) / fastest(times) / 1e9;
  };
  return {best_gbs(unfused), best_gbs(fused)};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> thread_counts;
  for (int i = 1; i < argc; ++i) thread_counts.push_back(std::atoi(argv[i]));
  if (thread_counts.empty()) thread_counts = {1, 2};
  for (const int t : thread_counts) {
    if (t < 1) {
      std::fprintf(stderr, "usage: compare_limits [THREADS...]  (each >= 1)\n");
      return 2;
    }
  }
  std::printf("INFO openblas=%s\n", openblas_get_config());
  for (const int t : thread_counts) {
    std::printf("LIMIT name=sgemm threads=%d value=%.2f unit=GFLOP/s\n", t, sgemm_gflops(t));
    std::fflush(stdout);
    std::printf("LIMIT name=triad threads=%d value=%.2f unit=GB/s\n", t, triad_gbs(t));
    std::fflush(stdout);
    const ElementwiseFloors floors = elementwise_floors(t);
    std::printf("LIMIT name=elementwise_unfused threads=%d value=%.2f unit=GB/s\n", t, floors.unfused_gbs);
    std::printf("LIMIT name=elementwise_fused threads=%d value=%.2f unit=GB/s\n", t, floors.fused_gbs);
    std::fflush(stdout);
  }
  return 0;
}
