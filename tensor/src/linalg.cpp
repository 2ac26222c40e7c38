// Matrix products through BLAS GEMM. Operands reach GEMM without copies whenever their last two
// dims are a row-major or a column-major (transposed) matrix, which covers contiguous tensors and
// the transposed views that every matmul backward passes (a.T @ g); anything else is copied once.
#include <algorithm>
#include <cstring>
#include <vector>

#include <cblas.h>

#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"
#include "xgrad/tensor/parallel.hpp"

namespace xgrad::kernels {
namespace {

void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
               int64_t ldb, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), 0.0f,
              c, static_cast<int>(ldc));
}

void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
               int64_t ldb, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0, a, static_cast<int>(lda), b, static_cast<int>(ldb), 0.0, c,
              static_cast<int>(ldc));
}

// Below this many multiply-adds a GEMM stays on one thread (waking a worker costs microseconds).
constexpr int64_t kParallelGemm = int64_t{1} << 21;

// C[m, n] = op(A) op(B) on xgrad's threads: BLAS runs single-threaded (see parallel.hpp: one pool,
// whose workers sleep between jobs) and each worker computes a block of C's rows, or of its
// columns when C is wide. Each block is its own GEMM over whole dot products, so the result does
// not depend on the thread count.
template <typename T> void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
                                int64_t ldb, T* c, int64_t ldc) {
  if (get_num_threads() < 2 || m * n * k < kParallelGemm || (m < 32 && n < 32)) {
    blas_gemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
  if (m >= n) {  // blocks of rows: op(A)'s rows i0.. are A's rows (A stored [m, k]) or columns (stored [k, m])
    parallel_for(
        m, 16,
        [&](int64_t i0, int64_t i1) {
          blas_gemm(ta, tb, i1 - i0, n, k, ta ? a + i0 : a + i0 * lda, lda, b, ldb, c + i0 * ldc, ldc);
        },
        16);
  } else {  // blocks of columns: op(B)'s columns j0.. are B's columns (B stored [k, n]) or rows (stored [n, k])
    parallel_for(
        n, 16,
        [&](int64_t j0, int64_t j1) {
          blas_gemm(ta, tb, m, j1 - j0, k, a, lda, tb ? b + j0 * ldb : b + j0, ldb, c + j0, ldc);
        },
        16);
  }
}

float dot(int64_t k, const float* x, int64_t incx, const float* y, int64_t incy) {
  return cblas_sdot(static_cast<int>(k), x, static_cast<int>(incx), y, static_cast<int>(incy));
}
double dot(int64_t k, const double* x, int64_t incx, const double* y, int64_t incy) {
  return cblas_ddot(static_cast<int>(k), x, static_cast<int>(incx), y, static_cast<int>(incy));
}

// y = op(A) x with A stored row-major [rows, cols] and leading dimension lda.
void gemv(bool trans, int64_t rows, int64_t cols, const float* a, int64_t lda, const float* x, int64_t incx, float* y) {
  cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, static_cast<int>(rows), static_cast<int>(cols), 1.0f, a,
              static_cast<int>(lda), x, static_cast<int>(incx), 0.0f, y, 1);
}
void gemv(bool trans, int64_t rows, int64_t cols, const double* a, int64_t lda, const double* x, int64_t incx,
          double* y) {
  cblas_dgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, static_cast<int>(rows), static_cast<int>(cols), 1.0, a,
              static_cast<int>(lda), x, static_cast<int>(incx), 0.0, y, 1);
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

// Tiny products: below this many multiply-adds a plain loop beats the BLAS call (OpenBLAS's own
// small-matrix path wins from about 4x4x4 on).
constexpr int64_t kSmallProduct = 32;

template <typename T> void small_gemm(int64_t n, int64_t m, int64_t k, const T* a, int64_t as0, int64_t as1, const T* b,
                                      int64_t bs0, int64_t bs1, T* c) {
  if (as1 == 1 && bs0 == 1) {  // rows of a meet columns of b contiguously: dot products
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) {
        const T* ap = a + i * as0;
        const T* bp = b + j * bs1;
        T s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t p = 0; p < k; ++p) s += ap[p] * bp[p];
        c[i * m + j] = s;
      }
    return;
  }
  for (int64_t i = 0; i < n; ++i) {  // rows of c as sums of scaled rows of b
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
  int64_t row_stride = -1;  // of the innermost dim that is not 1
  int64_t inner_stride = -1;
  int64_t inner_size = 1;
  for (int64_t d = a.dim() - 2; d >= 0; --d) {
    if (shape[d] == 1) continue;
    if (inner_stride >= 0 && strides[d] != inner_stride * inner_size) return -1;
    if (row_stride < 0) row_stride = strides[d];
    inner_stride = strides[d];
    inner_size = shape[d];
  }
  if (row_stride < 0) return std::max<int64_t>(k, 1);
  return row_stride >= std::max<int64_t>(k, 1) ? row_stride : -1;
}

// One matrix operand: first element and element strides of its rows and columns.
template <typename T> struct Mat {
  const T* p;
  int64_t rs, cs;
};

// Packs a [rows, cols] matrix of any strides row-major into `buf`.
template <typename T> Mat<T> pack(Mat<T> x, int64_t rows, int64_t cols, std::vector<T>& buf) {
  buf.resize(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) buf[static_cast<size_t>(i * cols + j)] = x.p[i * x.rs + j * x.cs];
  return {buf.data(), cols, 1};
}

// c[n, m] = a[n, k] @ b[k, m], c contiguous, k > 0. GEMM reads a and b in place when their
// strides are a row- or column-major layout; otherwise they are packed into `buf_a` / `buf_b`.
template <typename T>
void product(Mat<T> a, Mat<T> b, T* c, int64_t n, int64_t k, int64_t m, std::vector<T>& buf_a, std::vector<T>& buf_b) {
  if (n * m * k <= kSmallProduct) {
    small_gemm<T>(n, m, k, a.p, a.rs, a.cs, b.p, b.rs, b.cs, c);
    return;
  }
  // A vector operand: BLAS level 1 or 2 (no packing, any vector stride but 0).
  if (n == 1 && m == 1 && a.cs != 0 && b.rs != 0) {
    *c = dot(k, a.p, a.cs, b.p, b.rs);
    return;
  }
  MatrixLayout la = layout_of(n, k, a.rs, a.cs);
  MatrixLayout lb = layout_of(k, m, b.rs, b.cs);
  if (m == 1 && la.ok && b.rs != 0) {  // c[n] = a[n, k] b[k]
    if (la.trans)
      gemv(true, k, n, a.p, la.ld, b.p, b.rs, c);
    else
      gemv(false, n, k, a.p, la.ld, b.p, b.rs, c);
    return;
  }
  if (n == 1 && lb.ok && a.cs != 0) {  // c[m] = b[k, m]^T a[k]
    if (lb.trans)
      gemv(false, m, k, b.p, lb.ld, a.p, a.cs, c);
    else
      gemv(true, k, m, b.p, lb.ld, a.p, a.cs, c);
    return;
  }
  if (!la.ok) {
    a = pack(a, n, k, buf_a);
    la = layout_of(n, k, a.rs, a.cs);
  }
  if (!lb.ok) {
    b = pack(b, k, m, buf_b);
    lb = layout_of(k, m, b.rs, b.cs);
  }
  gemm(la.trans, lb.trans, n, m, k, a.p, la.ld, b.p, lb.ld, c, m);
}

// a: [..., n, k] (or 1-d [k], read as [1, k]); b: [..., k, m] (or 1-d [k], read as [k, 1]).
template <typename T>
void matmul_impl(const Array& a, const Array& b, const Shape& batch, int64_t n, int64_t k, int64_t m, Array& out) {
  T* c = out.data<T>();
  if (k == 0) {
    std::fill(c, c + out.numel(), T(0));
    return;
  }
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  // Strides of the matrix dims; a vector's missing dim has size 1, so its stride is arbitrary.
  const int64_t as0 = a.dim() > 1 ? a.strides()[a.dim() - 2] : k;
  const int64_t as1 = a.strides()[a.dim() - 1];
  const int64_t bs0 = b.dim() > 1 ? b.strides()[b.dim() - 2] : b.strides()[0];
  const int64_t bs1 = b.dim() > 1 ? b.strides()[b.dim() - 1] : 1;
  std::vector<T> buf_a, buf_b;
  if (batch.empty()) {  // the common case: no batch bookkeeping at all
    product<T>({pa, as0, as1}, {pb, bs0, bs1}, c, n, k, m, buf_a, buf_b);
    return;
  }
  // Batch strides of each operand in the output's batch frame (0 where it broadcasts).
  auto batch_strides = [&batch](const Array& x) {
    Strides s(batch.size(), 0);
    const int64_t nd = std::max<int64_t>(x.dim() - 2, 0);
    const size_t lead = batch.size() - static_cast<size_t>(nd);
    for (int64_t d = 0; d < nd; ++d) s[lead + d] = x.shape()[d] == 1 ? 0 : x.strides()[d];
    return s;
  };
  const Strides sa = batch_strides(a);
  const Strides sb = batch_strides(b);
  const int64_t nb = numel(batch);
  if (n * m * k > kSmallProduct && a.dim() > 2 && (as1 == 1 || k == 1) &&
      std::all_of(sb.begin(), sb.end(), [](int64_t s) { return s == 0; })) {
    const int64_t lda = folded_row_stride(a, k);
    if (lda > 0) {  // [B..., n, k] @ [k, m]: one GEMM with B*n rows
      product<T>({pa, lda, 1}, {pb, bs0, bs1}, c, nb * n, k, m, buf_a, buf_b);
      return;
    }
  }
  // Walk the batch with a counter; each step advances both operands by their batch strides.
  const int64_t nbd = static_cast<int64_t>(batch.size());
  Shape counter(batch.size(), 0);
  int64_t off_a = 0;
  int64_t off_b = 0;
  for (int64_t i = 0; i < nb; ++i) {
    product<T>({pa + off_a, as0, as1}, {pb + off_b, bs0, bs1}, c + i * n * m, n, k, m, buf_a, buf_b);
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
  const int64_t n = a.dim() > 1 ? a.shape()[a.dim() - 2] : 1;
  const int64_t k = a.shape()[a.dim() - 1];
  const int64_t kb = b.dim() > 1 ? b.shape()[b.dim() - 2] : b.shape()[0];
  const int64_t m = b.dim() > 1 ? b.shape()[b.dim() - 1] : 1;
  if (kb != k)
    throw ShapeError("matmul: shapes " + to_string(a.shape()) + " and " + to_string(b.shape()) +
                     " cannot be multiplied (" + std::to_string(k) + " != " + std::to_string(kb) + ")");
  Shape batch;
  if (a.dim() > 2 || b.dim() > 2) {
    try {
      batch = broadcast_shapes("matmul", Shape(a.shape().begin(), a.shape().end() - std::min<int64_t>(a.dim(), 2)),
                               Shape(b.shape().begin(), b.shape().end() - std::min<int64_t>(b.dim(), 2)));
    } catch (const ShapeError&) {
      throw ShapeError("matmul: batch dims of shapes " + to_string(a.shape()) + " and " + to_string(b.shape()) +
                       " cannot broadcast");
    }
  }
  Shape out_shape;
  out_shape.reserve(batch.size() + 2);
  out_shape.assign(batch.begin(), batch.end());
  if (a.dim() > 1) out_shape.push_back(n);
  if (b.dim() > 1) out_shape.push_back(m);
  Array out(std::move(out_shape), a.dtype());
  if (out.numel() == 0) return out;
  if (a.dtype() == DType::Float32)
    matmul_impl<float>(a, b, batch, n, k, m, out);
  else
    matmul_impl<double>(a, b, batch, n, k, m, out);
  return out;
}

}  // namespace xgrad::kernels
