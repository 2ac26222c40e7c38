// Direct SIMD convolution for stride 1 (any kernel, padding < kernel), without im2col or BLAS.
//
// "Wide" output: a sample's input channels are copied into zero-padded planes of row length
// wp = w + 2 pw, and output position q = oy * wp + ox is computed for every ox < wp, not only ox < ow.
// Then tap (a, b) of every output reads the padded plane at q + a * wp + b: for a run of
// consecutive q the inputs are one contiguous run too, so a register tile of R output channels x
// 2 SIMD vectors of positions is a chain of multiply-adds on plain vector loads and broadcast
// weights, with no column matrix. The wp - ow junk positions per row (2 of 16 for 3x3 on 14x14)
// are computed and dropped when the tile is copied out (with the bias).
//   forward      y  = wide conv of x with w                        (c_in -> c_out)
//   input grad   dx = wide conv of dy, padding k - 1 - p, with w transposed and flipped (c_out -> c_in)
//   weight grad  dw[co, (ci, a, b)] = sum over valid q of dy[co, q] x_pad[ci, q + a wp + b]: a tile of
//                R taps x 2 vectors of output channels over dy transposed to [q, co] (no junk here).
// Threads: xgrad's workers (parallel_for) take samples in turn, each with its own scratch; the
// weight gradient sums fixed groups of samples separately and adds the groups in order, so results
// do not depend on the thread count. BLAS is never called here: its threads stay asleep and
// nothing oversubscribes the cores (the strategy is "xgrad threads over samples", never BLAS
// threads inside them).
#include "conv_direct.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/tensor/parallel.hpp"
#include "xtensor_private.hpp"

namespace xgrad::kernels::detail {
namespace {

template <typename T> using Vec = xsimd::batch<T>;
template <typename T> constexpr int64_t kLanes = static_cast<int64_t>(Vec<T>::size);
// Register tile: R rows x 2 vectors. 8 rows take 16 accumulators of AVX-512's 32 registers; with 16
// registers (AVX2 and below) 4 rows leave room for the operands.
template <typename T> constexpr int kRows = sizeof(Vec<T>) >= 64 ? 8 : 4;
template <typename T> constexpr int64_t kCols = 2 * kLanes<T>;

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Per-thread scratch, kept between calls (up to kKeep bytes): a training step's convolutions then
// reuse warm pages instead of faulting in fresh ones that free() handed back to the system (a first
// touch costs microseconds per page on this VM). Slots 0 and 1 belong to the workers (padded input,
// wide output or transposed dy), slot 2 to the calling thread (packed weights, gradient groups).
template <typename T> class Scratch {
 public:
  // n elements, all zero when `zero`, otherwise unspecified.
  Scratch(int slot, int64_t n, bool zero) {
    std::vector<T>& kept = kept_[slot];
    std::vector<T>& buffer = static_cast<size_t>(n) * sizeof(T) <= kKeep ? kept : own_;
    if (buffer.size() < static_cast<size_t>(n)) buffer.resize(static_cast<size_t>(n));
    data_ = buffer.data();
    if (zero) std::fill(data_, data_ + n, T(0));
  }
  T* data() const { return data_; }

 private:
  static constexpr size_t kKeep = size_t(4) << 20;
  static thread_local std::vector<T> kept_[3];
  std::vector<T> own_;
  T* data_ = nullptr;
};
template <typename T> thread_local std::vector<T> Scratch<T>::kept_[3];

// dst[0:n] = src[0:n] (+ b when `add`). Rows here are short (14, 28): with AVX-512 the tail is one
// vector, and a whole one where it stays below src_end / dst_end (a masked load or store of a line
// that is not cached costs a trip to memory first). Rows are copied in increasing order, so what a
// whole store puts past a row is rewritten by the next.
template <bool add, typename T>
inline void copy_row(const T* src, int64_t n, T b, T* dst, const T* src_end, const T* dst_end) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    const __m512 bv = _mm512_set1_ps(b);
    for (int64_t j = 0; j < n; j += 16) {
      const __mmask16 m = static_cast<__mmask16>(n - j >= 16 ? 0xffff : (1u << (n - j)) - 1);
      __m512 v = src + j + 16 <= src_end ? _mm512_loadu_ps(src + j) : _mm512_maskz_loadu_ps(m, src + j);
      if (add) v = _mm512_add_ps(v, bv);
      _mm512_mask_storeu_ps(dst + j, dst + j + 16 <= dst_end ? 0xffff : m, v);
    }
    return;
  }
#endif
  (void)src_end;
  (void)dst_end;
  for (int64_t j = 0; j < n; ++j) dst[j] = add ? src[j] + b : src[j];
}

// dst [rows, stride] row r, columns [0, n) = src row r (row stride n), reading below src_end; the
// padding around the rows in dst is left alone.
template <typename T>
inline void copy_rows(const T* src, int64_t rows, int64_t n, T* dst, int64_t stride, const T* src_end) {
  for (int64_t r = 0; r < rows; ++r, src += n, dst += stride) copy_row<false>(src, n, T(0), dst, src_end, dst + n);
}

template <int N, typename F> inline void unroll(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) { (f(std::integral_constant<int, I>{}), ...); }
  (std::make_integer_sequence<int, N>{});
}

// Runs worker(take) on up to min(threads, tasks) threads; each calls take() for task indices until
// one is >= tasks. Tasks are taken in turn rather than split in advance: a worker that the OS
// delays (the machine is shared) holds up the others by one task at most, not by its whole share.
template <typename F> void over_tasks(int64_t tasks, F&& worker) {
  std::atomic<int64_t> next{0};
  const auto take = [&next] { return next.fetch_add(1, std::memory_order_relaxed); };
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(get_num_threads(), tasks));
  if (parts == 1) return worker(take);
  parallel_for(
      parts, 1,
      [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) worker(take);
      },
      1);
}

// ---- wide convolution (forward and input gradient) ---------------------------------------------------

// One wide convolution: c planes h x w in, m planes oh x ow out (the natural size for padding ph, pw).
struct Wide {
  int64_t c, h, w, ph, pw, kh, kw, m, oh, ow;
  int64_t wp;     // padded row length w + 2 pw
  int64_t q;      // computed positions: oh * wp rounded up to whole tiles
  int64_t plane;  // padded plane stride: every read q + (kh - 1) wp + kw - 1 stays inside
  int64_t k;      // taps: c kh kw
  int64_t mp;     // m rounded up to whole row tiles

  template <typename T>
  static Wide make(int64_t c, int64_t h, int64_t w, int64_t ph, int64_t pw, int64_t kh, int64_t kw, int64_t m) {
    Wide s{c, h, w, ph, pw, kh, kw, m, h + 2 * ph - kh + 1, w + 2 * pw - kw + 1, w + 2 * pw, 0, 0, c * kh * kw, 0};
    s.q = round_up(s.oh * s.wp, kCols<T>);
    s.plane = round_up(std::max(s.q + (kh - 1) * s.wp + kw - 1, (h + 2 * ph) * s.wp), kLanes<T>);
    s.mp = round_up(m, kRows<T>);
    return s;
  }
  // Share of the computed multiply-adds that are thrown away (junk columns, padded rows).
  double waste() const { return 1.0 - static_cast<double>(m * oh * ow) / static_cast<double>(mp * q); }
};

// out[r, 0:2V] (r < R, row stride ldo) = sum over taps t of wpk[t, r] * in[offs[t] + 0:2V].
template <typename T, int R>
inline void wide_tile(const T* wpk, const int64_t* offs, int64_t k, const T* in, T* out, int64_t ldo) {
  using V = Vec<T>;
  constexpr int64_t L = kLanes<T>;
  V acc[R][2];
  unroll<R>([&](auto r) { acc[r][0] = acc[r][1] = V(T(0)); });
  for (int64_t t = 0; t < k; ++t) {
    const T* b = in + offs[t];
    const V b0 = V::load_unaligned(b);
    const V b1 = V::load_unaligned(b + L);
    const T* a = wpk + t * R;
    unroll<R>([&](auto r) {
      const V ar(a[r]);
      acc[r][0] = xsimd::fma(ar, b0, acc[r][0]);
      acc[r][1] = xsimd::fma(ar, b1, acc[r][1]);
    });
  }
  unroll<R>([&](auto r) {
    acc[r][0].store_unaligned(out + r * ldo);
    acc[r][1].store_unaligned(out + r * ldo + L);
  });
}

// out [n, m, oh, ow] = wide convolution of in [n, c, h, w] with the packed weights wpk [mp / R, k, R]
// (tap t = (ci * kh + a) * kw + b), plus bias [m] when given.
template <typename T> void wide_conv(const Wide& s, int64_t n, const T* in, const T* wpk, const T* bias, T* out) {
  constexpr int R = kRows<T>;
  std::vector<int64_t> offs(static_cast<size_t>(s.k));
  for (int64_t ci = 0; ci < s.c; ++ci)
    for (int64_t a = 0; a < s.kh; ++a)
      for (int64_t b = 0; b < s.kw; ++b)
        offs[static_cast<size_t>((ci * s.kh + a) * s.kw + b)] = ci * s.plane + a * s.wp + b;
  over_tasks(n, [&](const auto& take) {
    const Scratch<T> pad(0, s.c * s.plane, true);  // the borders stay zero
    const Scratch<T> wide(1, s.mp * s.q, false);
    const T* in_end = in + n * s.c * s.h * s.w;
    const T* wide_end = wide.data() + s.mp * s.q;
    for (int64_t i = take(); i < n; i = take()) {
      const T* src = in + i * s.c * s.h * s.w;
      for (int64_t ci = 0; ci < s.c; ++ci)
        copy_rows(src + ci * s.h * s.w, s.h, s.w, pad.data() + ci * s.plane + s.ph * s.wp + s.pw, s.wp, in_end);
      // Position tiles outside, channel tiles inside: a tile's input rows stay in L1 for every
      // channel tile, the packed weights (k R values per tile) come from L2.
      for (int64_t p0 = 0; p0 < s.q; p0 += kCols<T>)
        for (int64_t m0 = 0; m0 < s.mp; m0 += R)
          wide_tile<T, R>(wpk + m0 * s.k, offs.data(), s.k, pad.data() + p0, wide.data() + m0 * s.q + p0, s.q);
      T* dst = out + i * s.m * s.oh * s.ow;
      const T* dst_end = dst + s.m * s.oh * s.ow;  // the next sample may be another worker's
      for (int64_t m = 0; m < s.m; ++m)
        for (int64_t y = 0; y < s.oh; ++y) {
          const T* row = wide.data() + m * s.q + y * s.wp;
          T* o = dst + (m * s.oh + y) * s.ow;
          bias ? copy_row<true>(row, s.ow, bias[m], o, wide_end, dst_end)
               : copy_row<false>(row, s.ow, T(0), o, wide_end, dst_end);
        }
    }
  });
}

// ---- weight gradient --------------------------------------------------------------------------------

// acc[r, 0:2V] += sum over valid positions (y, x) of xs[r][y wp + x] * dyt[(y ow + x) ldd + 0:2V].
template <typename T, int R> inline void weight_tile(const T* const* xs, const T* dyt, int64_t ldd, int64_t oh,
                                                     int64_t ow, int64_t wp, T* acc_out, int64_t lda) {
  using V = Vec<T>;
  constexpr int64_t L = kLanes<T>;
  V acc[R][2];
  unroll<R>([&](auto r) {
    acc[r][0] = V::load_unaligned(acc_out + r * lda);
    acc[r][1] = V::load_unaligned(acc_out + r * lda + L);
  });
  const T* x[R];
  unroll<R>([&](auto r) { x[r] = xs[r]; });
  for (int64_t y = 0; y < oh; ++y) {
    const T* d = dyt + y * ow * ldd;
    const int64_t q = y * wp;
    for (int64_t j = 0; j < ow; ++j, d += ldd) {
      const V d0 = V::load_unaligned(d);
      const V d1 = V::load_unaligned(d + L);
      unroll<R>([&](auto r) {
        const V a(x[r][q + j]);
        acc[r][0] = xsimd::fma(a, d0, acc[r][0]);
        acc[r][1] = xsimd::fma(a, d1, acc[r][1]);
      });
    }
  }
  unroll<R>([&](auto r) {
    acc[r][0].store_unaligned(acc_out + r * lda);
    acc[r][1].store_unaligned(acc_out + r * lda + L);
  });
}

template <typename T>
using WeightTile = void (*)(const T* const*, const T*, int64_t, int64_t, int64_t, int64_t, T*, int64_t);

// weight_tile for 1 .. kRows rows (the last tile of taps may be short).
template <typename T> WeightTile<T> weight_tile_for(int rows) {
  static const auto table = []<int... I>(std::integer_sequence<int, I...>) {
    return std::array<WeightTile<T>, sizeof...(I)>{&weight_tile<T, I + 1>...};
  }
  (std::make_integer_sequence<int, kRows<T>>{});
  return table[static_cast<size_t>(rows - 1)];
}

#if defined(__AVX512F__)
// dst [16, ldd] = src [16, lds] transposed, in registers: pairs of rows interleaved by 1, then by 2
// floats, then 128-bit lanes exchanged twice.
inline void transpose16(const float* src, int64_t lds, float* dst, int64_t ldd) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * lds);
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  const auto lo = [](__m512 a, __m512 b) {
    return _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
  };
  const auto hi = [](__m512 a, __m512 b) {
    return _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
  };
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = lo(t[4 * i], t[4 * i + 2]);
    r[4 * i + 1] = hi(t[4 * i], t[4 * i + 2]);
    r[4 * i + 2] = lo(t[4 * i + 1], t[4 * i + 3]);
    r[4 * i + 3] = hi(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int j = 0; j < 4; ++j) {
    t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
    t[j + 4] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd);
    t[j + 8] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
    t[j + 12] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
  }
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd);
    r[j + 4] = _mm512_shuffle_f32x4(t[j + 4], t[j + 12], 0x88);
    r[j + 12] = _mm512_shuffle_f32x4(t[j + 4], t[j + 12], 0xdd);
  }
  for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + i * ldd, r[i]);
}
#endif

// dst [cols, ldd] = src [rows, cols] transposed, in 16 x 16 blocks.
template <typename T> void transpose(const T* src, int64_t rows, int64_t cols, T* dst, int64_t ldd) {
  constexpr int64_t B = 16;
  for (int64_t r0 = 0; r0 < rows; r0 += B)
    for (int64_t c0 = 0; c0 < cols; c0 += B) {
      const int64_t r1 = std::min(rows, r0 + B);
      const int64_t c1 = std::min(cols, c0 + B);
#if defined(__AVX512F__)
      if constexpr (std::is_same_v<T, float>) {
        if (r1 - r0 == B && c1 - c0 == B) {
          transpose16(src + r0 * cols + c0, cols, dst + c0 * ldd + r0, ldd);
          continue;
        }
      }
#endif
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t r = r0; r < r1; ++r) dst[c * ldd + r] = src[r * cols + c];
    }
}

// Output channels rounded up to whole column tiles.
template <typename T> int64_t padded_channels(int64_t c) { return round_up(c, kCols<T>); }

// Geometry that every direct kernel needs.
bool direct_shape(const ConvGeometry& g) {
  return g.groups == 1 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.ph < g.kh && g.pw < g.kw &&
         g.kh * g.kw > 1 && g.oh == conv_output_size(g.h, g.kh, 1, g.ph, 1) &&
         g.ow == conv_output_size(g.w, g.kw, 1, g.pw, 1) && g.n > 0;
}

constexpr int64_t kWeightGroups = 8;                  // sample groups of the weight gradient (see there)
constexpr int64_t kMaxWeightAccumulator = 256 << 10;  // bytes of one group's weight gradient
constexpr double kMaxWaste = 0.25;                    // beyond this share of wasted multiply-adds, im2col + GEMM wins

}  // namespace

template <typename T> bool direct_forward_fits(const ConvGeometry& g) {
  return direct_shape(g) && Wide::make<T>(g.c_in, g.h, g.w, g.ph, g.pw, g.kh, g.kw, g.c_out).waste() <= kMaxWaste;
}

template <typename T> bool direct_input_grad_fits(const ConvGeometry& g) {
  return direct_shape(g) &&
         Wide::make<T>(g.c_out, g.oh, g.ow, g.kh - 1 - g.ph, g.kw - 1 - g.pw, g.kh, g.kw, g.c_in).waste() <= kMaxWaste;
}

template <typename T> bool direct_weight_grad_fits(const ConvGeometry& g) {
  // Every sample reloads the tiles of its group's accumulator: beyond L2 (a 3x3 layer of more than
  // ~100 channels) that costs more than im2col + GEMM (half the speed at 128 channels, a quarter at
  // 256, measured).
  const int64_t cp = padded_channels<T>(g.c_out);
  return direct_shape(g) && static_cast<double>(cp - g.c_out) <= kMaxWaste * static_cast<double>(cp) &&
         g.c_in * g.kh * g.kw * cp * static_cast<int64_t>(sizeof(T)) <= kMaxWeightAccumulator;
}

template <typename T> void direct_conv_forward(const T* x, const T* w, const T* bias, T* y, const ConvGeometry& g) {
  constexpr int R = kRows<T>;
  const Wide s = Wide::make<T>(g.c_in, g.h, g.w, g.ph, g.pw, g.kh, g.kw, g.c_out);
  // wpk[m0 / R, t, r] = w[m0 + r, t] (zero past c_out)
  const Scratch<T> wpk(2, s.mp * s.k, true);
  for (int64_t m = 0; m < s.m; ++m)
    for (int64_t t = 0; t < s.k; ++t) wpk.data()[(m / R * s.k + t) * R + m % R] = w[m * s.k + t];
  wide_conv(s, g.n, x, wpk.data(), bias, y);
}

template <typename T>
void direct_conv_input_grad(const T* dy, const T* w, const T* bias, T* dx, const ConvGeometry& g) {
  constexpr int R = kRows<T>;
  const Wide s = Wide::make<T>(g.c_out, g.oh, g.ow, g.kh - 1 - g.ph, g.kw - 1 - g.pw, g.kh, g.kw, g.c_in);
  // The adjoint is a convolution of dy with w transposed in channels and flipped in space:
  // wpk[ci / R, (co, a, b), r] = w[co, ci + r, kh - 1 - a, kw - 1 - b].
  const Scratch<T> wpk(2, s.mp * s.k, true);
  for (int64_t ci = 0; ci < g.c_in; ++ci)
    for (int64_t co = 0; co < g.c_out; ++co)
      for (int64_t a = 0; a < g.kh; ++a)
        for (int64_t b = 0; b < g.kw; ++b) {
          const int64_t t = (co * g.kh + a) * g.kw + b;
          wpk.data()[(ci / R * s.k + t) * R + ci % R] =
              w[((co * g.c_in + ci) * g.kh + g.kh - 1 - a) * g.kw + g.kw - 1 - b];
        }
  wide_conv(s, g.n, dy, wpk.data(), bias, dx);
}

template <typename T> void direct_conv_weight_grad(const T* x, const T* dy, T* dw, const ConvGeometry& g) {
  constexpr int R = kRows<T>;
  const Wide s = Wide::make<T>(g.c_in, g.h, g.w, g.ph, g.pw, g.kh, g.kw, g.c_out);
  const int64_t cp = padded_channels<T>(g.c_out);
  const int64_t l = g.oh * g.ow;
  // Fixed groups of samples, each summed into its own acc[group][t, co] (dw transposed: taps
  // t = (ci, a, b) in rows, channels padded to cp), the groups then added in order: the result does
  // not depend on the thread count or on which thread took which group.
  const int64_t groups = std::min<int64_t>(g.n, kWeightGroups);
  const Scratch<T> acc(2, groups * s.k * cp, false);
  over_tasks(groups, [&](const auto& take) {
    const Scratch<T> pad(0, s.c * s.plane, true);
    const Scratch<T> dyt(1, l * cp, cp != g.c_out);  // the padding channels stay zero
    const T* in_end = x + g.n * s.c * s.h * s.w;
    std::vector<const T*> rows(static_cast<size_t>(s.k));
    for (int64_t ci = 0; ci < s.c; ++ci)
      for (int64_t a = 0; a < s.kh; ++a)
        for (int64_t b = 0; b < s.kw; ++b)
          rows[static_cast<size_t>((ci * s.kh + a) * s.kw + b)] = pad.data() + ci * s.plane + a * s.wp + b;
    for (int64_t group = take(); group < groups; group = take()) {
      T* sum = acc.data() + group * s.k * cp;
      std::fill(sum, sum + s.k * cp, T(0));
      for (int64_t i = g.n * group / groups; i < g.n * (group + 1) / groups; ++i) {
        const T* src = x + i * s.c * s.h * s.w;
        for (int64_t ci = 0; ci < s.c; ++ci)
          copy_rows(src + ci * s.h * s.w, s.h, s.w, pad.data() + ci * s.plane + s.ph * s.wp + s.pw, s.wp, in_end);
        transpose(dy + i * g.c_out * l, g.c_out, l, dyt.data(), cp);
        for (int64_t t0 = 0; t0 < s.k; t0 += R) {
          const WeightTile<T> tile = weight_tile_for<T>(static_cast<int>(std::min<int64_t>(R, s.k - t0)));
          for (int64_t c0 = 0; c0 < cp; c0 += kCols<T>)
            tile(rows.data() + t0, dyt.data() + c0, cp, g.oh, g.ow, s.wp, sum + t0 * cp + c0, cp);
        }
      }
    }
  });
  for (int64_t co = 0; co < g.c_out; ++co)
    for (int64_t t = 0; t < s.k; ++t) {
      T v = T(0);
      for (int64_t group = 0; group < groups; ++group) v += acc.data()[(group * s.k + t) * cp + co];
      dw[co * s.k + t] = v;
    }
}

#define XGRAD_DIRECT_CONV(T)                                                                      \
  template bool direct_forward_fits<T>(const ConvGeometry&);                                      \
  template bool direct_input_grad_fits<T>(const ConvGeometry&);                                   \
  template bool direct_weight_grad_fits<T>(const ConvGeometry&);                                  \
  template void direct_conv_forward<T>(const T*, const T*, const T*, T*, const ConvGeometry&);    \
  template void direct_conv_input_grad<T>(const T*, const T*, const T*, T*, const ConvGeometry&); \
  template void direct_conv_weight_grad<T>(const T*, const T*, T*, const ConvGeometry&);
XGRAD_DIRECT_CONV(float)
XGRAD_DIRECT_CONV(double)
#undef XGRAD_DIRECT_CONV

}  // namespace xgrad::kernels::detail
