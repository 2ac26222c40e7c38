// Metrics read values directly (float64 copies of small batches), so they never record a graph
// and cost nothing next to the forward pass they score.
#include "xgrad/train/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <string>

#include "xgrad/tensor/error.hpp"

namespace xgrad::train {
namespace {

Array values64(const Tensor& t) { return t.array().to(kFloat64).contiguous(); }

void check_defined(const char* op, const Tensor& output, const Tensor& target) {
  if (!output.defined() || !target.defined()) throw ValueError(std::string(op) + ": output and target must be defined");
}

// output [N, C] and int64 target [N]; returns {N, C}.
std::pair<int64_t, int64_t> check_multiclass(const char* op, const Tensor& output, const Tensor& target) {
  check_defined(op, output, target);
  if (output.dim() != 2)
    throw ShapeError(std::string(op) + ": expected output scores [N, C], got shape " + to_string(output.shape()));
  if (target.dtype() != kInt64)
    throw DTypeError(std::string(op) + ": expected int64 class targets, got " +
                     std::string(dtype_name(target.dtype())));
  if (target.dim() != 1 || target.size(0) != output.size(0))
    throw ShapeError(std::string(op) + ": output " + to_string(output.shape()) + " needs targets [" +
                     std::to_string(output.size(0)) + "], got " + to_string(target.shape()));
  return {output.size(0), output.size(1)};
}

void check_class(const char* op, int64_t label, int64_t classes) {
  if (label < 0 || label >= classes)
    throw IndexError(std::string(op) + ": target class " + std::to_string(label) + " is out of range for " +
                     std::to_string(classes) + " classes");
}

double fraction(const char* op, int64_t correct, int64_t n) {
  if (n == 0) throw ValueError(std::string(op) + ": empty batch");
  return static_cast<double>(correct) / static_cast<double>(n);
}

bool all_binary(const Tensor& target) {
  const Array t = values64(target);
  const double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (p[i] != 0.0 && p[i] != 1.0) return false;
  return true;
}

}  // namespace

int64_t count_correct(const Tensor& output, const Tensor& target) {
  const auto [n, c] = check_multiclass("accuracy", output, target);
  const Array scores = values64(output);
  const Array labels = target.array().contiguous();
  const double* s = scores.data<double>();
  const int64_t* y = labels.data<int64_t>();
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i, s += c) {
    check_class("accuracy", y[i], c);
    correct += std::max_element(s, s + c) - s == y[i];
  }
  return correct;
}

int64_t count_correct_binary(const Tensor& output, const Tensor& target, double threshold, bool from_logits) {
  check_defined("binary_accuracy", output, target);
  if (output.numel() != target.numel())
    throw ShapeError("binary_accuracy: output " + to_string(output.shape()) + " and target " +
                     to_string(target.shape()) + " must hold one value per example");
  if (!(threshold > 0.0 && threshold < 1.0))
    throw ValueError("binary_accuracy: threshold must lie in (0, 1), got " + std::to_string(threshold));
  // sigmoid(x) > t  <=>  x > log(t / (1 - t)): no exp needed for logits.
  const double cut = from_logits ? std::log(threshold / (1.0 - threshold)) : threshold;
  const Array o = values64(output), t = values64(target);
  const double* op = o.data<double>();
  const double* tp = t.data<double>();
  int64_t correct = 0;
  for (int64_t i = 0; i < o.numel(); ++i) correct += (op[i] > cut) == (tp[i] > 0.5);
  return correct;
}

int64_t count_correct(const Tensor& output, const Tensor& target, Accuracy kind, double threshold) {
  switch (kind) {
    case Accuracy::MultiClass: return count_correct(output, target);
    case Accuracy::Binary: return count_correct_binary(output, target, threshold, false);
    case Accuracy::BinaryLogits: return count_correct_binary(output, target, threshold, true);
    case Accuracy::Auto:
    case Accuracy::None: break;
  }
  throw ValueError("count_correct: resolve Accuracy::Auto (or skip Accuracy::None) first");
}

Accuracy resolve_accuracy(Accuracy kind, const Tensor& output, const Tensor& target) {
  if (kind != Accuracy::Auto) return kind;
  if (!output.defined() || !target.defined()) return Accuracy::None;
  if (output.dim() == 2 && output.size(1) > 1 && target.dtype() == kInt64 && target.dim() == 1)
    return Accuracy::MultiClass;
  if (output.numel() == target.numel() && (output.dim() <= 1 || output.size(output.dim() - 1) == 1) &&
      all_binary(target))
    return Accuracy::Binary;
  return Accuracy::None;
}

double accuracy(const Tensor& output, const Tensor& target) {
  return fraction("accuracy", count_correct(output, target), target.numel());
}

double binary_accuracy(const Tensor& output, const Tensor& target, double threshold, bool from_logits) {
  return fraction("binary_accuracy", count_correct_binary(output, target, threshold, from_logits), target.numel());
}

double top_k_accuracy(const Tensor& output, const Tensor& target, int64_t k) {
  const auto [n, c] = check_multiclass("top_k_accuracy", output, target);
  if (k < 1 || k > c)
    throw ValueError("top_k_accuracy: k must lie in [1, " + std::to_string(c) + "], got " + std::to_string(k));
  const Array scores = values64(output);
  const Array labels = target.array().contiguous();
  const double* s = scores.data<double>();
  const int64_t* y = labels.data<int64_t>();
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i, s += c) {
    check_class("top_k_accuracy", y[i], c);
    const double mine = s[y[i]];
    const auto higher = std::count_if(s, s + c, [mine](double v) { return v > mine; });
    correct += higher < k;
  }
  return fraction("top_k_accuracy", correct, n);
}

Tensor confusion_matrix(const Tensor& predictions, const Tensor& target, int64_t num_classes) {
  check_defined("confusion_matrix", predictions, target);
  if (num_classes < 1) throw ValueError("confusion_matrix: num_classes must be >= 1");
  if (target.dtype() != kInt64 || target.dim() != 1)
    throw DTypeError("confusion_matrix: expected int64 class targets [N], got " +
                     std::string(dtype_name(target.dtype())) + " " + to_string(target.shape()));
  const int64_t n = target.size(0);
  std::vector<int64_t> predicted(static_cast<size_t>(n));
  if (predictions.dim() == 2) {
    if (predictions.size(0) != n || predictions.size(1) != num_classes)
      throw ShapeError("confusion_matrix: scores " + to_string(predictions.shape()) + " do not match " +
                       std::to_string(n) + " targets of " + std::to_string(num_classes) + " classes");
    const Array s = values64(predictions);
    const double* p = s.data<double>();
    for (int64_t i = 0; i < n; ++i, p += num_classes)
      predicted[static_cast<size_t>(i)] = std::max_element(p, p + num_classes) - p;
  } else if (predictions.dim() == 1 && predictions.dtype() == kInt64 && predictions.size(0) == n) {
    const Array p = predictions.array().contiguous();
    std::copy(p.data<int64_t>(), p.data<int64_t>() + n, predicted.begin());
  } else {
    throw ShapeError("confusion_matrix: expected scores [N, C] or int64 predictions [N] for " + std::to_string(n) +
                     " targets, got " + std::string(dtype_name(predictions.dtype())) + " " +
                     to_string(predictions.shape()));
  }
  Array counts = Array({num_classes, num_classes}, kInt64);
  int64_t* m = counts.data<int64_t>();
  std::fill(m, m + num_classes * num_classes, 0);
  const Array labels = target.array().contiguous();
  const int64_t* y = labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    check_class("confusion_matrix", y[i], num_classes);
    check_class("confusion_matrix", predicted[static_cast<size_t>(i)], num_classes);
    ++m[y[i] * num_classes + predicted[static_cast<size_t>(i)]];
  }
  return Tensor(counts);
}

std::string format_confusion_matrix(const Tensor& matrix, const std::vector<std::string>& class_names) {
  if (!matrix.defined() || matrix.dim() != 2 || matrix.size(0) != matrix.size(1))
    throw ShapeError("format_confusion_matrix: expected a square matrix, got " +
                     (matrix.defined() ? to_string(matrix.shape()) : std::string("an undefined tensor")));
  const int64_t c = matrix.size(0);
  if (!class_names.empty() && static_cast<int64_t>(class_names.size()) != c)
    throw ValueError("format_confusion_matrix: " + std::to_string(class_names.size()) + " class names for " +
                     std::to_string(c) + " classes");
  std::vector<std::string> names;
  for (int64_t i = 0; i < c; ++i)
    names.push_back(class_names.empty() ? std::to_string(i) : class_names[static_cast<size_t>(i)]);
  const std::vector<int64_t> counts = matrix.to_vector<int64_t>();
  int64_t largest = 0;
  for (int64_t v : counts) largest = std::max(largest, v);
  // Columns fit the counts and up to 8 characters of a class name.
  size_t longest = 0;
  for (const std::string& name : names) longest = std::max(longest, std::min<size_t>(name.size(), 8));
  const int cell = std::max({6, static_cast<int>(std::to_string(largest).size()) + 2, static_cast<int>(longest) + 1});
  size_t label = 4;  // "true"
  for (const std::string& name : names) label = std::max(label, name.size());

  std::ostringstream os;
  os << std::setw(static_cast<int>(label)) << std::left << "true" << std::right;
  for (const std::string& name : names) {
    // Column headers are cut to the cell width (minus a space).
    const std::string shown =
        name.size() > static_cast<size_t>(cell - 1) ? name.substr(0, static_cast<size_t>(cell - 1)) : name;
    os << std::setw(cell) << shown;
  }
  os << std::setw(8) << "recall"
     << "\n";
  for (int64_t i = 0; i < c; ++i) {
    os << std::setw(static_cast<int>(label)) << std::left << names[static_cast<size_t>(i)] << std::right;
    int64_t row_total = 0;
    for (int64_t j = 0; j < c; ++j) {
      const int64_t v = counts[static_cast<size_t>(i * c + j)];
      row_total += v;
      os << std::setw(cell) << v;
    }
    const int64_t hit = counts[static_cast<size_t>(i * c + i)];
    if (row_total > 0)
      os << std::setw(8) << std::fixed << std::setprecision(3)
         << static_cast<double>(hit) / static_cast<double>(row_total);
    else
      os << std::setw(8) << "-";
    os << "\n";
  }
  return os.str();
}

}  // namespace xgrad::train
