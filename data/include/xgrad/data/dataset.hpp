#pragma once
// Datasets: indexed collections of (input, target) examples, and the ways to split them.
//
//   auto [images, labels] = ...;                        // [n, 28, 28] float32, [n] int64
//   auto data = std::make_shared<xg::data::TensorDataset>(images, labels);
//   auto parts = xg::data::random_split(data, {0.9, 0.1}, /*seed=*/42);   // or {54000, 6000}
//   auto [train, val] = xg::data::train_test_split(data, {.test_size = 6000, .seed = 42});
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad::data {

// One example, or a batch of them stacked along a new leading dim.
struct Example {
  Tensor input;
  Tensor target;  // undefined for unlabelled data
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // IndexError when index is outside [0, size()).
  virtual Example get(int64_t index) const = 0;
  // The examples at `indices` stacked along a new dim 0. The default stacks get(i); a dataset that
  // holds whole tensors gathers them in one go. A DataLoader calls it from its worker thread, so it
  // must not modify shared state without a lock.
  virtual Example get_batch(const std::vector<int64_t>& indices) const;
};

// A non-owning handle for a dataset that outlives every use of the pointer (a local in main(), a
// member of a longer-lived object).
std::shared_ptr<const Dataset> borrow(const Dataset& dataset);

// Row i of `inputs` with row i of `targets`. Both tensors are held (not copied) and detached.
class TensorDataset : public Dataset {
 public:
  TensorDataset() = default;
  // ShapeError unless both have at least one dim and the same size along dim 0. `targets` may be
  // undefined (unlabelled data).
  TensorDataset(Tensor inputs, Tensor targets);

  int64_t size() const override;
  Example get(int64_t index) const override;
  Example get_batch(const std::vector<int64_t>& indices) const override;  // one index_select per tensor

  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }
  // A new TensorDataset holding copies of the rows at `indices`.
  TensorDataset subset(const std::vector<int64_t>& indices) const;

 private:
  Tensor inputs_, targets_;
};

// The examples of `dataset` at `indices`, in that order (the dataset is shared, not copied).
class Subset : public Dataset {
 public:
  // IndexError when an index is outside the dataset.
  Subset(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices);

  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Example get(int64_t index) const override;
  Example get_batch(const std::vector<int64_t>& indices) const override;

  const std::vector<int64_t>& indices() const { return indices_; }
  const std::shared_ptr<const Dataset>& dataset() const { return dataset_; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  std::vector<int64_t> indices_;
};

// A random permutation of [0, n): the same for the same seed on every platform (a Fisher-Yates
// shuffle driven by std::mt19937_64, with our own unbiased bounded draw).
std::vector<int64_t> random_permutation(int64_t n, uint64_t seed);

// Splits a dataset into non-overlapping random subsets, as torch.utils.data.random_split:
// `lengths` must sum to the size (ValueError otherwise); `fractions` must each lie in [0, 1] and
// sum to 1, and the remainder of their rounding goes one by one to the first subsets.
std::vector<Subset> random_split(std::shared_ptr<const Dataset> dataset, const std::vector<int64_t>& lengths,
                                 uint64_t seed);
std::vector<Subset> random_split(std::shared_ptr<const Dataset> dataset, const std::vector<double>& fractions,
                                 uint64_t seed);
// So that both `{54000, 6000}` and `{0.9, 0.1}` pick the right one.
template <typename T>
requires std::is_arithmetic_v<T> std::vector<Subset> random_split(std::shared_ptr<const Dataset> dataset,
                                                                  std::initializer_list<T> sizes, uint64_t seed) {
  if constexpr (std::is_integral_v<T>)
    return random_split(std::move(dataset), std::vector<int64_t>(sizes.begin(), sizes.end()), seed);
  else
    return random_split(std::move(dataset), std::vector<double>(sizes.begin(), sizes.end()), seed);
}

struct SplitOptions {
  double test_fraction = 0.25;  // used when test_size < 0
  int64_t test_size = -1;       // a number of examples
  bool shuffle = true;          // false: the test part is the last examples, in order
  uint64_t seed = 0;
};
struct TrainTest {
  Subset train;
  Subset test;
};
// scikit-learn's train_test_split. ValueError when either part would be empty or too large.
TrainTest train_test_split(std::shared_ptr<const Dataset> dataset, const SplitOptions& options = {});

}  // namespace xgrad::data
