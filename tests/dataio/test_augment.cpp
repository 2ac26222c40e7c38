// Random augmentation: crop and flip on tiny images by hand, the range and frequency of the random
// draws, and determinism: an example's augmented image is a function of (seed, epoch, index) only,
// whatever the batch, the loader's worker thread, or a restart at a later epoch.
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <utility>

#include <gtest/gtest.h>

#include "temp_dir.hpp"
#include "xgrad/data/augment.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::data {
namespace {

using xgrad::testing::message_of;

// [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
Tensor three_by_three() { return tensor(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3}); }

// n images [h, w] whose values are all distinct (example i holds i * 1000 + position), labels i.
std::shared_ptr<TensorDataset> numbered_images(int64_t n, int64_t h, int64_t w) {
  std::vector<float> x(static_cast<size_t>(n * h * w));
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>((static_cast<int64_t>(i) / (h * w)) * 1000 + static_cast<int64_t>(i) % (h * w));
  std::vector<int64_t> y(static_cast<size_t>(n));
  std::iota(y.begin(), y.end(), int64_t{0});
  return std::make_shared<TensorDataset>(tensor(x, {n, h, w}), tensor(y, {n}));
}

std::shared_ptr<AugmentedDataset> crop_and_flip(std::shared_ptr<const Dataset> data, uint64_t seed) {
  return std::make_shared<AugmentedDataset>(
      std::move(data),
      std::vector<RandomTransform>{RandomCrop({.size = 4, .padding = 1, .fill = -1}), RandomHorizontalFlip()}, seed);
}

TEST(Crop, WindowShiftedUpAndRightFillsWhatLiesOutside) {
  // Top-left corner at (-1, 1): the first row is above the image, the last column right of it.
  const Tensor y = crop(three_by_three(), -1, 1, 3, 3);
  EXPECT_EQ(y.shape(), Shape({3, 3}));
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({0, 0, 0, 2, 3, 0, 5, 6, 0}));
}

TEST(Crop, WindowShiftedDownAndLeftWithAFillValue) {
  const Tensor y = crop(three_by_three(), 1, -2, 2, 4, 7.5);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({7.5, 7.5, 4, 5, 7.5, 7.5, 7, 8}));
}

TEST(Crop, InsideTheImageIsASliceAndEveryChannelMovesAlike) {
  // Two channels of 2 x 3; the window (1, 1) of 1 x 2.
  const Tensor image = tensor(std::vector<double>{1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60}, {2, 2, 3});
  const Tensor y = crop(image, 1, 1, 1, 2);
  EXPECT_EQ(y.shape(), Shape({2, 1, 2}));
  EXPECT_EQ(y.dtype(), kFloat64);
  EXPECT_EQ(y.to_vector<double>(), std::vector<double>({5, 6, 50, 60}));
}

TEST(Crop, WindowEntirelyOutsideIsAllFill) {
  EXPECT_EQ(crop(three_by_three(), 5, 0, 1, 2, -3).to_vector<float>(), std::vector<float>({-3, -3}));
  EXPECT_EQ(crop(three_by_three(), 0, -9, 1, 2).to_vector<float>(), std::vector<float>({0, 0}));
}

TEST(Crop, ReadsAStridedView) {
  // The transpose of the 3 x 3 image: [[1, 4, 7], [2, 5, 8], [3, 6, 9]].
  const Tensor t(three_by_three().array().transpose(0, 1));
  EXPECT_EQ(crop(t, 0, 1, 2, 2).to_vector<float>(), std::vector<float>({4, 7, 5, 8}));
}

TEST(Crop, RejectsBadArguments) {
  EXPECT_THROW(crop(tensor({1.0f, 2.0f}), 0, 0, 1, 1), ShapeError);
  EXPECT_EQ(message_of<ValueError>([] { crop(three_by_three(), 0, 0, 0, 2); }),
            "crop: height and width must be >= 1, got 0 x 2");
  EXPECT_THROW(crop(Tensor(), 0, 0, 1, 1), ValueError);
}

TEST(HFlip, ReversesEachRow) {
  const Tensor y = hflip(tensor({{1, 2, 3}, {4, 5, 6}}));
  EXPECT_EQ(y.dtype(), kInt64);
  EXPECT_EQ(y.to_vector<int64_t>(), std::vector<int64_t>({3, 2, 1, 6, 5, 4}));
  EXPECT_THROW(hflip(tensor({1.0f})), ShapeError);
}

TEST(RandomCrop, EveryShiftWithinThePaddingAppearsEquallyOften) {
  // Padding 1, size 3 on a 3 x 3 image: nine windows, corners (-1..1, -1..1).
  const RandomCrop random_crop({.size = 3, .padding = 1});
  std::map<std::vector<float>, std::pair<int64_t, int64_t>> windows;
  for (int64_t top = -1; top <= 1; ++top)
    for (int64_t left = -1; left <= 1; ++left)
      windows[crop(three_by_three(), top, left, 3, 3).to_vector<float>()] = {top, left};
  ASSERT_EQ(windows.size(), 9u);
  std::map<std::pair<int64_t, int64_t>, int> seen;
  std::mt19937_64 rng(7);
  const int draws = 9000;
  for (int i = 0; i < draws; ++i) {
    const auto found = windows.find(random_crop(three_by_three(), rng).to_vector<float>());
    ASSERT_NE(found, windows.end());
    ++seen[found->second];
  }
  ASSERT_EQ(seen.size(), 9u);
  for (const auto& [corner, count] : seen) EXPECT_NEAR(count, draws / 9, 150);  // ~5 standard deviations
}

TEST(RandomCrop, WithoutPaddingAtFullSizeIsTheIdentity) {
  std::mt19937_64 rng(1);
  EXPECT_EQ(RandomCrop({.size = 3})(three_by_three(), rng).to_vector<float>(), three_by_three().to_vector<float>());
}

TEST(RandomCrop, RejectsBadOptionsAndImagesTooSmall) {
  EXPECT_THROW(RandomCrop({.size = 0}), ValueError);
  EXPECT_THROW(RandomCrop({.size = 2, .padding = -1}), ValueError);
  std::mt19937_64 rng(1);
  EXPECT_EQ(message_of<ValueError>([&] { RandomCrop({.size = 6, .padding = 1})(three_by_three(), rng); }),
            "RandomCrop: a crop of 6 x 6 does not fit in the padded image 5 x 5");
  EXPECT_THROW(RandomCrop({.size = 1})(tensor({1.0f}), rng), ShapeError);
}

TEST(RandomHorizontalFlip, FlipsWithProbabilityP) {
  const Tensor image = three_by_three();
  const std::vector<float> flipped = hflip(image).to_vector<float>();
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(RandomHorizontalFlip(0.0)(image, rng).to_vector<float>(), image.to_vector<float>());
    EXPECT_EQ(RandomHorizontalFlip(1.0)(image, rng).to_vector<float>(), flipped);
  }
  int flips = 0;
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) flips += RandomHorizontalFlip()(image, rng).to_vector<float>() == flipped;
  EXPECT_NEAR(flips, draws / 2, 160);  // ~5 standard deviations
  EXPECT_THROW(RandomHorizontalFlip(1.5), ValueError);
  EXPECT_THROW(RandomHorizontalFlip(-0.1), ValueError);
}

TEST(AugmentedDataset, AnExampleDependsOnSeedEpochAndIndexOnly) {
  const auto data = numbered_images(8, 4, 4);
  const auto a = crop_and_flip(data, 5), same = crop_and_flip(data, 5), other_seed = crop_and_flip(data, 6);
  const Example batch = a->get_epoch_batch({6, 2, 3}, 4);
  EXPECT_EQ(batch.input.shape(), Shape({3, 4, 4}));
  EXPECT_EQ(batch.target.to_vector<int64_t>(), std::vector<int64_t>({6, 2, 3}));
  // Example 2 alone, in another batch, from another dataset object with the same seed: the same image.
  const std::vector<float> two = Tensor(batch.input.array().select(0, 1)).to_vector<float>();
  EXPECT_EQ(a->get_epoch_batch({2}, 4).input.to_vector<float>(), two);
  EXPECT_EQ(Tensor(same->get_epoch_batch({0, 2}, 4).input.array().select(0, 1)).to_vector<float>(), two);
  // And what the example's own generator gives through the transforms by hand.
  std::mt19937_64 rng = a->generator(4, 2);
  const Tensor by_hand =
      RandomHorizontalFlip()(RandomCrop({.size = 4, .padding = 1, .fill = -1})(data->get(2).input, rng), rng);
  EXPECT_EQ(by_hand.to_vector<float>(), two);
  // get() is epoch 0.
  EXPECT_EQ(a->get(5).input.to_vector<float>(), a->get_epoch_batch({5}, 0).input.to_vector<float>());
  EXPECT_EQ(a->get(5).target.item(), 5);
  // Other epochs and other seeds draw other transforms (for some of the 8 examples at least).
  const std::vector<int64_t> all = {0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<float> epoch4 = a->get_epoch_batch(all, 4).input.to_vector<float>();
  EXPECT_NE(a->get_epoch_batch(all, 5).input.to_vector<float>(), epoch4);
  EXPECT_NE(other_seed->get_epoch_batch(all, 4).input.to_vector<float>(), epoch4);
  EXPECT_EQ(same->get_epoch_batch(all, 4).input.to_vector<float>(), epoch4);
}

TEST(AugmentedDataset, ALoaderGivesTheSameBatchesWithOrWithoutItsWorkerAndAfterSetEpoch) {
  const auto augmented = crop_and_flip(numbered_images(50, 4, 4), 11);
  const auto passes = [&](bool prefetch, int64_t first_epoch, int64_t epochs) {
    DataLoader loader(augmented, {.batch_size = 8, .shuffle = true, .seed = 3, .prefetch = prefetch});
    loader.set_epoch(first_epoch);
    std::vector<std::vector<float>> batches;
    for (int64_t e = 0; e < epochs; ++e)
      for (const Example& b : loader) batches.push_back(b.input.to_vector<float>());
    return batches;
  };
  const auto straight = passes(true, 0, 3);
  ASSERT_EQ(straight.size(), 21u);  // 7 batches per epoch
  EXPECT_EQ(passes(false, 0, 3), straight);
  // A loader restarted at epoch 2 (as fit's resume does) gives epoch 2's batches.
  const auto resumed = passes(true, 2, 1);
  EXPECT_EQ(resumed, std::vector<std::vector<float>>(straight.begin() + 14, straight.end()));
  // Each batch is the epoch's examples, in the epoch's order, as that epoch transforms them.
  DataLoader loader(augmented, {.batch_size = 8, .shuffle = true, .seed = 3});
  const std::vector<int64_t> order = loader.order(1);
  EXPECT_EQ(straight[7], augmented->get_epoch_batch({order.begin(), order.begin() + 8}, 1).input.to_vector<float>());
}

TEST(AugmentedDataset, PaddingTakesTheFillValueAndTargetsStay) {
  // Images of ones, padded with -1 and cropped back to 4 x 4: each image is ones apart from
  // whole rows / columns of -1 at a shifted border.
  const auto ones = std::make_shared<TensorDataset>(full({6, 4, 4}, 1.0), tensor({0, 1, 2, 3, 4, 5}));
  const Example b = crop_and_flip(ones, 2)->get_epoch_batch({0, 1, 2, 3, 4, 5}, 0);
  EXPECT_EQ(b.target.to_vector<int64_t>(), std::vector<int64_t>({0, 1, 2, 3, 4, 5}));
  int64_t shifted = 0;
  for (int64_t i = 0; i < 6; ++i) {
    const std::vector<float> v = Tensor(b.input.array().select(0, i)).to_vector<float>();
    const auto fills = std::count(v.begin(), v.end(), -1.0f);
    EXPECT_EQ(std::count(v.begin(), v.end(), 1.0f) + fills, 16);
    EXPECT_TRUE(fills == 0 || fills == 4 || fills == 7) << fills;  // none, a row or column, or both
    shifted += fills > 0;
  }
  EXPECT_GT(shifted, 0);
}

TEST(AugmentedDataset, RejectsNullDataEmptyTransformsAndRaggedImages) {
  EXPECT_THROW(AugmentedDataset(nullptr, {}, 0), ValueError);
  const auto data = numbered_images(4, 3, 3);
  EXPECT_THROW(AugmentedDataset(data, {RandomTransform()}, 0), ValueError);
  // A transform whose output size depends on the example.
  const RandomTransform ragged = [](const Tensor& image, std::mt19937_64&) {
    return image.to_vector<float>()[0] >= 1000 ? crop(image, 0, 0, 2, 2) : image;
  };
  const AugmentedDataset bad(data, {ragged}, 0);
  EXPECT_THROW(bad.get_epoch_batch({0, 1}, 0), ShapeError);
  EXPECT_THROW(bad.get(9), IndexError);
  // No transforms: the examples as they are.
  EXPECT_EQ(AugmentedDataset(data, {}, 0).get_epoch_batch({1}, 3).input.to_vector<float>(),
            data->get(1).input.to_vector<float>());
}

}  // namespace
}  // namespace xgrad::data
