#pragma once
// What xgrad_compare and torch_compare share: the workloads' shapes and work (so both programs compute
// the same thing), and the harness that times one workload per process:
//
//   xgrad_compare --workload mlp_step --threads 1 [--iters N] [--reps K] [--warmup S] [--block S]
//
// prints one line that run_compare.py parses:
//
//   RESULT program=xgrad workload=mlp_step threads=1 status=ok iters=40 reps=5 s_per_iter=1.234e-03
//          min_s_per_iter=... max_rss_kib=51234 flops=... bytes=... ops=...
//
// A workload is one function per program, registered with COMPARE_WORKLOAD(name, work): it builds
// its inputs and returns the body of one iteration. COMPARE_MISSING(name, work, why) registers one
// that this build cannot run (status=missing). The harness warms up, picks an iteration count that
// fills about --block seconds (unless --iters), times --reps blocks and reports their median.
// COMPARE_VERBOSE=1 in the environment prints each warm-up iteration's and each block's time to stderr.
// This header is plain C++ (no xgrad, no torch) so that both programs include it.
#include <dlfcn.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace compare {

// ---- the workloads' shapes, one place for both programs ----------------------------------------------
namespace shape {
// mlp_step: MLP 784-256-128-10, ReLU, cross-entropy, Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8).
inline constexpr int64_t kMlpBatch = 128, kMlpIn = 784, kMlpH1 = 256, kMlpH2 = 128, kMlpOut = 10;
// small_ops: x [1, 16]; kSmallReps times x = tanh(x * 1.01 + 0.1) (3 ops each), sum, backward.
inline constexpr int64_t kSmallWidth = 16, kSmallReps = 100;
// elementwise_large: relu(a * b + c).sum() and backward; a, b, c: kLargeN floats each.
inline constexpr int64_t kLargeN = 4'194'304;
// matmul_*: [kMatN, kMatN] @ [kMatN, kMatN].
inline constexpr int64_t kMatN = 1024;
// reduce_axis*: x [kRedRows, kRedCols] summed over one axis, backward with a ones gradient.
inline constexpr int64_t kRedRows = 4096, kRedCols = 1024;
// cnn_step: conv(1->32, 3x3, pad 1) ReLU maxpool2, conv(32->64, 3x3, pad 1) ReLU maxpool2, flatten,
// linear 3136->128, ReLU, linear 128->10, cross-entropy, Adam; batch 64 of [1, 28, 28].
inline constexpr int64_t kCnnBatch = 64, kCnnSide = 28, kCnnC1 = 32, kCnnC2 = 64, kCnnHidden = 128, kCnnOut = 10;
}  // namespace shape

// The work of one iteration, for the rate columns: FLOPs of the GEMM-like parts, the minimal bytes
// any implementation must move, the number of ops (small_ops). 0: not meaningful.
struct Work {
  double flops = 0;
  double bytes = 0;
  double ops = 0;
};

namespace work {
using namespace shape;
inline constexpr double kF = 4.0;  // bytes per float32
// GEMM FLOPs of a training step: fc1 forward + weight gradient (the input needs no gradient), the
// other layers forward + weight gradient + input gradient.
inline constexpr Work kMlpStep{
    .flops = 2.0 * kMlpBatch * (2.0 * kMlpIn * kMlpH1 + 3.0 * kMlpH1 * kMlpH2 + 3.0 * kMlpH2 * kMlpOut)};
inline constexpr Work kSmallOps{.ops = 3.0 * kSmallReps};
// Read a, b, c once, write their three gradients once.
inline constexpr Work kElementwiseLarge{.bytes = 6.0 * kF * kLargeN};
inline constexpr Work kMatmulFwd{.flops = 2.0 * kMatN * kMatN * kMatN};
inline constexpr Work kMatmulFwdBwd{.flops = 6.0 * kMatN * kMatN * kMatN};
// Read x once, write its gradient once.
inline constexpr Work kReduce{.bytes = 2.0 * kF * kRedRows * kRedCols};
// Convolutions as GEMMs (conv1: forward + weight gradient; conv2: forward + both gradients), then
// the linear layers as in mlp_step.
inline constexpr double kCnnConv1 = 2.0 * kCnnBatch * kCnnC1 * kCnnSide * kCnnSide * 9;
inline constexpr double kCnnConv2 = 2.0 * kCnnBatch * kCnnC2 * (kCnnSide / 2) * (kCnnSide / 2) * kCnnC1 * 9;
inline constexpr double kCnnFlat = kCnnC2 * (kCnnSide / 4) * (kCnnSide / 4);
inline constexpr Work kCnnStep{.flops = 2 * kCnnConv1 + 3 * kCnnConv2 +
                                        2.0 * kCnnBatch * 3.0 * (kCnnFlat * kCnnHidden + kCnnHidden * kCnnOut)};
}  // namespace work

// ---- registry ---------------------------------------------------------------------------------------
using Body = std::function<void()>;
using Setup = Body (*)();

struct Workload {
  const char* name;
  Work work;
  Setup setup;          // null: missing in this build
  const char* missing;  // why, when setup is null
};

inline std::vector<Workload>& registry() {
  static std::vector<Workload> workloads;
  return workloads;
}

struct Register {
  Register(const char* name, Work work, Setup setup, const char* missing = "") {
    registry().push_back({name, work, setup, missing});
  }
};

#define COMPARE_WORKLOAD(name, work)                                               \
  ::compare::Body name##_setup();                                                  \
  const ::compare::Register name##_registered(#name, (work), &name##_setup); \
  ::compare::Body name##_setup()

// `why`: one word (it ends the RESULT line), e.g. "no-xgrad/nn/conv.hpp".
#define COMPARE_MISSING(name, work, why) const ::compare::Register name##_registered(#name, (work), nullptr, (why))

// OpenBLAS reads its thread count at load time; this sets it afterwards when the process has loaded
// OpenBLAS (looked up at run time: neither program links it directly). False when it has not.
inline bool set_openblas_threads(int threads) {
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set(threads);
    return true;
  }
  return false;
}

// ---- harness ----------------------------------------------------------------------------------------
struct Options {
  std::string workload;
  int threads = 1;
  int64_t iters = 0;  // 0: fill `block` seconds
  int reps = 5;
  double warmup = 0.2;  // seconds, and at least kMinWarmupIters iterations
  double block = 0.06;  // seconds per timed block when iters is 0
  bool list = false;
};

[[noreturn]] inline void usage_error(const char* program, const std::string& message) {
  std::fprintf(stderr,
               "%s: %s\nusage: %s --workload NAME [--threads N] [--iters N] [--reps K] [--warmup S] [--block S]\n"
               "       %s --list\n",
               program, message.c_str(), program, program);
  std::exit(2);
}

inline Options parse(int argc, char** argv, const char* program) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (name == "--list") {
      o.list = true;
      continue;
    }
    if (i + 1 >= argc) usage_error(program, "option " + name + " needs a value");
    const std::string value = argv[++i];
    try {
      if (name == "--workload")
        o.workload = value;
      else if (name == "--threads")
        o.threads = std::stoi(value);
      else if (name == "--iters")
        o.iters = std::stoll(value);
      else if (name == "--reps")
        o.reps = std::stoi(value);
      else if (name == "--warmup")
        o.warmup = std::stod(value);
      else if (name == "--block")
        o.block = std::stod(value);
      else
        usage_error(program, "unknown option " + name);
    } catch (const std::logic_error&) {
      usage_error(program, "bad value '" + value + "' for " + name);
    }
  }
  if (!o.list && o.workload.empty()) usage_error(program, "--workload is required");
  if (o.threads < 1 || o.iters < 0 || o.reps < 1) usage_error(program, "--threads and --reps must be >= 1");
  return o;
}

inline constexpr int64_t kMinWarmupIters = 5;

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Runs one workload as `options` says and prints its RESULT line. `set_threads` sets the program's
// thread pools (before any work). Returns the exit status.
inline int run(int argc, char** argv, const char* program, void (*set_threads)(int)) {
  const Options o = parse(argc, argv, program);
  if (o.list) {
    for (const Workload& w : registry()) std::printf("%s\n", w.name);
    return 0;
  }
  const auto it = std::find_if(registry().begin(), registry().end(),
                               [&](const Workload& w) { return o.workload == w.name; });
  if (it == registry().end()) usage_error(program, "unknown workload " + o.workload + " (see --list)");
  std::printf("RESULT program=%s workload=%s threads=%d ", program, it->name, o.threads);
  if (it->setup == nullptr) {
    std::printf("status=missing why=%s\n", it->missing);
    return 0;
  }
  try {
    set_threads(o.threads);
    const Body body = it->setup();
    // Warm-up: page faults of fresh buffers, the allocator settling (glibc's malloc moves its mmap
    // threshold up only after freeing mapped blocks: until then every large buffer is mapped afresh
    // and faulted in, page by page), lazy state (Adam's moments).
    const bool verbose = std::getenv("COMPARE_VERBOSE") != nullptr;  // each warm-up and block time, to stderr
    const auto warm_start = std::chrono::steady_clock::now();
    int64_t warm_iters = 0;
    double fastest = 1e30;
    do {
      const auto t = std::chrono::steady_clock::now();
      body();
      const double took = seconds_since(t);
      fastest = std::min(fastest, took);
      ++warm_iters;
      if (verbose) std::fprintf(stderr, "warm-up %lld: %.6e s\n", static_cast<long long>(warm_iters), took);
    } while (warm_iters < kMinWarmupIters || seconds_since(warm_start) < o.warmup);
    const int64_t iters =
        o.iters > 0 ? o.iters : std::max<int64_t>(1, std::llround(o.block / std::max(fastest, 1e-9)));
    std::vector<double> per_iter;
    for (int r = 0; r < o.reps; ++r) {
      const auto t = std::chrono::steady_clock::now();
      for (int64_t i = 0; i < iters; ++i) body();
      per_iter.push_back(seconds_since(t) / static_cast<double>(iters));
      if (verbose) std::fprintf(stderr, "block %d: %.6e s/iter\n", r, per_iter.back());
    }
    std::sort(per_iter.begin(), per_iter.end());
    const size_t n = per_iter.size();
    const double median = n % 2 ? per_iter[n / 2] : 0.5 * (per_iter[n / 2 - 1] + per_iter[n / 2]);
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("status=ok iters=%lld reps=%d s_per_iter=%.6e min_s_per_iter=%.6e max_rss_kib=%ld flops=%.6e "
                "bytes=%.6e ops=%.6e\n",
                static_cast<long long>(iters), o.reps, median, per_iter.front(), usage.ru_maxrss, it->work.flops,
                it->work.bytes, it->work.ops);
    return 0;
  } catch (const std::exception& e) {
    std::printf("status=error\n");
    std::fprintf(stderr, "%s: %s: %s\n", program, it->name, e.what());
    return 1;
  }
}

}  // namespace compare
