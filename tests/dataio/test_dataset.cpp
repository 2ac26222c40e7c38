// Datasets and splits: TensorDataset rows and batches, the default batching of a custom dataset,
// Subset index mapping, and random_split / train_test_split (disjoint, complete, seeded).
#include <algorithm>
#include <numeric>
#include <set>

#include <gtest/gtest.h>

#include "temp_dir.hpp"
#include "xgrad/data/dataset.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::data {
namespace {

using xgrad::testing::message_of;

// inputs row i = [10 i, 10 i + 1], target i = i.
TensorDataset rows(int64_t n) {
  std::vector<float> x;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < n; ++i) {
    x.push_back(10.0f * static_cast<float>(i));
    x.push_back(10.0f * static_cast<float>(i) + 1.0f);
    y.push_back(i);
  }
  return TensorDataset(tensor(x, {n, 2}), tensor(y, {n}));
}

// A dataset without get_batch: batches come from the default, which stacks get(i).
class Squares : public Dataset {
 public:
  int64_t size() const override { return 5; }
  Example get(int64_t i) const override {
    const auto v = static_cast<double>(i);
    return {tensor(std::vector<double>{v, v * v}, {2}), scalar_tensor(v, {.dtype = kInt64})};
  }
};

std::vector<int64_t> targets_of(const Dataset& d) {
  std::vector<int64_t> all(static_cast<size_t>(d.size()));
  std::iota(all.begin(), all.end(), int64_t{0});
  return d.get_batch(all).target.to_vector<int64_t>();
}

TEST(TensorDataset, GetReturnsOneRowAndItsTarget) {
  const TensorDataset d = rows(4);
  EXPECT_EQ(d.size(), 4);
  const Example e = d.get(2);
  EXPECT_EQ(e.input.shape(), Shape({2}));
  EXPECT_EQ(e.input.to_vector<float>(), std::vector<float>({20.0f, 21.0f}));
  EXPECT_EQ(e.target.dim(), 0);
  EXPECT_EQ(e.target.item<int64_t>(), 2);
  EXPECT_FALSE(e.input.requires_grad());
}

TEST(TensorDataset, GetBatchGathersRowsInTheOrderAsked) {
  const TensorDataset d = rows(5);
  const Example b = d.get_batch({4, 0, 4});
  EXPECT_EQ(b.input.shape(), Shape({3, 2}));
  EXPECT_EQ(b.input.to_vector<float>(), std::vector<float>({40, 41, 0, 1, 40, 41}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), std::vector<int64_t>({4, 0, 4}));
}

TEST(TensorDataset, InputsAreDetachedFromAnyGraph) {
  Tensor x = ones({3, 2});
  x.requires_grad_();
  const TensorDataset d(x, Tensor());
  EXPECT_FALSE(d.inputs().requires_grad());
  EXPECT_FALSE(d.get_batch({0, 1}).target.defined());  // unlabelled
}

TEST(TensorDataset, RejectsMismatchedSizesAndScalars) {
  EXPECT_NE(message_of<ShapeError>([] {
              TensorDataset(zeros({4, 2}), zeros({3}));
            }).find("[4, 2] and targets [3]"),
            std::string::npos);
  EXPECT_THROW(TensorDataset(scalar_tensor(1.0), Tensor()), ShapeError);
  EXPECT_THROW(TensorDataset(Tensor(), zeros({3})), ValueError);
}

TEST(TensorDataset, OutOfRangeIndicesThrowIndexError) {
  const TensorDataset d = rows(3);
  EXPECT_NE(message_of<IndexError>([&] { d.get(3); }).find("index 3 is out of range for a dataset of 3"),
            std::string::npos);
  EXPECT_THROW(d.get(-1), IndexError);
  EXPECT_THROW(d.get_batch({0, 7}), IndexError);
}

TEST(TensorDataset, SubsetCopiesTheRows) {
  const TensorDataset d = rows(4).subset({3, 1});
  EXPECT_EQ(d.size(), 2);
  EXPECT_EQ(d.inputs().to_vector<float>(), std::vector<float>({30, 31, 10, 11}));
}

TEST(Dataset, DefaultGetBatchStacksExamples) {
  const Squares d;
  const Example b = d.get_batch({1, 3});
  EXPECT_EQ(b.input.shape(), Shape({2, 2}));
  EXPECT_EQ(b.input.to_vector<double>(), std::vector<double>({1, 1, 3, 9}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), std::vector<int64_t>({1, 3}));
  EXPECT_THROW(d.get_batch({}), ValueError);
}

TEST(Subset, MapsIndicesIntoTheParent) {
  auto parent = std::make_shared<TensorDataset>(rows(6));
  const Subset s(parent, {5, 2, 0});
  EXPECT_EQ(s.size(), 3);
  EXPECT_EQ(s.get(0).target.item<int64_t>(), 5);
  EXPECT_EQ(s.get_batch({2, 1}).target.to_vector<int64_t>(), std::vector<int64_t>({0, 2}));
  EXPECT_THROW(s.get(3), IndexError);
  EXPECT_THROW(Subset(parent, {6}), IndexError);
}

TEST(RandomPermutation, IsAPermutationFixedByTheSeed) {
  const std::vector<int64_t> a = random_permutation(100, 7), b = random_permutation(100, 7);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, random_permutation(100, 8));
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> expected(100);
  std::iota(expected.begin(), expected.end(), int64_t{0});
  EXPECT_EQ(sorted, expected);
  EXPECT_NE(a, expected);
  EXPECT_TRUE(random_permutation(0, 1).empty());
  EXPECT_EQ(random_permutation(1, 1), std::vector<int64_t>({0}));
}

TEST(RandomPermutation, EveryPositionIsReachable) {
  // Over many seeds, element 0 lands in every slot of a 5-permutation roughly equally often.
  std::vector<int> where(5, 0);
  for (uint64_t seed = 0; seed < 5000; ++seed) {
    const auto p = random_permutation(5, seed);
    ++where[static_cast<size_t>(std::find(p.begin(), p.end(), 0) - p.begin())];
  }
  for (int count : where) EXPECT_NEAR(count, 1000, 150);
}

TEST(RandomSplit, LengthsGiveDisjointSubsetsCoveringTheDataset) {
  auto d = std::make_shared<TensorDataset>(rows(10));
  const auto parts = random_split(d, {6, 3, 1}, 42);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].size(), 6);
  EXPECT_EQ(parts[1].size(), 3);
  EXPECT_EQ(parts[2].size(), 1);
  std::set<int64_t> seen;
  for (const Subset& p : parts)
    for (int64_t t : targets_of(p)) EXPECT_TRUE(seen.insert(t).second) << "example " << t << " in two subsets";
  EXPECT_EQ(seen.size(), 10u);
}

TEST(RandomSplit, SameSeedSameSplitOtherSeedOtherSplit) {
  auto d = std::make_shared<TensorDataset>(rows(50));
  EXPECT_EQ(random_split(d, {25, 25}, 1)[0].indices(), random_split(d, {25, 25}, 1)[0].indices());
  EXPECT_NE(random_split(d, {25, 25}, 1)[0].indices(), random_split(d, {25, 25}, 2)[0].indices());
}

TEST(RandomSplit, FractionsRoundDownAndHandTheRemainderToTheFirst) {
  auto d = std::make_shared<TensorDataset>(rows(10));
  const auto parts = random_split(d, {0.34, 0.33, 0.33}, 3);  // floor: 3, 3, 3; one left over
  EXPECT_EQ(parts[0].size(), 4);
  EXPECT_EQ(parts[1].size(), 3);
  EXPECT_EQ(parts[2].size(), 3);
  int64_t n = 8;
  const auto two = random_split(d, std::vector<int64_t>{n, 10 - n}, 3);
  EXPECT_EQ(two[1].size(), 2);
}

TEST(RandomSplit, RejectsBadSizes) {
  auto d = std::make_shared<TensorDataset>(rows(10));
  EXPECT_NE(message_of<ValueError>([&] {
              random_split(d, {6, 3}, 0);
            }).find("sum to 9 but the dataset has 10"),
            std::string::npos);
  EXPECT_THROW(random_split(d, {11, -1}, 0), ValueError);
  EXPECT_THROW(random_split(d, {0.5, 0.4}, 0), ValueError);
  EXPECT_THROW(random_split(d, {1.5, -0.5}, 0), ValueError);
  EXPECT_THROW(random_split(nullptr, {1.0}, 0), ValueError);
}

TEST(TrainTestSplit, FractionRoundsTheTestPartUp) {
  auto d = std::make_shared<TensorDataset>(rows(10));
  const auto [train, test] = train_test_split(d, {.test_fraction = 0.25, .seed = 5});
  EXPECT_EQ(train.size(), 7);
  EXPECT_EQ(test.size(), 3);
  std::set<int64_t> all;
  for (int64_t t : targets_of(train)) all.insert(t);
  for (int64_t t : targets_of(test)) all.insert(t);
  EXPECT_EQ(all.size(), 10u);
}

TEST(TrainTestSplit, WithoutShuffleTheTestPartIsTheLastExamples) {
  auto d = std::make_shared<TensorDataset>(rows(10));
  const auto [train, test] = train_test_split(d, {.test_size = 2, .shuffle = false});
  EXPECT_EQ(targets_of(test), std::vector<int64_t>({8, 9}));
  EXPECT_EQ(targets_of(train).front(), 0);
}

TEST(TrainTestSplit, RejectsEmptyParts) {
  auto d = std::make_shared<TensorDataset>(rows(10));
  EXPECT_THROW(train_test_split(d, {.test_size = 10}), ValueError);
  EXPECT_THROW(train_test_split(d, {.test_fraction = 0.0}), ValueError);
  EXPECT_THROW(train_test_split(d, {.test_fraction = 1.0}), ValueError);
}

TEST(Borrow, SharesWithoutOwning) {
  const TensorDataset d = rows(3);
  const auto p = borrow(d);
  EXPECT_EQ(p.get(), &d);
  EXPECT_EQ(Subset(p, {2}).get(0).target.item<int64_t>(), 2);
}

}  // namespace
}  // namespace xgrad::data
