// The opt-in xtensor interop header converts both ways and keeps values, shape and dtype.
#include <gtest/gtest.h>

#include <xtensor/xview.hpp>

#include "xgrad/autograd/xtensor_interop.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad {
namespace {

TEST(XtensorInterop, RoundTripKeepsValuesShapeAndDtype) {
  const xt::xarray<double> a = {{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
  const Tensor t = from_xarray(a, true);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.dtype(), kFloat64);
  EXPECT_TRUE(t.requires_grad());
  EXPECT_DOUBLE_EQ(t.at({1, 2}), 6.0);
  const xt::xarray<double> back = to_xarray<double>(t);
  EXPECT_EQ(back, a);
}

TEST(XtensorInterop, NonContiguousTensorsAndExpressionsConvert) {
  const Tensor t = tensor({{1.0f, 2.0f}, {3.0f, 4.0f}}).transpose(0, 1);
  const xt::xarray<float> a = to_xarray<float>(t);
  EXPECT_FLOAT_EQ(a(0, 1), 3.0f);
  const xt::xarray<int64_t> b = {1, 2, 3, 4};
  const Tensor u = from_xarray(xt::view(b, xt::range(1, 3)));
  EXPECT_EQ(u.dtype(), kInt64);
  EXPECT_EQ(u.to_vector<int64_t>(), (std::vector<int64_t>{2, 3}));
}

}  // namespace
}  // namespace xgrad
