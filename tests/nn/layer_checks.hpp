#pragma once
// What the layer tests share: the names of a named list, an error check by message fragment, and
// the gradient check of a whole layer (x and every parameter, float64, first and second order).
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "xgrad/nn/nn.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::nn::testing {

inline std::vector<std::string> names(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<std::string> out;
  for (const auto& entry : named) out.push_back(entry.first);
  return out;
}

template <typename E, typename Fn> void expect_error(Fn&& fn, const std::string& fragment) {
  try {
    fn();
    ADD_FAILURE() << "no exception, expected one saying: " << fragment;
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

// gradcheck (and gradgradcheck unless told not to) of module(x) with respect to x and every
// parameter, with the module moved to float64 first.
inline void check_layer_on(Module& m, const Tensor& x, bool second_order = true) {
  m.to(kFloat64);
  std::vector<Tensor> inputs{x};
  for (const Tensor& p : m.parameters()) inputs.push_back(p);
  // Recording on inside: gradgradcheck's finite differences evaluate its first-order function with
  // recording off, and that function must build a graph to take a gradient.
  const TensorFn fn = [&m](const std::vector<Tensor>& in) {
    EnableGradGuard record;
    return m(in[0]);
  };
  const GradcheckResult first = gradcheck(fn, inputs);
  EXPECT_TRUE(first.ok) << m.type_name() << ": " << first.message;
  if (!second_order) return;
  const GradcheckResult second = gradgradcheck(fn, inputs);
  EXPECT_TRUE(second.ok) << m.type_name() << " (second order): " << second.message;
}

// check_layer_on with x uniform in [-2, 2) (seed 42).
inline void check_layer(Module& m, const Shape& input_shape) {
  Generator gen(42);
  check_layer_on(m, (rand(input_shape, gen, {.dtype = kFloat64}) * 4.0 - 2.0).detach().requires_grad_());
}

}  // namespace xgrad::nn::testing
