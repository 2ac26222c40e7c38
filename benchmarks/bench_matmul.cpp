// Matrix products, 1024 x 1024 x 1024 float32: xgrad's matmul against a bare cblas_sgemm on the
// same OpenBLAS, same threads, same data. Floor: matmul >= 90% of cblas_sgemm's FLOP/s; the
// program prints the ratio at the end.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <xgrad/xgrad.hpp>

#include "bench_common.hpp"

namespace {

constexpr int64_t kN = 1024;

xg::Tensor matrix(uint64_t seed, bool requires_grad = false) {
  xg::Generator gen(seed);
  xg::Tensor t = xg::randn({kN, kN}, gen);
  t.detach_();
  return requires_grad ? t.requires_grad_() : t;
}

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["FLOP/s"] = benchmark::Counter(flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate);
}

const double kGemmFlops = 2.0 * kN * kN * kN;

// The reference: C = A B with the output buffer allocated once.
void BM_Cblas_Sgemm(benchmark::State& state) {
  const xg::Tensor a = matrix(1), b = matrix(2);
  std::vector<float> c(static_cast<size_t>(kN * kN));
  const auto body = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kN, kN, kN, 1.0f, a.data_ptr<float>(), kN,
                b.data_ptr<float>(), kN, 0.0f, c.data(), kN);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  set_flops(state, kGemmFlops);
}
BENCHMARK(BM_Cblas_Sgemm)->UseRealTime()->Unit(benchmark::kMillisecond);

// xgrad's matmul, forward (inputs do not require grad: no graph), a fresh output each time.
void BM_Matmul(benchmark::State& state) {
  const xg::Tensor a = matrix(1), b = matrix(2);
  const auto body = [&] {
    xg::Tensor c = xg::matmul(a, b);
    benchmark::DoNotOptimize(c.data_ptr<float>());
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  set_flops(state, kGemmFlops);
}
BENCHMARK(BM_Matmul)->UseRealTime()->Unit(benchmark::kMillisecond);

// matmul of a transposed view (a^T b): must reach GEMM with a transpose flag, not a copy.
void BM_Matmul_TransposedA(benchmark::State& state) {
  const xg::Tensor a = matrix(1), b = matrix(2);
  const auto body = [&] {
    xg::Tensor c = xg::matmul(a.t(), b);
    benchmark::DoNotOptimize(c.data_ptr<float>());
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  set_flops(state, kGemmFlops);
}
BENCHMARK(BM_Matmul_TransposedA)->UseRealTime()->Unit(benchmark::kMillisecond);

// Forward + backward: C = A B, dA = dC B^T, dB = A^T dC. Three GEMMs.
void BM_Matmul_FwdBwd(benchmark::State& state) {
  xg::Tensor a = matrix(1, true), b = matrix(2, true);
  const xg::Tensor dc = matrix(3);
  const auto body = [&] {
    xg::Tensor c = xg::matmul(a, b);
    c.backward(dc);
    benchmark::DoNotOptimize(a.grad().data_ptr<float>());
    a.set_grad({});
    b.set_grad({});
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  set_flops(state, 3 * kGemmFlops);
}
BENCHMARK(BM_Matmul_FwdBwd)->UseRealTime()->Unit(benchmark::kMillisecond);

// The console reporter, plus the matmul / cblas_sgemm ratio once every run is in.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      const auto it = run.counters.find("FLOP/s");
      if (it != run.counters.end()) flops_[run.run_name.function_name] = it->second.value;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    const auto ref = flops_.find("BM_Cblas_Sgemm");
    if (ref == flops_.end() || ref->second <= 0) return;
    for (const char* name : {"BM_Matmul", "BM_Matmul_TransposedA"}) {
      const auto it = flops_.find(name);
      if (it == flops_.end()) continue;
      std::printf("%s: %.1f GFLOP/s = %.1f%% of cblas_sgemm (%.1f GFLOP/s); floor 90%%\n", name, it->second / 1e9,
                  100.0 * it->second / ref->second, ref->second / 1e9);
    }
  }

 private:
  std::map<std::string, double> flops_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // One thread on both sides: xgrad keeps OpenBLAS at one thread and splits large GEMMs over its
  // own pool, so at xgrad's default the comparison would be two cores against one. (`./run.sh
  // compare` sets both to each thread count.)
  xgrad::set_num_threads(1);
  RatioReporter reporter(benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
