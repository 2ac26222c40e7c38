// The libtorch side of the comparison: the same workloads as xgrad_compare.cpp, same shapes (from
// compare_common.hpp), float32, same thread count, same optimizer settings, written the way a libtorch
// user would. Threads: torch::set_num_threads(n) (intra-op OpenMP pool), set_num_interop_threads(1),
// and OpenBLAS's pool (which libtorch's GEMMs go through) set to n as well.
#include <cstdio>
#include <memory>

#include <torch/torch.h>
#include <torch/version.h>

#include "compare_common.hpp"

namespace {

namespace F = torch::nn::functional;
using namespace compare::shape;
using compare::Body;

torch::Tensor leaf(at::IntArrayRef shape) { return torch::randn(shape).requires_grad_(); }

// ---- mlp_step --------------------------------------------------------------------------------------
struct MlpImpl : torch::nn::Module {
  MlpImpl()
      : fc1(register_module("fc1", torch::nn::Linear(kMlpIn, kMlpH1))),
        fc2(register_module("fc2", torch::nn::Linear(kMlpH1, kMlpH2))),
        fc3(register_module("fc3", torch::nn::Linear(kMlpH2, kMlpOut))) {}
  torch::Tensor forward(const torch::Tensor& x) { return fc3(torch::relu(fc2(torch::relu(fc1(x))))); }
  torch::nn::Linear fc1, fc2, fc3;
};
TORCH_MODULE(Mlp);

// One training step on one fixed batch. zero_grad sets the gradients to none, as xgrad's does (and
// as is fastest: backward then writes them without a memset and an accumulate).
template <class Model> Body training_step(Model model, torch::Tensor x, torch::Tensor labels) {
  auto optimizer = std::make_shared<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(1e-3));
  return [model, optimizer, x, labels]() mutable {
    model->zero_grad(/*set_to_none=*/true);
    const torch::Tensor loss = F::cross_entropy(model->forward(x), labels);
    loss.backward();
    optimizer->step();
  };
}

COMPARE_WORKLOAD(mlp_step, compare::work::kMlpStep) {
  torch::manual_seed(1);
  Mlp model;
  return training_step(model, torch::randn({kMlpBatch, kMlpIn}), torch::randint(0, kMlpOut, {kMlpBatch}));
}

// ---- small_ops --------------------------------------------------------------------------------------
COMPARE_WORKLOAD(small_ops, compare::work::kSmallOps) {
  torch::manual_seed(1);
  const torch::Tensor x0 = leaf({1, kSmallWidth});
  return [x0] {
    torch::Tensor x = x0;
    for (int64_t i = 0; i < kSmallReps; ++i) x = torch::tanh(x * 1.01 + 0.1);
    x.sum().backward();
    x0.mutable_grad().reset();
  };
}

// ---- elementwise_large ------------------------------------------------------------------------------
COMPARE_WORKLOAD(elementwise_large, compare::work::kElementwiseLarge) {
  torch::manual_seed(1);
  const torch::Tensor a = leaf({kLargeN}), b = leaf({kLargeN}), c = leaf({kLargeN});
  return [a, b, c] {
    torch::relu(a * b + c).sum().backward();
    a.mutable_grad().reset();
    b.mutable_grad().reset();
    c.mutable_grad().reset();
  };
}

// ---- matmul -----------------------------------------------------------------------------------------
COMPARE_WORKLOAD(matmul_fwd, compare::work::kMatmulFwd) {
  torch::manual_seed(1);
  const torch::Tensor a = torch::randn({kMatN, kMatN}), b = torch::randn({kMatN, kMatN});
  return [a, b] { torch::matmul(a, b); };
}

COMPARE_WORKLOAD(matmul_fwdbwd, compare::work::kMatmulFwdBwd) {
  torch::manual_seed(1);
  const torch::Tensor a = leaf({kMatN, kMatN}), b = leaf({kMatN, kMatN});
  const torch::Tensor dc = torch::randn({kMatN, kMatN});
  return [a, b, dc] {
    torch::matmul(a, b).backward(dc);
    a.mutable_grad().reset();
    b.mutable_grad().reset();
  };
}

// ---- reduce -----------------------------------------------------------------------------------------
Body reduce(int64_t dim) {
  torch::manual_seed(1);
  const torch::Tensor x = leaf({kRedRows, kRedCols});
  const torch::Tensor dy = torch::ones({dim == 0 ? kRedCols : kRedRows});
  return [x, dy, dim] {
    x.sum(dim).backward(dy);
    x.mutable_grad().reset();
  };
}
COMPARE_WORKLOAD(reduce_axis0, compare::work::kReduce) { return reduce(0); }
COMPARE_WORKLOAD(reduce_axis1, compare::work::kReduce) { return reduce(1); }

// ---- cnn_step ---------------------------------------------------------------------------------------
struct CnnImpl : torch::nn::Module {
  CnnImpl()
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, kCnnC1, 3).padding(1)))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(kCnnC1, kCnnC2, 3).padding(1)))),
        fc1(register_module("fc1", torch::nn::Linear(kCnnC2 * (kCnnSide / 4) * (kCnnSide / 4), kCnnHidden))),
        fc2(register_module("fc2", torch::nn::Linear(kCnnHidden, kCnnOut))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor h = torch::max_pool2d(torch::relu(conv1(x)), 2);
    h = torch::max_pool2d(torch::relu(conv2(h)), 2);
    return fc2(torch::relu(fc1(h.flatten(1))));
  }
  torch::nn::Conv2d conv1, conv2;
  torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Cnn);

COMPARE_WORKLOAD(cnn_step, compare::work::kCnnStep) {
  torch::manual_seed(1);
  Cnn model;
  return training_step(model, torch::randn({kCnnBatch, 1, kCnnSide, kCnnSide}),
                       torch::randint(0, kCnnOut, {kCnnBatch}));
}

void set_threads(int threads) {
  torch::set_num_interop_threads(1);
  torch::set_num_threads(threads);
  if (!compare::set_openblas_threads(threads) && threads != 1)
    std::fprintf(stderr, "torch_compare: OpenBLAS not loaded: only libtorch's own threads set\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--version") {
    std::printf("libtorch %s\n", TORCH_VERSION);
    return 0;
  }
  return compare::run(argc, argv, "libtorch", set_threads);
}
