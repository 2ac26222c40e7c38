// The classic first Keras program, in C++ with xgrad:
//
//   model = Sequential([Dense(10, activation="relu", input_shape=(2,)), Dense(1, activation="sigmoid")])
//   model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
//   model.fit(X, y, epochs=10, batch_size=32, validation_split=0.1)
//   model.evaluate(X_test, y_test)
//
// The data is generated with a fixed seed: points uniform in the square [-1.5, 1.5]^2, labelled 1
// inside the circle x1^2 + x2^2 < 1.43 (which holds half of the square's area) and 0 outside. No
// straight line separates the classes; ten ReLU units bend one around the circle.
#include <cstdio>
#include <iostream>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace nn = xg::nn;
namespace train = xg::train;

namespace {

// n points and their labels: inputs [n, 2] float32, targets [n, 1] float32 (0 or 1).
xg::data::TensorDataset make_circle_data(int64_t n, uint64_t seed) {
  xg::Generator gen(seed);
  const xg::Tensor x = xg::rand({n, 2}, gen) * 3.0 - 1.5;
  const std::vector<float> v = x.to_vector<float>();
  std::vector<float> labels(static_cast<size_t>(n));
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = v[2 * i] * v[2 * i] + v[2 * i + 1] * v[2 * i + 1] < 1.43f;
  return xg::data::TensorDataset(x, xg::tensor(labels, {n, 1}));
}

}  // namespace

int main() {
  xg::manual_seed(42);  // the initial weights
  const auto data = make_circle_data(5000, /*seed=*/1);
  const auto test = make_circle_data(1000, /*seed=*/2);

  auto model =
      nn::Sequential({nn::Linear({.in = 2, .out = 10}), nn::ReLU(), nn::Linear({.in = 10, .out = 1}), nn::Sigmoid()});
  model.print_summary({32, 2});

  xg::optim::Adam optimizer(model.parameters(), {.lr = 1e-3});
  const nn::BCELoss loss;
  const train::History history =
      train::fit(model, loss, optimizer, data, {.epochs = 10, .batch_size = 32, .validation_split = 0.1, .seed = 7});

  const train::Evaluation result = train::evaluate(model, loss, test);
  std::printf("test loss: %.4f\n", result.loss);
  std::printf("accuracy: %.4f\n", result.accuracy);
  return result.accuracy > 0.85 ? 0 : 1;  // a smoke test: a network that learned nothing fails
}
