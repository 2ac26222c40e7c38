// Gradients of matmul (and dot, outer, which are built on it): gradient-table rows for every
// operand rank NumPy's rules distinguish, batches that broadcast, transposed operands; and a
// hand-worked gradient.
#include <vector>

#include <gtest/gtest.h>

#include "support/grad_cases.hpp"

namespace xgrad {
namespace {

using testing::Inputs;

Tensor mm(const Inputs& x) { return matmul(x[0], x[1]); }

XGRAD_GRAD_CASE(matmul_matrix, "matmul", {{3, 4}, {4, 5}}, mm);
XGRAD_GRAD_CASE(matmul_vector_dot_vector, "matmul", {{4}, {4}}, mm);
XGRAD_GRAD_CASE(matmul_vector_times_matrix, "matmul", {{4}, {4, 3}}, mm);
XGRAD_GRAD_CASE(matmul_matrix_times_vector, "matmul", {{3, 4}, {4}}, mm);
XGRAD_GRAD_CASE(matmul_batched, "matmul", {{2, 3, 4}, {2, 4, 5}}, mm);
XGRAD_GRAD_CASE(matmul_broadcast_batches, "matmul", {{2, 1, 3, 4}, {3, 4, 2}}, mm);
XGRAD_GRAD_CASE(matmul_batch_times_matrix, "matmul", {{2, 3, 4}, {4, 5}}, mm);
XGRAD_GRAD_CASE(matmul_matrix_times_batch, "matmul", {{3, 4}, {2, 4, 5}}, mm);
XGRAD_GRAD_CASE(matmul_vector_times_batch, "matmul", {{4}, {2, 4, 3}}, mm);
XGRAD_GRAD_CASE(matmul_batch_times_vector, "matmul", {{2, 3, 4}, {4}}, mm);
XGRAD_GRAD_CASE(matmul_transposed_operands, "matmul", {{4, 3}, {5, 4}},
                [](const Inputs& x) { return matmul(transpose(x[0], 0, 1), transpose(x[1], 0, 1)); });
XGRAD_GRAD_CASE(matmul_permuted_batch_times_matrix, "matmul", {{3, 2, 4}, {4, 5}}, [](const Inputs& x) {
  return matmul(permute(x[0], {1, 0, 2}), x[1]);
});
XGRAD_GRAD_CASE(matmul_chain_squared, "matmul", {{3, 4}, {4, 3}}, [](const Inputs& x) {
  const Tensor p = matmul(x[0], x[1]);
  return matmul(p, p);
});
XGRAD_GRAD_CASE(matmul_dot, "matmul", {{5}, {5}}, [](const Inputs& x) { return dot(x[0], x[1]); });
XGRAD_GRAD_CASE(matmul_outer, "matmul", {{3}, {4}}, [](const Inputs& x) { return outer(x[0], x[1]); });

TEST(MatmulGrad, HandWorkedGradients) {
  // y = a b, L = sum(y): dL/da = 1 b^T (row sums of b), dL/db = a^T 1 (column sums of a).
  const Tensor a = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}).requires_grad_();
  const Tensor b = tensor({{1.0, -1.0}, {2.0, 0.5}, {0.0, 3.0}}).requires_grad_();
  const Tensor y = matmul(a, b);
  EXPECT_EQ(y.grad_fn()->name(), "matmul");
  y.sum().backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{0, 2.5, 3, 0, 2.5, 3}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{5, 5, 7, 7, 9, 9}));
}

TEST(MatmulGrad, ATransposedWeightGetsItsGradientInItsOwnLayout) {
  // linear's x @ w.T: the gradient of w.T is computed as (dy.T @ x).T, so w receives a contiguous
  // [out, in] matrix, equal to dy.T @ x = column sums over the batch here.
  const Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  const Tensor w = tensor({{1.0, 0.0, -1.0}, {2.0, 1.0, 0.5}}).requires_grad_();  // [out 2, in 3]
  const void* arriving = nullptr;                                                 // where w's incoming gradient lives
  bool arrived_contiguous = false;
  w.register_hook([&](const Tensor& g) {
    arriving = g.array().raw_data();
    arrived_contiguous = g.is_contiguous();
    return Tensor();
  });
  const Tensor y = matmul(x, transpose(w, 0, 1));
  (y * tensor({{1.0, 10.0}, {1.0, 10.0}})).sum().backward();
  EXPECT_TRUE(arrived_contiguous);
  EXPECT_EQ(w.grad().array().raw_data(), arriving);  // kept, not copied
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{5, 7, 9, 50, 70, 90}));
}

TEST(MatmulGrad, GradientsKeepOperandShapesAndDtype) {
  Generator gen(3);
  const Tensor a = randn({2, 1, 3, 4}, gen).requires_grad_();
  const Tensor b = randn({5, 4, 2}, gen).requires_grad_();
  const Tensor v = randn({4}, gen).requires_grad_();
  (matmul(a, b).sum() + matmul(a, v).sum() + matmul(v, b).sum()).backward();
  EXPECT_EQ(a.grad().shape(), a.shape());
  EXPECT_EQ(b.grad().shape(), b.shape());
  EXPECT_EQ(v.grad().shape(), v.shape());
  EXPECT_EQ(a.grad().dtype(), kFloat32);
  EXPECT_EQ(v.grad().dtype(), kFloat32);
}

TEST(MatmulGrad, DotAndOuter) {
  const Tensor a = tensor({1.0, 2.0, 3.0}).requires_grad_();
  const Tensor b = tensor({4.0, 5.0, 6.0}).requires_grad_();
  const Tensor d = dot(a, b);
  EXPECT_EQ(d.dim(), 0);
  EXPECT_EQ(d.item(), 32);
  d.backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{4, 5, 6}));
  const Tensor o = outer(tensor({1.0, 2.0}), tensor({3.0, 4.0, 5.0}));
  EXPECT_EQ(o.shape(), (Shape{2, 3}));
  EXPECT_EQ(o.to_vector<double>(), (std::vector<double>{3, 4, 5, 6, 8, 10}));
}

TEST(MatmulGrad, Errors) {
  const Tensor a32 = zeros({2, 2});
  const Tensor a64 = zeros({2, 2}, {.dtype = kFloat64});
  EXPECT_THROW(matmul(a32, a64), DTypeError);
  EXPECT_THROW(matmul(a32, zeros({3, 2})), ShapeError);
  EXPECT_THROW(dot(a32, a32), ShapeError);
  EXPECT_THROW(dot(zeros({2}), zeros({3})), ShapeError);
  EXPECT_THROW(outer(a32, zeros({2})), ShapeError);
}

}  // namespace
}  // namespace xgrad
