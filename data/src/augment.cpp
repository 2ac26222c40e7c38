// Random image augmentation on values: plain loops over the image planes (a crop and a flip only
// move elements), and one small generator per example, seeded from (seed, epoch, index).
#include "xgrad/data/augment.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "splitmix.hpp"
#include "xgrad/tensor/error.hpp"

namespace xgrad::data {
namespace {

using detail::bounded;
using detail::splitmix64;

// A uniform draw in [0, 1) with 53 random bits.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

void check_image(const char* op, const Tensor& image) {
  if (!image.defined()) throw ValueError(std::string(op) + ": the image is undefined");
  if (image.dim() < 2)
    throw ShapeError(std::string(op) + ": expected an image [..., H, W], got shape " + to_string(image.shape()));
}

// The number of [H, W] planes of an image [..., H, W].
int64_t planes(const Shape& shape) {
  int64_t n = 1;
  for (size_t d = 0; d + 2 < shape.size(); ++d) n *= shape[d];
  return n;
}

}  // namespace

Tensor crop(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width, double fill) {
  check_image("crop", image);
  if (height < 1 || width < 1)
    throw ValueError("crop: height and width must be >= 1, got " + std::to_string(height) + " x " +
                     std::to_string(width));
  const Array in = image.array().contiguous();
  const Shape& shape = in.shape();
  const int64_t h = shape[shape.size() - 2], w = shape[shape.size() - 1];
  Shape out_shape = shape;
  out_shape[out_shape.size() - 2] = height;
  out_shape[out_shape.size() - 1] = width;
  Array out(out_shape, in.dtype());
  // Output columns [x0, x1) come from the image, the others are fill; likewise rows [y0, y1).
  const int64_t x0 = std::clamp<int64_t>(-left, 0, width), x1 = std::clamp<int64_t>(w - left, x0, width);
  const int64_t y0 = std::clamp<int64_t>(-top, 0, height), y1 = std::clamp<int64_t>(h - top, y0, height);
  dispatch(in.dtype(), [&]<typename T>() {
    const T* src = in.data<T>();
    T* dst = out.data<T>();
    const T value = static_cast<T>(fill);
    for (int64_t p = 0, n = planes(shape); p < n; ++p, src += h * w) {
      for (int64_t y = 0; y < height; ++y, dst += width) {
        if (y < y0 || y >= y1) {
          std::fill(dst, dst + width, value);
          continue;
        }
        std::fill(dst, dst + x0, value);
        if (x1 > x0) std::copy_n(src + (top + y) * w + left + x0, x1 - x0, dst + x0);
        std::fill(dst + x1, dst + width, value);
      }
    }
  });
  return Tensor(out);
}

Tensor hflip(const Tensor& image) {
  check_image("hflip", image);
  const Array in = image.array().contiguous();
  const int64_t w = in.shape().back();
  Array out(in.shape(), in.dtype());
  dispatch(in.dtype(), [&]<typename T>() {
    const T* src = in.data<T>();
    T* dst = out.data<T>();
    for (int64_t r = 0, rows = in.numel() / std::max<int64_t>(w, 1); r < rows; ++r, src += w, dst += w)
      std::reverse_copy(src, src + w, dst);
  });
  return Tensor(out);
}

// ---- RandomCrop, RandomHorizontalFlip -----------------------------------------------------------

RandomCrop::RandomCrop(Options options) : options_(options) {
  if (options_.size < 1) throw ValueError("RandomCrop: size must be >= 1, got " + std::to_string(options_.size));
  if (options_.padding < 0)
    throw ValueError("RandomCrop: padding must be >= 0, got " + std::to_string(options_.padding));
}

Tensor RandomCrop::operator()(const Tensor& image, std::mt19937_64& rng) const {
  check_image("RandomCrop", image);
  const int64_t h = image.size(-2) + 2 * options_.padding, w = image.size(-1) + 2 * options_.padding;
  if (h < options_.size || w < options_.size)
    throw ValueError("RandomCrop: a crop of " + std::to_string(options_.size) + " x " + std::to_string(options_.size) +
                     " does not fit in the padded image " + std::to_string(h) + " x " + std::to_string(w));
  // As torchvision: the top, then the left offset into the padded image, each uniform.
  const auto top = static_cast<int64_t>(bounded(rng, static_cast<uint64_t>(h - options_.size + 1)));
  const auto left = static_cast<int64_t>(bounded(rng, static_cast<uint64_t>(w - options_.size + 1)));
  return crop(image, top - options_.padding, left - options_.padding, options_.size, options_.size, options_.fill);
}

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  if (!(p >= 0.0 && p <= 1.0)) throw ValueError("RandomHorizontalFlip: p must lie in [0, 1], got " + std::to_string(p));
}

Tensor RandomHorizontalFlip::operator()(const Tensor& image, std::mt19937_64& rng) const {
  check_image("RandomHorizontalFlip", image);
  return uniform01(rng) < p_ ? hflip(image) : image;  // always one draw, so later draws do not shift
}

// ---- AugmentedDataset ---------------------------------------------------------------------------

AugmentedDataset::AugmentedDataset(std::shared_ptr<const Dataset> dataset, std::vector<RandomTransform> transforms,
                                   uint64_t seed)
    : dataset_(std::move(dataset)), transforms_(std::move(transforms)), seed_(seed) {
  if (!dataset_) throw ValueError("AugmentedDataset: dataset is null");
  for (const RandomTransform& t : transforms_)
    if (!t) throw ValueError("AugmentedDataset: a transform is empty");
}

std::mt19937_64 AugmentedDataset::generator(int64_t epoch, int64_t index) const {
  const uint64_t key =
      splitmix64(splitmix64(seed_ ^ splitmix64(static_cast<uint64_t>(epoch))) ^ static_cast<uint64_t>(index));
  return std::mt19937_64(key);
}

Example AugmentedDataset::get(int64_t index) const {
  Example e = dataset_->get(index);  // checks the index
  std::mt19937_64 rng = generator(0, index);
  for (const RandomTransform& t : transforms_) e.input = t(e.input, rng);
  return e;
}

Example AugmentedDataset::get_epoch_batch(const std::vector<int64_t>& indices, int64_t epoch) const {
  Example batch = dataset_->get_batch(indices);
  const Array inputs = batch.input.array();
  if (inputs.dim() < 1 || inputs.size(0) != static_cast<int64_t>(indices.size()))
    throw ShapeError("AugmentedDataset: the dataset's batch of " + std::to_string(indices.size()) +
                     " examples has inputs of shape " + to_string(inputs.shape()));
  Array out;
  size_t bytes = 0;
  for (size_t i = 0; i < indices.size(); ++i) {
    Tensor image(inputs.select(0, static_cast<int64_t>(i)));
    std::mt19937_64 rng = generator(epoch, indices[i]);
    for (const RandomTransform& t : transforms_) image = t(image, rng);
    const Array done = image.array().contiguous();
    if (!out.defined()) {
      Shape shape = done.shape();
      shape.insert(shape.begin(), static_cast<int64_t>(indices.size()));
      out = Array(shape, done.dtype());
      bytes = static_cast<size_t>(done.numel()) * itemsize(done.dtype());
    } else if (done.dtype() != out.dtype() || done.shape() != out.select(0, 0).shape()) {
      throw ShapeError("AugmentedDataset: the transforms gave images " + to_string(out.select(0, 0).shape()) + " and " +
                       to_string(done.shape()) + " (" + std::string(dtype_name(done.dtype())) + ") in one batch");
    }
    std::memcpy(static_cast<char*>(out.raw_data()) + i * bytes, done.raw_data(), bytes);
  }
  if (out.defined()) batch.input = Tensor(out);
  return batch;
}

}  // namespace xgrad::data
