// Normalisation: hand-computed values, broadcasting over a batch, statistics of a dataset (global
// and per feature, constant features), and the two ways of applying a transform to a dataset.
#include <cmath>

#include <gtest/gtest.h>

#include "temp_dir.hpp"
#include "xgrad/data/transforms.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::data {
namespace {

using xgrad::testing::message_of;

TEST(Normalize, ScalarMeanAndStd) {
  const Normalize n(0.5, 0.25);
  const Tensor y = n(tensor({0.0f, 0.5f, 1.0f}));
  EXPECT_EQ(y.dtype(), kFloat32);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({-2.0f, 0.0f, 2.0f}));
}

TEST(Normalize, PerFeatureValuesBroadcastOverABatch) {
  const Normalize n(tensor({1.0, 10.0}), tensor({2.0, 5.0}));
  const Tensor batch = tensor({{3.0, 0.0}, {1.0, 20.0}});
  EXPECT_EQ(n(batch).to_vector<double>(), std::vector<double>({1.0, -2.0, 0.0, 2.0}));
  EXPECT_EQ(n(tensor({5.0, 15.0})).to_vector<double>(), std::vector<double>({2.0, 1.0}));
}

TEST(Normalize, RejectsBadParameters) {
  EXPECT_THROW(Normalize(0.0, 0.0), ValueError);
  EXPECT_THROW(Normalize(tensor({0.0, 0.0}), tensor({1.0})), ShapeError);
  EXPECT_THROW(Normalize(0.0, 1.0)(tensor({1, 2})), DTypeError);
}

TEST(ComputeMeanStd, OverEveryValue) {
  // Values 1..8: mean 4.5, population variance (64 - 1) / 12 = 5.25.
  const TensorDataset d(tensor(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}, {4, 2}), Tensor());
  const MeanStd s = compute_mean_std(d, false, /*batch_size=*/3);
  EXPECT_EQ(s.mean.dim(), 0);
  EXPECT_NEAR(s.mean.item(), 4.5, 1e-12);
  EXPECT_NEAR(s.std.item(), std::sqrt(5.25), 1e-12);
}

TEST(ComputeMeanStd, PerFeatureWithAConstantFeature) {
  // Column 0: 1, 3, 5 (mean 3, variance 8/3); column 1 constant 7 (std set to 1).
  const TensorDataset d(tensor({{1.0, 7.0}, {3.0, 7.0}, {5.0, 7.0}}), Tensor());
  const MeanStd s = compute_mean_std(d, true, 2);
  EXPECT_EQ(s.mean.shape(), Shape({2}));
  EXPECT_NEAR(s.mean.to_vector<double>()[0], 3.0, 1e-12);
  EXPECT_NEAR(s.mean.to_vector<double>()[1], 7.0, 1e-12);
  EXPECT_NEAR(s.std.to_vector<double>()[0], std::sqrt(8.0 / 3.0), 1e-12);
  EXPECT_EQ(s.std.to_vector<double>()[1], 1.0);
  const Tensor normalized = Normalize(s.mean, s.std)(d.inputs());
  for (double v : normalized.to_vector<double>()) EXPECT_FALSE(std::isnan(v));
}

TEST(ComputeMeanStd, LargeOffsetDoesNotCancel) {
  // 1e8 + {0, 1}: a naive sum of squares in float64 loses the variance of 0.25.
  const TensorDataset d(tensor({{1e8}, {1e8 + 1}, {1e8}, {1e8 + 1}}), Tensor());
  EXPECT_NEAR(compute_mean_std(d).std.item(), 0.5, 1e-6);
}

TEST(ComputeMeanStd, EmptyDatasetThrows) {
  const TensorDataset d(zeros({0, 3}), Tensor());
  EXPECT_NE(message_of<ValueError>([&] { compute_mean_std(d); }).find("empty"), std::string::npos);
}

TEST(TransformDataset, AppliesToExamplesAndBatches) {
  auto base = std::make_shared<TensorDataset>(tensor({{2.0f}, {4.0f}}), tensor({0, 1}));
  const TransformDataset d(base, Normalize(2.0, 2.0));
  EXPECT_EQ(d.size(), 2);
  EXPECT_EQ(d.get(1).input.to_vector<float>(), std::vector<float>({1.0f}));
  EXPECT_EQ(d.get_batch({0, 1}).input.to_vector<float>(), std::vector<float>({0.0f, 1.0f}));
  EXPECT_EQ(d.get_batch({0, 1}).target.to_vector<int64_t>(), std::vector<int64_t>({0, 1}));
  EXPECT_THROW(TransformDataset(base, Transform()), ValueError);
}

TEST(TransformInputs, TransformsOnceAndKeepsTargets) {
  const TensorDataset d(tensor({{2.0f}, {4.0f}}), tensor({0, 1}));
  const TensorDataset n = transform_inputs(d, Normalize(3.0, 1.0));
  EXPECT_EQ(n.inputs().to_vector<float>(), std::vector<float>({-1.0f, 1.0f}));
  EXPECT_EQ(n.targets().to_vector<int64_t>(), std::vector<int64_t>({0, 1}));
}

}  // namespace
}  // namespace xgrad::data
