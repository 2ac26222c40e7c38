// Array views: they share storage and copy nothing; view() refuses strides it cannot express
// while reshape() copies then; contiguous() copies only when it must.
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "xgrad/tensor/tensor.hpp"

namespace xgrad {
namespace {

using namespace xgrad::testing;
using V = std::vector<double>;

TEST(Views, ViewOfContiguousSharesStorage) {
  Array x = iota({2, 6}, kFloat32);
  Array v = x.view({3, 4});
  EXPECT_EQ(v.storage(), x.storage());
  EXPECT_EQ(v.shape(), (Shape{3, 4}));
  EXPECT_EQ(v.strides(), (Strides{4, 1}));
  EXPECT_EQ(values(v), values(x));
  EXPECT_EQ(x.view({-1}).shape(), (Shape{12}));
  EXPECT_EQ(x.view({2, -1, 2}).shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(iota({1}, kFloat32).view({}).shape(), Shape{});
}

TEST(Views, ViewRejectsBadShapes) {
  Array x = iota({2, 6}, kFloat32);
  EXPECT_THROW(x.view({5}), ShapeError);
  EXPECT_THROW(x.view({-1, -1}), ShapeError);
  EXPECT_THROW(x.view({5, -1}), ShapeError);
  EXPECT_THROW(x.view({-2, 6}), ShapeError);
}

TEST(Views, ViewOfTransposeThrowsAndReshapeCopies) {
  Array x = iota({2, 3}, kFloat32);
  Array t = x.transpose(0, 1);  // [3, 2], strides [1, 3]
  EXPECT_FALSE(t.is_contiguous());
  try {
    t.view({6});
    FAIL() << "view of a transpose must throw";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("view"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[6]"), std::string::npos);
  }
  Array r = t.reshape({6});
  EXPECT_NE(r.storage(), x.storage());
  EXPECT_EQ(values(r), (V{0, 3, 1, 4, 2, 5}));
}

TEST(Views, ViewSplitsAndMergesDimsOfAStridedArray) {
  // Every other row of a [4, 3, 4] array: dims 1 and 2 stay mergeable, dim 0 does not.
  Array base = iota({4, 3, 4}, kFloat32);
  Array s = base.slice(0, 0, 4, 2);  // [2, 3, 4], strides [24, 4, 1]
  ASSERT_EQ(s.strides(), (Strides{24, 4, 1}));
  Array merged = s.view({2, 12});
  EXPECT_EQ(merged.storage(), base.storage());
  EXPECT_EQ(merged.strides(), (Strides{24, 1}));
  EXPECT_EQ(values(merged), values(s));
  Array split = s.view({2, 3, 2, 2});
  EXPECT_EQ(split.strides(), (Strides{24, 4, 2, 1}));
  EXPECT_EQ(values(split), values(s));
  Array ones = s.view({1, 2, 1, 12, 1});
  EXPECT_EQ(values(ones), values(s));
  EXPECT_THROW(s.view({24}), ShapeError);
  EXPECT_THROW(s.view({4, 6}), ShapeError);  // would merge across the gap
  Array r = s.reshape({24});                 // so reshape copies
  EXPECT_NE(r.storage(), base.storage());
  EXPECT_EQ(values(r), values(s));
  // A column slice: the trailing stride is not 1, the chunk base is 2.
  Array cols = iota({3, 8}, kFloat32).slice(1, 0, 8, 2);  // [3, 4], strides [8, 2]
  Array cv = cols.view({3, 2, 2});
  EXPECT_EQ(cv.strides(), (Strides{8, 4, 2}));
  EXPECT_EQ(values(cv), values(cols));
}

TEST(Views, ReshapeOfContiguousIsAView) {
  Array x = iota({3, 4}, kFloat32);
  Array r = x.reshape({4, 3});
  EXPECT_EQ(r.storage(), x.storage());
  EXPECT_EQ(values(r), values(x));
}

TEST(Views, ViewOfExpandedKeepsZeroStrides) {
  Array x = iota({3, 1}, kFloat32).expand({3, 4});
  Array v = x.view({3, 2, 2});
  EXPECT_EQ(v.strides(), (Strides{1, 0, 0}));
  EXPECT_EQ(values(v), values(x));
}

TEST(Views, TransposeSwapsShapeAndStrides) {
  Array x = iota({2, 3, 4}, kFloat32);
  Array t = x.transpose(0, -1);
  EXPECT_EQ(t.storage(), x.storage());
  EXPECT_EQ(t.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(t.strides(), (Strides{1, 4, 12}));
  EXPECT_EQ(t.at({3, 2, 1}), x.at({1, 2, 3}));
  EXPECT_EQ(x.transpose(1, 1).strides(), x.strides());
  EXPECT_THROW(x.transpose(0, 3), IndexError);
  EXPECT_THROW(x.transpose(-4, 0), IndexError);
}

TEST(Views, PermuteReordersDims) {
  Array x = iota({2, 3, 4}, kFloat32);
  Array p = x.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Strides{1, 12, 4}));
  EXPECT_EQ(p.at({3, 1, 2}), x.at({1, 2, 3}));
  EXPECT_EQ(x.permute({-1, -3, -2}).shape(), (Shape{4, 2, 3}));
  EXPECT_THROW(x.permute({0, 1}), ShapeError);
  EXPECT_THROW(x.permute({0, 1, 1}), IndexError);
  EXPECT_THROW(x.permute({0, 1, 3}), IndexError);
}

TEST(Views, SliceWithStepsAndNegativeIndices) {
  Array x = iota({10}, kFloat32);
  EXPECT_EQ(values(x.slice(0, 2, 8, 3)), (V{2, 5}));
  EXPECT_EQ(values(x.slice(0, -3, 10)), (V{7, 8, 9}));
  EXPECT_EQ(values(x.slice(0, -100, 2)), (V{0, 1}));
  EXPECT_EQ(values(x.slice(0, 0, -7, 2)), (V{0, 2}));
  EXPECT_EQ(values(x.slice(0, 7, 100, 2)), (V{7, 9}));
  EXPECT_EQ(x.slice(0, 6, 3).numel(), 0);
  EXPECT_EQ(x.slice(0, 12, 20).numel(), 0);
  Array s = x.slice(0, 1, 10, 4);
  EXPECT_EQ(s.storage(), x.storage());
  EXPECT_EQ(s.offset(), 1);
  EXPECT_EQ(s.strides(), (Strides{4}));
  EXPECT_THROW(x.slice(0, 0, 5, 0), ValueError);
  EXPECT_THROW(x.slice(0, 0, 5, -1), ValueError);
  EXPECT_THROW(x.slice(1, 0, 5), IndexError);
  EXPECT_THROW(iota({}, kFloat32).slice(0, 0, 1), IndexError);  // a 0-d array has no dim to slice
}

TEST(Views, SliceOfAnInnerDim) {
  Array x = iota({3, 5}, kFloat32);
  Array s = x.slice(-1, 1, 5, 2);  // columns 1 and 3
  EXPECT_EQ(s.shape(), (Shape{3, 2}));
  EXPECT_EQ(s.strides(), (Strides{5, 2}));
  EXPECT_EQ(values(s), (V{1, 3, 6, 8, 11, 13}));
  // A slice of a slice composes offsets and strides.
  EXPECT_EQ(values(s.slice(0, 1, 3)), (V{6, 8, 11, 13}));
}

TEST(Views, SelectDropsTheDim) {
  Array x = iota({3, 4}, kFloat32);
  Array row = x.select(0, -1);
  EXPECT_EQ(row.shape(), (Shape{4}));
  EXPECT_EQ(values(row), (V{8, 9, 10, 11}));
  Array col = x.select(1, 2);
  EXPECT_EQ(col.storage(), x.storage());
  EXPECT_EQ(values(col), (V{2, 6, 10}));
  EXPECT_EQ(x.select(0, 1).select(0, 3).item(), 7);
  EXPECT_THROW(x.select(0, 3), IndexError);
  EXPECT_THROW(x.select(1, -5), IndexError);
  EXPECT_THROW(x.select(2, 0), IndexError);
  EXPECT_THROW(iota({}, kFloat32).select(0, 0), IndexError);
}

TEST(Views, ExpandBroadcastsWithZeroStrides) {
  Array x = iota({3, 1}, kFloat32);
  Array e = x.expand({2, 3, 4});
  EXPECT_EQ(e.storage(), x.storage());
  EXPECT_EQ(e.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(e.strides(), (Strides{0, 1, 0}));
  EXPECT_EQ(e.at({1, 2, 3}), 2);
  EXPECT_EQ(x.expand({-1, 5}).shape(), (Shape{3, 5}));
  EXPECT_EQ(x.expand({3, 0}).numel(), 0);
  EXPECT_THROW(x.expand({4, 4}), ShapeError);
  EXPECT_THROW(x.expand({4}), ShapeError);
  EXPECT_THROW(x.expand({-1, 3, 4}), ShapeError);
}

TEST(Views, SqueezeAndUnsqueeze) {
  Array x = iota({2, 1, 3}, kFloat32);
  Array s = x.squeeze(1);
  EXPECT_EQ(s.shape(), (Shape{2, 3}));
  EXPECT_EQ(s.storage(), x.storage());
  EXPECT_EQ(x.squeeze(0).shape(), x.shape());  // size 2: nothing to squeeze
  EXPECT_EQ(x.squeeze(-2).shape(), (Shape{2, 3}));
  EXPECT_THROW(x.squeeze(3), IndexError);
  Array u = s.unsqueeze(-1);
  EXPECT_EQ(u.shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(u.strides(), (Strides{3, 1, 1}));
  EXPECT_TRUE(u.is_contiguous());
  EXPECT_EQ(s.unsqueeze(0).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(s.unsqueeze(1).shape(), (Shape{2, 1, 3}));
  EXPECT_THROW(s.unsqueeze(4), IndexError);
  Array scalar = iota({}, kFloat32);
  EXPECT_EQ(scalar.unsqueeze(0).shape(), (Shape{1}));
  EXPECT_EQ(iota({1}, kFloat32).squeeze(0).shape(), Shape{});
}

TEST(Views, ContiguousCopiesOnlyWhenNeeded) {
  Array x = iota({3, 4}, kFloat32);
  EXPECT_EQ(x.contiguous().storage(), x.storage());
  // Size-1 dims may carry any stride and still count as contiguous.
  Array row = x.slice(0, 1, 2);
  EXPECT_TRUE(row.is_contiguous());
  EXPECT_EQ(row.contiguous().storage(), x.storage());
  Array t = x.transpose(0, 1);
  Array c = t.contiguous();
  EXPECT_NE(c.storage(), x.storage());
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(values(c), values(t));
  Array e = iota({3}, kFloat32).expand({2, 3}).contiguous();
  EXPECT_EQ(values(e), (V{0, 1, 2, 0, 1, 2}));
}

TEST(Views, CloneAlwaysCopies) {
  Array x = iota({2, 2}, kFloat32);
  Array c = x.clone();
  EXPECT_NE(c.storage(), x.storage());
  c.set({0, 0}, 42);
  EXPECT_EQ(x.at({0, 0}), 0);
  EXPECT_EQ(values(x.slice(1, 1, 2).clone()), (V{1, 3}));
}

TEST(Views, ToConvertsDtype) {
  Array x = iota({4}, kFloat64);
  EXPECT_EQ(x.to(kFloat64).storage(), x.storage());
  Array f = x.to(kFloat32);
  EXPECT_EQ(f.dtype(), kFloat32);
  EXPECT_EQ(values(f), (V{0, 1, 2, 3}));
  Array b = x.to(kBool);
  EXPECT_EQ(values(b), (V{0, 1, 1, 1}));
  EXPECT_EQ(values(x.slice(0, 0, 4, 3).to(kInt64)), (V{0, 3}));
}

TEST(Views, WritesThroughAViewAreSeenByTheBase) {
  Array x = iota({2, 3}, kFloat32);
  x.transpose(0, 1).set({2, 1}, -1);
  EXPECT_EQ(x.at({1, 2}), -1);
  x.slice(1, 0, 3, 2).select(0, 0).set({1}, -2);
  EXPECT_EQ(x.at({0, 2}), -2);
}

}  // namespace
}  // namespace xgrad
