#pragma once
// Transforms of inputs: normalisation, its statistics, and datasets that apply a transform.
//
//   auto stats = xg::data::compute_mean_std(train);            // over every value: 0-d tensors
//   xg::data::Normalize normalize(stats.mean, stats.std);
//   auto train_n = xg::data::transform_inputs(train, normalize);  // eager, once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "xgrad/data/dataset.hpp"

namespace xgrad::data {

using Transform = std::function<Tensor(const Tensor&)>;

// y = (x - mean) / std. mean and std broadcast against one example (0-d for one value over
// everything, or the trailing shape of an example for per-feature values), so the same transform
// applies to an example and to a batch. Values only: no graph, and the result keeps x's dtype.
class Normalize {
 public:
  Normalize(double mean, double std);
  // ShapeError unless both have one shape; ValueError when a std is not > 0.
  Normalize(Tensor mean, Tensor std);
  Tensor operator()(const Tensor& x) const;
  operator Transform() const {
    return [n = *this](const Tensor& x) { return n(x); };
  }

  const Tensor& mean() const { return mean_; }
  const Tensor& std() const { return std_; }

 private:
  Tensor mean_, std_;  // float64
};

struct MeanStd {
  Tensor mean;  // float64
  Tensor std;   // float64, population (biased) standard deviation
};
// Statistics of a dataset's inputs, streamed in batches: over every value (0-d results) or, with
// per_feature, one per position of an example (results shaped like one example). A feature that
// never varies gets std 1 (as scikit-learn's StandardScaler), so normalising it gives 0, not NaN.
// ValueError for an empty dataset.
MeanStd compute_mean_std(const Dataset& dataset, bool per_feature = false, int64_t batch_size = 4096);

// A dataset whose inputs pass through `transform` when fetched (lazily, per example or batch).
class TransformDataset : public Dataset {
 public:
  TransformDataset(std::shared_ptr<const Dataset> dataset, Transform input_transform);
  int64_t size() const override { return dataset_->size(); }
  Example get(int64_t index) const override;
  Example get_batch(const std::vector<int64_t>& indices) const override;

 private:
  std::shared_ptr<const Dataset> dataset_;
  Transform transform_;
};

// A TensorDataset with every input transformed once (for data that fits in memory).
TensorDataset transform_inputs(const TensorDataset& dataset, const Transform& transform);

}  // namespace xgrad::data
