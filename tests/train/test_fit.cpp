// fit / evaluate / predict: convergence on a small separable problem, the history's metrics, the
// same history for the same seed, Keras's validation split (the last examples), train mode with
// recording for batches and eval mode without it for validation, callbacks and early stops,
// hand-computed evaluation, and bad options.
#include <cmath>
#include <sstream>

#include <gtest/gtest.h>

#include "xgrad/data/dataset.hpp"
#include "xgrad/nn/nn.hpp"
#include "xgrad/optim/optim.hpp"
#include "xgrad/train/fit.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::train {
namespace {

// Two Gaussian blobs around (-1, -1) (class 0) and (1, 1) (class 1).
data::TensorDataset blobs(int64_t n, uint64_t seed) {
  Generator gen(seed);
  const std::vector<float> noise = randn({n, 2}, gen).to_vector<float>();
  std::vector<float> x(static_cast<size_t>(2 * n));
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (size_t i = 0; i < y.size(); ++i) {
    y[i] = static_cast<int64_t>(i % 2);
    const float center = y[i] ? 1.0f : -1.0f;
    x[2 * i] = center + 0.4f * noise[2 * i];
    x[2 * i + 1] = center + 0.4f * noise[2 * i + 1];
  }
  return data::TensorDataset(tensor(x, {n, 2}), tensor(y, {n}));
}

// A linear layer that records, per call, the mode, the grad mode and the first input value.
class Probe : public nn::Module {
 public:
  Probe() { fc = register_module("fc", nn::Linear({.in = 2, .out = 2})); }
  Tensor forward(const Tensor& x) override {
    calls.push_back({is_training(), is_grad_enabled(), x.size(0), x.to_vector<float>()[0]});
    return fc(x);
  }
  struct Call {
    bool training, grad;
    int64_t rows;
    float first;
  };
  std::vector<Call> calls;
  nn::Linear fc;
};

class Recorder : public Callback {
 public:
  void on_train_begin(FitState&) override { events.push_back("train_begin"); }
  void on_train_end(FitState&) override { events.push_back("train_end"); }
  void on_epoch_begin(FitState&, int64_t e) override { events.push_back("epoch_begin " + std::to_string(e)); }
  void on_epoch_end(FitState& state, int64_t e, const Logs& logs) override {
    events.push_back("epoch_end " + std::to_string(e));
    keys.clear();
    for (const auto& [k, v] : logs) keys.push_back(k);
    history_epochs = state.history.epochs();
    if (e == stop_after) state.stop_training = true;
  }
  void on_batch_end(FitState&, int64_t, const Logs& logs) override {
    ++batches;
    EXPECT_TRUE(logs.count("batch_loss"));
  }
  std::vector<std::string> events, keys;
  int64_t batches = 0, history_epochs = 0, stop_after = -1;
};

FitOptions quiet(FitOptions o) {
  o.verbose = 0;
  return o;
}

TEST(Fit, LearnsASeparableProblem) {
  manual_seed(3);
  const auto data = blobs(400, 1);
  nn::Linear model({.in = 2, .out = 2});
  optim::SGD sgd(model.parameters(), {.lr = 0.5});
  const History h = fit(model, nn::CrossEntropyLoss(), sgd, data,
                        quiet({.epochs = 5, .batch_size = 16, .validation_split = 0.25, .seed = 1}));
  EXPECT_EQ(h.epochs(), 5);
  for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"})
    EXPECT_TRUE(h.has(key)) << key;
  EXPECT_LT(h["loss"].back(), h["loss"].front());
  EXPECT_GT(h["val_accuracy"].back(), 0.97);
  EXPECT_DOUBLE_EQ(h["lr"][0], 0.5);
}

TEST(Fit, SameSeedSameHistory) {
  const auto data = blobs(200, 2);
  std::vector<std::vector<double>> losses;
  for (int run = 0; run < 2; ++run) {
    manual_seed(7);
    auto model = nn::Sequential(
        {nn::Linear({.in = 2, .out = 8}), nn::ReLU(), nn::Dropout(0.3), nn::Linear({.in = 8, .out = 2})});
    optim::Adam adam(model.parameters(), {.lr = 0.01});
    const History h = fit(model, nn::CrossEntropyLoss(), adam, data,
                          quiet({.epochs = 3, .batch_size = 20, .validation_split = 0.2, .seed = 5}));
    std::vector<double> all = h["loss"];
    all.insert(all.end(), h["val_loss"].begin(), h["val_loss"].end());
    losses.push_back(all);
  }
  EXPECT_EQ(losses[0], losses[1]);
}

TEST(Fit, TrainModeForBatchesEvalModeWithoutRecordingForValidation) {
  manual_seed(1);
  // Example i has first feature i: the validation split is the last 20% (examples 8, 9).
  std::vector<float> x;
  for (int i = 0; i < 10; ++i) x.insert(x.end(), {static_cast<float>(i), 0.0f});
  const data::TensorDataset data(tensor(x, {10, 2}), tensor({0, 1, 0, 1, 0, 1, 0, 1, 0, 1}));
  Probe model;
  model.eval();  // fit restores this afterwards
  optim::SGD sgd(model.parameters(), {.lr = 0.01});
  fit(model, nn::CrossEntropyLoss(), sgd, data,
      quiet({.epochs = 1, .batch_size = 4, .validation_split = 0.2, .shuffle = false}));
  ASSERT_EQ(model.calls.size(), 3u);  // two training batches (4 + 4), one validation batch (2)
  EXPECT_TRUE(model.calls[0].training && model.calls[0].grad);
  EXPECT_EQ(model.calls[1].rows, 4);
  EXPECT_FALSE(model.calls[2].training || model.calls[2].grad);
  EXPECT_EQ(model.calls[2].rows, 2);
  EXPECT_EQ(model.calls[2].first, 8.0f);
  EXPECT_FALSE(model.is_training());
}

TEST(Fit, CallbacksSeeEveryStepAndCanStop) {
  const auto data = blobs(40, 3);
  nn::Linear model({.in = 2, .out = 2});
  optim::SGD sgd(model.parameters(), {.lr = 0.1});
  auto recorder = std::make_shared<Recorder>();
  recorder->stop_after = 1;
  const History h =
      fit(model, nn::CrossEntropyLoss(), sgd, data, quiet({.epochs = 5, .batch_size = 10, .callbacks = {recorder}}));
  EXPECT_EQ(h.epochs(), 2);
  EXPECT_EQ(recorder->events, std::vector<std::string>({"train_begin", "epoch_begin 0", "epoch_end 0", "epoch_begin 1",
                                                        "epoch_end 1", "train_end"}));
  EXPECT_EQ(recorder->batches, 8);
  EXPECT_EQ(recorder->history_epochs, 2);  // the history includes the epoch being closed
  EXPECT_EQ(recorder->keys, std::vector<std::string>({"accuracy", "loss", "lr", "seconds"}));
}

TEST(Fit, ValidationDataAndProgressOutput) {
  const auto data = blobs(60, 4), val = blobs(30, 5);
  nn::Linear model({.in = 2, .out = 2});
  optim::SGD sgd(model.parameters(), {.lr = 0.1});
  std::ostringstream out;
  const History h = fit(model, nn::CrossEntropyLoss(), sgd, data,
                        {.epochs = 2, .batch_size = 32, .validation_data = &val, .verbose = 1, .out = &out});
  EXPECT_TRUE(h.has("val_accuracy"));
  const std::string text = out.str();
  EXPECT_NE(text.find("Epoch 1/2 - 2/2 - "), std::string::npos) << text;  // not a terminal: plain lines
  EXPECT_NE(text.find("Epoch 2/2 - 2/2 - "), std::string::npos) << text;
  EXPECT_NE(text.find("val_accuracy"), std::string::npos) << text;
}

TEST(Fit, BinaryAccuracyFromLogits) {
  const auto multi = blobs(200, 6);
  const data::TensorDataset data(multi.inputs(), multi.targets().to(kFloat32).unsqueeze(1));
  manual_seed(2);
  nn::Linear model({.in = 2, .out = 1});
  optim::SGD sgd(model.parameters(), {.lr = 0.5});
  const History h = fit(model, nn::BCEWithLogitsLoss(), sgd, data,
                        quiet({.epochs = 5, .batch_size = 20, .accuracy = Accuracy::BinaryLogits}));
  EXPECT_GT(h["accuracy"].back(), 0.95);
}

TEST(Fit, RejectsBadOptions) {
  const auto data = blobs(10, 1);
  nn::Linear model({.in = 2, .out = 2});
  optim::SGD sgd(model.parameters(), {.lr = 0.1});
  const nn::CrossEntropyLoss loss;
  EXPECT_THROW(fit(model, loss, sgd, data, quiet({.epochs = 0})), ValueError);
  EXPECT_THROW(fit(model, loss, sgd, data, quiet({.batch_size = 0})), ValueError);
  EXPECT_THROW(fit(model, loss, sgd, data, quiet({.validation_split = 1.0})), ValueError);
  EXPECT_THROW(fit(model, loss, sgd, data, quiet({.validation_split = 0.95})), ValueError);  // no training example left
  EXPECT_THROW(fit(model, nn::LossFn(), sgd, data, quiet({})), ValueError);
}

TEST(Evaluate, WeightedMeanOverBatches) {
  // y = x (weight 1, bias 0) against targets 1.5: squared errors 0.25, 0.25, 2.25 -> mean 2.75 / 3
  // in any batching.
  nn::Linear model({.in = 1, .out = 1});
  {
    NoGradGuard no_grad;
    model.weight.fill_(1.0);
    model.bias.fill_(0.0);
  }
  const data::TensorDataset data(tensor({{1.0f}, {2.0f}, {3.0f}}), tensor({{1.5f}, {1.5f}, {1.5f}}));
  const Evaluation e = evaluate(model, nn::MSELoss(), data, {.batch_size = 2});
  EXPECT_NEAR(e.loss, 2.75 / 3.0, 1e-6);
  EXPECT_TRUE(std::isnan(e.accuracy));  // a regression: no accuracy
  EXPECT_TRUE(model.is_training());     // restored
  const data::TensorDataset empty(zeros({0, 1}), zeros({0, 1}));
  EXPECT_THROW(evaluate(model, nn::MSELoss(), empty), ValueError);
}

TEST(Evaluate, MultiClassAccuracy) {
  nn::Linear model({.in = 2, .out = 2});
  {
    NoGradGuard no_grad;
    model.weight.copy_(tensor({{1.0f, 0.0f}, {0.0f, 1.0f}}));  // logits = inputs
    model.bias.fill_(0.0);
  }
  const data::TensorDataset data(tensor({{2.0f, 1.0f}, {0.0f, 1.0f}, {3.0f, 0.0f}}), tensor({0, 1, 1}));
  EXPECT_NEAR(evaluate(model, nn::CrossEntropyLoss(), data).accuracy, 2.0 / 3.0, 1e-12);
}

TEST(Predict, BatchesGiveTheSameOutputsAsOneCall) {
  manual_seed(4);
  auto model = nn::Sequential({nn::Linear({.in = 3, .out = 5}), nn::Dropout(0.5), nn::Linear({.in = 5, .out = 2})});
  const Tensor inputs = randn({7, 3});
  model.eval();
  const std::vector<float> expected = model(inputs).to_vector<float>();
  model.train();
  const Tensor out = predict(model, inputs, 3);  // eval mode inside: dropout off
  EXPECT_EQ(out.shape(), Shape({7, 2}));
  EXPECT_FALSE(out.requires_grad());
  const std::vector<float> got = out.to_vector<float>();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-6);
  EXPECT_TRUE(model.is_training());
  const data::TensorDataset data(inputs, Tensor());
  const std::vector<float> from_data = predict(model, data, 2).to_vector<float>();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(from_data[i], expected[i], 1e-6);
  EXPECT_THROW(predict(model, inputs, 0), ValueError);
  EXPECT_THROW(predict(model, scalar_tensor(1.0), 2), ShapeError);
}

}  // namespace
}  // namespace xgrad::train
