// Large elementwise ops on 4M float32 (16 MiB per tensor), forward and forward + backward, and
// a broadcast add of a row vector to a 4096 x 1024 matrix. Memory bound: the figure that matters
// is bytes/s (floor >= 5 GB/s). Bytes counted are the logical minimum each benchmark must move:
// every input read once, every output written once. Rates use CPU time (the kernels run on one
// thread), so a loaded machine still gives a fair figure.
#include <benchmark/benchmark.h>

#include <xgrad/xgrad.hpp>

#include "bench_common.hpp"

namespace {

constexpr int64_t kLarge = int64_t{1} << 22;  // 4M elements
constexpr int64_t kRows = 4096, kCols = 1024;

xg::Tensor make(const xg::Shape& shape, uint64_t seed, bool requires_grad) {
  xg::Generator gen(seed);
  xg::Tensor t = xg::rand(shape, gen);
  t.detach_();
  return requires_grad ? t.requires_grad_() : t;
}

void set_bytes(benchmark::State& state, int64_t elements, int64_t bytes_per_element) {
  state.SetBytesProcessed(state.iterations() * elements * bytes_per_element);
}

// ---- forward only (no graph: the inputs do not require grad) -----------------------------------

// y = a * b: read 2, write 1.
void BM_Large_Mul_Fwd(benchmark::State& state) {
  xg::Tensor a = make({kLarge}, 1, false), b = make({kLarge}, 2, false);
  const auto body = [&] {
    xg::Tensor y = a * b;
    benchmark::DoNotOptimize(y.data_ptr<float>());
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  set_bytes(state, kLarge, 3 * 4);
}
BENCHMARK(BM_Large_Mul_Fwd);

// y = exp(x): read 1, write 1.
void BM_Large_Exp_Fwd(benchmark::State& state) {
  xg::Tensor x = make({kLarge}, 1, false);
  const auto body = [&] {
    xg::Tensor y = xg::exp(x);
    benchmark::DoNotOptimize(y.data_ptr<float>());
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  set_bytes(state, kLarge, 2 * 4);
}
BENCHMARK(BM_Large_Exp_Fwd);

// ---- forward + backward -------------------------------------------------------------------------

// y = a * b, backward(dy): forward 3 transfers; da = dy * b and db = dy * a, 3 each. 9 x 4 bytes.
void BM_Large_Mul_FwdBwd(benchmark::State& state) {
  xg::Tensor a = make({kLarge}, 1, true), b = make({kLarge}, 2, true);
  const xg::Tensor dy = xg::ones({kLarge});
  const auto body = [&] {
    xg::Tensor y = a * b;
    y.backward(dy);
    benchmark::DoNotOptimize(a.grad().data_ptr<float>());
    a.set_grad({});
    b.set_grad({});
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  set_bytes(state, kLarge, 9 * 4);
}
BENCHMARK(BM_Large_Mul_FwdBwd);

// y = a + b, backward(dy): forward 3 transfers; both gradients are dy itself (nothing to move).
void BM_Large_Add_FwdBwd(benchmark::State& state) {
  xg::Tensor a = make({kLarge}, 1, true), b = make({kLarge}, 2, true);
  const xg::Tensor dy = xg::ones({kLarge});
  const auto body = [&] {
    xg::Tensor y = a + b;
    y.backward(dy);
    benchmark::DoNotOptimize(a.grad().data_ptr<float>());
    a.set_grad({});
    b.set_grad({});
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  set_bytes(state, kLarge, 3 * 4);
}
BENCHMARK(BM_Large_Add_FwdBwd);

// y = tanh(x), backward(dy): forward 2; dx = dy * (1 - y^2) reads 2, writes 1. 5 x 4 bytes.
void BM_Large_Tanh_FwdBwd(benchmark::State& state) {
  xg::Tensor x = make({kLarge}, 1, true);
  const xg::Tensor dy = xg::ones({kLarge});
  const auto body = [&] {
    xg::Tensor y = xg::tanh(x);
    y.backward(dy);
    benchmark::DoNotOptimize(x.grad().data_ptr<float>());
    x.set_grad({});
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  set_bytes(state, kLarge, 5 * 4);
}
BENCHMARK(BM_Large_Tanh_FwdBwd);

// y = relu(x), backward(dy): forward 2; dx = dy * (x > 0) reads 2, writes 1. 5 x 4 bytes.
void BM_Large_Relu_FwdBwd(benchmark::State& state) {
  xg::Tensor x = make({kLarge}, 1, true);
  const xg::Tensor dy = xg::ones({kLarge});
  const auto body = [&] {
    xg::Tensor y = xg::relu(x - 0.5);  // sub is recorded too: 2 more transfers, counted
    y.backward(dy);
    benchmark::DoNotOptimize(x.grad().data_ptr<float>());
    x.set_grad({});
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  set_bytes(state, kLarge, 7 * 4);
}
BENCHMARK(BM_Large_Relu_FwdBwd);

// ---- broadcast add of a row vector: [4096, 1024] + [1024] --------------------------------------

// Forward: read the matrix, write the result (the row stays in cache). 2 x 4 bytes per element.
void BM_BroadcastRow_Add_Fwd(benchmark::State& state) {
  xg::Tensor x = make({kRows, kCols}, 1, false), row = make({kCols}, 2, false);
  const auto body = [&] {
    xg::Tensor y = x + row;
    benchmark::DoNotOptimize(y.data_ptr<float>());
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  set_bytes(state, kRows * kCols, 2 * 4);
}
BENCHMARK(BM_BroadcastRow_Add_Fwd);

// Forward + backward: dx = dy (nothing to move), drow = sum_to(dy, [1024]) reads dy once. 3 x 4.
void BM_BroadcastRow_Add_FwdBwd(benchmark::State& state) {
  xg::Tensor x = make({kRows, kCols}, 1, true), row = make({kCols}, 2, true);
  const xg::Tensor dy = xg::ones({kRows, kCols});
  const auto body = [&] {
    xg::Tensor y = x + row;
    y.backward(dy);
    benchmark::DoNotOptimize(row.grad().data_ptr<float>());
    x.set_grad({});
    row.set_grad({});
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  set_bytes(state, kRows * kCols, 3 * 4);
}
BENCHMARK(BM_BroadcastRow_Add_FwdBwd);

// ---- the kernels alone (no Tensor, no graph), to separate kernel speed from autograd overhead ----

void BM_Kernel_Mul(benchmark::State& state) {
  const xg::Array a = make({kLarge}, 1, false).array(), b = make({kLarge}, 2, false).array();
  const auto body = [&] {
    xg::Array y = xg::kernels::binary(xg::kernels::Binary::Mul, a, b);
    benchmark::DoNotOptimize(y.raw_data());
  };
  xg::bench::warm_up(body);
  for (auto _ : state) body();
  set_bytes(state, kLarge, 3 * 4);
}
BENCHMARK(BM_Kernel_Mul);

}  // namespace

BENCHMARK_MAIN();
