// Differentiable matrix products. The backward is two more matmuls on transposed views, which
// the kernel hands to GEMM as transpose flags without copying.
#include "xgrad/autograd/ops/linalg.hpp"

#include "xgrad/autograd/node.hpp"
#include "xgrad/autograd/ops/reduce.hpp"
#include "xgrad/autograd/ops/shape.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad {
namespace {

// A 1-d operand as the matrix matmul reads it: a row [1, k] on the left, a column [k, 1] on the right.
Shape as_left_matrix(const Shape& s) { return s.size() == 1 ? Shape{1, s[0]} : s; }
Shape as_right_matrix(const Shape& s) { return s.size() == 1 ? Shape{s[0], 1} : s; }

// Reduces a gradient computed for the matrix form of an operand back to the operand's shape:
// sum_to over broadcast batch dims, then drop the dim a 1-d operand gained.
Tensor to_operand(const Tensor& g, const Shape& matrix_shape, const Shape& shape) {
  const Tensor summed = g.shape() == matrix_shape ? g : sum_to(g, matrix_shape);
  return summed.shape() == shape ? summed : reshape(summed, shape);
}

// dL/da for y = a @ b: dy @ b^T, with dy in matrix form [..., n, m].
Tensor matmul_grad_a(const Tensor& dy2, const Tensor& b, const Shape& a_shape) {
  const Tensor b2 = b.dim() == 1 ? reshape(b, as_right_matrix(b.shape())) : b;
  return to_operand(matmul(dy2, transpose(b2, -1, -2)), as_left_matrix(a_shape), a_shape);
}

// dL/db for y = a @ b: a^T @ dy. A batch of a against a single matrix b folds into one product
// over all rows, [k, B*n] @ [B*n, m], instead of B products and a sum.
Tensor matmul_grad_b(const Tensor& a, const Tensor& dy2, const Shape& b_shape) {
  if (a.dim() > 2 && b_shape.size() == 2) {
    const int64_t k = a.shape().back();
    const int64_t m = dy2.shape().back();
    return matmul(transpose(reshape(a, {-1, k}), 0, 1), reshape(dy2, {-1, m}));
  }
  const Tensor a2 = a.dim() == 1 ? reshape(a, as_left_matrix(a.shape())) : a;
  return to_operand(matmul(transpose(a2, -1, -2), dy2), as_right_matrix(b_shape), b_shape);
}

}  // namespace

// y = a @ b (NumPy rules)    da = sum_to(dy @ b^T, a.shape)    db = sum_to(a^T @ dy, b.shape)
// (1-d operands are a row / column matrix in both directions)
Tensor matmul(const Tensor& a, const Tensor& b) {
  return record("matmul", kernels::matmul(a.array(), b.array()), {a, b}, Save::Inputs, [](const Backward& c) -> Grads {
    const Shape& a_shape = c.input_shape(0);
    const Shape& b_shape = c.input_shape(1);
    Tensor dy2 = c.grad;  // dy with the dims a 1-d operand dropped put back: [..., n, m]
    if (a_shape.size() == 1 || b_shape.size() == 1) {
      Shape s = c.grad.shape();
      if (a_shape.size() == 1) s.insert(s.end() - (b_shape.size() == 1 ? 0 : 1), 1);
      if (b_shape.size() == 1) s.push_back(1);
      dy2 = reshape(c.grad, s);
    }
    return {c.needs(0) ? matmul_grad_a(dy2, c.input(1), a_shape) : Tensor{},
            c.needs(1) ? matmul_grad_b(c.input(0), dy2, b_shape) : Tensor{}};
  });
}

Tensor dot(const Tensor& a, const Tensor& b) {
  if (a.dim() != 1 || b.dim() != 1 || a.numel() != b.numel())
    throw ShapeError("dot: expected two 1-d tensors of one length, got shapes " + to_string(a.shape()) + " and " +
                     to_string(b.shape()));
  return matmul(a, b);
}

Tensor outer(const Tensor& a, const Tensor& b) {
  if (a.dim() != 1 || b.dim() != 1)
    throw ShapeError("outer: expected two 1-d tensors, got shapes " + to_string(a.shape()) + " and " +
                     to_string(b.shape()));
  return matmul(unsqueeze(a, 1), unsqueeze(b, 0));
}

}  // namespace xgrad
