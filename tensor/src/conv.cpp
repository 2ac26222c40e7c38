// Convolution through BLAS GEMM. Per sample and group, im2col unfolds the input windows into a
// column matrix col [c_in/groups * kh * kw, oh * ow] in one buffer reused for the whole batch (a
// Storage block, recycled across steps), and then
//   forward        y_n  = W @ col_n                      (written straight into NCHW)
//   input grad     col  = W^T @ dy_n, then col2im adds the columns back onto the input positions
//   weight grad    dW  += dy_n @ col_n^T                 (beta = 1 accumulates over the batch)
// A per-sample column block stays in cache between im2col and GEMM, and the output needs no
// transposition, which beats one batch-wide GEMM on [K, N * oh * ow] followed by a permute.
// 1x1 convolutions with stride 1 and no padding use the input itself as the column matrix.
// Stride-1 convolutions with a wide enough plane and 8+ channels (3x3 / padding 1 in a CNN) skip all
// of this: conv_direct.cpp computes them with SIMD register tiles straight from padded planes.
#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <cblas.h>

#include "conv_direct.hpp"
#include "xgrad/tensor/conv_kernels.hpp"
#include "xgrad/tensor/error.hpp"

namespace xgrad::kernels {
namespace {

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
          float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b, int64_t ldb,
          double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

// Output positions o in [lo, hi) read input index offset + o * stride inside [0, in).
struct Range {
  int64_t offset = 0;
  int64_t lo = 0;
  int64_t hi = 0;
};

Range valid_range(int64_t offset, int64_t stride, int64_t in, int64_t out) {
  int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int64_t hi = offset >= in ? 0 : (in - 1 - offset) / stride + 1;
  lo = std::min(lo, out);
  hi = std::max(std::min(hi, out), lo);
  return {offset, lo, hi};
}

// What every kernel derives from a geometry once.
struct Plan {
  int64_t cig, cog;               // channels per group
  int64_t k;                      // rows of the column matrix: cig * kh * kw
  int64_t l;                      // output positions per sample: oh * ow
  bool pointwise;                 // the input is its own column matrix
  std::vector<Range> rows, cols;  // per kernel row a / column b

  explicit Plan(const ConvGeometry& g)
      : cig(g.c_in / g.groups),
        cog(g.c_out / g.groups),
        k(cig * g.kh * g.kw),
        l(g.oh * g.ow),
        pointwise(g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && g.oh == g.h &&
                  g.ow == g.w) {
    for (int64_t a = 0; a < g.kh; ++a) rows.push_back(valid_range(a * g.dh - g.ph, g.sh, g.h, g.oh));
    for (int64_t b = 0; b < g.kw; ++b) cols.push_back(valid_range(b * g.dw - g.pw, g.sw, g.w, g.ow));
  }
};

// col [cig * kh * kw, oh * ow] from one group of one sample x [cig, h, w].
template <typename T> void im2col(const T* x, const ConvGeometry& g, const Plan& p, T* col) {
  const int64_t ow = g.ow;
  for (int64_t c = 0; c < p.cig; ++c) {
    const T* xc = x + c * g.h * g.w;
    for (int64_t a = 0; a < g.kh; ++a) {
      const Range& ry = p.rows[a];
      for (int64_t b = 0; b < g.kw; ++b) {
        const Range& rx = p.cols[b];
        T* row = col + ((c * g.kh + a) * g.kw + b) * p.l;
        std::fill(row, row + ry.lo * ow, T(0));
        for (int64_t oy = ry.lo; oy < ry.hi; ++oy) {
          const T* src = xc + (ry.offset + oy * g.sh) * g.w;
          T* dst = row + oy * ow;
          std::fill(dst, dst + rx.lo, T(0));
          if (g.sw == 1) {
            std::memcpy(dst + rx.lo, src + rx.offset + rx.lo, static_cast<size_t>(rx.hi - rx.lo) * sizeof(T));
          } else {
            for (int64_t ox = rx.lo; ox < rx.hi; ++ox) dst[ox] = src[rx.offset + ox * g.sw];
          }
          std::fill(dst + rx.hi, dst + ow, T(0));
        }
        std::fill(row + ry.hi * ow, row + p.l, T(0));
      }
    }
  }
}

// dx [cig, h, w] += the columns of col put back on the input positions they were read from.
template <typename T> void col2im(const T* col, const ConvGeometry& g, const Plan& p, T* dx) {
  const int64_t ow = g.ow;
  for (int64_t c = 0; c < p.cig; ++c) {
    T* xc = dx + c * g.h * g.w;
    for (int64_t a = 0; a < g.kh; ++a) {
      const Range& ry = p.rows[a];
      for (int64_t b = 0; b < g.kw; ++b) {
        const Range& rx = p.cols[b];
        const T* row = col + ((c * g.kh + a) * g.kw + b) * p.l;
        for (int64_t oy = ry.lo; oy < ry.hi; ++oy) {
          T* dst = xc + (ry.offset + oy * g.sh) * g.w + rx.offset;
          const T* src = row + oy * ow;
          if (g.sw == 1) {
#pragma omp simd
            for (int64_t ox = rx.lo; ox < rx.hi; ++ox) dst[ox] += src[ox];
          } else {
            for (int64_t ox = rx.lo; ox < rx.hi; ++ox) dst[ox * g.sw] += src[ox];
          }
        }
      }
    }
  }
}

// The [k, l] column block of a plan, or none for a pointwise one (which reads its input as is).
template <typename T> struct ColumnBuffer {
  explicit ColumnBuffer(const Plan& p)
      : array(p.pointwise ? Array() : Array({p.k, p.l}, dtype_v<T>)), data(p.pointwise ? nullptr : array.data<T>()) {}
  Array array;
  T* data;
};

// Each of `channels` rows of length len starts as bias[c] (or 0).
template <typename T> void fill_rows(T* out, int64_t channels, int64_t len, const T* bias) {
  for (int64_t c = 0; c < channels; ++c) std::fill(out + c * len, out + (c + 1) * len, bias ? bias[c] : T(0));
}

template <typename T> void conv_forward(const T* x, const T* w, const T* bias, T* y, const ConvGeometry& g) {
  if (detail::direct_forward_fits<T>(g)) return detail::direct_conv_forward(x, w, bias, y, g);
  const Plan p(g);
  ColumnBuffer<T> columns(p);
  T* col = columns.data;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      const T* xg = x + (n * g.c_in + gi * p.cig) * g.h * g.w;
      T* yg = y + (n * g.c_out + gi * p.cog) * p.l;
      if (!p.pointwise) im2col(xg, g, p, col);
      if (bias) fill_rows(yg, p.cog, p.l, bias + gi * p.cog);
      gemm(false, false, p.cog, p.l, p.k, w + gi * p.cog * p.k, p.k, p.pointwise ? xg : col, p.l, bias ? T(1) : T(0),
           yg, p.l);
    }
}

template <typename T> void conv_input_grad(const T* dy, const T* w, const T* bias, T* dx, const ConvGeometry& g) {
  if (detail::direct_input_grad_fits<T>(g)) return detail::direct_conv_input_grad(dy, w, bias, dx, g);
  const Plan p(g);
  ColumnBuffer<T> columns(p);
  T* col = columns.data;
  const int64_t plane = g.h * g.w;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      const T* dyg = dy + (n * g.c_out + gi * p.cog) * p.l;
      const T* wg = w + gi * p.cog * p.k;
      T* dxg = dx + (n * g.c_in + gi * p.cig) * plane;
      const T* bg = bias ? bias + gi * p.cig : nullptr;
      if (p.pointwise) {  // dx_n = W^T dy_n directly
        if (bg) fill_rows(dxg, p.cig, plane, bg);
        gemm(true, false, p.cig, p.l, p.cog, wg, p.k, dyg, p.l, bg ? T(1) : T(0), dxg, plane);
        continue;
      }
      gemm(true, false, p.k, p.l, p.cog, wg, p.k, dyg, p.l, T(0), col, p.l);
      fill_rows(dxg, p.cig, plane, bg);
      col2im(col, g, p, dxg);
    }
}

template <typename T> void conv_weight_grad(const T* x, const T* dy, T* dw, const ConvGeometry& g) {
  const Plan p(g);
  if (g.n == 0 || p.l == 0) {
    std::fill(dw, dw + g.c_out * p.k, T(0));
    return;
  }
  if (detail::direct_weight_grad_fits<T>(g)) return detail::direct_conv_weight_grad(x, dy, dw, g);
  ColumnBuffer<T> columns(p);
  T* col = columns.data;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      const T* xg = x + (n * g.c_in + gi * p.cig) * g.h * g.w;
      const T* dyg = dy + (n * g.c_out + gi * p.cog) * p.l;
      if (!p.pointwise) im2col(xg, g, p, col);
      gemm(false, true, p.cog, p.k, p.l, dyg, p.l, p.pointwise ? xg : col, p.l, n == 0 ? T(0) : T(1),
           dw + gi * p.cog * p.k, p.k);
    }
}

// ---- checks ---------------------------------------------------------------------------------------

void check_geometry(std::string_view op, const ConvGeometry& g) {
  const bool positive = g.n >= 0 && g.c_in > 0 && g.h > 0 && g.w > 0 && g.c_out > 0 && g.kh > 0 && g.kw > 0 &&
                        g.oh > 0 && g.ow > 0 && g.sh > 0 && g.sw > 0 && g.ph >= 0 && g.pw >= 0 && g.dh > 0 &&
                        g.dw > 0 && g.groups > 0;
  if (!positive || g.c_in % g.groups != 0 || g.c_out % g.groups != 0 ||
      g.oh > conv_output_size(g.h, g.kh, g.sh, g.ph, g.dh) || g.ow > conv_output_size(g.w, g.kw, g.sw, g.pw, g.dw))
    throw ValueError(std::string(op) + ": invalid geometry: input [" + std::to_string(g.n) + ", " +
                     std::to_string(g.c_in) + ", " + std::to_string(g.h) + ", " + std::to_string(g.w) + "], output [" +
                     std::to_string(g.n) + ", " + std::to_string(g.c_out) + ", " + std::to_string(g.oh) + ", " +
                     std::to_string(g.ow) + "], kernel [" + std::to_string(g.kh) + ", " + std::to_string(g.kw) +
                     "], groups " + std::to_string(g.groups));
}

void check_shape(std::string_view op, std::string_view what, const Array& a, const Shape& expected) {
  if (!a.defined()) throw ValueError(std::string(op) + ": " + std::string(what) + " is undefined");
  if (a.shape() != expected)
    throw ShapeError(std::string(op) + ": " + std::string(what) + " has shape " + to_string(a.shape()) + ", expected " +
                     to_string(expected));
}

void check_dtypes(std::string_view op, const Array& a, const Array& b) {
  if (!is_floating(a.dtype()))
    throw DTypeError(std::string(op) + ": expected a floating dtype (float32 or float64), got " +
                     std::string(dtype_name(a.dtype())));
  if (b.defined() && b.dtype() != a.dtype())
    throw DTypeError(std::string(op) + ": dtypes " + std::string(dtype_name(a.dtype())) + " and " +
                     std::string(dtype_name(b.dtype())) + " differ");
}

Shape input_shape(const ConvGeometry& g) { return {g.n, g.c_in, g.h, g.w}; }
Shape output_shape(const ConvGeometry& g) { return {g.n, g.c_out, g.oh, g.ow}; }
Shape weight_shape(const ConvGeometry& g) { return {g.c_out, g.c_in / g.groups, g.kh, g.kw}; }

// The checks conv2d and its input gradient share: geometry, the data operand, the weight and an
// optional bias of `bias_len` values, all of one floating dtype.
void check_operands(const char* op, const Array& data, const Shape& data_shape, const Array& weight, const Array& bias,
                    int64_t bias_len, const ConvGeometry& g) {
  check_geometry(op, g);
  check_shape(op, "input", data, data_shape);
  check_shape(op, "weight", weight, weight_shape(g));
  check_dtypes(op, data, weight);
  if (bias.defined()) {
    check_shape(op, "bias", bias, {bias_len});
    check_dtypes(op, data, bias);
  }
}

// conv2d (input -> output) or its input gradient (output -> input, which is conv_transpose2d):
// the shared checks, contiguous operands, and `run(data, weight, bias or nullptr, result)` in the
// operands' floating type.
template <typename Run> Array weight_product(const char* op, const Array& data, const Shape& data_shape,
                                             const Array& weight, const Array& bias, int64_t bias_len,
                                             const Shape& result_shape, const ConvGeometry& g, Run run) {
  check_operands(op, data, data_shape, weight, bias, bias_len, g);
  Array result(result_shape, data.dtype());
  const Array dc = data.contiguous();
  const Array wc = weight.contiguous();
  const Array bc = bias.defined() ? bias.contiguous() : Array{};
  dispatch_floating(op, data.dtype(), [&]<typename T>() {
    run(dc.data<T>(), wc.data<T>(), bc.defined() ? bc.data<T>() : nullptr, result.data<T>());
  });
  return result;
}

}  // namespace

int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

Array conv2d(const Array& x, const Array& weight, const Array& bias, const ConvGeometry& g) {
  return weight_product(
      "conv2d", x, input_shape(g), weight, bias, g.c_out, output_shape(g), g,
      [&](const auto* xp, const auto* wp, const auto* bp, auto* yp) { conv_forward(xp, wp, bp, yp, g); });
}

Array conv2d_input_grad(const Array& dy, const Array& weight, const Array& bias, const ConvGeometry& g) {
  return weight_product(
      "conv_transpose2d", dy, output_shape(g), weight, bias, g.c_in, input_shape(g), g,
      [&](const auto* dyp, const auto* wp, const auto* bp, auto* dxp) { conv_input_grad(dyp, wp, bp, dxp, g); });
}

Array conv2d_weight_grad(const Array& x, const Array& dy, const ConvGeometry& g) {
  check_geometry("conv2d_weight", g);
  check_shape("conv2d_weight", "input", x, input_shape(g));
  check_shape("conv2d_weight", "output gradient", dy, output_shape(g));
  check_dtypes("conv2d_weight", x, dy);
  Array dw(weight_shape(g), x.dtype());
  const Array xc = x.contiguous();
  const Array dyc = dy.contiguous();
  dispatch_floating("conv2d_weight", x.dtype(),
                    [&]<typename T>() { conv_weight_grad<T>(xc.data<T>(), dyc.data<T>(), dw.data<T>(), g); });
  return dw;
}

}  // namespace xgrad::kernels
