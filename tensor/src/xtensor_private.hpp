#pragma once
// Private: the one place that includes xtensor and xsimd. Only .cpp files under tensor/src may
// include it; public headers never do (user code compiles fast and sees no expression templates).
// Rules: adapt contiguous Array buffers with xt::adapt (no ownership), evaluate every expression
// into Array storage within one statement, and never keep an `auto` xtensor expression around.
#ifndef XTENSOR_USE_XSIMD
#define XTENSOR_USE_XSIMD
#endif

// GCC 12 warns "(may be) used uninitialized" inside its own AVX-512 intrinsics (the
// _mm512_undefined_* idiom) once xsimd inlines them; the warning is located in the intrinsic
// headers, so silencing it around these includes keeps our code's warnings meaningful.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <xsimd/xsimd.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xstrided_view.hpp>
#include <xtensor/xview.hpp>

#include "xgrad/tensor/array.hpp"

namespace xgrad::detail {

// A contiguous array's values as an xtensor 1-d adaptor over its buffer (no copy, no ownership).
// `a` must be contiguous and of dtype T.
template <typename T> auto adapt_flat(const Array& a) {
  return xt::adapt(a.data<T>(), static_cast<size_t>(a.numel()), xt::no_ownership(),
                   std::array<size_t, 1>{static_cast<size_t>(a.numel())});
}

}  // namespace xgrad::detail
