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

// A matrix stored column by column: a transposed view of a contiguous one, as linear's weight.T.
bool column_major(const Tensor& t) {
  return t.dim() == 2 && t.size(0) > 1 && t.size(1) > 1 && t.strides()[0] == 1 && t.strides()[1] == t.size(0);
}

// x @ y for the gradient of `operand`, laid out like it: for a column-major operand computed as
// (y^T @ x^T)^T, the same dot products in one GEMM. The transpose's backward then hands the
// underlying matrix (linear's weight) a contiguous gradient that its AccumulateGrad keeps instead
// of copying.
Tensor product_like(const Tensor& x, const Tensor& y, const Tensor& operand) {
  if (column_major(operand) && x.dim() == 2 && y.dim() == 2)
    return transpose(matmul(transpose(y, 0, 1), transpose(x, 0, 1)), 0, 1);
  return matmul(x, y);
}

// dL/da for y = a @ b: dy @ b^T, with dy in matrix form [..., n, m].
Tensor matmul_grad_a(const Tensor& dy2, const Tensor& a, const Tensor& b, const Shape& a_shape) {
  const Tensor b2 = b.dim() == 1 ? reshape(b, as_right_matrix(b.shape())) : b;
  return to_operand(product_like(dy2, transpose(b2, -1, -2), a), as_left_matrix(a_shape), a_shape);
}

// dL/db for y = a @ b: a^T @ dy. A batch of a against a single matrix b folds into one product
// over all rows, [k, B*n] @ [B*n, m], instead of B products and a sum.
Tensor matmul_grad_b(const Tensor& a, const Tensor& dy2, const Tensor& b, const Shape& b_shape) {
  if (a.dim() > 2 && b_shape.size() == 2) {
    const int64_t k = a.shape().back();
    const int64_t m = dy2.shape().back();
    return matmul(transpose(reshape(a, {-1, k}), 0, 1), reshape(dy2, {-1, m}));
  }
  const Tensor a2 = a.dim() == 1 ? reshape(a, as_left_matrix(a.shape())) : a;
  return to_operand(product_like(transpose(a2, -1, -2), dy2, b), as_right_matrix(b_shape), b_shape);
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
    const Tensor lhs = c.input(0), rhs = c.input(1);
    return {c.needs(0) ? matmul_grad_a(dy2, lhs, rhs, a_shape) : Tensor{},
            c.needs(1) ? matmul_grad_b(lhs, dy2, rhs, b_shape) : Tensor{}};
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
