#include "xgrad/optim/clip_grad.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "xgrad/tensor/kernels.hpp"

namespace xgrad::optim {

namespace {

// The gradient's values as a contiguous array that aliases .grad when possible.
Array grad_values(const Tensor& p) { return p.grad().array(); }

template <typename Fn> void for_each_grad(const std::vector<Tensor>& params, const char* op, Fn&& fn) {
  for (const Tensor& p : params) {
    if (!p.defined() || !p.grad().defined()) continue;
    const Array g = grad_values(p);
    dispatch_floating(op, g.dtype(), [&]<typename T>() {
      if (g.is_contiguous()) {
        fn.template operator()<T>(g.data<T>(), g.numel());
      } else {  // rare: work on a copy and write it back
        const Array c = g.contiguous();
        fn.template operator()<T>(c.data<T>(), c.numel());
        kernels::copy_(g, c);
      }
    });
    g.bump_version();
  }
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type, bool error_if_nonfinite) {
  if (!(norm_type > 0))
    throw ValueError("clip_grad_norm_: norm_type must be positive, got " + std::to_string(norm_type));
  const bool inf = std::isinf(norm_type);
  double acc = 0;  // sum |g|^p, or max |g|
  bool nan = false;
  for (const Tensor& p : params) {
    if (!p.defined() || !p.grad().defined()) continue;
    const Array g = grad_values(p).contiguous();
    dispatch_floating("clip_grad_norm_", g.dtype(), [&]<typename T>() {
      const T* x = g.data<T>();
      const int64_t n = g.numel();
      double part = 0;
      if (inf) {
        for (int64_t i = 0; i < n; ++i) {
          const double a = std::abs(static_cast<double>(x[i]));
          part = a > part ? a : part;
          nan |= a != a;
        }
        acc = std::max(acc, part);
      } else if (norm_type == 2.0) {
#pragma omp simd reduction(+ : part)
        for (int64_t i = 0; i < n; ++i) part += static_cast<double>(x[i]) * static_cast<double>(x[i]);
        acc += part;
      } else if (norm_type == 1.0) {
#pragma omp simd reduction(+ : part)
        for (int64_t i = 0; i < n; ++i) part += std::abs(static_cast<double>(x[i]));
        acc += part;
      } else {
        for (int64_t i = 0; i < n; ++i) part += std::pow(std::abs(static_cast<double>(x[i])), norm_type);
        acc += part;
      }
    });
  }
  if (nan) acc = std::numeric_limits<double>::quiet_NaN();
  const double total = inf ? acc : (norm_type == 2.0 ? std::sqrt(acc) : std::pow(acc, 1.0 / norm_type));
  if (error_if_nonfinite && !std::isfinite(total))
    throw ValueError("clip_grad_norm_: the total norm of order " + std::to_string(norm_type) +
                     " of the gradients is non-finite, so it cannot be clipped");
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1.0) {
    for_each_grad(params, "clip_grad_norm_", [coef]<typename T>(T* x, int64_t n) {
      const T c = static_cast<T>(coef);
      for (int64_t i = 0; i < n; ++i) x[i] *= c;
    });
  }
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  if (!(clip_value >= 0))
    throw ValueError("clip_grad_value_: clip_value must be non-negative, got " + std::to_string(clip_value));
  for_each_grad(params, "clip_grad_value_", [clip_value]<typename T>(T* x, int64_t n) {
    const T hi = static_cast<T>(clip_value), lo = -hi;
    for (int64_t i = 0; i < n; ++i) x[i] = std::clamp(x[i], lo, hi);
  });
}

}  // namespace xgrad::optim
