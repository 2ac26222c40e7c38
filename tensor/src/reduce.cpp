// Reductions and softmax. Every reduction views its (contiguous) input as [outer, r, inner] with
// the reduced dims in the middle: rows (inner == 1) are reduced with independent vector lanes,
// columns (inner > 1) by accumulating whole rows into a tile of the output. Dedicated loops,
// because xtensor's generic reducer over a leading axis runs far below memory bandwidth.

// GCC 12 warns of -Wmaybe-uninitialized inside its own AVX-512 intrinsics (_mm512_undefined_*, GCC
// bug 105593) when xsimd's exp inlines here; the warning is about the compiler's header, not us.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "xgrad/tensor/kernels.hpp"

namespace xgrad::kernels {
namespace {

constexpr int64_t kTile = 512;    // output columns accumulated together when inner > 1
constexpr int64_t kLanes = 8;     // independent accumulators per row when inner == 1
constexpr int64_t kBlock = 2048;  // exp values summed in vector lanes of T before adding into double

// The input seen as [outer, r, inner], contiguous, with the reduced elements in the middle.
struct Plan {
  const void* data = nullptr;
  Array copy;  // holds the permuted copy when one was needed
  int64_t outer = 1;
  int64_t r = 1;
  int64_t inner = 1;
  Shape out_shape;

  template <typename T> const T* src() const { return static_cast<const T*>(data); }
};

std::string shape_note(const Array& x) { return " (input shape " + to_string(x.shape()) + ")"; }

// Normalised dims; errors name the op and the input's shape.
Dims checked_dims(std::string_view op, const Array& x, const Dims& dims) {
  try {
    return normalize_dims(op, dims, x.dim());
  } catch (const IndexError& e) {
    throw IndexError(e.what() + shape_note(x));
  }
}

void require_defined(std::string_view op, const Array& x) {
  if (!x.defined()) throw ValueError(std::string(op) + ": input is undefined");
}

// `dims` normalised. No copy when x is contiguous and the reduced dims are adjacent (size-1 dims
// in between do not count); otherwise the reduced dims are permuted last and copied once, unless
// that permutation happens to be contiguous already (a transposed matrix, for instance).
Plan make_plan(const Array& x, const Dims& dims, bool keepdim) {
  Plan p;
  p.out_shape = reduced_shape(x.shape(), dims, keepdim);
  if (dims.empty()) {  // a 0-d input: one element
    p.data = x.raw_data();
    return p;
  }
  const Shape& s = x.shape();
  const int64_t lo = dims.front();
  const int64_t hi = dims.back();
  bool adjacent = true;
  for (int64_t d = lo, k = 0; d <= hi; ++d) {
    if (dims[k] == d)
      ++k;
    else if (s[d] != 1)
      adjacent = false;
  }
  if (adjacent && x.is_contiguous()) {
    p.data = x.raw_data();
    for (int64_t d = 0; d < lo; ++d) p.outer *= s[d];
    for (int64_t d = lo; d <= hi; ++d) p.r *= s[d];
    for (int64_t d = hi + 1; d < x.dim(); ++d) p.inner *= s[d];
    return p;
  }
  Dims order;
  for (int64_t d = 0, k = 0; d < x.dim(); ++d) {
    if (k < static_cast<int64_t>(dims.size()) && dims[k] == d)
      ++k;
    else
      order.push_back(d), p.outer *= s[d];
  }
  for (int64_t d : dims) order.push_back(d), p.r *= s[d];
  p.copy = x.permute(order).contiguous();
  p.data = p.copy.raw_data();
  return p;
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

// ---- sums -----------------------------------------------------------------------------------

// 32 independent double accumulators (four AVX-512 vectors): float32 widens for free at memory
// speed, and each lane adds only n/32 values, so a 4M-element float32 sum is exact to ~1e-12.
template <typename T> double sum_contig(const T* p, int64_t n) {
  constexpr int64_t kAcc = 32;
  double acc[kAcc] = {};
  int64_t i = 0;
  for (; i + kAcc <= n; i += kAcc) {
#pragma omp simd
    for (int64_t k = 0; k < kAcc; ++k) acc[k] += static_cast<double>(p[i + k]);
  }
  double s = 0;
  for (; i < n; ++i) s += static_cast<double>(p[i]);
  for (int64_t k = 0; k < kAcc; ++k) s += acc[k];
  return s;
}

// Integers wrap on overflow, as in PyTorch (unsigned arithmetic keeps that defined).
uint64_t sum_contig(const int64_t* p, int64_t n) {
  uint64_t s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<uint64_t>(p[i]);
  return s;
}

uint64_t sum_contig(const bool* p, int64_t n) {
  uint64_t s = 0;
  for (int64_t i = 0; i < n; ++i) s += p[i];
  return s;
}

template <typename T> using SumAcc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;

// acc[0, n) += sum over r rows (row stride `stride`) of x[i * stride + j].
template <typename T, typename A> void add_rows(const T* x, int64_t r, int64_t stride, int64_t n, A* acc) {
  int64_t i = 0;
  if constexpr (std::is_same_v<T, float>) {
    // Four rows in float, then once into double: fewer conversions, still pairwise-accurate.
    for (; i + 4 <= r; i += 4) {
      const float* a = x + i * stride;
      const float* b = a + stride;
      const float* c = b + stride;
      const float* d = c + stride;
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) acc[j] += static_cast<double>((a[j] + b[j]) + (c[j] + d[j]));
    }
  }
  for (; i < r; ++i) {
    const T* row = x + i * stride;
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) acc[j] += static_cast<A>(row[j]);
  }
}

// y[o, j] = fin(sum_i x[o, i, j]).
template <typename T, typename O, typename Fin> void sum_planned(const Plan& p, O* y, Fin fin) {
  using A = SumAcc<T>;
  const T* x = p.src<T>();
  if (p.inner == 1) {
    for (int64_t o = 0; o < p.outer; ++o) y[o] = fin(sum_contig(x + o * p.r, p.r));
    return;
  }
  alignas(64) A acc[kTile];
  for (int64_t o = 0; o < p.outer; ++o) {
    for (int64_t j0 = 0; j0 < p.inner; j0 += kTile) {
      const int64_t n = std::min(kTile, p.inner - j0);
      std::fill(acc, acc + n, A{0});
      add_rows(x + o * p.r * p.inner + j0, p.r, p.inner, n, acc);
      O* out = y + o * p.inner + j0;
      for (int64_t j = 0; j < n; ++j) out[j] = fin(acc[j]);
    }
  }
}

// ---- generic associative reductions (prod, amax, amin, any, all) ------------------------------

// y[o, j] = fin(f(...f(f(init, x0), x1)...)) with every element cast to A first; f must be
// associative and commutative (the row case uses kLanes independent accumulators).
template <typename T, typename A, typename O, typename F, typename Fin>
void reduce_planned(const Plan& p, O* y, A init, F f, Fin fin) {
  const T* x = p.src<T>();
  if (p.inner == 1) {
    for (int64_t o = 0; o < p.outer; ++o) {
      const T* row = x + o * p.r;
      A lane[kLanes];
      std::fill(lane, lane + kLanes, init);
      int64_t i = 0;
      for (; i + kLanes <= p.r; i += kLanes)
        for (int64_t k = 0; k < kLanes; ++k) lane[k] = f(lane[k], static_cast<A>(row[i + k]));
      A a = init;
      for (int64_t k = 0; k < kLanes; ++k) a = f(a, lane[k]);
      for (; i < p.r; ++i) a = f(a, static_cast<A>(row[i]));
      y[o] = fin(a);
    }
    return;
  }
  A acc[kTile];
  for (int64_t o = 0; o < p.outer; ++o) {
    for (int64_t j0 = 0; j0 < p.inner; j0 += kTile) {
      const int64_t n = std::min(kTile, p.inner - j0);
      std::fill(acc, acc + n, init);
      const T* base = x + o * p.r * p.inner + j0;
      for (int64_t i = 0; i < p.r; ++i) {
        const T* row = base + i * p.inner;
        for (int64_t j = 0; j < n; ++j) acc[j] = f(acc[j], static_cast<A>(row[j]));
      }
      O* out = y + o * p.inner + j0;
      for (int64_t j = 0; j < n; ++j) out[j] = fin(acc[j]);
    }
  }
}

template <typename T> constexpr T lowest() {
  if constexpr (std::is_floating_point_v<T>)
    return -std::numeric_limits<T>::infinity();
  else
    return std::numeric_limits<T>::lowest();
}
template <typename T> constexpr T highest() {
  if constexpr (std::is_floating_point_v<T>)
    return std::numeric_limits<T>::infinity();
  else
    return std::numeric_limits<T>::max();
}

// NaN wins (propagates), as in PyTorch; `v != v` folds away for integers.
template <typename T> T max_nan(T a, T v) { return (v > a || v != v) ? v : a; }  // NOLINT
template <typename T> T min_nan(T a, T v) { return (v < a || v != v) ? v : a; }  // NOLINT

void require_nonempty(std::string_view op, const Array& x, const Plan& p) {
  if (p.r == 0)
    throw ValueError(std::string(op) + ": cannot reduce over a dim of size 0" + shape_note(x) +
                     "; the operation has no identity");
}

// The extreme of a contiguous row and whether it holds a NaN: one vectorized pass.
template <bool kMax, typename T> T extreme_row(const T* row, int64_t n, bool& has_nan) {
  T m = kMax ? lowest<T>() : highest<T>();
  int nan = 0;
  if constexpr (std::is_same_v<T, bool>) {
    for (int64_t i = 0; i < n; ++i) m = kMax ? (m || row[i]) : (m && row[i]);
  } else if constexpr (kMax) {
#pragma omp simd reduction(max : m) reduction(| : nan)
    for (int64_t i = 0; i < n; ++i) {
      m = std::max(m, row[i]);
      nan |= row[i] != row[i];  // NOLINT: NaN test
    }
  } else {
#pragma omp simd reduction(min : m) reduction(| : nan)
    for (int64_t i = 0; i < n; ++i) {
      m = std::min(m, row[i]);
      nan |= row[i] != row[i];  // NOLINT: NaN test
    }
  }
  has_nan = nan != 0;
  return m;
}

// The first index of the extreme of a contiguous row (n >= 1), or of its first NaN: two vectorized
// passes (the extreme, then a search) beat one branchy pass.
template <bool kMax, typename T> int64_t arg_extremum_row(const T* row, int64_t n) {
  bool nan = false;
  const T m = extreme_row<kMax>(row, n, nan);
  for (int64_t i = 0; i < n; ++i)
    if (nan ? row[i] != row[i] : row[i] == m) return i;  // NOLINT: NaN test
  return 0;
}

template <bool kMax> Array extremum(std::string_view op, const Array& x, const Dims& dims, bool keepdim) {
  require_defined(op, x);
  Plan p = make_plan(x, checked_dims(op, x, dims), keepdim);
  require_nonempty(op, x, p);
  Array out(std::move(p.out_shape), x.dtype());
  dispatch(x.dtype(), [&]<typename T>() {
    T* y = out.data<T>();
    if (p.inner == 1) {
      const T* xs = p.src<T>();
      for (int64_t o = 0; o < p.outer; ++o) {
        bool nan = false;
        const T m = extreme_row<kMax>(xs + o * p.r, p.r, nan);
        if constexpr (std::is_floating_point_v<T>)
          y[o] = nan ? std::numeric_limits<T>::quiet_NaN() : m;
        else
          y[o] = m;
      }
      return;
    }
    auto f = [](T a, T v) { return kMax ? max_nan(a, v) : min_nan(a, v); };
    reduce_planned<T>(p, y, kMax ? lowest<T>() : highest<T>(), f, [](T a) { return a; });
  });
  return out;
}

// ---- argmax / argmin ----------------------------------------------------------------------------

// Is v a better pick than best? The first extreme wins ties; the first NaN wins over numbers.
template <bool kMax, typename T> bool better(T v, T best) {
  return (kMax ? v > best : v < best) || (v != v && best == best);  // NOLINT: NaN tests
}

template <bool kMax> Array arg_extremum(std::string_view op, const Array& x, int64_t dim, bool keepdim) {
  require_defined(op, x);
  Plan p = make_plan(x, checked_dims(op, x, {dim}), keepdim);
  require_nonempty(op, x, p);
  Array out(std::move(p.out_shape), DType::Int64);
  int64_t* y = out.data<int64_t>();
  dispatch(x.dtype(), [&]<typename T>() {
    const T* xs = p.src<T>();
    if (p.inner == 1) {
      for (int64_t o = 0; o < p.outer; ++o) y[o] = arg_extremum_row<kMax>(xs + o * p.r, p.r);
      return;
    }
    T best[kTile];
    for (int64_t o = 0; o < p.outer; ++o) {
      for (int64_t j0 = 0; j0 < p.inner; j0 += kTile) {
        const int64_t n = std::min(kTile, p.inner - j0);
        const T* base = xs + o * p.r * p.inner + j0;
        int64_t* idx = y + o * p.inner + j0;
        std::copy(base, base + n, best);
        std::fill(idx, idx + n, int64_t{0});
        for (int64_t i = 1; i < p.r; ++i) {
          const T* row = base + i * p.inner;
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) {  // branch-free, so it vectorizes
            const bool b = better<kMax>(row[j], best[j]);
            best[j] = b ? row[j] : best[j];
            idx[j] = b ? i : idx[j];
          }
        }
      }
    }
  });
  return out;
}

template <bool kMax> Array arg_extremum_all(std::string_view op, const Array& x) {
  require_defined(op, x);
  if (x.numel() == 0)
    throw ValueError(std::string(op) + ": cannot take the " + std::string(op) + " of an empty tensor" + shape_note(x));
  const Array c = x.contiguous();  // the flat index is row-major over the logical shape
  Array out(Shape{}, DType::Int64);
  dispatch(x.dtype(), [&]<typename T>() { *out.data<int64_t>() = arg_extremum_row<kMax>(c.data<T>(), c.numel()); });
  return out;
}

// ---- logsumexp, softmax -------------------------------------------------------------------------

// The shift used before exp: the max when finite, else 0 (so all -inf gives log(0) = -inf, and
// +inf gives +inf, with no inf - inf).
template <typename T> T shift_of(T m) { return std::isfinite(m) ? m : T{0}; }

template <typename T> T row_max(const T* row, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = std::max(m, row[i]);
  return m;
}

// The per-column max of r rows into m[0, n).
template <typename T> void col_max(const T* base, int64_t r, int64_t stride, int64_t n, T* m) {
  std::fill(m, m + n, -std::numeric_limits<T>::infinity());
  for (int64_t i = 0; i < r; ++i) {
    const T* row = base + i * stride;
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) m[j] = std::max(m[j], row[j]);
  }
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
  for (int64_t o = 0; o < p.outer; ++o) {
    for (int64_t j0 = 0; j0 < p.inner; j0 += kTile) {
      const int64_t n = std::min(kTile, p.inner - j0);
      const T* base = x + o * p.r * p.inner + j0;
      T* obase = y + o * p.r * p.inner + j0;
      col_max(base, p.r, p.inner, n, m);
      if (kind == Soft::LogSoftmax)
        for (int64_t j = 0; j < n; ++j) m[j] = shift_of(m[j]);
      std::fill(s, s + n, 0.0);
      for (int64_t i = 0; i < p.r; ++i) {
        T* e = kind == Soft::Softmax ? obase + i * p.inner : buf;
        exp_shifted<T>(base + i * p.inner, static_cast<const T*>(m), e, n);
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) s[j] += e[j];
      }
      for (int64_t j = 0; j < n; ++j) t[j] = static_cast<T>(kind == Soft::Softmax ? 1.0 / s[j] : std::log(s[j]));
      for (int64_t i = 0; i < p.r; ++i) {
        const T* row = base + i * p.inner;
        T* out = obase + i * p.inner;
        if (kind == Soft::Softmax) {
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) out[j] *= t[j];
        } else {
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) out[j] = (row[j] - m[j]) - t[j];
        }
      }
    }
  }
}

Array soft(std::string_view op, const Array& x, int64_t dim, Soft kind) {
  require_defined(op, x);
  const Dims d = checked_dims(op, x, {dim});
  Array out(x.shape(), x.dtype());
  dispatch_floating(op, x.dtype(), [&]<typename T>() {
    softmax_planned<T>(make_dim_plan(x, d.empty() ? 0 : d[0]), out.data<T>(), kind);
  });
  return out;
}

}  // namespace

// ---- public kernels -----------------------------------------------------------------------------

Array sum(const Array& x, const Dims& dims, bool keepdim) {
  require_defined("sum", x);
  Plan p = make_plan(x, checked_dims("sum", x, dims), keepdim);
  const DType out_dtype = is_floating(x.dtype()) ? x.dtype() : DType::Int64;
  Array out(std::move(p.out_shape), out_dtype);
  dispatch(x.dtype(), [&]<typename T>() {
    using O = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
    sum_planned<T>(p, out.data<O>(), [](SumAcc<T> a) { return static_cast<O>(a); });
  });
  return out;
}

Array sum_to(const Array& x, const Shape& shape) {
  require_defined("sum_to", x);
  const Shape& xs = x.shape();
  auto fail = [&]() {
    throw ShapeError("sum_to: cannot sum shape " + to_string(xs) + " to " + to_string(shape) +
                     " (the target must broadcast to the input's shape)");
  };
  if (shape.size() > xs.size()) fail();
  const size_t lead = xs.size() - shape.size();
  Dims dims;
  for (size_t i = 0; i < lead; ++i) dims.push_back(static_cast<int64_t>(i));
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == xs[lead + i]) continue;
    if (shape[i] != 1) fail();
    dims.push_back(static_cast<int64_t>(lead + i));
  }
  if (dims.empty()) return x.clone();  // nothing to reduce (the empty list would mean "all dims")
  return sum(x, dims, true).view(shape);
}

Array mean(const Array& x, const Dims& dims, bool keepdim) {
  require_defined("mean", x);
  Plan p = make_plan(x, checked_dims("mean", x, dims), keepdim);
  Array out(std::move(p.out_shape), x.dtype());
  dispatch_floating("mean", x.dtype(), [&]<typename T>() {
    const double n = static_cast<double>(p.r);  // 0 gives NaN, as PyTorch's mean of nothing
    sum_planned<T>(p, out.data<T>(), [n](double a) { return static_cast<T>(a / n); });
  });
  return out;
}

Array prod(const Array& x, const Dims& dims, bool keepdim) {
  require_defined("prod", x);
  Plan p = make_plan(x, checked_dims("prod", x, dims), keepdim);
  const DType out_dtype = is_floating(x.dtype()) ? x.dtype() : DType::Int64;
  Array out(std::move(p.out_shape), out_dtype);
  dispatch(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_floating_point_v<T>) {
      reduce_planned<T>(
          p, out.data<T>(), 1.0, [](double a, double b) { return a * b; }, [](double a) { return static_cast<T>(a); });
    } else {  // wraps on overflow, as in PyTorch
      reduce_planned<T>(
          p, out.data<int64_t>(), uint64_t{1}, [](uint64_t a, uint64_t b) { return a * b; },
          [](uint64_t a) { return static_cast<int64_t>(a); });
    }
  });
  return out;
}

Array amax(const Array& x, const Dims& dims, bool keepdim) { return extremum<true>("amax", x, dims, keepdim); }
Array amin(const Array& x, const Dims& dims, bool keepdim) { return extremum<false>("amin", x, dims, keepdim); }

Array argmax(const Array& x, int64_t dim, bool keepdim) { return arg_extremum<true>("argmax", x, dim, keepdim); }
Array argmin(const Array& x, int64_t dim, bool keepdim) { return arg_extremum<false>("argmin", x, dim, keepdim); }
Array argmax_all(const Array& x) { return arg_extremum_all<true>("argmax", x); }
Array argmin_all(const Array& x) { return arg_extremum_all<false>("argmin", x); }

// Two passes (mean, then squared deviations), accumulated in double: no cancellation.
Array var(const Array& x, const Dims& dims, int64_t correction, bool keepdim) {
  require_defined("var", x);
  Plan p = make_plan(x, checked_dims("var", x, dims), keepdim);
  Array out(std::move(p.out_shape), x.dtype());
  dispatch_floating("var", x.dtype(), [&]<typename T>() {
    const T* xs = p.src<T>();
    T* y = out.data<T>();
    const double n = static_cast<double>(p.r);
    const double denom = std::max(0.0, n - static_cast<double>(correction));  // 0 gives inf or NaN
    if (p.inner == 1) {
      for (int64_t o = 0; o < p.outer; ++o) {
        const T* row = xs + o * p.r;
        const double mu = sum_contig(row, p.r) / n;
        double ss = 0;
#pragma omp simd reduction(+ : ss)
        for (int64_t i = 0; i < p.r; ++i) {
          const double d = static_cast<double>(row[i]) - mu;
          ss += d * d;
        }
        y[o] = static_cast<T>(ss / denom);
      }
      return;
    }
    double mu[kTile];
    double ss[kTile];
    for (int64_t o = 0; o < p.outer; ++o) {
      for (int64_t j0 = 0; j0 < p.inner; j0 += kTile) {
        const int64_t m = std::min(kTile, p.inner - j0);
        const T* base = xs + o * p.r * p.inner + j0;
        std::fill(mu, mu + m, 0.0);
        std::fill(ss, ss + m, 0.0);
        add_rows(base, p.r, p.inner, m, mu);
        for (int64_t j = 0; j < m; ++j) mu[j] /= n;
        for (int64_t i = 0; i < p.r; ++i) {
          const T* row = base + i * p.inner;
#pragma omp simd
          for (int64_t j = 0; j < m; ++j) {
            const double d = static_cast<double>(row[j]) - mu[j];
            ss[j] += d * d;
          }
        }
        for (int64_t j = 0; j < m; ++j) y[o * p.inner + j0 + j] = static_cast<T>(ss[j] / denom);
      }
    }
  });
  return out;
}

// Max-shifted: log(sum(exp(x - m))) + m never overflows; all -inf (or nothing) gives -inf.
Array logsumexp(const Array& x, const Dims& dims, bool keepdim) {
  require_defined("logsumexp", x);
  Plan p = make_plan(x, checked_dims("logsumexp", x, dims), keepdim);
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
    for (int64_t o = 0; o < p.outer; ++o) {
      for (int64_t j0 = 0; j0 < p.inner; j0 += kTile) {
        const int64_t n = std::min(kTile, p.inner - j0);
        const T* base = xs + o * p.r * p.inner + j0;
        col_max(base, p.r, p.inner, n, m);
        for (int64_t j = 0; j < n; ++j) m[j] = shift_of(m[j]);
        std::fill(s, s + n, 0.0);
        for (int64_t i = 0; i < p.r; ++i) {
          exp_shifted<T>(base + i * p.inner, static_cast<const T*>(m), buf, n);
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) s[j] += buf[j];
        }
        for (int64_t j = 0; j < n; ++j) y[o * p.inner + j0 + j] = static_cast<T>(m[j] + std::log(s[j]));
      }
    }
  });
  return out;
}

Array any(const Array& x, const Dims& dims, bool keepdim) {
  require_defined("any", x);
  Plan p = make_plan(x, checked_dims("any", x, dims), keepdim);
  Array out(std::move(p.out_shape), DType::Bool);
  dispatch(x.dtype(), [&]<typename T>() {
    reduce_planned<T>(
        p, out.data<bool>(), false, [](bool a, bool b) { return a || b; }, [](bool a) { return a; });
  });
  return out;
}

Array all(const Array& x, const Dims& dims, bool keepdim) {
  require_defined("all", x);
  Plan p = make_plan(x, checked_dims("all", x, dims), keepdim);
  Array out(std::move(p.out_shape), DType::Bool);
  dispatch(x.dtype(), [&]<typename T>() {
    reduce_planned<T>(
        p, out.data<bool>(), true, [](bool a, bool b) { return a && b; }, [](bool a) { return a; });
  });
  return out;
}

Array softmax(const Array& x, int64_t dim) { return soft("softmax", x, dim, Soft::Softmax); }
Array log_softmax(const Array& x, int64_t dim) { return soft("log_softmax", x, dim, Soft::LogSoftmax); }

}  // namespace xgrad::kernels
