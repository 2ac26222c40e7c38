// nn::functional::linear, dropout and dropout2d (the losses are in loss.cpp).
#include "xgrad/nn/functional.hpp"

#include <string>

#include "xgrad/tensor/kernels.hpp"

namespace xgrad::nn::functional {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (weight.dim() != 2)
    throw ShapeError("linear: weight must be 2-d [out, in], got shape " + to_string(weight.shape()));
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0)))
    throw ShapeError("linear: bias of shape " + to_string(bias.shape()) + " does not match weight of shape " +
                     to_string(weight.shape()));
  const Tensor y = matmul(x, transpose(weight, 0, 1));
  return bias.defined() ? y + bias : y;
}

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  if (!(p >= 0.0 && p <= 1.0)) throw ValueError("dropout: p must be in [0, 1], got " + std::to_string(p));
  if (!training || p == 0.0) return x;
  if (!x.is_floating_point())
    throw DTypeError("dropout: expected a floating tensor, got " + std::string(dtype_name(x.dtype())));
  if (p == 1.0) return x * 0.0;
  // The mask holds 1/(1-p) where an element survives (u < 1 - p) and 0 elsewhere.
  Array mask = kernels::uniform(x.shape(), 0.0, 1.0, x.dtype(), gen);
  dispatch_floating("dropout", x.dtype(), [&]<typename T>() {
    T* m = mask.data<T>();
    const T keep = static_cast<T>(1.0 - p);
    const T scale = static_cast<T>(1.0 / (1.0 - p));
    for (int64_t i = 0, n = mask.numel(); i < n; ++i) m[i] = m[i] < keep ? scale : T(0);
  });
  return x * Tensor(std::move(mask));
}

Tensor dropout2d(const Tensor& x, double p, bool training, Generator& gen) {
  if (!(p >= 0.0 && p <= 1.0)) throw ValueError("dropout2d: p must be in [0, 1], got " + std::to_string(p));
  if (!x.defined()) throw ValueError("dropout2d: input is undefined");
  if (x.dim() != 3 && x.dim() != 4)
    throw ShapeError("dropout2d: expected a 3-d [C, H, W] or 4-d [N, C, H, W] input, got shape " +
                     to_string(x.shape()));
  if (!training || p == 0.0) return x;
  if (!x.is_floating_point())
    throw DTypeError("dropout2d: expected a floating tensor, got " + std::string(dtype_name(x.dtype())));
  if (p == 1.0) return x * 0.0;
  // One draw per channel: the mask [N, C, 1, 1] (or [C, 1, 1]) broadcasts over the spatial dims.
  Shape mask_shape = x.shape();
  for (int64_t d = x.dim() - 2; d < x.dim(); ++d) mask_shape[d] = 1;
  Array mask = kernels::uniform(mask_shape, 0.0, 1.0, x.dtype(), gen);
  dispatch_floating("dropout2d", x.dtype(), [&]<typename T>() {
    T* m = mask.data<T>();
    const T keep = static_cast<T>(1.0 - p);
    const T scale = static_cast<T>(1.0 / (1.0 - p));
    for (int64_t i = 0, n = mask.numel(); i < n; ++i) m[i] = m[i] < keep ? scale : T(0);
  });
  return x * Tensor(std::move(mask));
}

}  // namespace xgrad::nn::functional
