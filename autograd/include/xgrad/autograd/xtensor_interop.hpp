#pragma once
// Opt-in interop with xtensor: this header (and only this one) includes xtensor, so include it
// only in the files that need it. Conversions copy the values; the dtype follows T.
//
//   xt::xarray<float> a = xg::to_xarray<float>(t);
//   xg::Tensor u = xg::from_xarray(a);
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad {

template <typename T> xt::xarray<T> to_xarray(const Tensor& t) {
  const Array values = t.array().to(dtype_v<T>).contiguous();
  const std::vector<size_t> shape(values.shape().begin(), values.shape().end());
  const T* p = values.template data<T>();
  xt::xarray<T> out = xt::adapt(p, static_cast<size_t>(values.numel()), xt::no_ownership(), shape);
  return out;
}

template <typename E> Tensor from_xarray(const xt::xexpression<E>& expression, bool requires_grad = false) {
  using T = typename E::value_type;
  const xt::xarray<T> x = expression.derived_cast();  // evaluate, row major
  Shape shape(x.shape().begin(), x.shape().end());
  Array values(shape, dtype_v<T>);
  std::copy(x.begin(), x.end(), values.template data<T>());
  return Tensor(values, requires_grad);
}

}  // namespace xgrad
