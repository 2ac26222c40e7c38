// Matrix products through BLAS GEMM. Operands reach GEMM without copies whenever their last two
// dims are a row-major or a column-major (transposed) matrix, which covers contiguous tensors and
// the transposed views that every matmul backward passes (a.T @ g); anything else is copied once.
#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "strided_loop.hpp"
#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::kernels {
namespace {

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), 0.0f,
              c, static_cast<int>(ldc));
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0, a, static_cast<int>(lda), b, static_cast<int>(ldb), 0.0, c,
              static_cast<int>(ldc));
}

// How GEMM reads one operand's matrices ([rows, cols] = its last two dims).
struct MatrixLayout {
  bool ok = false;     // false: the strides fit neither layout, copy first
  bool trans = false;  // stored column-major: pass CblasTrans
  int64_t ld = 1;      // leading dimension in elements
};

MatrixLayout layout_of(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  // A size-1 dim may carry any stride; GEMM only needs ld >= the stored row (or column) length.
  if ((cols == 1 || col_stride == 1) && (rows == 1 || row_stride >= std::max<int64_t>(cols, 1)))
    return {true, false, rows == 1 ? std::max<int64_t>(cols, 1) : row_stride};
  if ((rows == 1 || row_stride == 1) && (cols == 1 || col_stride >= std::max<int64_t>(rows, 1)))
    return {true, true, cols == 1 ? std::max<int64_t>(rows, 1) : col_stride};
  return {};
}

// Small products: BLAS call overhead dominates below this many multiply-adds, a plain loop wins.
constexpr int64_t kSmallProduct = 4096;

template <typename T>
void small_gemm(int64_t n, int64_t m, int64_t k, const T* a, int64_t as0, int64_t as1, const T* b, int64_t bs0,
                int64_t bs1, T* c) {
  for (int64_t i = 0; i < n; ++i) {
    T* row = c + i * m;
    for (int64_t j = 0; j < m; ++j) row[j] = T(0);
    for (int64_t p = 0; p < k; ++p) {
      const T av = a[i * as0 + p * as1];
      const T* brow = b + p * bs0;
      if (bs1 == 1) {
        for (int64_t j = 0; j < m; ++j) row[j] += av * brow[j];
      } else {
        for (int64_t j = 0; j < m; ++j) row[j] += av * brow[j * bs1];
      }
    }
  }
}

// When every batch dim of `a` (plus its row dim) folds into one run of rows with a single
// stride, a batch against one shared `b` is a single taller GEMM. Returns that row stride, or -1.
int64_t folded_row_stride(const Array& a, int64_t k) {
  const Shape& shape = a.shape();
  const Strides& strides = a.strides();
  const int64_t nd = a.dim();
  int64_t inner_stride = -1;
  int64_t inner_size = 1;
  for (int64_t d = nd - 2; d >= 0; --d) {
    if (shape[d] == 1) continue;
    if (inner_stride >= 0 && strides[d] != inner_stride * inner_size) return -1;
    inner_stride = strides[d];
    inner_size = shape[d];
  }
  if (inner_stride < 0) return std::max<int64_t>(k, 1);
  return inner_stride >= std::max<int64_t>(k, 1) ? inner_stride : -1;
}

template <typename T> void matmul_impl(Array a, Array b, const Shape& batch, Array& out) {
  const int64_t n = a.shape()[a.dim() - 2];
  const int64_t k = a.shape()[a.dim() - 1];
  const int64_t m = b.shape()[b.dim() - 1];
  const int64_t nb = numel(batch);
  T* c = out.data<T>();
  if (k == 0) {
    std::fill(c, c + out.numel(), T(0));
    return;
  }
  // Batch strides of each operand in the output's batch frame (0 where it broadcasts).
  auto batch_strides = [&batch](const Array& x) {
    Array batch_part = x.as_strided(Shape(x.shape().begin(), x.shape().end() - 2),
                                    Strides(x.strides().begin(), x.strides().end() - 2), x.offset());
    return detail::broadcast_strides(batch_part, batch);
  };

  const bool small = n * m * k <= kSmallProduct;
  MatrixLayout la, lb;
  if (!small) {
    la = layout_of(n, k, a.strides()[a.dim() - 2], a.strides()[a.dim() - 1]);
    lb = layout_of(k, m, b.strides()[b.dim() - 2], b.strides()[b.dim() - 1]);
    if (!la.ok) {
      a = a.contiguous();
      la = layout_of(n, k, k, 1);
    }
    if (!lb.ok) {
      b = b.contiguous();
      lb = layout_of(k, m, m, 1);
    }
  }
  const Strides sa = batch_strides(a);
  const Strides sb = batch_strides(b);
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();

  if (!small && nb > 1 && !la.trans && std::all_of(sb.begin(), sb.end(), [](int64_t s) { return s == 0; })) {
    const int64_t lda = folded_row_stride(a, k);
    if (lda > 0) {  // [B..., n, k] @ [k, m]: one GEMM with B*n rows
      gemm(false, lb.trans, nb * n, m, k, pa, lda, pb, lb.ld, c, m);
      return;
    }
  }

  // Walk the batch with a counter; each step advances both operands' pointers by their strides.
  const int64_t nbd = static_cast<int64_t>(batch.size());
  Shape counter(batch.size(), 0);
  int64_t off_a = 0;
  int64_t off_b = 0;
  const int64_t as0 = a.strides()[a.dim() - 2], as1 = a.strides()[a.dim() - 1];
  const int64_t bs0 = b.strides()[b.dim() - 2], bs1 = b.strides()[b.dim() - 1];
  for (int64_t i = 0; i < nb; ++i) {
    T* ci = c + i * n * m;
    if (small) small_gemm<T>(n, m, k, pa + off_a, as0, as1, pb + off_b, bs0, bs1, ci);
    else gemm(la.trans, lb.trans, n, m, k, pa + off_a, la.ld, pb + off_b, lb.ld, ci, m);
    for (int64_t d = nbd - 1; d >= 0; --d) {
      off_a += sa[d];
      off_b += sb[d];
      if (++counter[d] < batch[d]) break;
      off_a -= sa[d] * batch[d];
      off_b -= sb[d] * batch[d];
      counter[d] = 0;
    }
  }
}

}  // namespace

Array matmul(const Array& a, const Array& b) {
  if (a.dtype() != b.dtype())
    throw DTypeError("matmul: dtypes " + std::string(dtype_name(a.dtype())) + " and " +
                     std::string(dtype_name(b.dtype())) + " differ");
  if (!is_floating(a.dtype()))
    throw DTypeError("matmul: expected a floating dtype (float32 or float64), got " +
                     std::string(dtype_name(a.dtype())));
  if (a.dim() == 0 || b.dim() == 0)
    throw ShapeError("matmul: both operands need at least one dim, got shapes " + to_string(a.shape()) + " and " +
                     to_string(b.shape()));
  // NumPy's 1-d rules: a vector on the left is a row [1, k], on the right a column [k, 1], and
  // the added dim is dropped from the result.
  const Array a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
  const Array b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
  const int64_t n = a2.shape()[a2.dim() - 2];
  const int64_t k = a2.shape()[a2.dim() - 1];
  const int64_t m = b2.shape()[b2.dim() - 1];
  if (b2.shape()[b2.dim() - 2] != k)
    throw ShapeError("matmul: shapes " + to_string(a.shape()) + " and " + to_string(b.shape()) +
                     " cannot be multiplied (" + std::to_string(k) + " != " +
                     std::to_string(b2.shape()[b2.dim() - 2]) + ")");
  const Shape batch = broadcast_shapes("matmul", Shape(a2.shape().begin(), a2.shape().end() - 2),
                                       Shape(b2.shape().begin(), b2.shape().end() - 2));
  Shape out_shape = batch;
  if (a.dim() > 1) out_shape.push_back(n);
  if (b.dim() > 1) out_shape.push_back(m);
  Array out(out_shape, a.dtype());
  if (out.numel() == 0) return out;
  if (a.dtype() == DType::Float32) matmul_impl<float>(a2, b2, batch, out);
  else matmul_impl<double>(a2, b2, batch, out);
  return out;
}

}  // namespace xgrad::kernels
