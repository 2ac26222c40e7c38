#pragma once
// Private: the loops under the elementwise kernels. Each one first tries the layouts that cover
// nearly every call (all operands contiguous with one shape, or one operand a single value) as a
// plain loop the compiler vectorizes, and only then walks strided and broadcast operands with
// for_each_run, which again picks the contiguous or stride-0 loop per innermost run.
#include <array>
#include <cstdint>
#include <cstring>

#include "strided_loop.hpp"
#include "xgrad/tensor/parallel.hpp"
#include "xtensor_private.hpp"

namespace xgrad::detail {

// Elements per thread below which a contiguous elementwise loop stays on the calling thread:
// 256 KiB of float32 per part, so waking a worker (a few microseconds) is at most a few percent.
inline constexpr int64_t kParallelGrain = int64_t{1} << 16;

// body(begin, end) over [0, n), split across xgrad's threads when n is large (see parallel.hpp).
template <typename Body> void split_range(int64_t n, Body&& body) { parallel_range(n, kParallelGrain, body, 64); }

// dst[i] = f(src[i]) for n contiguous elements, f taking and returning xsimd::batch<T>. The tail
// goes through one zero-padded batch, so every element sees the same code whatever its position.
// src may equal dst.
template <typename T, typename F> void simd_map_serial(const T* src, T* dst, int64_t n, F f) {
  using B = xsimd::batch<T>;
  constexpr int64_t kWidth = static_cast<int64_t>(B::size);
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) f(B::load_unaligned(src + i)).store_unaligned(dst + i);
  if (i < n) {
    alignas(64) T buf[kWidth] = {};
    const auto rest = static_cast<size_t>(n - i);
    std::memcpy(buf, src + i, rest * sizeof(T));
    f(B::load_aligned(buf)).store_aligned(buf);
    std::memcpy(dst + i, buf, rest * sizeof(T));
  }
}

// simd_map over parts of the range on xgrad's threads (chunk borders are whole batches).
template <typename T, typename F> void simd_map(const T* src, T* dst, int64_t n, F f) {
  split_range(n, [&](int64_t begin, int64_t end) { simd_map_serial<T>(src + begin, dst + begin, end - begin, f); });
}

template <typename T> const T* cptr(const char* p) { return reinterpret_cast<const T*>(p); }

// One value seen everywhere: a single element, or a view expanded from one (every stride 0). The
// gradient of a sum arrives as such an expanded scalar, so this case gets the fast loops too.
inline bool single_value(const Array& a) {
  if (a.numel() == 1) return true;
  for (size_t d = 0; d < a.shape().size(); ++d)
    if (a.shape()[d] != 1 && a.strides()[d] != 0) return false;
  return a.numel() > 0;
}

// A fresh contiguous array of dtype `out_dtype` (C++ type R) holding f(x) elementwise; x of type T.
template <typename T, typename R, typename F> Array map1(const Array& x, DType out_dtype, F f) {
  Array out(x.shape(), out_dtype);
  R* o = static_cast<R*>(out.raw_data());
  if (x.is_contiguous()) {
    const T* p = static_cast<const T*>(x.raw_data());
    split_range(x.numel(), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) o[i] = f(p[i]);
    });
    return out;
  }
  for_each_run<2>(x.shape(), {out.strides(), x.strides()},
                  {static_cast<char*>(out.raw_data()), static_cast<char*>(x.raw_data())}, {sizeof(R), sizeof(T)},
                  [&](const Run<2>& r) {
                    R* po = reinterpret_cast<R*>(r.ptr[0]);
                    const char* px = r.ptr[1];
                    for (int64_t i = 0; i < r.n; ++i, px += r.stride[1]) po[i] = f(*cptr<T>(px));
                  });
  return out;
}

// out = f(a, b) with a and b broadcast to out's shape; out may be any (writable) view, even a
// itself (in-place ops).
template <typename R, typename A, typename B, typename F>
void binary_loop(const Array& out, const Array& a, const Array& b, F f) {
  const Shape& shape = out.shape();
  R* o = static_cast<R*>(out.raw_data());
  const int64_t n = out.numel();
  if (out.is_contiguous()) {
    const bool a_full = a.shape() == shape && a.is_contiguous();
    const bool b_full = b.shape() == shape && b.is_contiguous();
    if (a_full && b_full) {
      const A* pa = static_cast<const A*>(a.raw_data());
      const B* pb = static_cast<const B*>(b.raw_data());
      split_range(n, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) o[i] = f(pa[i], pb[i]);
      });
      return;
    }
    if (a_full && single_value(b)) {
      const A* pa = static_cast<const A*>(a.raw_data());
      const B s = *static_cast<const B*>(b.raw_data());
      split_range(n, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) o[i] = f(pa[i], s);
      });
      return;
    }
    if (b_full && single_value(a)) {
      const A s = *static_cast<const A*>(a.raw_data());
      const B* pb = static_cast<const B*>(b.raw_data());
      split_range(n, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) o[i] = f(s, pb[i]);
      });
      return;
    }
  }
  for_each_run<3>(
      shape, {out.strides(), broadcast_strides(a, shape), broadcast_strides(b, shape)},
      {static_cast<char*>(out.raw_data()), static_cast<char*>(a.raw_data()), static_cast<char*>(b.raw_data())},
      {sizeof(R), sizeof(A), sizeof(B)}, [&](const Run<3>& r) {
        const int64_t m = r.n;
        if (r.stride[0] == sizeof(R)) {
          R* po = reinterpret_cast<R*>(r.ptr[0]);
          if (r.stride[1] == sizeof(A) && r.stride[2] == sizeof(B)) {
            const A* pa = cptr<A>(r.ptr[1]);
            const B* pb = cptr<B>(r.ptr[2]);
            for (int64_t i = 0; i < m; ++i) po[i] = f(pa[i], pb[i]);
            return;
          }
          if (r.stride[1] == sizeof(A) && r.stride[2] == 0) {
            const A* pa = cptr<A>(r.ptr[1]);
            const B s = *cptr<B>(r.ptr[2]);
            for (int64_t i = 0; i < m; ++i) po[i] = f(pa[i], s);
            return;
          }
          if (r.stride[1] == 0 && r.stride[2] == sizeof(B)) {
            const A s = *cptr<A>(r.ptr[1]);
            const B* pb = cptr<B>(r.ptr[2]);
            for (int64_t i = 0; i < m; ++i) po[i] = f(s, pb[i]);
            return;
          }
        }
        char* po = r.ptr[0];
        const char* pa = r.ptr[1];
        const char* pb = r.ptr[2];
        for (int64_t i = 0; i < m; ++i, po += r.stride[0], pa += r.stride[1], pb += r.stride[2])
          *reinterpret_cast<R*>(po) = f(*cptr<A>(pa), *cptr<B>(pb));
      });
}

// out = f(c, a, b) with all three broadcast to out's (contiguous) shape.
template <typename R, typename C, typename A, typename B, typename F>
void ternary_loop(const Array& out, const Array& c, const Array& a, const Array& b, F f) {
  const Shape& shape = out.shape();
  if (out.is_contiguous() && c.shape() == shape && a.shape() == shape && b.shape() == shape && c.is_contiguous() &&
      a.is_contiguous() && b.is_contiguous()) {
    R* o = static_cast<R*>(out.raw_data());
    const C* pc = static_cast<const C*>(c.raw_data());
    const A* pa = static_cast<const A*>(a.raw_data());
    const B* pb = static_cast<const B*>(b.raw_data());
    const int64_t n = out.numel();
    for (int64_t i = 0; i < n; ++i) o[i] = f(pc[i], pa[i], pb[i]);
    return;
  }
  for_each_run<4>(
      shape, {out.strides(), broadcast_strides(c, shape), broadcast_strides(a, shape), broadcast_strides(b, shape)},
      {static_cast<char*>(out.raw_data()), static_cast<char*>(c.raw_data()), static_cast<char*>(a.raw_data()),
       static_cast<char*>(b.raw_data())},
      {sizeof(R), sizeof(C), sizeof(A), sizeof(B)}, [&](const Run<4>& r) {
        char* po = r.ptr[0];
        const char* pc = r.ptr[1];
        const char* pa = r.ptr[2];
        const char* pb = r.ptr[3];
        for (int64_t i = 0; i < r.n; ++i, po += r.stride[0], pc += r.stride[1], pa += r.stride[2], pb += r.stride[3])
          *reinterpret_cast<R*>(po) = f(*cptr<C>(pc), *cptr<A>(pa), *cptr<B>(pb));
      });
}

}  // namespace xgrad::detail
