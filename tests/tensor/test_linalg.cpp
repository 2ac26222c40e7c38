// kernels::matmul: hand-worked products, NumPy's 1-d rules, batches that broadcast, operands in
// every layout GEMM can take (and ones it cannot), all against a naive triple loop.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "xgrad/tensor/tensor.hpp"

namespace xgrad {
namespace {

using namespace xgrad::testing;
using V = std::vector<double>;

// The product by definition: a triple loop with broadcast batch indices, through at().
V naive_matmul(const Array& a, const Array& b, const Shape& out_shape) {
  const int64_t k = a.shape()[a.dim() - 1];
  const int64_t nbd = static_cast<int64_t>(out_shape.size()) - 2;
  V out;
  Shape oi(out_shape.size(), 0);
  for (int64_t flat = 0; flat < numel(out_shape); ++flat) {
    Shape ai(a.shape().size()), bi(b.shape().size());
    for (int64_t d = 0; d < nbd; ++d) {
      const int64_t da = d - (nbd - (a.dim() - 2)), db = d - (nbd - (b.dim() - 2));
      if (da >= 0) ai[da] = a.shape()[da] == 1 ? 0 : oi[d];
      if (db >= 0) bi[db] = b.shape()[db] == 1 ? 0 : oi[d];
    }
    double s = 0;
    for (int64_t p = 0; p < k; ++p) {
      ai[a.dim() - 2] = oi[nbd];
      ai[a.dim() - 1] = p;
      bi[b.dim() - 2] = p;
      bi[b.dim() - 1] = oi[nbd + 1];
      s += a.at(ai) * b.at(bi);
    }
    out.push_back(s);
    for (int64_t d = static_cast<int64_t>(oi.size()) - 1; d >= 0; --d) {
      if (++oi[d] < out_shape[d]) break;
      oi[d] = 0;
    }
  }
  return out;
}

void expect_close(const V& got, const V& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * (1 + std::abs(want[i]))) << "at flat index " << i;
}

void check_against_naive(const Array& a, const Array& b) {
  const Array c = kernels::matmul(a, b);
  EXPECT_EQ(c.dtype(), a.dtype());
  EXPECT_TRUE(c.is_contiguous());
  expect_close(values(c), naive_matmul(a, b, c.shape()), a.dtype() == kFloat32 ? 1e-5 : 1e-12);
}

TEST(Matmul, HandWorkedMatrixProduct) {
  Array a = make({2, 3}, {1, 2, 3, 4, 5, 6}, kFloat32);
  Array b = make({3, 2}, {7, 8, 9, 10, 11, 12}, kFloat32);
  Array c = kernels::matmul(a, b);
  EXPECT_EQ(c.shape(), (Shape{2, 2}));
  EXPECT_EQ(values(c), (V{58, 64, 139, 154}));
  Array d = kernels::matmul(make({2, 3}, {1, 2, 3, 4, 5, 6}, kFloat64), make({3, 2}, {7, 8, 9, 10, 11, 12}, kFloat64));
  EXPECT_EQ(d.dtype(), kFloat64);
  EXPECT_EQ(values(d), (V{58, 64, 139, 154}));
}

TEST(Matmul, OneDimensionalOperandsFollowNumPy) {
  Array v = make({3}, {1, 2, 3}, kFloat32);
  Array dot = kernels::matmul(v, make({3}, {4, 5, 6}, kFloat32));
  EXPECT_EQ(dot.shape(), Shape{});
  EXPECT_EQ(dot.item(), 32);
  Array m = make({2, 3}, {1, 2, 3, 4, 5, 6}, kFloat32);
  Array vm = kernels::matmul(make({2}, {1, 2}, kFloat32), m);
  EXPECT_EQ(vm.shape(), (Shape{3}));
  EXPECT_EQ(values(vm), (V{9, 12, 15}));
  Array mv = kernels::matmul(m, make({3}, {1, 0, -1}, kFloat32));
  EXPECT_EQ(mv.shape(), (Shape{2}));
  EXPECT_EQ(values(mv), (V{-2, -2}));
  // Against batches: the vector broadcasts over them and its dim is dropped.
  Array batch = random_array({4, 2, 3}, kFloat64, 1);
  Array bv = kernels::matmul(batch, make({3}, {1, 2, 3}, kFloat64));
  EXPECT_EQ(bv.shape(), (Shape{4, 2}));
  expect_close(values(bv), values(kernels::matmul(batch, make({3, 1}, {1, 2, 3}, kFloat64))), 1e-12);
  Array vb = kernels::matmul(make({2}, {1, -1}, kFloat64), batch);
  EXPECT_EQ(vb.shape(), (Shape{4, 3}));
  expect_close(values(vb), values(kernels::matmul(make({1, 2}, {1, -1}, kFloat64), batch)), 1e-12);
}

TEST(Matmul, BatchedAndBroadcast) {
  Array a = make({2, 2, 2}, {1, 0, 0, 1, 0, 1, 1, 0}, kFloat32);  // identity, swap
  Array b = make({2, 2}, {1, 2, 3, 4}, kFloat32);
  Array c = kernels::matmul(a, b);
  EXPECT_EQ(c.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(values(c), (V{1, 2, 3, 4, 3, 4, 1, 2}));
  Array d = kernels::matmul(b, a);  // [2, 2] @ [2, 2, 2]
  EXPECT_EQ(values(d), (V{1, 2, 3, 4, 2, 1, 4, 3}));
  Array e = kernels::matmul(random_array({3, 1, 2, 4}, kFloat32, 2), random_array({5, 4, 3}, kFloat32, 3));
  EXPECT_EQ(e.shape(), (Shape{3, 5, 2, 3}));
}

TEST(Matmul, RandomShapesMatchTheNaiveLoop) {
  // Small products take the plain loop, larger ones BLAS, [B..., n, k] @ [k, m] one tall GEMM.
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{5, 7}, {7, 3}},           {{1, 1}, {1, 1}},        {{64, 80}, {80, 48}},
      {{1, 33}, {33, 300}},       {{300, 17}, {17, 1}},    {{3, 1, 20, 30}, {4, 30, 25}},
      {{2, 3, 40, 50}, {50, 60}}, {{40, 50}, {2, 50, 60}}, {{2, 1, 30, 40}, {1, 40, 70}},
      {{6, 1, 70}, {70, 65}}};
  uint32_t seed = 10;
  for (DType dtype : {kFloat32, kFloat64})
    for (const auto& [sa, sb] : cases) {
      SCOPED_TRACE(to_string(sa) + " @ " + to_string(sb));
      check_against_naive(random_array(sa, dtype, seed), random_array(sb, dtype, seed + 1));
      seed += 2;
    }
}

TEST(Matmul, TransposedAndStridedOperands) {
  for (const int64_t size : {2, 6, 70}) {  // a tiny product (plain loop), small and large GEMMs
    SCOPED_TRACE("size " + std::to_string(size));
    const int64_t n = size, k = size + 3, m = size - 1;
    Array at = random_array({k, n}, kFloat32, 20).transpose(0, 1);  // column-major: CblasTrans
    Array bt = random_array({m, k}, kFloat32, 21).transpose(0, 1);
    Array a = random_array({n, k}, kFloat32, 22);
    Array b = random_array({k, m}, kFloat32, 23);
    check_against_naive(at, b);
    check_against_naive(a, bt);
    check_against_naive(at, bt);
    // Every other row: a leading dimension larger than the row.
    check_against_naive(random_array({2 * n, k}, kFloat32, 24).slice(0, 0, 2 * n, 2), b);
    // Every other column: neither layout, copied first.
    check_against_naive(a, random_array({k, 2 * m}, kFloat32, 25).slice(1, 1, 2 * m, 2));
    // Broadcast rows (stride 0 inside the matrix): copied first.
    check_against_naive(random_array({1, k}, kFloat32, 26).expand({n, k}), b);
    // Transposed batches, as a backward's a^T @ g arrives, and a broadcast batch (stride 0).
    Array batch = random_array({3, k, n}, kFloat32, 27).transpose(-1, -2);
    check_against_naive(batch, random_array({3, k, m}, kFloat32, 28));
    check_against_naive(random_array({1, n, k}, kFloat32, 29).expand({4, n, k}), random_array({4, k, m}, kFloat32, 30));
    // Permuted batch dims: the batch walk follows any strides.
    check_against_naive(random_array({n, 2, 3, k}, kFloat32, 31).permute({1, 2, 0, 3}),
                        random_array({k, m}, kFloat32, 32));
    // One b broadcast over a batch of a: a single GEMM over all rows, also when rows are strided.
    check_against_naive(random_array({4, n, k}, kFloat32, 33), random_array({1, k, m}, kFloat32, 34).expand({4, k, m}));
    check_against_naive(random_array({3, 2 * n, k}, kFloat32, 35).slice(1, 0, 2 * n, 2),
                        random_array({k, m}, kFloat32, 36));
  }
}

TEST(Matmul, VectorOperandsInAnyLayout) {
  // Matrix-vector products go through GEMV and dot products through DOT, with any vector stride.
  for (DType dtype : {kFloat32, kFloat64}) {
    Array v = random_array({200}, dtype, 40).slice(0, 1, 200, 2);  // 100 entries, stride 2
    Array w = random_array({100}, dtype, 41);
    check_against_naive(v.unsqueeze(0), w.unsqueeze(1));
    EXPECT_NEAR(kernels::matmul(v, w).item(), values(kernels::matmul(v.unsqueeze(0), w.unsqueeze(1)))[0], 1e-4);
    Array e = random_array({1}, dtype, 42).expand({100});  // stride 0
    EXPECT_NEAR(kernels::matmul(e, w).item(), values(kernels::matmul(e.unsqueeze(0), w.unsqueeze(1)))[0], 1e-4);
    Array m = random_array({100, 40}, dtype, 43);
    Array mt = random_array({40, 100}, dtype, 44).transpose(0, 1);  // [100, 40], column-major
    for (const Array& mat : {m, mt}) {
      check_against_naive(v.unsqueeze(0), mat);                        // [1, 100] @ [100, 40]
      check_against_naive(mat.transpose(0, 1), v.unsqueeze(1));        // [40, 100] @ [100, 1]
      check_against_naive(mat.transpose(0, 1), e.unsqueeze(1));        // a broadcast vector
      check_against_naive(random_array({3, 1, 100}, dtype, 45), mat);  // a batch of rows
    }
  }
}

TEST(Matmul, EmptyDims) {
  EXPECT_EQ(kernels::matmul(random_array({0, 3}, kFloat32, 1), random_array({3, 4}, kFloat32, 2)).shape(),
            (Shape{0, 4}));
  EXPECT_EQ(kernels::matmul(random_array({0, 2, 3}, kFloat32, 1), random_array({3, 4}, kFloat32, 2)).shape(),
            (Shape{0, 2, 4}));
  Array z = kernels::matmul(random_array({2, 0}, kFloat32, 1), random_array({0, 3}, kFloat32, 2));
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(z), V(6, 0.0));
  EXPECT_EQ(kernels::matmul(random_array({0}, kFloat64, 1), random_array({0}, kFloat64, 2)).item(), 0);
}

TEST(Matmul, Errors) {
  expect_error_message<DTypeError>(
      [] {
        kernels::matmul(random_array({2, 2}, kFloat32, 1), random_array({2, 2}, kFloat64, 1));
      },
      "matmul: dtypes float32 and float64 differ");
  expect_error_message<DTypeError>([] { kernels::matmul(make({1}, {1}, kInt64), make({1}, {1}, kInt64)); },
                                   "matmul: expected a floating dtype (float32 or float64), got int64");
  expect_error_message<ShapeError>(
      [] {
        kernels::matmul(random_array({2, 3}, kFloat32, 1), random_array({4, 5}, kFloat32, 1));
      },
      "matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)");
  expect_error_message<ShapeError>(
      [] { kernels::matmul(random_array({3}, kFloat32, 1), random_array({4}, kFloat32, 1)); },
      "matmul: shapes [3] and [4] cannot be multiplied (3 != 4)");
  EXPECT_THROW(kernels::matmul(random_array({}, kFloat32, 1), random_array({3}, kFloat32, 1)), ShapeError);
  expect_error_message<ShapeError>(
      [] {
        kernels::matmul(random_array({2, 2, 3}, kFloat32, 1), random_array({3, 3, 4}, kFloat32, 1));
      },
      "matmul: batch dims of shapes [2, 2, 3] and [3, 3, 4] cannot broadcast");
}

}  // namespace
}  // namespace xgrad
