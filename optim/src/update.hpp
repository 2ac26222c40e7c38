#pragma once
// Private to optim/src: access to a parameter's values and gradient as plain contiguous arrays, so
// that each optimizer's update is one fused loop over raw memory with no allocation in the common
// case (contiguous parameter, gradient of the same dtype).
#include <string>

#include "xgrad/autograd/tensor.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::optim::detail {

// Calls fn.template operator()<T>(T* param, const T* grad, int64_t n). A non-contiguous parameter
// is updated in a contiguous copy that is written back; the version counter is bumped.
template <class Fn> void update_param(const char* op, const Tensor& param, Fn&& fn) {
  const Array& p = param.array();
  Array g = param.grad().array();
  if (g.dtype() != p.dtype()) g = g.to(p.dtype());
  if (!g.is_contiguous()) g = g.contiguous();
  const bool direct = p.is_contiguous();
  const Array work = direct ? p : p.contiguous();
  dispatch_floating(op, p.dtype(),
                    [&]<typename T>() { fn.template operator()<T>(work.data<T>(), g.data<T>(), p.numel()); });
  if (!direct) kernels::copy_(p, work);
  p.bump_version();
}

template <typename T> T* data_or_null(const Array& a) { return a.defined() ? a.data<T>() : nullptr; }

}  // namespace xgrad::optim::detail
