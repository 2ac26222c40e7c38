// Pooling, resampling and padding kernels. Pooling and resampling see their input as independent
// [H, W] planes (every leading dim is a batch) and make one pass over them; the windows and
// interpolation taps are computed once per dim by the caller (PoolWindows, ResampleTaps), so the
// same loops serve max / average / adaptive pooling and nearest / bilinear resampling, and each
// backward is the adjoint loop over the same windows. Max pooling splits its planes over xgrad's
// workers; its common 2x2 / stride-2 case has SIMD rows (pool_pairs.hpp), and its backward then
// writes each 2x2 block once instead of zero-filling dx and scattering into it.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "pool_pairs.hpp"
#include "xgrad/tensor/conv_kernels.hpp"
#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"
#include "xgrad/tensor/parallel.hpp"

namespace xgrad::kernels {
namespace {

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

void check_floating(std::string_view op, const Array& x) {
  if (!x.defined()) throw ValueError(std::string(op) + ": input is undefined");
  if (!is_floating(x.dtype()))
    throw DTypeError(std::string(op) + ": expected a floating dtype (float32 or float64), got " +
                     std::string(dtype_name(x.dtype())));
}

// The input's shape with its last two dims replaced: what pooling or resampling makes of it.
Shape plane_shape(std::string_view op, const Array& x, int64_t h, int64_t w) {
  if (x.dim() < 2)
    throw ShapeError(std::string(op) + ": expected at least 2 dims [..., H, W], got shape " + to_string(x.shape()));
  Shape s = x.shape();
  s[s.size() - 2] = h;
  s[s.size() - 1] = w;
  return s;
}

void check_plane(std::string_view op, const Array& x, int64_t h, int64_t w) {
  if (plane_shape(op, x, h, w) != x.shape())
    throw ShapeError(std::string(op) + ": input shape " + to_string(x.shape()) + " does not end in [" +
                     std::to_string(h) + ", " + std::to_string(w) + "]");
}

// ---- max pooling ----------------------------------------------------------------------------------

// Planes per parallel chunk: enough input elements that a chunk is worth waking a worker for.
int64_t planes_grain(int64_t in_plane) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(in_plane, 1)); }

// Windows of size 2 at 0, 2, 4, ...: the common 2x2 / stride 2 pooling gets a dedicated loop.
bool pairs(const PoolWindows& p) {
  if (p.step != 1) return false;
  for (int64_t i = 0; i < p.out(); ++i)
    if (p.begin[i] != 2 * i || p.end[i] != 2 * i + 2) return false;
  return true;
}

template <typename T> struct SameSizeUInt;
template <> struct SameSizeUInt<float> { using type = uint32_t; };
template <> struct SameSizeUInt<double> { using type = uint64_t; };

// PyTorch's rule: a larger value or a NaN replaces the running maximum. Selected with bit masks:
// random data would mispredict every other branch, and masks also vectorise.
template <typename T> inline void take_max(T v, int64_t i, T& best, int64_t& at) {
  using U = typename SameSizeUInt<T>::type;
  const bool take = (v > best) | (v != v);
  const U mask = U(0) - U(take);
  const int64_t imask = -int64_t(take);
  best = std::bit_cast<T>((std::bit_cast<U>(v) & mask) | (std::bit_cast<U>(best) & ~mask));
  at = (i & imask) | (at & ~imask);
}

// Outputs j0 .. j0 + N - 1 of one row of 2x2 / stride-2 max pooling over input rows r0, r1 (which
// start at flat index base). N is a compile-time width so that the loop is straight vector code:
// with a runtime trip count as short as a row (14, 7) the scalar tail would dominate.
template <int64_t N, typename T>
inline void max_pairs(const T* r0, const T* r1, int64_t base, int64_t w, int64_t j0, T* y, int64_t* idx) {
#pragma omp simd
  for (int64_t k = 0; k < N; ++k) {
    const int64_t j = j0 + k;
    T best = r0[2 * j];
    int64_t at = base + 2 * j;
    take_max(r0[2 * j + 1], base + 2 * j + 1, best, at);
    take_max(r1[2 * j], base + w + 2 * j, best, at);
    take_max(r1[2 * j + 1], base + w + 2 * j + 1, best, at);
    y[j] = best;
    idx[j] = at;
  }
}

template <typename T>
void max_pool_planes(const T* x, T* y, int64_t* idx, int64_t planes, const PoolWindows& h, const PoolWindows& w) {
  const int64_t in_plane = h.in * w.in;
  const int64_t oh = h.out();
  const int64_t ow = w.out();
  const int64_t W = w.in;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    if (pairs(h) && pairs(w) && in_plane < (int64_t(1) << 30)) {
      const T* end = x + planes * in_plane;
      for (int64_t p = 0; p < planes; ++p, x += in_plane, y += oh * ow, idx += oh * ow)
        for (int64_t i = 0; i < oh; ++i)
          detail::max_pairs_row(x + 2 * i * W, x + (2 * i + 1) * W, end, ow, static_cast<int32_t>(2 * i * W),
                                static_cast<int32_t>(W), y + i * ow, idx + i * ow);
      return;
    }
  }
#endif
  if (pairs(h) && pairs(w)) {
    // Each row in blocks of 8 (or 4) outputs, the last block overlapping the one before.
    const int64_t block = ow >= 8 ? 8 : ow >= 4 ? 4 : 1;
    for (int64_t p = 0; p < planes; ++p, x += in_plane, y += oh * ow, idx += oh * ow)
      for (int64_t i = 0; i < oh; ++i) {
        const T* r0 = x + 2 * i * W;
        const T* r1 = r0 + W;
        T* yr = y + i * ow;
        int64_t* ir = idx + i * ow;
        const int64_t base = 2 * i * W;
        for (int64_t j0 = 0; j0 < ow; j0 += block) {
          const int64_t at = std::min(j0, ow - block);
          if (block == 8)
            max_pairs<8>(r0, r1, base, W, at, yr, ir);
          else if (block == 4)
            max_pairs<4>(r0, r1, base, W, at, yr, ir);
          else
            max_pairs<1>(r0, r1, base, W, at, yr, ir);
        }
      }
    return;
  }
  for (int64_t p = 0; p < planes; ++p, x += in_plane, y += oh * ow, idx += oh * ow)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        T best = -std::numeric_limits<T>::infinity();
        int64_t at = -1;
        if (h.begin[i] < h.end[i] && w.begin[j] < w.end[j]) {
          at = h.begin[i] * W + w.begin[j];
          for (int64_t ih = h.begin[i]; ih < h.end[i]; ih += h.step)
            for (int64_t iw = w.begin[j]; iw < w.end[j]; iw += w.step) take_max(x[ih * W + iw], ih * W + iw, best, at);
        }
        y[i * ow + j] = best;
        idx[i * ow + j] = at;
      }
}

// dx [planes, h, w] = dy [planes, oh, ow] added at the indices. When every index lies in its own 2x2
// block (2x2 / stride-2 windows, which the shapes suggest and the indices confirm), every input
// element gets at most one gradient: dx is written once, zeros included, without a zero-fill pass.
template <typename T> void max_scatter_planes(const T* dy, const int64_t* at, T* dx, int64_t planes, int64_t h,
                                              int64_t w, int64_t oh, int64_t ow) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    if (oh == h / 2 && ow == w / 2 && h * w < (int64_t(1) << 30)) {
      const T* dy_end = dy + planes * oh * ow;
      const int64_t* at_end = at + planes * oh * ow;
      const T* dx_end = dx + planes * h * w;
      bool blocks = true;
      for (int64_t p = 0; p < planes; ++p)
        for (int64_t i = 0; i < oh; ++i) {
          T* top = dx + (p * h + 2 * i) * w;
          blocks &=
              detail::max_unpairs_row(dy + (p * oh + i) * ow, dy_end, at + (p * oh + i) * ow, at_end, ow,
                                      static_cast<int32_t>(2 * i * w), static_cast<int32_t>(w), top, top + w, dx_end);
          if (w % 2) top[w - 1] = top[2 * w - 1] = T(0);
          if (h % 2 && i == oh - 1) std::fill(top + 2 * w, top + 3 * w, T(0));
        }
      if (blocks) return;
    }
  }
#endif
  std::fill(dx, dx + planes * h * w, T(0));
  for (int64_t p = 0; p < planes; ++p, dx += h * w, dy += oh * ow, at += oh * ow)
    for (int64_t k = 0; k < oh * ow; ++k)
      if (at[k] >= 0) dx[at[k]] += dy[k];
}

// ---- average pooling --------------------------------------------------------------------------------

template <typename T>
void avg_pool_planes(const T* x, T* y, int64_t planes, const PoolWindows& h, const PoolWindows& w) {
  const int64_t oh = h.out();
  const int64_t ow = w.out();
  const int64_t W = w.in;
  for (int64_t p = 0; p < planes; ++p, x += h.in * W, y += oh * ow)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        const int64_t divisor = h.divisor[i] * w.divisor[j];
        T s = 0;
        for (int64_t ih = h.begin[i]; ih < h.end[i]; ++ih) {
          const T* row = x + ih * W;
          for (int64_t iw = w.begin[j]; iw < w.end[j]; ++iw) s += row[iw];
        }
        y[i * ow + j] = divisor > 0 ? s / static_cast<T>(divisor) : T(0);
      }
}

template <typename T>
void avg_pool_backward_planes(const T* dy, T* dx, int64_t planes, const PoolWindows& h, const PoolWindows& w) {
  const int64_t oh = h.out();
  const int64_t ow = w.out();
  const int64_t W = w.in;
  std::fill(dx, dx + planes * h.in * W, T(0));
  for (int64_t p = 0; p < planes; ++p, dx += h.in * W, dy += oh * ow)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        const int64_t divisor = h.divisor[i] * w.divisor[j];
        if (divisor <= 0) continue;
        const T g = dy[i * ow + j] / static_cast<T>(divisor);
        for (int64_t ih = h.begin[i]; ih < h.end[i]; ++ih) {
          T* row = dx + ih * W;
          for (int64_t iw = w.begin[j]; iw < w.end[j]; ++iw) row[iw] += g;
        }
      }
}

// ---- resampling ---------------------------------------------------------------------------------------

template <typename T>
void resample_planes(const T* x, T* y, int64_t planes, const ResampleTaps& h, const ResampleTaps& w) {
  const int64_t oh = h.out();
  const int64_t ow = w.out();
  const int64_t W = w.in;
  if (h.nearest && w.nearest) {
    for (int64_t p = 0; p < planes; ++p, x += h.in * W, y += oh * ow)
      for (int64_t i = 0; i < oh; ++i) {
        const T* row = x + h.i0[i] * W;
        for (int64_t j = 0; j < ow; ++j) y[i * ow + j] = row[w.i0[j]];
      }
    return;
  }
  for (int64_t p = 0; p < planes; ++p, x += h.in * W, y += oh * ow)
    for (int64_t i = 0; i < oh; ++i) {
      const T* r0 = x + h.i0[i] * W;
      const T* r1 = x + h.i1[i] * W;
      const T a0 = static_cast<T>(h.l0[i]);
      const T a1 = static_cast<T>(h.l1[i]);
      for (int64_t j = 0; j < ow; ++j) {
        const T b0 = static_cast<T>(w.l0[j]);
        const T b1 = static_cast<T>(w.l1[j]);
        y[i * ow + j] = a0 * (b0 * r0[w.i0[j]] + b1 * r0[w.i1[j]]) + a1 * (b0 * r1[w.i0[j]] + b1 * r1[w.i1[j]]);
      }
    }
}

template <typename T>
void resample_backward_planes(const T* dy, T* dx, int64_t planes, const ResampleTaps& h, const ResampleTaps& w) {
  const int64_t oh = h.out();
  const int64_t ow = w.out();
  const int64_t W = w.in;
  std::fill(dx, dx + planes * h.in * W, T(0));
  for (int64_t p = 0; p < planes; ++p, dx += h.in * W, dy += oh * ow)
    for (int64_t i = 0; i < oh; ++i) {
      T* r0 = dx + h.i0[i] * W;
      T* r1 = dx + h.i1[i] * W;
      const T a0 = static_cast<T>(h.l0[i]);
      const T a1 = static_cast<T>(h.l1[i]);
      for (int64_t j = 0; j < ow; ++j) {
        const T g = dy[i * ow + j];
        if (h.nearest && w.nearest) {
          r0[w.i0[j]] += g;
          continue;
        }
        const T b0 = static_cast<T>(w.l0[j]);
        const T b1 = static_cast<T>(w.l1[j]);
        r0[w.i0[j]] += a0 * b0 * g;
        r0[w.i1[j]] += a0 * b1 * g;
        r1[w.i0[j]] += a1 * b0 * g;
        r1[w.i1[j]] += a1 * b1 * g;
      }
    }
}

// 1 / scale_factor when one is given, else in / out.
double source_scale(int64_t in, int64_t out, double scale_factor) {
  return scale_factor > 0 ? 1.0 / scale_factor : static_cast<double>(in) / static_cast<double>(out);
}

}  // namespace

// ---- windows ----------------------------------------------------------------------------------------

int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = floor_div(span, stride) + 1;
  if (ceil_mode && out > 0 && (out - 1) * stride >= in + pad) --out;
  return out;
}

PoolWindows sliding_windows(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode,
                            bool count_include_pad) {
  PoolWindows p;
  p.in = in;
  p.step = dilation;
  const int64_t out = std::max<int64_t>(pool_output_size(in, kernel, stride, pad, dilation, ceil_mode), 0);
  p.begin.resize(static_cast<size_t>(out));
  p.end.resize(static_cast<size_t>(out));
  p.divisor.resize(static_cast<size_t>(out));
  for (int64_t i = 0; i < out; ++i) {
    const int64_t start = i * stride - pad;
    const int64_t first = start >= 0 ? start : start + (-start + dilation - 1) / dilation * dilation;
    const int64_t end = std::min(start + (kernel - 1) * dilation + 1, in);
    p.begin[i] = first;
    p.end[i] = std::max(end, first);
    // Average pooling (dilation 1): padding counts up to in + pad, as in PyTorch.
    p.divisor[i] = count_include_pad ? std::min(start + kernel, in + pad) - start : p.end[i] - p.begin[i];
  }
  return p;
}

PoolWindows adaptive_windows(int64_t in, int64_t out) {
  PoolWindows p;
  p.in = in;
  p.begin.resize(static_cast<size_t>(out));
  p.end.resize(static_cast<size_t>(out));
  p.divisor.resize(static_cast<size_t>(out));
  for (int64_t i = 0; i < out; ++i) {
    p.begin[i] = i * in / out;
    p.end[i] = ((i + 1) * in + out - 1) / out;
    p.divisor[i] = p.end[i] - p.begin[i];
  }
  return p;
}

// ---- pooling ------------------------------------------------------------------------------------------

std::pair<Array, Array> max_pool2d(const Array& x, const PoolWindows& h, const PoolWindows& w) {
  check_floating("max_pool2d", x);
  check_plane("max_pool2d", x, h.in, w.in);
  const Shape out_shape = plane_shape("max_pool2d", x, h.out(), w.out());
  Array y(out_shape, x.dtype());
  Array idx(out_shape, kInt64);
  if (y.numel() == 0) return {y, idx};
  const Array xc = x.contiguous();
  const int64_t out_plane = h.out() * w.out();
  const int64_t in_plane = h.in * w.in;
  const int64_t planes = y.numel() / out_plane;
  dispatch_floating("max_pool2d", x.dtype(), [&]<typename T>() {
    const T* src = xc.data<T>();
    T* dst = y.data<T>();
    int64_t* at = idx.data<int64_t>();
    parallel_for(
        planes, planes_grain(in_plane),
        [&](int64_t begin, int64_t end) {
          max_pool_planes<T>(src + begin * in_plane, dst + begin * out_plane, at + begin * out_plane, end - begin, h,
                             w);
        },
        1);
  });
  return {y, idx};
}

Array max_pool2d_backward(const Array& dy, const Array& indices, const Shape& x_shape) {
  check_floating("max_pool2d_backward", dy);
  if (indices.shape() != dy.shape() || indices.dtype() != kInt64 || x_shape.size() != dy.shape().size() ||
      x_shape.size() < 2 || !std::equal(x_shape.begin(), x_shape.end() - 2, dy.shape().begin()))
    throw ShapeError("max_pool2d_backward: gradient " + to_string(dy.shape()) + " and int64 indices " +
                     to_string(indices.shape()) + " do not fit input shape " + to_string(x_shape));
  Array dx(x_shape, dy.dtype());
  const int64_t h = x_shape[x_shape.size() - 2];
  const int64_t w = x_shape.back();
  const int64_t oh = dy.shape()[dy.shape().size() - 2];
  const int64_t ow = dy.shape().back();
  const Array g = dy.contiguous();
  const Array ic = indices.contiguous();
  dispatch_floating("max_pool2d_backward", dy.dtype(), [&]<typename T>() {
    T* out = dx.data<T>();
    if (oh * ow == 0) {
      std::fill(out, out + dx.numel(), T(0));
      return;
    }
    const T* src = g.data<T>();
    const int64_t* at = ic.data<int64_t>();
    parallel_for(
        dy.numel() / (oh * ow), planes_grain(h * w),
        [&](int64_t begin, int64_t end) {
          max_scatter_planes(src + begin * oh * ow, at + begin * oh * ow, out + begin * h * w, end - begin, h, w, oh,
                             ow);
        },
        1);
  });
  return dx;
}

Array max_pool2d_gather(const Array& x, const Array& indices) {
  check_floating("max_pool2d", x);
  if (indices.dtype() != kInt64 || x.dim() < 2 || indices.dim() != x.dim() ||
      !std::equal(x.shape().begin(), x.shape().end() - 2, indices.shape().begin()))
    throw ShapeError("max_pool2d: int64 indices " + to_string(indices.shape()) + " do not fit input shape " +
                     to_string(x.shape()));
  Array y(indices.shape(), x.dtype());
  const int64_t in_plane = x.shape()[x.dim() - 2] * x.shape().back();
  const int64_t out_plane = indices.shape()[indices.dim() - 2] * indices.shape().back();
  if (y.numel() == 0) return y;
  const Array xc = x.contiguous();
  const Array ic = indices.contiguous();
  dispatch_floating("max_pool2d", x.dtype(), [&]<typename T>() {
    const T* src = xc.data<T>();
    const int64_t* at = ic.data<int64_t>();
    T* out = y.data<T>();
    const int64_t planes = y.numel() / out_plane;
    for (int64_t p = 0; p < planes; ++p, src += in_plane, out += out_plane, at += out_plane)
      for (int64_t k = 0; k < out_plane; ++k) out[k] = at[k] >= 0 ? src[at[k]] : T(0);
  });
  return y;
}

Array avg_pool2d(const Array& x, const PoolWindows& h, const PoolWindows& w) {
  check_floating("avg_pool2d", x);
  check_plane("avg_pool2d", x, h.in, w.in);
  Array y(plane_shape("avg_pool2d", x, h.out(), w.out()), x.dtype());
  if (y.numel() == 0) return y;
  const Array xc = x.contiguous();
  const int64_t planes = y.numel() / (h.out() * w.out());
  dispatch_floating("avg_pool2d", x.dtype(),
                    [&]<typename T>() { avg_pool_planes<T>(xc.data<T>(), y.data<T>(), planes, h, w); });
  return y;
}

Array avg_pool2d_backward(const Array& dy, const PoolWindows& h, const PoolWindows& w) {
  check_floating("avg_pool2d_backward", dy);
  check_plane("avg_pool2d_backward", dy, h.out(), w.out());
  Array dx(plane_shape("avg_pool2d_backward", dy, h.in, w.in), dy.dtype());
  if (dx.numel() == 0) return dx;
  const Array g = dy.contiguous();
  const int64_t planes = dx.numel() / (h.in * w.in);
  dispatch_floating("avg_pool2d_backward", dy.dtype(),
                    [&]<typename T>() { avg_pool_backward_planes<T>(g.data<T>(), dx.data<T>(), planes, h, w); });
  return dx;
}

// ---- resampling -----------------------------------------------------------------------------------------

ResampleTaps nearest_taps(int64_t in, int64_t out, double scale_factor) {
  ResampleTaps t;
  t.in = in;
  t.nearest = true;
  // PyTorch computes the source index in float.
  const float scale = static_cast<float>(source_scale(in, out, scale_factor));
  for (int64_t i = 0; i < out; ++i) {
    // As PyTorch: equal sizes copy and doubling shifts, whatever the scale factor says.
    int64_t src = std::min(static_cast<int64_t>(std::floor(static_cast<float>(i) * scale)), in - 1);
    if (out == in) src = i;
    if (out == 2 * in) src = i / 2;
    t.i0.push_back(src);
    t.i1.push_back(src);
    t.l0.push_back(1.0);
    t.l1.push_back(0.0);
  }
  return t;
}

ResampleTaps linear_taps(int64_t in, int64_t out, double scale_factor, bool align_corners) {
  ResampleTaps t;
  t.in = in;
  double scale;
  if (align_corners)
    scale = out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  else
    scale = source_scale(in, out, scale_factor);
  for (int64_t i = 0; i < out; ++i) {
    double src = align_corners ? scale * static_cast<double>(i) : scale * (static_cast<double>(i) + 0.5) - 0.5;
    if (src < 0) src = 0;
    const int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);
    const int64_t i1 = std::min(i0 + 1, in - 1);
    const double l1 = std::min(src - static_cast<double>(i0), 1.0);
    t.i0.push_back(i0);
    t.i1.push_back(i1);
    t.l0.push_back(1.0 - l1);
    t.l1.push_back(l1);
  }
  return t;
}

Array resample2d(const Array& x, const ResampleTaps& h, const ResampleTaps& w) {
  check_floating("upsample", x);
  check_plane("upsample", x, h.in, w.in);
  Array y(plane_shape("upsample", x, h.out(), w.out()), x.dtype());
  if (y.numel() == 0) return y;
  const Array xc = x.contiguous();
  const int64_t planes = y.numel() / (h.out() * w.out());
  dispatch_floating("upsample", x.dtype(),
                    [&]<typename T>() { resample_planes<T>(xc.data<T>(), y.data<T>(), planes, h, w); });
  return y;
}

Array resample2d_backward(const Array& dy, const ResampleTaps& h, const ResampleTaps& w) {
  check_floating("upsample_backward", dy);
  check_plane("upsample_backward", dy, h.out(), w.out());
  Array dx(plane_shape("upsample_backward", dy, h.in, w.in), dy.dtype());
  if (dx.numel() == 0) return dx;
  const Array g = dy.contiguous();
  const int64_t planes = dx.numel() / (h.in * w.in);
  dispatch_floating("upsample_backward", dy.dtype(),
                    [&]<typename T>() { resample_backward_planes<T>(g.data<T>(), dx.data<T>(), planes, h, w); });
  return dx;
}

// ---- padding ------------------------------------------------------------------------------------------

Array pad(const Array& x, const std::vector<int64_t>& pads, double value) {
  if (!x.defined()) throw ValueError("pad: input is undefined");
  if (pads.size() % 2 != 0 || static_cast<int64_t>(pads.size()) > 2 * x.dim())
    throw ValueError("pad: expected an even number of pads, at most 2 per dim, got " + to_string(pads) + " for shape " +
                     to_string(x.shape()));
  Shape out_shape = x.shape();
  const int64_t npad = static_cast<int64_t>(pads.size()) / 2;
  for (int64_t k = 0; k < npad; ++k) {
    const int64_t d = x.dim() - 1 - k;
    out_shape[d] += pads[2 * k] + pads[2 * k + 1];
    if (out_shape[d] < 0)
      throw ShapeError("pad: pads " + to_string(pads) + " give dim " + std::to_string(d) + " of shape " +
                       to_string(x.shape()) + " a negative size " + std::to_string(out_shape[d]));
  }
  Array out(out_shape, x.dtype());
  if (out.numel() == 0) return out;
  // The part of x that survives the crops lands in the part of out inside the pads.
  Array src = x;
  Array dst = out;
  bool overlap = true;
  bool padded = false;
  for (int64_t k = 0; k < npad && overlap; ++k) {
    const int64_t d = x.dim() - 1 - k;
    const int64_t left = pads[2 * k];
    const int64_t right = pads[2 * k + 1];
    const int64_t lo = std::max<int64_t>(0, -left);
    const int64_t hi = x.shape()[d] - std::max<int64_t>(0, -right);
    padded |= left > 0 || right > 0;
    if (hi <= lo) {
      overlap = false;
      break;
    }
    src = src.slice(d, lo, hi);
    const int64_t at = std::max<int64_t>(0, left);
    dst = dst.slice(d, at, at + (hi - lo));
  }
  if (padded || !overlap) fill_(out, value);
  if (overlap) copy_(dst, src);
  return out;
}

}  // namespace xgrad::kernels
