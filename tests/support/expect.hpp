#pragma once
// Helpers shared by the tensor/ and autograd/ tests: arrays built from listed values, values read
// back without the kernels under test, element-wise expectations with tolerances, leaf tensors,
// and expected errors (type and message).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "xgrad/autograd/tensor.hpp"
#include "xgrad/tensor/tensor.hpp"

namespace xgrad::testing {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// An array of `shape` holding `values` in row-major order, each static_cast to `dtype`'s type.
inline Array make(const Shape& shape, const std::vector<double>& values, DType dtype = kFloat64) {
  Array a(shape, dtype);
  EXPECT_EQ(static_cast<int64_t>(values.size()), a.numel()) << "make: wrong number of values for " << to_string(shape);
  dispatch(dtype, [&]<typename T>() {
    T* p = a.data<T>();
    for (int64_t i = 0; i < a.numel() && i < static_cast<int64_t>(values.size()); ++i)
      p[i] = static_cast<T>(values[static_cast<size_t>(i)]);
  });
  return a;
}

// 0, 1, 2, ... in row-major order, times `scale` plus `shift`.
inline Array iota(const Shape& shape, DType dtype = kFloat64, double scale = 1, double shift = 0) {
  std::vector<double> v(static_cast<size_t>(numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i) * scale + shift;
  return make(shape, v, dtype);
}

// Uniform in [low, high), drawn in float64 from a seeded mt19937 (the same values on every run).
inline Array random_array(const Shape& shape, DType dtype, uint32_t seed, double low = -1, double high = 1) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(low, high);
  std::vector<double> v(static_cast<size_t>(numel(shape)));
  for (double& x : v) x = dist(gen);
  return make(shape, v, dtype);
}

// The values in logical row-major order as doubles, read element by element through at(): no
// copy or conversion kernel (the things under test) is involved.
inline std::vector<double> values(const Array& a) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(a.numel()));
  Shape index(a.shape().size(), 0);
  for (int64_t i = 0; i < a.numel(); ++i) {
    out.push_back(a.at(index));
    for (int64_t d = a.dim() - 1; d >= 0; --d) {
      if (++index[d] < a.shape()[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

// Every value within tol * max(1, |expected|): absolute near zero, relative for large values.
// An expected NaN wants a NaN, an expected infinity exactly that infinity.
inline void expect_values(const std::vector<double>& got, const std::vector<double>& expected, double tol = 1e-12) {
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(expected[i]))
      EXPECT_TRUE(std::isnan(got[i])) << "at " << i << ": " << got[i];
    else if (std::isinf(expected[i]))
      EXPECT_EQ(got[i], expected[i]) << "at " << i;
    else
      EXPECT_NEAR(got[i], expected[i], tol * std::max(1.0, std::abs(expected[i]))) << "at " << i;
  }
}
inline void expect_values(const Array& a, const std::vector<double>& expected, double tol = 1e-12) {
  const std::vector<double> got = values(a);
  ASSERT_EQ(got.size(), expected.size()) << a.to_string();
  expect_values(got, expected, tol);
}

// Every value within an absolute tol.
inline void expect_near(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  ASSERT_TRUE(t.defined());
  const std::vector<double> got = t.to_vector<double>();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << "at " << i;
}

// A float64 leaf that requires grad.
inline Tensor leaf(std::initializer_list<double> values) { return tensor(values).requires_grad_(); }
inline Tensor leaf(const std::vector<double>& values, const Shape& shape) {
  return tensor(values, shape).requires_grad_();
}

// `fn` throws E (not some other exception) and its message contains every fragment.
template <typename E, typename Fn> void expect_error(Fn&& fn, std::initializer_list<std::string> fragments) {
  try {
    fn();
    ADD_FAILURE() << "no exception thrown";
  } catch (const E& e) {
    const std::string message = e.what();
    for (const std::string& f : fragments)
      EXPECT_NE(message.find(f), std::string::npos) << "'" << f << "' not in the message: " << message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

// `fn` throws E (not some other exception) with exactly `message`.
template <typename E, typename Fn> void expect_error_message(Fn&& fn, const std::string& message) {
  try {
    fn();
    ADD_FAILURE() << "no exception thrown";
  } catch (const E& e) {
    EXPECT_EQ(std::string(e.what()), message);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

}  // namespace xgrad::testing
