// Reductions: sum, mean, prod, extremes and their indices, var, any, all (softmax.cpp has the
// exp-based ones). Every reduction views its (contiguous) input as [outer, r, inner] with the
// reduced dims in the middle (reduce_plan.hpp): rows (inner == 1) are reduced with independent
// vector lanes, columns (inner > 1) by accumulating whole rows into a tile of the output.
// Dedicated loops, because xtensor's generic reducer over a leading axis runs far below memory
// bandwidth.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "reduce_plan.hpp"
#include "xgrad/tensor/kernels.hpp"
#include "xgrad/tensor/parallel.hpp"

namespace xgrad::kernels {
namespace detail {

std::string shape_note(const Array& x) { return " (input shape " + to_string(x.shape()) + ")"; }

void require_defined(std::string_view op, const Array& x) {
  if (!x.defined()) throw ValueError(std::string(op) + ": input is undefined");
}

Dims checked_dims(std::string_view op, const Array& x, const Dims& dims) {
  try {
    return normalize_dims(op, dims, x.dim());
  } catch (const IndexError& e) {
    throw IndexError(e.what() + shape_note(x));
  }
}

Plan make_plan(std::string_view op, const Array& x, const Dims& raw_dims, bool keepdim) {
  require_defined(op, x);
  const Dims dims = checked_dims(op, x, raw_dims);
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

}  // namespace detail

namespace {

using detail::for_each_tile;
using detail::kTile;
using detail::make_plan;
using detail::Plan;
using detail::require_defined;
using detail::shape_note;

constexpr int64_t kLanes = 8;  // independent accumulators per row when inner == 1

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

// Input elements per thread below which a sum stays on the calling thread (256 KiB of float32).
constexpr int64_t kSumGrain = int64_t{1} << 16;
// A single long row is summed in blocks of this many elements whose partial sums are then added in
// order: the blocks, not the thread count, fix the rounding, so results match at any thread count.
constexpr int64_t kSumBlock = int64_t{1} << 16;

// y[o, j] = fin(sum_i x[o, i, j]), on xgrad's threads when large: rows split by row, columns by
// tile of output columns; each output is always computed by one thread in one fixed order.
template <typename T, typename O, typename Fin> void sum_planned(const Plan& p, O* y, Fin fin) {
  using A = SumAcc<T>;
  const T* x = p.src<T>();
  if (p.inner == 1 && p.outer == 1 && p.r > kSumBlock) {
    const int64_t blocks = (p.r + kSumBlock - 1) / kSumBlock;
    std::vector<A> partial(static_cast<size_t>(blocks));
    parallel_range(
        blocks, 1,
        [&](int64_t begin, int64_t end) {
          for (int64_t b = begin; b < end; ++b)
            partial[b] = sum_contig(x + b * kSumBlock, std::min(kSumBlock, p.r - b * kSumBlock));
        },
        1);
    A total{0};
    for (A part : partial) total += part;
    y[0] = fin(total);
    return;
  }
  if (p.inner == 1) {
    parallel_range(
        p.outer, std::max<int64_t>(1, kSumGrain / std::max<int64_t>(p.r, 1)),
        [&](int64_t begin, int64_t end) {
          for (int64_t o = begin; o < end; ++o) y[o] = fin(sum_contig(x + o * p.r, p.r));
        },
        1);
    return;
  }
  const int64_t tiles_per_row = (p.inner + kTile - 1) / kTile;
  const int64_t tile_elements = std::max<int64_t>(p.r * std::min(kTile, p.inner), 1);
  parallel_range(
      p.outer * tiles_per_row, std::max<int64_t>(1, kSumGrain / tile_elements),
      [&](int64_t begin, int64_t end) {
        alignas(64) A acc[kTile];
        for (int64_t t = begin; t < end; ++t) {
          const int64_t o = t / tiles_per_row, j0 = (t % tiles_per_row) * kTile;
          const int64_t n = std::min(kTile, p.inner - j0);
          std::fill(acc, acc + n, A{0});
          add_rows(x + o * p.r * p.inner + j0, p.r, p.inner, n, acc);
          for (int64_t j = 0; j < n; ++j) y[o * p.inner + j0 + j] = fin(acc[j]);
        }
      },
      1);
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
  for_each_tile(p, [&](int64_t src, int64_t dst, int64_t n) {
    std::fill(acc, acc + n, init);
    for (int64_t i = 0; i < p.r; ++i) {
      const T* row = x + src + i * p.inner;
      for (int64_t j = 0; j < n; ++j) acc[j] = f(acc[j], static_cast<A>(row[j]));
    }
    for (int64_t j = 0; j < n; ++j) y[dst + j] = fin(acc[j]);
  });
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
  Plan p = make_plan(op, x, dims, keepdim);
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
  Plan p = make_plan(op, x, {dim}, keepdim);
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
    for_each_tile(p, [&](int64_t src, int64_t dst, int64_t n) {
      const T* base = xs + src;
      int64_t* idx = y + dst;
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
    });
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

// any / all: a bool result from an associative, commutative bool combiner with identity `init`.
template <typename F>
Array logical(std::string_view op, const Array& x, const Dims& dims, bool keepdim, bool init, F f) {
  Plan p = make_plan(op, x, dims, keepdim);
  Array out(std::move(p.out_shape), DType::Bool);
  dispatch(x.dtype(), [&]<typename T>() { reduce_planned<T>(p, out.data<bool>(), init, f, [](bool a) { return a; }); });
  return out;
}

}  // namespace

// ---- public kernels -----------------------------------------------------------------------------

Array sum(const Array& x, const Dims& dims, bool keepdim) {
  Plan p = make_plan("sum", x, dims, keepdim);
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
  Plan p = make_plan("mean", x, dims, keepdim);
  Array out(std::move(p.out_shape), x.dtype());
  dispatch_floating("mean", x.dtype(), [&]<typename T>() {
    const double n = static_cast<double>(p.r);  // 0 gives NaN, as PyTorch's mean of nothing
    sum_planned<T>(p, out.data<T>(), [n](double a) { return static_cast<T>(a / n); });
  });
  return out;
}

Array prod(const Array& x, const Dims& dims, bool keepdim) {
  Plan p = make_plan("prod", x, dims, keepdim);
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
  Plan p = make_plan("var", x, dims, keepdim);
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
    for_each_tile(p, [&](int64_t src, int64_t dst, int64_t m) {
      const T* base = xs + src;
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
      for (int64_t j = 0; j < m; ++j) y[dst + j] = static_cast<T>(ss[j] / denom);
    });
  });
  return out;
}

Array any(const Array& x, const Dims& dims, bool keepdim) {
  return logical("any", x, dims, keepdim, false, [](bool a, bool b) { return a || b; });
}
Array all(const Array& x, const Dims& dims, bool keepdim) {
  return logical("all", x, dims, keepdim, true, [](bool a, bool b) { return a && b; });
}

}  // namespace xgrad::kernels
