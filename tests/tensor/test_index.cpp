// Joining and indexing kernels: cat, index_select and its adjoint index_add, gather and its
// adjoint scatter_add, one_hot.
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "xgrad/tensor/tensor.hpp"

namespace xgrad {
namespace {

using namespace xgrad::testing;
using V = std::vector<double>;

Array idx(const Shape& shape, const V& v) { return make(shape, v, kInt64); }

// sum_i a[i] * b[i], in order: adjoint pairs must give <op(x), y> == <x, adjoint(y)>.
double inner_product_of(const V& a, const V& b) {
  EXPECT_EQ(a.size(), b.size());
  double s = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) s += a[i] * b[i];
  return s;
}

TEST(Cat, JoinsAlongAnyDim) {
  Array a = iota({2, 2}, kFloat32);
  Array b = make({2, 1}, {10, 11}, kFloat32);
  Array c = kernels::cat({a, b}, 1);
  EXPECT_EQ(c.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(c), (V{0, 1, 10, 2, 3, 11}));
  Array r = kernels::cat({a, make({1, 2}, {7, 8}, kFloat32), a}, -2);
  EXPECT_EQ(r.shape(), (Shape{5, 2}));
  EXPECT_EQ(values(r), (V{0, 1, 2, 3, 7, 8, 0, 1, 2, 3}));
}

TEST(Cat, TakesStridedAndEmptyInputs) {
  Array t = iota({3, 2}, kFloat32).transpose(0, 1);  // [2, 3]
  Array e = Array({2, 0}, kFloat32);
  Array c = kernels::cat({t, e, iota({2, 1}, kFloat32)}, 1);
  EXPECT_EQ(values(c), (V{0, 2, 4, 0, 1, 3, 5, 1}));
  Array x = iota({2, 1}, kFloat32).expand({2, 3});
  EXPECT_EQ(values(kernels::cat({x, x}, 0)), (V{0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1}));
}

TEST(Cat, PromotesDtypes) {
  Array c = kernels::cat({make({2}, {1, 2}, kInt64), make({1}, {0.5}, kFloat64)}, 0);
  EXPECT_EQ(c.dtype(), kFloat64);
  EXPECT_EQ(values(c), (V{1, 2, 0.5}));
}

TEST(Cat, Errors) {
  EXPECT_THROW(kernels::cat({}, 0), ValueError);
  expect_error<ShapeError>(
      [] {
        kernels::cat({iota({2, 3}, kFloat32), iota({2, 4}, kFloat32)}, 0);
      },
      {"cat", "[2, 3]", "[2, 4]"});
  EXPECT_THROW(kernels::cat({iota({2, 3}, kFloat32), iota({6}, kFloat32)}, 0), ShapeError);
  EXPECT_THROW(kernels::cat({iota({2}, kFloat32), iota({2}, kFloat32)}, 1), IndexError);
  EXPECT_THROW(kernels::cat({iota({}, kFloat32), iota({}, kFloat32)}, 0), ShapeError);
}

TEST(IndexSelect, PicksRowsAndColumns) {
  Array x = iota({3, 4}, kFloat32);
  Array rows = kernels::index_select(x, 0, idx({4}, {2, 0, 2, 1}));
  EXPECT_EQ(rows.shape(), (Shape{4, 4}));
  EXPECT_EQ(values(rows), (V{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7}));
  Array cols = kernels::index_select(x, -1, idx({2}, {3, 1}));
  EXPECT_EQ(values(cols), (V{3, 1, 7, 5, 11, 9}));
  Array mid = kernels::index_select(iota({2, 3, 2}, kFloat32), 1, idx({1}, {2}));
  EXPECT_EQ(values(mid), (V{4, 5, 10, 11}));
  EXPECT_EQ(kernels::index_select(x, 0, idx({0}, {})).shape(), (Shape{0, 4}));
  EXPECT_EQ(kernels::index_select(x, 0, idx({}, {1})).shape(), (Shape{1, 4}));
}

TEST(IndexSelect, NonContiguousInputsAndIndex) {
  Array x = iota({4, 3}, kFloat32).transpose(0, 1);              // [3, 4]
  Array index = idx({6}, {1, 9, 0, 9, 3, 9}).slice(0, 0, 6, 2);  // {1, 0, 3}
  Array out = kernels::index_select(x, 1, index);
  EXPECT_EQ(values(out), (V{3, 0, 9, 4, 1, 10, 5, 2, 11}));
  Array d = kernels::index_select(iota({3}, kFloat64), 0, idx({2}, {2, 2}));
  EXPECT_EQ(d.dtype(), kFloat64);
  EXPECT_EQ(values(d), (V{2, 2}));
}

TEST(IndexSelect, Errors) {
  Array x = iota({3, 4}, kFloat32);
  expect_error<IndexError>([&] { kernels::index_select(x, 0, idx({2}, {0, 3})); }, {"index_select", "3", "size 3"});
  expect_error<IndexError>([&] { kernels::index_select(x, 1, idx({1}, {-1})); }, {"index_select", "-1", "size 4"});
  expect_error<DTypeError>([&] { kernels::index_select(x, 0, iota({2}, kFloat32)); },
                           {"index_select", "int64", "float32"});
  EXPECT_THROW(kernels::index_select(x, 0, idx({1, 1}, {0})), ShapeError);
  EXPECT_THROW(kernels::index_select(x, 2, idx({1}, {0})), IndexError);
}

TEST(IndexAdd, AccumulatesRepeatedIndices) {
  Array src = iota({3, 2}, kFloat32);  // rows {0,1}, {2,3}, {4,5}
  Array out = kernels::index_add({4, 2}, 0, idx({3}, {1, 3, 1}), src);
  EXPECT_EQ(values(out), (V{0, 0, 4, 6, 0, 0, 2, 3}));
  Array cols = kernels::index_add({2, 3}, 1, idx({2}, {2, 2}), make({2, 2}, {1, 2, 3, 4}, kFloat32));
  EXPECT_EQ(values(cols), (V{0, 0, 3, 0, 0, 7}));
}

TEST(IndexAdd, IsTheAdjointOfIndexSelect) {
  // <index_select(x), y> == <x, index_add(y)> for any x, y.
  Array x = iota({3, 4, 2}, kFloat64);
  Array index = idx({5}, {3, 0, 3, 2, 1});
  Array y = make({3, 5, 2},
                 V{1, -2, 3, 0.5, -1, 2, 4, 1, 0, 2, 1, 1, -3, 2, 5, 1, 0, 2, 1, 1, -3, 2, 5, 1, 0.25, 1, 2, 3, 4, 5},
                 kFloat64);
  EXPECT_DOUBLE_EQ(inner_product_of(values(kernels::index_select(x, 1, index)), values(y)),
                   inner_product_of(values(x), values(kernels::index_add(x.shape(), 1, index, y))));
}

TEST(IndexAdd, Errors) {
  expect_error<ShapeError>(
      [] {
        kernels::index_add({4, 2}, 0, idx({2}, {0, 1}), iota({3, 2}, kFloat32));
      },
      {"index_add", "[3, 2]", "[2, 2]"});
  expect_error<IndexError>(
      [] {
        kernels::index_add({4, 2}, 0, idx({1}, {4}), iota({1, 2}, kFloat32));
      },
      {"index_add", "4"});
  EXPECT_THROW(kernels::index_add({4, 2}, 0, iota({1}, kFloat32), iota({1, 2}, kFloat32)), DTypeError);
  EXPECT_THROW(kernels::index_add({4}, 0, idx({1}, {0}), iota({1}, kBool)), DTypeError);
}

TEST(Gather, PicksAlongADim) {
  Array x = make({2, 3}, {1, 2, 3, 4, 5, 6}, kFloat32);
  Array rows = kernels::gather(x, 1, idx({2, 2}, {2, 0, 1, 1}));
  EXPECT_EQ(values(rows), (V{3, 1, 5, 5}));
  Array cols = kernels::gather(x, 0, idx({1, 3}, {1, 0, 1}));
  EXPECT_EQ(values(cols), (V{4, 2, 6}));
  // The index may be smaller than the input outside the gathered dim.
  Array part = kernels::gather(iota({3, 4}, kFloat32), -1, idx({2, 1}, {3, 0}));
  EXPECT_EQ(values(part), (V{3, 4}));
}

TEST(Gather, StridedInputAndIndex) {
  Array x = iota({3, 2}, kFloat32).transpose(0, 1);               // [[0, 2, 4], [1, 3, 5]]
  Array index = idx({3, 2}, {2, 1, 0, 0, 1, 2}).transpose(0, 1);  // [[2, 0, 1], [1, 0, 2]]
  EXPECT_EQ(values(kernels::gather(x, 1, index)), (V{4, 0, 2, 3, 1, 5}));
  Array e = iota({1, 3}, kFloat32).expand({4, 3});
  EXPECT_EQ(values(kernels::gather(e, 0, idx({1, 3}, {3, 2, 0}))), (V{0, 1, 2}));
}

TEST(Gather, Errors) {
  Array x = iota({2, 3}, kFloat32);
  expect_error<IndexError>([&] { kernels::gather(x, 1, idx({1, 1}, {3})); }, {"gather", "3", "size 3"});
  expect_error<IndexError>([&] { kernels::gather(x, 0, idx({1, 1}, {-1})); }, {"gather", "-1", "size 2"});
  EXPECT_THROW(kernels::gather(x, 1, idx({2}, {0, 0})), ShapeError);
  expect_error<ShapeError>([&] { kernels::gather(x, 1, idx({3, 1}, {0, 0, 0})); }, {"gather", "[3, 1]", "[2, 3]"});
  EXPECT_THROW(kernels::gather(x, 1, iota({2, 1}, kFloat32)), DTypeError);
}

TEST(ScatterAdd, AddsIntoACopy) {
  Array x = make({2, 3}, {1, 1, 1, 1, 1, 1}, kFloat32);
  Array src = make({2, 2}, {10, 20, 30, 40}, kFloat32);
  Array out = kernels::scatter_add(x, 1, idx({2, 2}, {2, 2, 0, 1}), src);
  EXPECT_EQ(values(out), (V{1, 1, 31, 31, 41, 1}));
  EXPECT_EQ(values(x), (V{1, 1, 1, 1, 1, 1}));  // the input is untouched
  Array down = kernels::scatter_add(make({3}, {0, 0, 0}, kFloat32), 0, idx({4}, {0, 2, 0, 0}),
                                    make({4}, {1, 2, 3, 4}, kFloat32));
  EXPECT_EQ(values(down), (V{8, 0, 2}));
  // A source larger than the index contributes only its leading part.
  Array big = kernels::scatter_add(make({2}, {0, 0}, kFloat32), 0, idx({1}, {1}), make({3}, {5, 6, 7}, kFloat32));
  EXPECT_EQ(values(big), (V{0, 5}));
}

TEST(ScatterAdd, IsTheAdjointOfGather) {
  Array x = iota({3, 4}, kFloat64);
  Array index = idx({3, 2}, {3, 0, 1, 1, 2, 3});
  Array y = make({3, 2}, {0.5, -1, 2, 3, -4, 1.5}, kFloat64);
  Array zeros = make({3, 4}, V(12, 0.0), kFloat64);
  EXPECT_DOUBLE_EQ(inner_product_of(values(kernels::gather(x, 1, index)), values(y)),
                   inner_product_of(values(x), values(kernels::scatter_add(zeros, 1, index, y))));
}

TEST(ScatterAdd, Errors) {
  Array x = iota({2, 3}, kFloat32);
  expect_error<IndexError>(
      [&] {
        kernels::scatter_add(x, 0, idx({1, 1}, {2}), iota({1, 1}, kFloat32));
      },
      {"scatter_add", "2", "size 2"});
  expect_error<DTypeError>(
      [&] {
        kernels::scatter_add(x, 0, idx({1, 1}, {0}), iota({1, 1}, kFloat64));
      },
      {"scatter_add", "float32", "float64"});
  EXPECT_THROW(kernels::scatter_add(x, 0, idx({1, 2}, {0, 0}), iota({1, 1}, kFloat32)), ShapeError);
  EXPECT_THROW(kernels::scatter_add(x, 0, idx({1}, {0}), iota({1}, kFloat32)), ShapeError);
  EXPECT_THROW(kernels::scatter_add(x, 0, iota({1, 1}, kFloat32), iota({1, 1}, kFloat32)), DTypeError);
}

TEST(OneHot, EncodesClasses) {
  Array o = kernels::one_hot(idx({3}, {2, 0, 1}), 4);
  EXPECT_EQ(o.dtype(), kInt64);
  EXPECT_EQ(o.shape(), (Shape{3, 4}));
  EXPECT_EQ(values(o), (V{0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0}));
  Array inferred = kernels::one_hot(idx({2, 1}, {1, 3}), -1);
  EXPECT_EQ(inferred.shape(), (Shape{2, 1, 4}));
  EXPECT_EQ(values(inferred), (V{0, 1, 0, 0, 0, 0, 0, 1}));
}

TEST(OneHot, Errors) {
  expect_error<IndexError>([] { kernels::one_hot(idx({2}, {0, 3}), 3); }, {"one_hot", "3", "3 classes"});
  EXPECT_THROW(kernels::one_hot(idx({1}, {-1}), 3), IndexError);
  EXPECT_THROW(kernels::one_hot(iota({2}, kFloat32), 3), DTypeError);
  EXPECT_THROW(kernels::one_hot(idx({0}, {}), -1), ValueError);
  EXPECT_THROW(kernels::one_hot(idx({1}, {0}), -2), ValueError);
}

}  // namespace
}  // namespace xgrad
