// The xgrad side of the comparison with libtorch (torch_compare.cpp computes the same things; run both
// through run_compare.py, i.e. `./run.sh compare`). One workload per process; see compare_common.hpp.
// Threads: --threads goes to xgrad::set_num_threads (xgrad's workers and OpenBLAS's), or, in a
// build without it, to OpenBLAS alone.
#include <cstdio>
#include <memory>

#include <xgrad/xgrad.hpp>

#include "compare_common.hpp"

#if __has_include(<xgrad/nn/conv.hpp>) && !defined(XGRAD_COMPARE_NO_CONV)  // the macro: to test the fallback
#include <xgrad/nn/conv.hpp>
#define XGRAD_COMPARE_HAS_CONV 1
#else
#define XGRAD_COMPARE_HAS_CONV 0
#endif

namespace {

namespace nn = xg::nn;
namespace optim = xg::optim;
using namespace compare::shape;
using compare::Body;

xg::Tensor leaf(const xg::Shape& shape, xg::Generator& gen) {
  xg::Tensor t = xg::randn(shape, gen);
  t.detach_();
  t.requires_grad_();
  return t;
}

// ---- mlp_step --------------------------------------------------------------------------------------
struct Mlp : nn::Module {
  Mlp() {
    fc1 = register_module("fc1", nn::Linear({.in = kMlpIn, .out = kMlpH1}));
    fc2 = register_module("fc2", nn::Linear({.in = kMlpH1, .out = kMlpH2}));
    fc3 = register_module("fc3", nn::Linear({.in = kMlpH2, .out = kMlpOut}));
  }
  xg::Tensor forward(const xg::Tensor& x) override { return fc3(xg::relu(fc2(xg::relu(fc1(x))))); }
  nn::Linear fc1, fc2, fc3;
};

// One training step (zero_grad, forward, loss, backward, step) on one fixed batch.
template <class Model> Body training_step(std::shared_ptr<Model> model, xg::Tensor x, xg::Tensor labels) {
  auto optimizer = std::make_shared<optim::Adam>(model->parameters(), optim::Adam::Options{.lr = 1e-3});
  return [model, optimizer, x, labels] {
    optimizer->zero_grad();
    const xg::Tensor loss = nn::functional::cross_entropy((*model)(x), labels);
    loss.backward();
    optimizer->step();
  };
}

COMPARE_WORKLOAD(mlp_step, compare::work::kMlpStep) {
  xg::manual_seed(1);
  xg::Generator gen(2);
  return training_step(std::make_shared<Mlp>(), xg::randn({kMlpBatch, kMlpIn}, gen),
                       xg::randint(0, kMlpOut, {kMlpBatch}, gen));
}

// ---- small_ops: per-op overhead -------------------------------------------------------------------
COMPARE_WORKLOAD(small_ops, compare::work::kSmallOps) {
  xg::Generator gen(1);
  const xg::Tensor x0 = leaf({1, kSmallWidth}, gen);
  return [x0] {
    xg::Tensor x = x0;
    for (int64_t i = 0; i < kSmallReps; ++i) x = xg::tanh(x * 1.01 + 0.1);
    xg::sum(x).backward();
    x0.set_grad({});
  };
}

// ---- elementwise_large: memory bandwidth -------------------------------------------------------------
COMPARE_WORKLOAD(elementwise_large, compare::work::kElementwiseLarge) {
  xg::Generator gen(1);
  const xg::Tensor a = leaf({kLargeN}, gen), b = leaf({kLargeN}, gen), c = leaf({kLargeN}, gen);
  return [a, b, c] {
    xg::sum(xg::relu(a * b + c)).backward();
    a.set_grad({});
    b.set_grad({});
    c.set_grad({});
  };
}

// ---- matmul -----------------------------------------------------------------------------------------
COMPARE_WORKLOAD(matmul_fwd, compare::work::kMatmulFwd) {
  xg::Generator gen(1);
  const xg::Tensor a = xg::randn({kMatN, kMatN}, gen), b = xg::randn({kMatN, kMatN}, gen);
  return [a, b] { xg::matmul(a, b); };
}

COMPARE_WORKLOAD(matmul_fwdbwd, compare::work::kMatmulFwdBwd) {
  xg::Generator gen(1);
  const xg::Tensor a = leaf({kMatN, kMatN}, gen), b = leaf({kMatN, kMatN}, gen);
  const xg::Tensor dc = xg::randn({kMatN, kMatN}, gen);
  return [a, b, dc] {
    xg::matmul(a, b).backward(dc);
    a.set_grad({});
    b.set_grad({});
  };
}

// ---- reduce -----------------------------------------------------------------------------------------
Body reduce(int64_t dim) {
  xg::Generator gen(1);
  const xg::Tensor x = leaf({kRedRows, kRedCols}, gen);
  const xg::Tensor dy = xg::ones({dim == 0 ? kRedCols : kRedRows});
  return [x, dy, dim] {
    xg::sum(x, {dim}).backward(dy);
    x.set_grad({});
  };
}
COMPARE_WORKLOAD(reduce_axis0, compare::work::kReduce) { return reduce(0); }
COMPARE_WORKLOAD(reduce_axis1, compare::work::kReduce) { return reduce(1); }

// ---- cnn_step ---------------------------------------------------------------------------------------
#if XGRAD_COMPARE_HAS_CONV
struct Cnn : nn::Module {
  Cnn() {
    conv1 = register_module("conv1", nn::Conv2d({.in_channels = 1, .out_channels = kCnnC1, .kernel_size = 3,
                                                 .padding = 1}));
    conv2 = register_module("conv2", nn::Conv2d({.in_channels = kCnnC1, .out_channels = kCnnC2, .kernel_size = 3,
                                                 .padding = 1}));
    pool = register_module("pool", nn::MaxPool2d(2));
    fc1 = register_module("fc1", nn::Linear({.in = kCnnC2 * (kCnnSide / 4) * (kCnnSide / 4), .out = kCnnHidden}));
    fc2 = register_module("fc2", nn::Linear({.in = kCnnHidden, .out = kCnnOut}));
  }
  xg::Tensor forward(const xg::Tensor& x) override {
    xg::Tensor h = pool(xg::relu(conv1(x)));
    h = pool(xg::relu(conv2(h)));
    return fc2(xg::relu(fc1(h.flatten(1))));
  }
  nn::Conv2d conv1, conv2;
  nn::MaxPool2d pool{2};
  nn::Linear fc1, fc2;
};

COMPARE_WORKLOAD(cnn_step, compare::work::kCnnStep) {
  xg::manual_seed(1);
  xg::Generator gen(2);
  return training_step(std::make_shared<Cnn>(), xg::randn({kCnnBatch, 1, kCnnSide, kCnnSide}, gen),
                       xg::randint(0, kCnnOut, {kCnnBatch}, gen));
}
#else
COMPARE_MISSING(cnn_step, compare::work::kCnnStep, "no-xgrad/nn/conv.hpp");
#endif

void set_threads(int threads) {
#if __has_include(<xgrad/tensor/parallel.hpp>)
  xg::set_num_threads(threads);  // xgrad's workers and the BLAS's
#else
  if (!compare::set_openblas_threads(threads) && threads != 1)
    std::fprintf(stderr, "xgrad_compare: the BLAS is not OpenBLAS: --threads ignored\n");
#endif
}

}  // namespace

int main(int argc, char** argv) { return compare::run(argc, argv, "xgrad", set_threads); }
