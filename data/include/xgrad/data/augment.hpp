#pragma once
// Random augmentation of images, applied on the fly to a training set, as torchvision's transforms
// inside a Dataset, but reproducible: the transforms of example i in epoch k draw from a generator
// of their own, seeded from (seed, k, i). So an example's augmented image depends neither on the
// batch it lands in, nor on a loader thread's timing, nor on the epochs before: a resumed run
// (fit's resume, DataLoader::set_epoch) sees exactly the images of an uninterrupted one.
//
//   auto train_aug = std::make_shared<xg::data::AugmentedDataset>(
//       train_part, std::vector<xg::data::RandomTransform>{xg::data::RandomCrop({.size = 28, .padding = 2}),
//                                                          xg::data::RandomHorizontalFlip()},
//       /*seed=*/1);
//   train::fit(model, loss, opt, *train_aug, {...});  // fit's DataLoader passes the epoch
//
// Images are [..., H, W] (leading dims such as channels move together), of any dtype.
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "xgrad/data/dataloader.hpp"

namespace xgrad::data {

// One random transform of one image, drawing what it needs from `rng`.
using RandomTransform = std::function<Tensor(const Tensor& image, std::mt19937_64& rng)>;

// The window of `image` [..., H, W] with its top-left corner at (top, left), height x width;
// positions outside the image (top or left may be negative) get `fill` (torchvision's F.crop).
// ShapeError for an image of fewer than 2 dims, ValueError for a size below 1.
Tensor crop(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width, double fill = 0.0);
// The image mirrored left to right (the last dim reversed).
Tensor hflip(const Tensor& image);

struct RandomCropOptions {
  int64_t size = 0;     // the output is size x size
  int64_t padding = 0;  // `fill` added on every side first
  double fill = 0.0;    // the padding's value (after normalisation: the normalised background)
};

// torchvision's RandomCrop(size, padding, fill): pads, then takes a window at a uniformly drawn
// position; with padding p and size equal to the image's, a shift of -p..p pixels in each direction.
class RandomCrop {
 public:
  using Options = RandomCropOptions;
  // ValueError when size < 1 or padding < 0.
  explicit RandomCrop(Options options);
  // ValueError when the padded image is smaller than the crop.
  Tensor operator()(const Tensor& image, std::mt19937_64& rng) const;
  operator RandomTransform() const {
    return [c = *this](const Tensor& image, std::mt19937_64& rng) { return c(image, rng); };
  }
  const Options& options() const { return options_; }

 private:
  Options options_;
};

// torchvision's RandomHorizontalFlip(p): mirrors the image with probability p.
class RandomHorizontalFlip {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);  // ValueError unless 0 <= p <= 1
  Tensor operator()(const Tensor& image, std::mt19937_64& rng) const;
  operator RandomTransform() const {
    return [f = *this](const Tensor& image, std::mt19937_64& rng) { return f(image, rng); };
  }
  double p() const { return p_; }

 private:
  double p_;
};

// The examples of `dataset` with `transforms` applied to each input in order; targets unchanged.
// Every transform must give images of one shape. Thread-safe (it holds no mutable state).
class AugmentedDataset : public EpochDataset {
 public:
  // ValueError for a null dataset or an empty transform.
  AugmentedDataset(std::shared_ptr<const Dataset> dataset, std::vector<RandomTransform> transforms, uint64_t seed);
  int64_t size() const override { return dataset_->size(); }
  Example get(int64_t index) const override;  // as epoch 0 sees it
  Example get_epoch_batch(const std::vector<int64_t>& indices, int64_t epoch) const override;

  // The generator of example `index` in `epoch`: what the transforms of that example draw from.
  std::mt19937_64 generator(int64_t epoch, int64_t index) const;

 private:
  std::shared_ptr<const Dataset> dataset_;
  std::vector<RandomTransform> transforms_;
  uint64_t seed_;
};

}  // namespace xgrad::data
