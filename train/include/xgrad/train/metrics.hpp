#pragma once
// Classification metrics on values (no graph is recorded): accuracy (binary and multi-class),
// top-k accuracy, and the confusion matrix with a printable table.
//
//   double acc = train::accuracy(logits, labels);                         // argmax over classes
//   double bin = train::binary_accuracy(probs, targets);                  // probs > 0.5
//   Tensor cm = train::confusion_matrix(logits, labels, 10);
//   std::cout << train::format_confusion_matrix(cm, class_names);
#include <cstdint>
#include <string>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad::train {

// How fit() and evaluate() score a batch. Auto picks MultiClass for outputs [N, C] with C > 1 and
// int64 targets, Binary for one output per example with targets that are all 0 or 1, and None
// otherwise (a regression): decided once, on the first batch.
enum class Accuracy { Auto, MultiClass, Binary, BinaryLogits, None };

// Multi-class: the number of rows of output [N, C] whose argmax (the first maximum) equals the int64
// target [N]. ShapeError / DTypeError on anything else.
int64_t count_correct(const Tensor& output, const Tensor& target);
// Binary: output and target hold one value per example (any shapes of one numel, e.g. [N, 1] and
// [N]); an example is predicted positive when output > threshold (probabilities) or, with
// from_logits, when sigmoid(output) > threshold.
int64_t count_correct_binary(const Tensor& output, const Tensor& target, double threshold = 0.5,
                             bool from_logits = false);
// The same for any Accuracy but Auto and None.
int64_t count_correct(const Tensor& output, const Tensor& target, Accuracy kind, double threshold = 0.5);
// Resolves Auto for one batch as described above.
Accuracy resolve_accuracy(Accuracy kind, const Tensor& output, const Tensor& target);

// Fractions in [0, 1] (ValueError for an empty batch).
double accuracy(const Tensor& output, const Tensor& target);
double binary_accuracy(const Tensor& output, const Tensor& target, double threshold = 0.5, bool from_logits = false);
// A row counts when fewer than k classes score strictly higher than its target class (ties count
// in the target's favour). ValueError unless 1 <= k <= C.
double top_k_accuracy(const Tensor& output, const Tensor& target, int64_t k);

// [C, C] int64 counts: row = true class, column = predicted class. `predictions` is either output
// scores [N, C] (argmax is taken) or int64 class indices [N]. IndexError for a class outside [0, C).
Tensor confusion_matrix(const Tensor& predictions, const Tensor& target, int64_t num_classes);
// A table with a header row of predicted classes, one row per true class and its recall; names
// default to the class numbers (long names are shortened to fit the columns).
std::string format_confusion_matrix(const Tensor& matrix, const std::vector<std::string>& class_names = {});

}  // namespace xgrad::train
