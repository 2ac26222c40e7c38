#pragma once
// Private (pool.cpp): AVX-512 rows of 2x2 / stride-2 max pooling in float32, forward and backward.
// Without AVX-512 pool.cpp uses its portable loops.
#include <algorithm>
#include <cstdint>

#if defined(__AVX512F__)
// GCC 12 warns "may be used uninitialized" inside its own AVX-512 intrinsics (the
// _mm512_undefined_* idiom); silenced around the include, where the warning is located.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

namespace xgrad::kernels::detail {

// 16 floats (8 int64) at p, or only the lanes in `mask` where a whole vector would pass `end`. A
// masked load is slow when its line is not cached (twice the time of the whole pooling pass on AMD
// Zen), while reading past a row into the next one is harmless.
inline __m512 load_ps(const float* p, __mmask16 mask, const float* end) {
  return p + 16 <= end ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(mask, p);
}
inline __m512i load_epi64(const int64_t* p, __mmask8 mask, const int64_t* end) {
  return p + 8 <= end ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi64(mask, p);
}

// One output row of 2x2 / stride-2 max pooling in float32, 16 outputs a step: each pair of input
// vectors is split into its even and odd columns (the window's left and right taps), then the four
// taps are taken in PyTorch's order (top-left, top-right, bottom-left, bottom-right). Indices are
// computed in int32 (the caller checks the plane fits) and widened on the store. Reads stay below `end`.
inline void max_pairs_row(const float* r0, const float* r1, const float* end, int64_t ow, int32_t base, int32_t w,
                          float* y, int64_t* idx) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int64_t j0 = 0; j0 < ow; j0 += 16) {
    const int64_t n = std::min<int64_t>(16, ow - j0);
    const uint32_t in_mask = n == 16 ? ~0u : (1u << (2 * n)) - 1;
    const __mmask16 lo = static_cast<__mmask16>(in_mask), hi = static_cast<__mmask16>(in_mask >> 16);
    const __m512 t0 = load_ps(r0 + 2 * j0, lo, end), t1 = load_ps(r0 + 2 * j0 + 16, hi, end);
    const __m512 b0 = load_ps(r1 + 2 * j0, lo, end), b1 = load_ps(r1 + 2 * j0 + 16, hi, end);
    __m512 best = _mm512_permutex2var_ps(t0, even, t1);
    __m512i off = _mm512_setzero_si512();
    const auto take = [&](__m512 v, int32_t at) {
      const __mmask16 k = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
      best = _mm512_mask_mov_ps(best, k, v);
      off = _mm512_mask_mov_epi32(off, k, _mm512_set1_epi32(at));
    };
    take(_mm512_permutex2var_ps(t0, odd, t1), 1);
    take(_mm512_permutex2var_ps(b0, even, b1), w);
    take(_mm512_permutex2var_ps(b0, odd, b1), w + 1);
    const __mmask16 out_mask = static_cast<__mmask16>(n == 16 ? 0xffff : (1u << n) - 1);
    _mm512_mask_storeu_ps(y + j0, out_mask, best);
    const __m512i at =
        _mm512_add_epi32(_mm512_add_epi32(even, off), _mm512_set1_epi32(base + 2 * static_cast<int32_t>(j0)));
    _mm512_mask_storeu_epi64(idx + j0, static_cast<__mmask8>(out_mask),
                             _mm512_cvtepi32_epi64(_mm512_castsi512_si256(at)));
    _mm512_mask_storeu_epi64(idx + j0 + 8, static_cast<__mmask8>(out_mask >> 8),
                             _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(at, 1)));
  }
}

// One output row of max_pool2d_backward's scatter in float32, when the indices lie in their own 2x2
// blocks: rows r0, r1 of dx are written whole (each tap gets its gradient or 0), 16 windows a step.
// Returns false (having written garbage) when an index lies outside its block. Reads stay below the
// ends; writes too, but whole vectors may run past a row's 2 ow values (a masked store must first
// read its line from memory): the caller writes pairs of rows in increasing order, so what lands
// past a row (before dx_end) is rewritten later.
inline bool max_unpairs_row(const float* dy, const float* dy_end, const int64_t* at, const int64_t* at_end, int64_t ow,
                            int32_t base, int32_t w, float* r0, float* r1, const float* dx_end) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i lo_half = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi_half = _mm512_add_epi32(lo_half, _mm512_set1_epi32(8));
  bool ok = true;
  for (int64_t j0 = 0; j0 < ow; j0 += 16) {
    const int64_t n = std::min<int64_t>(16, ow - j0);
    const __mmask16 m = static_cast<__mmask16>(n == 16 ? 0xffff : (1u << n) - 1);
    const __m512 g = load_ps(dy + j0, m, dy_end);
    const __m256i a0 = _mm512_cvtepi64_epi32(load_epi64(at + j0, static_cast<__mmask8>(m), at_end));
    const __m256i a1 = _mm512_cvtepi64_epi32(load_epi64(at + j0 + 8, static_cast<__mmask8>(m >> 8), at_end));
    const __m512i rel =
        _mm512_sub_epi32(_mm512_inserti64x4(_mm512_castsi256_si512(a0), a1, 1),
                         _mm512_add_epi32(even, _mm512_set1_epi32(base + 2 * static_cast<int32_t>(j0))));
    const __mmask16 tl = _mm512_cmpeq_epi32_mask(rel, _mm512_setzero_si512());
    const __mmask16 tr = _mm512_cmpeq_epi32_mask(rel, _mm512_set1_epi32(1));
    const __mmask16 bl = _mm512_cmpeq_epi32_mask(rel, _mm512_set1_epi32(w));
    const __mmask16 br = _mm512_cmpeq_epi32_mask(rel, _mm512_set1_epi32(w + 1));
    ok &= ((tl | tr | bl | br) & m) == m;
    const uint32_t in_mask = n == 16 ? ~0u : (1u << (2 * n)) - 1;
    const __mmask16 lo = static_cast<__mmask16>(in_mask), hi = static_cast<__mmask16>(in_mask >> 16);
    // r0 may spill into r1 only when r1 is written after it (one step per row); r1 spills into the
    // next pair of rows.
    const auto put = [&](float* row, __mmask16 left, __mmask16 right) {
      const __m512 l = _mm512_maskz_mov_ps(left, g), r = _mm512_maskz_mov_ps(right, g);
      const bool whole = row + 2 * j0 + 32 <= (row == r0 && ow > 16 ? r0 + w : dx_end);
      _mm512_mask_storeu_ps(row + 2 * j0, whole ? 0xffff : lo, _mm512_permutex2var_ps(l, lo_half, r));
      _mm512_mask_storeu_ps(row + 2 * j0 + 16, whole ? 0xffff : hi, _mm512_permutex2var_ps(l, hi_half, r));
    };
    put(r0, tl, tr);
    put(r1, bl, br);
  }
  return ok;
}

}  // namespace xgrad::kernels::detail
#endif
