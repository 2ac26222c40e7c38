// Datasets and splits. Everything here works on values (kernels on Arrays): loading data records
// no graph, and it runs on a loader's worker thread as well as on the caller's.
#include "xgrad/data/dataset.hpp"

#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>

#include "splitmix.hpp"
#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::data {
namespace {

using detail::bounded;

void check_index(const char* who, int64_t index, int64_t size) {
  if (index < 0 || index >= size)
    throw IndexError(std::string(who) + ": index " + std::to_string(index) + " is out of range for a dataset of " +
                     std::to_string(size) + " examples");
}

Array index_array(const std::vector<int64_t>& indices) {
  Array index({static_cast<int64_t>(indices.size())}, kInt64);
  if (!indices.empty()) std::memcpy(index.data<int64_t>(), indices.data(), indices.size() * sizeof(int64_t));
  return index;
}

// Stacks same-shape arrays along a new dim 0.
Array stack_arrays(const std::vector<Array>& arrays) {
  std::vector<Array> rows;
  rows.reserve(arrays.size());
  for (const Array& a : arrays) rows.push_back(a.unsqueeze(0));
  return kernels::cat(rows, 0);
}

}  // namespace

Example Dataset::get_batch(const std::vector<int64_t>& indices) const {
  if (indices.empty()) throw ValueError("Dataset::get_batch: empty list of indices");
  std::vector<Array> inputs, targets;
  inputs.reserve(indices.size());
  bool labelled = true;
  for (int64_t i : indices) {
    Example e = get(i);
    inputs.push_back(e.input.array());
    labelled = labelled && e.target.defined();
    if (labelled) targets.push_back(e.target.array());
  }
  Example batch{Tensor(stack_arrays(inputs)), Tensor()};
  if (labelled) batch.target = Tensor(stack_arrays(targets));
  return batch;
}

std::shared_ptr<const Dataset> borrow(const Dataset& dataset) {
  return std::shared_ptr<const Dataset>(&dataset, [](const Dataset*) {});
}

// ---- TensorDataset ------------------------------------------------------------------------------

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) {
  if (!inputs.defined()) throw ValueError("TensorDataset: inputs are undefined");
  if (inputs.dim() == 0) throw ShapeError("TensorDataset: inputs must have a leading example dim, got shape []");
  if (targets.defined()) {
    if (targets.dim() == 0) throw ShapeError("TensorDataset: targets must have a leading example dim, got shape []");
    if (targets.size(0) != inputs.size(0))
      throw ShapeError("TensorDataset: inputs " + to_string(inputs.shape()) + " and targets " +
                       to_string(targets.shape()) + " differ in the number of examples (dim 0)");
    targets_ = Tensor(targets.array().contiguous());
  }
  inputs_ = Tensor(inputs.array().contiguous());
}

int64_t TensorDataset::size() const { return inputs_.defined() ? inputs_.size(0) : 0; }

Example TensorDataset::get(int64_t index) const {
  check_index("TensorDataset::get", index, size());
  return {Tensor(inputs_.array().select(0, index)),
          targets_.defined() ? Tensor(targets_.array().select(0, index)) : Tensor()};
}

Example TensorDataset::get_batch(const std::vector<int64_t>& indices) const {
  const int64_t n = size();
  for (int64_t i : indices) check_index("TensorDataset::get_batch", i, n);
  const Array index = index_array(indices);
  return {Tensor(kernels::index_select(inputs_.array(), 0, index)),
          targets_.defined() ? Tensor(kernels::index_select(targets_.array(), 0, index)) : Tensor()};
}

TensorDataset TensorDataset::subset(const std::vector<int64_t>& indices) const {
  Example rows = get_batch(indices);
  return TensorDataset(rows.input, rows.target);
}

// ---- Subset -------------------------------------------------------------------------------------

Subset::Subset(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices)
    : dataset_(std::move(dataset)), indices_(std::move(indices)) {
  if (!dataset_) throw ValueError("Subset: dataset is null");
  const int64_t n = dataset_->size();
  for (int64_t i : indices_) check_index("Subset", i, n);
}

Example Subset::get(int64_t index) const {
  check_index("Subset::get", index, size());
  return dataset_->get(indices_[static_cast<size_t>(index)]);
}

Example Subset::get_batch(const std::vector<int64_t>& indices) const {
  std::vector<int64_t> mapped;
  mapped.reserve(indices.size());
  for (int64_t i : indices) {
    check_index("Subset::get_batch", i, size());
    mapped.push_back(indices_[static_cast<size_t>(i)]);
  }
  return dataset_->get_batch(mapped);
}

// ---- splits -------------------------------------------------------------------------------------

std::vector<int64_t> random_permutation(int64_t n, uint64_t seed) {
  if (n < 0) throw ValueError("random_permutation: n must be >= 0, got " + std::to_string(n));
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::mt19937_64 engine(seed);
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(order[static_cast<size_t>(i)], order[bounded(engine, static_cast<uint64_t>(i + 1))]);
  return order;
}

std::vector<Subset> random_split(std::shared_ptr<const Dataset> dataset, const std::vector<int64_t>& lengths,
                                 uint64_t seed) {
  if (!dataset) throw ValueError("random_split: dataset is null");
  const int64_t n = dataset->size();
  int64_t total = 0;
  for (int64_t len : lengths) {
    if (len < 0) throw ValueError("random_split: lengths must be >= 0, got " + std::to_string(len));
    total += len;
  }
  if (total != n)
    throw ValueError("random_split: lengths sum to " + std::to_string(total) + " but the dataset has " +
                     std::to_string(n) + " examples");
  const std::vector<int64_t> order = random_permutation(n, seed);
  std::vector<Subset> parts;
  parts.reserve(lengths.size());
  auto start = order.begin();
  for (int64_t len : lengths) {
    parts.emplace_back(dataset, std::vector<int64_t>(start, start + len));
    start += len;
  }
  return parts;
}

std::vector<Subset> random_split(std::shared_ptr<const Dataset> dataset, const std::vector<double>& fractions,
                                 uint64_t seed) {
  if (!dataset) throw ValueError("random_split: dataset is null");
  double sum = 0;
  for (double f : fractions) {
    if (!(f >= 0.0 && f <= 1.0))
      throw ValueError("random_split: fractions must lie in [0, 1], got " + std::to_string(f));
    sum += f;
  }
  if (std::abs(sum - 1.0) > 1e-6) throw ValueError("random_split: fractions sum to " + std::to_string(sum) + ", not 1");
  const int64_t n = dataset->size();
  std::vector<int64_t> lengths;
  int64_t assigned = 0;
  for (double f : fractions) {
    lengths.push_back(static_cast<int64_t>(std::floor(f * static_cast<double>(n))));
    assigned += lengths.back();
  }
  // PyTorch hands the remainder out round-robin, one to each subset from the first.
  for (size_t i = 0; assigned < n && !lengths.empty(); i = (i + 1) % lengths.size(), ++assigned) ++lengths[i];
  return random_split(std::move(dataset), lengths, seed);
}

TrainTest train_test_split(std::shared_ptr<const Dataset> dataset, const SplitOptions& options) {
  if (!dataset) throw ValueError("train_test_split: dataset is null");
  const int64_t n = dataset->size();
  int64_t n_test = options.test_size;
  if (n_test < 0) {
    if (!(options.test_fraction > 0.0 && options.test_fraction < 1.0))
      throw ValueError("train_test_split: test_fraction must lie in (0, 1), got " +
                       std::to_string(options.test_fraction));
    n_test = static_cast<int64_t>(std::ceil(options.test_fraction * static_cast<double>(n)));
  }
  if (n_test <= 0 || n_test >= n)
    throw ValueError("train_test_split: a test part of " + std::to_string(n_test) + " examples out of " +
                     std::to_string(n) + " leaves one part empty");
  std::vector<int64_t> order;
  if (options.shuffle) {
    order = random_permutation(n, options.seed);
  } else {
    order.resize(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), int64_t{0});
  }
  const auto cut = order.begin() + (n - n_test);
  return {Subset(dataset, std::vector<int64_t>(order.begin(), cut)),
          Subset(dataset, std::vector<int64_t>(cut, order.end()))};
}

}  // namespace xgrad::data
