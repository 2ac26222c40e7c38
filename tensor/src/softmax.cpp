// The max-shifted exp family: logsumexp, softmax, log_softmax. Rows (inner == 1) and tiles of
// columns (inner > 1) as in reduce.cpp (reduce_plan.hpp); the exps go through xsimd's vector exp.

// GCC 12 warns of -Wmaybe-uninitialized inside its own AVX-512 intrinsics (_mm512_undefined_*, GCC
// bug 105593) when xsimd's exp inlines here; the warning is about the compiler's header, not us.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include <xsimd/xsimd.hpp>

#include "reduce_plan.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::kernels {
namespace {

using detail::for_each_tile;
using detail::kTile;
using detail::make_plan;
using detail::Plan;

constexpr int64_t kBlock = 2048;  // exp values summed in vector lanes of T before adding into double

// The shift used before exp: the max when finite, else 0 (so all -inf gives log(0) = -inf, and
// +inf gives +inf, with no inf - inf).
template <typename T> T shift_of(T m) { return std::isfinite(m) ? m : T{0}; }

template <typename T> T row_max(const T* row, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = std::max(m, row[i]);
  return m;
}

// out[i] = exp(x[i] - shift), shift a scalar or one per element. xsimd's vector exp (a few ulp):
// std::exp does not vectorize and would make softmax ten times slower than memory.
template <typename T> T shift_at(T s, int64_t) { return s; }
template <typename T> T shift_at(const T* s, int64_t i) { return s[i]; }
template <typename T> xsimd::batch<T> shift_batch(T s, int64_t) { return xsimd::batch<T>(s); }
template <typename T> xsimd::batch<T> shift_batch(const T* s, int64_t i) {
  return xsimd::batch<T>::load_unaligned(s + i);
}

// Also returns the sum of what it wrote (vector lanes of T within kBlock, then double).
template <typename T, typename Shift> double exp_shifted(const T* x, Shift shift, T* out, int64_t n) {
  using B = xsimd::batch<T>;
  constexpr int64_t w = static_cast<int64_t>(B::size);
  double total = 0;
  int64_t i = 0;
  while (i + w <= n) {
    B acc(T{0});
    const int64_t end = std::min(n, i + kBlock);
    for (; i + w <= end; i += w) {
      const B e = xsimd::exp(B::load_unaligned(x + i) - shift_batch<T>(shift, i));
      e.store_unaligned(out + i);
      acc += e;
    }
    total += static_cast<double>(xsimd::hadd(acc));
  }
  for (; i < n; ++i) {
    out[i] = std::exp(x[i] - shift_at<T>(shift, i));
    total += static_cast<double>(out[i]);
  }
  return total;
}

// sum_i exp(x[i] - shift) through a stack buffer.
template <typename T> double sum_exp(const T* x, T shift, int64_t n) {
  constexpr int64_t kChunk = 1024;
  T buf[kChunk];
  double s = 0;
  for (int64_t b = 0; b < n; b += kChunk) s += exp_shifted(x + b, shift, buf, std::min(kChunk, n - b));
  return s;
}

// For n columns of r rows (row stride `stride`): m[j] = the column's max (made finite by shift_of
// when `finite_shift`) and s[j] = sum_i exp(x[i, j] - m[j]), each exp written to e + i * e_stride
// (e_stride 0: a scratch row).
template <typename T> void col_sum_exp(const T* x, int64_t r, int64_t stride, int64_t n, bool finite_shift, T* m,
                                       double* s, T* e, int64_t e_stride) {
  std::fill(m, m + n, -std::numeric_limits<T>::infinity());
  for (int64_t i = 0; i < r; ++i) {
    const T* row = x + i * stride;
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) m[j] = std::max(m[j], row[j]);
  }
  if (finite_shift)
    for (int64_t j = 0; j < n; ++j) m[j] = shift_of(m[j]);
  std::fill(s, s + n, 0.0);
  for (int64_t i = 0; i < r; ++i) {
    T* ei = e + i * e_stride;
    exp_shifted<T>(x + i * stride, static_cast<const T*>(m), ei, n);
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) s[j] += ei[j];
  }
}

// The plan for ops along one dim that keep the shape (softmax): no permutation, so the output
// has the input's layout.
Plan make_dim_plan(const Array& x, int64_t dim) {
  Plan p;
  if (x.is_contiguous()) {
    p.data = x.raw_data();
  } else {
    p.copy = x.contiguous();
    p.data = p.copy.raw_data();
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < dim)
      p.outer *= x.shape()[d];
    else if (d == dim)
      p.r = x.shape()[d];
    else
      p.inner *= x.shape()[d];
  }
  return p;
}

enum class Soft { Softmax, LogSoftmax };

template <typename T> void softmax_planned(const Plan& p, T* y, Soft kind) {
  const T* x = p.src<T>();
  if (p.inner == 1) {
    for (int64_t o = 0; o < p.outer; ++o) {
      const T* row = x + o * p.r;
      T* out = y + o * p.r;
      const T m = row_max(row, p.r);
      if (kind == Soft::Softmax) {  // all -inf gives NaN (0/0), as in PyTorch
        const T inv = static_cast<T>(1.0 / exp_shifted(row, m, out, p.r));
#pragma omp simd
        for (int64_t i = 0; i < p.r; ++i) out[i] *= inv;
      } else {
        const T shift = shift_of(m);
        const T log_s = static_cast<T>(std::log(exp_shifted(row, shift, out, p.r)));
#pragma omp simd
        for (int64_t i = 0; i < p.r; ++i) out[i] = (row[i] - shift) - log_s;
      }
    }
    return;
  }
  T m[kTile];
  T buf[kTile];
  double s[kTile];
  T t[kTile];
  const bool softmax = kind == Soft::Softmax;
  for_each_tile(p, [&](int64_t src, int64_t, int64_t n) {
    const T* base = x + src;
    T* obase = y + src;  // the output has the input's layout
    // softmax keeps its exps in the output; log_softmax recomputes from x - m.
    col_sum_exp(base, p.r, p.inner, n, !softmax, m, s, softmax ? obase : buf, softmax ? p.inner : 0);
    for (int64_t j = 0; j < n; ++j) t[j] = static_cast<T>(softmax ? 1.0 / s[j] : std::log(s[j]));
    for (int64_t i = 0; i < p.r; ++i) {
      const T* row = base + i * p.inner;
      T* out = obase + i * p.inner;
      if (softmax) {
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) out[j] *= t[j];
      } else {
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) out[j] = (row[j] - m[j]) - t[j];
      }
    }
  });
}

Array soft(std::string_view op, const Array& x, int64_t dim, Soft kind) {
  detail::require_defined(op, x);
  const Dims d = detail::checked_dims(op, x, {dim});
  Array out(x.shape(), x.dtype());
  dispatch_floating(op, x.dtype(), [&]<typename T>() {
    softmax_planned<T>(make_dim_plan(x, d.empty() ? 0 : d[0]), out.data<T>(), kind);
  });
  return out;
}

}  // namespace

// Max-shifted: log(sum(exp(x - m))) + m never overflows; all -inf (or nothing) gives -inf.
Array logsumexp(const Array& x, const Dims& dims, bool keepdim) {
  Plan p = make_plan("logsumexp", x, dims, keepdim);
  Array out(std::move(p.out_shape), x.dtype());
  dispatch_floating("logsumexp", x.dtype(), [&]<typename T>() {
    const T* xs = p.src<T>();
    T* y = out.data<T>();
    if (p.inner == 1) {
      for (int64_t o = 0; o < p.outer; ++o) {
        const T* row = xs + o * p.r;
        const T shift = shift_of(row_max(row, p.r));
        y[o] = static_cast<T>(shift + std::log(sum_exp(row, shift, p.r)));
      }
      return;
    }
    T m[kTile];
    T buf[kTile];
    double s[kTile];
    for_each_tile(p, [&](int64_t src, int64_t dst, int64_t n) {
      col_sum_exp(xs + src, p.r, p.inner, n, true, m, s, buf, 0);
      for (int64_t j = 0; j < n; ++j) y[dst + j] = static_cast<T>(m[j] + std::log(s[j]));
    });
  });
  return out;
}

Array softmax(const Array& x, int64_t dim) { return soft("softmax", x, dim, Soft::Softmax); }
Array log_softmax(const Array& x, int64_t dim) { return soft("log_softmax", x, dim, Soft::LogSoftmax); }

}  // namespace xgrad::kernels
