// Per-op overhead: forward + backward of single ops and of an elementwise chain on 16-element
// float32 tensors, where the cost is bookkeeping (allocation, node recording, the engine), not
// arithmetic. Floor: <= 1 microsecond per op, forward and backward together. The `per_op`
// counter is the time of one iteration divided by the number of ops it records.
#include <benchmark/benchmark.h>

#include <xgrad/xgrad.hpp>

namespace {

constexpr int64_t kSmall = 16;

xg::Tensor leaf(uint64_t seed) {
  xg::Generator gen(seed);
  xg::Tensor t = xg::rand(xg::Shape{kSmall}, gen) + 0.5;  // in [0.5, 1.5): safe for log, sqrt, div
  t.detach_();
  t.requires_grad_();
  return t;
}

void set_per_op(benchmark::State& state, int ops) {
  state.counters["per_op"] = benchmark::Counter(
      static_cast<double>(ops), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// y = f(x); y.backward(ones): one op recorded, one backward node run, one leaf gradient stored.
template <typename F> void unary_fwd_bwd(benchmark::State& state, F f) {
  xg::Tensor x = leaf(1);
  const xg::Tensor dy = xg::ones({kSmall});
  for (auto _ : state) {
    xg::Tensor y = f(x);
    y.backward(dy);
    benchmark::DoNotOptimize(x.grad().impl().get());
    x.set_grad({});
  }
  set_per_op(state, 1);
}

template <typename F> void binary_fwd_bwd(benchmark::State& state, F f) {
  xg::Tensor a = leaf(1), b = leaf(2);
  const xg::Tensor dy = xg::ones({kSmall});
  for (auto _ : state) {
    xg::Tensor y = f(a, b);
    y.backward(dy);
    benchmark::DoNotOptimize(a.grad().impl().get());
    a.set_grad({});
    b.set_grad({});
  }
  set_per_op(state, 1);
}

// y = sum(x); y.backward(): a reduction to a scalar and its broadcast back.
void BM_Small_sum(benchmark::State& state) {
  xg::Tensor x = leaf(1);
  for (auto _ : state) {
    xg::Tensor y = xg::sum(x);
    y.backward();
    benchmark::DoNotOptimize(x.grad().impl().get());
    x.set_grad({});
  }
  set_per_op(state, 1);
}
BENCHMARK(BM_Small_sum);

// Forward only, with recording off: the floor under any op (a kernel call and a Tensor).
template <typename F> void unary_fwd_nograd(benchmark::State& state, F f) {
  xg::Tensor x = leaf(1);
  xg::NoGradGuard no_grad;
  for (auto _ : state) {
    xg::Tensor y = f(x);
    benchmark::DoNotOptimize(y.impl().get());
  }
  set_per_op(state, 1);
}

// A chain of 8 elementwise ops ending in a sum, then backward from the scalar: 9 ops recorded.
void BM_SmallChain(benchmark::State& state) {
  xg::Tensor x = leaf(1), w = leaf(2), b = leaf(3);
  for (auto _ : state) {
    xg::Tensor h = xg::tanh(x * w + b);                // mul, add, tanh
    xg::Tensor g = xg::sigmoid(h) * x - b;             // sigmoid, mul, sub
    xg::Tensor y = xg::sum(xg::exp(xg::relu(g) / w));  // relu, div, exp, sum
    y.backward();
    benchmark::DoNotOptimize(x.grad().impl().get());
    x.set_grad({});
    w.set_grad({});
    b.set_grad({});
  }
  set_per_op(state, 10);
}
BENCHMARK(BM_SmallChain);

// The same chain with recording off (no graph): what the bookkeeping of autograd adds.
void BM_SmallChain_NoGrad(benchmark::State& state) {
  xg::Tensor x = leaf(1), w = leaf(2), b = leaf(3);
  xg::NoGradGuard no_grad;
  for (auto _ : state) {
    xg::Tensor h = xg::tanh(x * w + b);
    xg::Tensor g = xg::sigmoid(h) * x - b;
    xg::Tensor y = xg::sum(xg::exp(xg::relu(g) / w));
    benchmark::DoNotOptimize(y.impl().get());
  }
  set_per_op(state, 10);
}
BENCHMARK(BM_SmallChain_NoGrad);

BENCHMARK_CAPTURE(binary_fwd_bwd, add, [](const xg::Tensor& a, const xg::Tensor& b) { return a + b; });
BENCHMARK_CAPTURE(binary_fwd_bwd, mul, [](const xg::Tensor& a, const xg::Tensor& b) { return a * b; });
BENCHMARK_CAPTURE(binary_fwd_bwd, div, [](const xg::Tensor& a, const xg::Tensor& b) { return a / b; });
BENCHMARK_CAPTURE(unary_fwd_bwd, mul_scalar, [](const xg::Tensor& x) { return x * 2.0; });
BENCHMARK_CAPTURE(unary_fwd_bwd, exp, [](const xg::Tensor& x) { return xg::exp(x); });
BENCHMARK_CAPTURE(unary_fwd_bwd, log, [](const xg::Tensor& x) { return xg::log(x); });
BENCHMARK_CAPTURE(unary_fwd_bwd, tanh, [](const xg::Tensor& x) { return xg::tanh(x); });
BENCHMARK_CAPTURE(unary_fwd_bwd, sigmoid, [](const xg::Tensor& x) { return xg::sigmoid(x); });
BENCHMARK_CAPTURE(unary_fwd_bwd, relu, [](const xg::Tensor& x) { return xg::relu(x); });
BENCHMARK_CAPTURE(unary_fwd_nograd, exp, [](const xg::Tensor& x) { return xg::exp(x); });
BENCHMARK_CAPTURE(unary_fwd_nograd, add, [](const xg::Tensor& x) { return x + x; });

}  // namespace

BENCHMARK_MAIN();
