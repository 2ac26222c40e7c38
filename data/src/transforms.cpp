// Normalisation and dataset transforms, on values (kernels): loading data builds no graph.
#include "xgrad/data/transforms.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::data {
namespace {

Array as_float64(const Tensor& t) { return t.array().to(kFloat64).contiguous(); }

}  // namespace

Normalize::Normalize(double mean, double std)
    : Normalize(Tensor(kernels::full({}, mean, kFloat64)), Tensor(kernels::full({}, std, kFloat64))) {}

Normalize::Normalize(Tensor mean, Tensor std) {
  if (!mean.defined() || !std.defined()) throw ValueError("Normalize: mean and std must be defined");
  if (mean.shape() != std.shape())
    throw ShapeError("Normalize: mean " + to_string(mean.shape()) + " and std " + to_string(std.shape()) +
                     " must have one shape");
  const Array s = as_float64(std);
  const double* sp = s.data<double>();
  for (int64_t i = 0; i < s.numel(); ++i)
    if (!(sp[i] > 0.0)) throw ValueError("Normalize: std must be > 0, got " + std::to_string(sp[i]));
  mean_ = Tensor(as_float64(mean));
  std_ = Tensor(s);
}

Tensor Normalize::operator()(const Tensor& x) const {
  if (!is_floating(x.dtype()))
    throw DTypeError("Normalize: expected floating inputs, got " + std::string(dtype_name(x.dtype())));
  const Array& a = x.array();
  const Shape& ms = mean_.shape();
  const bool trailing = a.is_contiguous() && static_cast<int64_t>(ms.size()) <= a.dim() &&
                        std::equal(ms.rbegin(), ms.rend(), a.shape().rbegin()) && mean_.numel() > 0;
  if (!trailing) {
    const Array m = mean_.array().to(x.dtype()), s = std_.array().to(x.dtype());
    return Tensor(kernels::binary(kernels::Binary::Div, kernels::binary(kernels::Binary::Sub, a, m), s));
  }
  // The common case (a whole dataset at once) in one pass, without a temporary as large as x.
  return dispatch_floating("Normalize", a.dtype(), [&]<typename T>() {
    const int64_t k = mean_.numel(), n = a.numel();
    const double* mp = mean_.array().data<double>();
    const double* sp = std_.array().data<double>();
    const std::vector<T> m(mp, mp + k), s(sp, sp + k);
    Array out(a.shape(), a.dtype());
    const T* in = a.data<T>();
    T* o = out.data<T>();
    for (int64_t i = 0; i < n; i += k)
      for (int64_t j = 0; j < k; ++j) o[i + j] = (in[i + j] - m[static_cast<size_t>(j)]) / s[static_cast<size_t>(j)];
    return Tensor(out);
  });
}

MeanStd compute_mean_std(const Dataset& dataset, bool per_feature, int64_t batch_size) {
  const int64_t n = dataset.size();
  if (n == 0) throw ValueError("compute_mean_std: the dataset is empty");
  if (batch_size < 1) throw ValueError("compute_mean_std: batch_size must be >= 1");
  // Sums of (x - shift) and its square per feature, shifted by the first example to keep the
  // variance free of cancellation.
  const Array first = as_float64(dataset.get(0).input);
  const Shape example_shape = first.shape();
  const int64_t features = first.numel();
  std::vector<double> shift(first.data<double>(), first.data<double>() + features);
  std::vector<double> sum(static_cast<size_t>(features), 0.0), sumsq(static_cast<size_t>(features), 0.0);
  for (int64_t start = 0; start < n; start += batch_size) {
    std::vector<int64_t> indices(static_cast<size_t>(std::min(batch_size, n - start)));
    std::iota(indices.begin(), indices.end(), start);
    const Array batch = as_float64(dataset.get_batch(indices).input);
    if (batch.numel() != static_cast<int64_t>(indices.size()) * features)
      throw ShapeError("compute_mean_std: examples differ in shape: the first has " + to_string(example_shape) +
                       ", a batch of " + std::to_string(indices.size()) + " has " + to_string(batch.shape()));
    const double* p = batch.data<double>();
    for (size_t r = 0; r < indices.size(); ++r, p += features)
      for (int64_t f = 0; f < features; ++f) {
        const double d = p[f] - shift[static_cast<size_t>(f)];
        sum[static_cast<size_t>(f)] += d;
        sumsq[static_cast<size_t>(f)] += d * d;
      }
  }
  const auto count = static_cast<double>(n);
  if (!per_feature) {
    // Pool the features: the total mean and variance from the per-feature sums around each shift.
    double total = 0, mean_total = 0;
    for (int64_t f = 0; f < features; ++f) total += sum[static_cast<size_t>(f)] + count * shift[static_cast<size_t>(f)];
    mean_total = total / (count * static_cast<double>(features));
    double ss = 0;
    for (int64_t f = 0; f < features; ++f) {
      const double c = shift[static_cast<size_t>(f)] - mean_total;  // E[(x - m)^2] = E[(x - s)^2] + 2c E[x - s] + c^2
      ss += sumsq[static_cast<size_t>(f)] + 2 * c * sum[static_cast<size_t>(f)] + count * c * c;
    }
    double var = std::max(0.0, ss / (count * static_cast<double>(features)));
    const double sd = var > 0 ? std::sqrt(var) : 1.0;
    return {Tensor(kernels::full({}, mean_total, kFloat64)), Tensor(kernels::full({}, sd, kFloat64))};
  }
  Array mean(example_shape, kFloat64), sd(example_shape, kFloat64);
  double* mp = mean.data<double>();
  double* sp = sd.data<double>();
  for (int64_t f = 0; f < features; ++f) {
    const double m = sum[static_cast<size_t>(f)] / count;
    const double var = std::max(0.0, sumsq[static_cast<size_t>(f)] / count - m * m);
    mp[f] = m + shift[static_cast<size_t>(f)];
    sp[f] = var > 1e-24 ? std::sqrt(var) : 1.0;
  }
  return {Tensor(mean), Tensor(sd)};
}

TransformDataset::TransformDataset(std::shared_ptr<const Dataset> dataset, Transform input_transform)
    : dataset_(std::move(dataset)), transform_(std::move(input_transform)) {
  if (!dataset_) throw ValueError("TransformDataset: dataset is null");
  if (!transform_) throw ValueError("TransformDataset: transform is empty");
}

Example TransformDataset::get(int64_t index) const {
  Example e = dataset_->get(index);
  e.input = transform_(e.input);
  return e;
}

Example TransformDataset::get_batch(const std::vector<int64_t>& indices) const {
  Example e = dataset_->get_batch(indices);
  e.input = transform_(e.input);
  return e;
}

TensorDataset transform_inputs(const TensorDataset& dataset, const Transform& transform) {
  if (!transform) throw ValueError("transform_inputs: transform is empty");
  return TensorDataset(transform(dataset.inputs()), dataset.targets());
}

}  // namespace xgrad::data
