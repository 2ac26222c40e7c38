// Reductions of a 4096 x 1024 float32 matrix (16 MiB) over axis 0 (down the columns: the
// strided direction) and axis 1 (along the rows), and over everything. Memory bound: floor
// >= 5 GB/s in either direction. Bytes counted: the input read once (the output is small).
// Rates use CPU time (the kernels run on one thread).
#include <benchmark/benchmark.h>

#include <xgrad/xgrad.hpp>

#include "bench_common.hpp"

namespace {

constexpr int64_t kRows = 4096, kCols = 1024;

xg::Tensor matrix(bool requires_grad) {
  xg::Generator gen(7);
  xg::Tensor t = xg::rand({kRows, kCols}, gen);
  t.detach_();
  return requires_grad ? t.requires_grad_() : t;
}

void BM_Sum_Axis(benchmark::State& state) {
  const int64_t axis = state.range(0);
  xg::Tensor x = matrix(false);
  const auto body = [&] {
    xg::Tensor y = xg::sum(x, {axis});
    benchmark::DoNotOptimize(y.data_ptr<float>());
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  state.SetBytesProcessed(state.iterations() * kRows * kCols * 4);
}
BENCHMARK(BM_Sum_Axis)->ArgName("axis")->Arg(0)->Arg(1);

void BM_Sum_All(benchmark::State& state) {
  xg::Tensor x = matrix(false);
  const auto body = [&] {
    xg::Tensor y = xg::sum(x);
    benchmark::DoNotOptimize(y.data_ptr<float>());
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  state.SetBytesProcessed(state.iterations() * kRows * kCols * 4);
}
BENCHMARK(BM_Sum_All);

void BM_Mean_Axis(benchmark::State& state) {
  const int64_t axis = state.range(0);
  xg::Tensor x = matrix(false);
  const auto body = [&] {
    xg::Tensor y = xg::mean(x, {axis});
    benchmark::DoNotOptimize(y.data_ptr<float>());
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  state.SetBytesProcessed(state.iterations() * kRows * kCols * 4);
}
BENCHMARK(BM_Mean_Axis)->ArgName("axis")->Arg(0)->Arg(1);

// Forward + backward: the gradient of a sum is dy broadcast back to [4096, 1024]. Bytes: read the
// input + write the gradient once (an upper bound if .grad stays a broadcast view).
void BM_Sum_Axis_FwdBwd(benchmark::State& state) {
  const int64_t axis = state.range(0);
  xg::Tensor x = matrix(true);
  const xg::Tensor dy = xg::ones({axis == 0 ? kCols : kRows});
  const auto body = [&] {
    xg::Tensor y = xg::sum(x, {axis});
    y.backward(dy);
    benchmark::DoNotOptimize(x.grad().impl().get());
    x.set_grad({});
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  state.SetBytesProcessed(state.iterations() * kRows * kCols * 2 * 4);
}
BENCHMARK(BM_Sum_Axis_FwdBwd)->ArgName("axis")->Arg(0)->Arg(1);

// The kernel alone (no Tensor, no graph).
void BM_Kernel_Sum_Axis(benchmark::State& state) {
  const int64_t axis = state.range(0);
  const xg::Array x = matrix(false).array();
  const auto body = [&] {
    xg::Array y = xg::kernels::sum(x, {axis}, false);
    benchmark::DoNotOptimize(y.raw_data());
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  state.SetBytesProcessed(state.iterations() * kRows * kCols * 4);
}
BENCHMARK(BM_Kernel_Sum_Axis)->ArgName("axis")->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
