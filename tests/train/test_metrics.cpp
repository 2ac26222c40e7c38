// Metrics against hand-counted values: multi-class accuracy (first maximum wins ties), binary
// accuracy on probabilities and on logits, top-k, the confusion matrix and its table; every error.
#include <gtest/gtest.h>

#include "xgrad/train/metrics.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::train {
namespace {

const Tensor kScores = tensor({{0.1f, 0.7f, 0.2f},     // predicts 1
                               {0.5f, 0.2f, 0.3f},     // predicts 0
                               {0.3f, 0.3f, 0.4f},     // predicts 2
                               {0.6f, 0.6f, -1.0f}});  // tie: the first maximum, 0

TEST(Accuracy, MultiClassCountsArgmaxHits) {
  const Tensor labels = tensor({1, 0, 1, 0});
  EXPECT_EQ(count_correct(kScores, labels), 3);
  EXPECT_DOUBLE_EQ(accuracy(kScores, labels), 0.75);
  EXPECT_DOUBLE_EQ(accuracy(kScores, tensor({1, 0, 2, 1})), 0.75);  // the tie goes to class 0
}

TEST(Accuracy, MultiClassErrors) {
  EXPECT_THROW(accuracy(kScores, tensor({1, 0, 1})), ShapeError);
  EXPECT_THROW(accuracy(kScores, tensor({1.0f, 0.0f, 1.0f, 0.0f})), DTypeError);
  EXPECT_THROW(accuracy(tensor({0.1f, 0.9f}), tensor({1})), ShapeError);
  EXPECT_THROW(accuracy(kScores, tensor({1, 0, 3, 0})), IndexError);
  EXPECT_THROW(accuracy(Tensor(), tensor({1})), ValueError);
}

TEST(BinaryAccuracy, ProbabilitiesAgainstTheThreshold) {
  const Tensor probs = tensor({{0.9f}, {0.4f}, {0.6f}, {0.1f}});
  const Tensor targets = tensor({1.0f, 1.0f, 0.0f, 0.0f});  // [N] against [N, 1]: same numel
  EXPECT_DOUBLE_EQ(binary_accuracy(probs, targets), 0.5);
  EXPECT_DOUBLE_EQ(binary_accuracy(probs, targets, 0.3), 0.75);   // 0.4 now positive (right), 0.6 too (wrong)
  EXPECT_DOUBLE_EQ(binary_accuracy(probs, targets, 0.65), 0.75);  // 0.6 now negative (right), 0.4 too (wrong)
}

TEST(BinaryAccuracy, LogitsCompareSigmoidWithTheThreshold) {
  const Tensor logits = tensor({2.0f, -0.1f, 0.1f, -3.0f});
  const Tensor targets = tensor({1, 0, 1, 1});
  EXPECT_DOUBLE_EQ(binary_accuracy(logits, targets, 0.5, /*from_logits=*/true), 0.75);
  // sigmoid(0.1) = 0.525 < 0.6: the third becomes negative.
  EXPECT_DOUBLE_EQ(binary_accuracy(logits, targets, 0.6, true), 0.5);
}

TEST(BinaryAccuracy, Errors) {
  EXPECT_THROW(binary_accuracy(tensor({0.5f, 0.5f}), tensor({1.0f})), ShapeError);
  EXPECT_THROW(binary_accuracy(tensor({0.5f}), tensor({1.0f}), 1.0), ValueError);
  EXPECT_THROW(binary_accuracy(zeros({0}), zeros({0})), ValueError);  // empty
}

TEST(ResolveAccuracy, PicksByShapesAndTargets) {
  EXPECT_EQ(resolve_accuracy(Accuracy::Auto, kScores, tensor({1, 0, 1, 0})), Accuracy::MultiClass);
  EXPECT_EQ(resolve_accuracy(Accuracy::Auto, zeros({4, 1}), tensor({1.0f, 0.0f, 1.0f, 1.0f})), Accuracy::Binary);
  EXPECT_EQ(resolve_accuracy(Accuracy::Auto, zeros({4, 1}), tensor({1.5f, 0.0f, 1.0f, 1.0f})), Accuracy::None);
  EXPECT_EQ(resolve_accuracy(Accuracy::Auto, zeros({4, 3}), zeros({4, 3})), Accuracy::None);
  EXPECT_EQ(resolve_accuracy(Accuracy::BinaryLogits, kScores, tensor({1})), Accuracy::BinaryLogits);
  EXPECT_EQ(count_correct(tensor({3.0f, -1.0f}), tensor({1.0f, 1.0f}), Accuracy::BinaryLogits), 1);
  EXPECT_THROW(count_correct(kScores, tensor({1, 0, 1, 0}), Accuracy::Auto), ValueError);
}

TEST(TopKAccuracy, CountsTargetsAmongTheKBest) {
  const Tensor scores = tensor({{0.1f, 0.5f, 0.3f, 0.1f}, {0.4f, 0.3f, 0.2f, 0.1f}, {0.2f, 0.2f, 0.5f, 0.1f}});
  const Tensor labels = tensor({2, 3, 0});  // ranks: 2nd, 4th, 2nd (tied with class 1)
  EXPECT_DOUBLE_EQ(top_k_accuracy(scores, labels, 1), 0.0);
  EXPECT_DOUBLE_EQ(top_k_accuracy(scores, labels, 2), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(top_k_accuracy(scores, labels, 4), 1.0);
  EXPECT_DOUBLE_EQ(top_k_accuracy(kScores, tensor({1, 0, 1, 0}), 1), accuracy(kScores, tensor({1, 0, 1, 0})));
  EXPECT_THROW(top_k_accuracy(scores, labels, 0), ValueError);
  EXPECT_THROW(top_k_accuracy(scores, labels, 5), ValueError);
}

TEST(ConfusionMatrix, RowsAreTrueClassesColumnsPredictions) {
  const Tensor cm = confusion_matrix(kScores, tensor({1, 0, 1, 2}), 3);
  EXPECT_EQ(cm.dtype(), kInt64);
  EXPECT_EQ(cm.shape(), Shape({3, 3}));
  // true 1 -> 1, true 0 -> 0, true 1 -> 2, true 2 -> 0
  EXPECT_EQ(cm.to_vector<int64_t>(), std::vector<int64_t>({1, 0, 0, 0, 1, 1, 1, 0, 0}));
  const Tensor from_indices = confusion_matrix(tensor({1, 0, 2, 0}), tensor({1, 0, 1, 2}), 3);
  EXPECT_EQ(from_indices.to_vector<int64_t>(), cm.to_vector<int64_t>());
}

TEST(ConfusionMatrix, Errors) {
  EXPECT_THROW(confusion_matrix(kScores, tensor({1, 0, 1, 2}), 4), ShapeError);
  EXPECT_THROW(confusion_matrix(tensor({1, 0}), tensor({1, 5}), 3), IndexError);
  EXPECT_THROW(confusion_matrix(tensor({1, 9}), tensor({1, 0}), 3), IndexError);
  EXPECT_THROW(confusion_matrix(tensor({1.0f, 0.0f}), tensor({1, 0}), 3), ShapeError);
  EXPECT_THROW(confusion_matrix(tensor({1, 0}), tensor({1.0f, 0.0f}), 3), DTypeError);
}

TEST(FormatConfusionMatrix, TableWithNamesAndRecall) {
  const Tensor cm = tensor({{8, 2}, {1, 9}});
  const std::string table = format_confusion_matrix(cm, {"cat", "a very long name"});
  EXPECT_NE(table.find("true"), std::string::npos);
  EXPECT_NE(table.find("recall"), std::string::npos);
  EXPECT_NE(table.find("a very l"), std::string::npos);          // column header cut to 8 characters
  EXPECT_NE(table.find("a very long name"), std::string::npos);  // the row label in full
  EXPECT_NE(table.find("0.800"), std::string::npos);
  EXPECT_NE(table.find("0.900"), std::string::npos);
  const std::string numbered = format_confusion_matrix(tensor({{0, 0}, {0, 3}}));
  EXPECT_NE(numbered.find("-"), std::string::npos);  // no examples of class 0: no recall
  EXPECT_NE(numbered.find("1.000"), std::string::npos);
  EXPECT_THROW(format_confusion_matrix(cm, {"one"}), ValueError);
  EXPECT_THROW(format_confusion_matrix(tensor({1, 2})), ShapeError);
}

}  // namespace
}  // namespace xgrad::train
