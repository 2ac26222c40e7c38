#pragma once
// Keras-style training: fit() runs the epochs (model.train() for the batches, model.eval() and no
// recording for validation) and returns the History; evaluate() measures loss and accuracy;
// predict() runs the model over inputs in batches.
//
//   auto history = train::fit(model, nn::CrossEntropyLoss(), opt, train_data,
//                             {.epochs = 10, .batch_size = 128, .validation_split = 0.1, .seed = 1});
//   auto [loss, acc] = train::evaluate(model, nn::CrossEntropyLoss(), test_data);
//
// The loss must reduce a batch to its mean (the default of every nn loss): epoch losses are the
// example-weighted mean of the batch losses.
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/data/dataset.hpp"
#include "xgrad/nn/loss.hpp"
#include "xgrad/train/callbacks.hpp"
#include "xgrad/train/history.hpp"
#include "xgrad/train/metrics.hpp"

namespace xgrad::nn {
class Module;
}
namespace xgrad::optim {
class Optimizer;
}

namespace xgrad::train {

struct FitOptions {
  int64_t epochs = 1;
  int64_t batch_size = 32;
  // A fraction of the training data held out for validation: the LAST examples, before any
  // shuffling, as Keras does. Ignored when validation_data is given.
  double validation_split = 0.0;
  const data::Dataset* validation_data = nullptr;  // borrowed for the call
  std::vector<std::shared_ptr<Callback>> callbacks = {};
  bool shuffle = true;
  uint64_t seed = 0;  // the batch order of every epoch (see DataLoader)
  // 0: silent; 1: a progress bar on a terminal, one line per epoch otherwise; 2: one line per epoch.
  int verbose = 1;
  Accuracy accuracy = Accuracy::Auto;
  double threshold = 0.5;             // for binary accuracy
  int64_t validation_batch_size = 0;  // 0: max(batch_size, 256) (evaluation needs no small batches)
  bool drop_last = false;
  bool prefetch = true;         // gather the next batch on a background thread
  std::ostream* out = nullptr;  // where progress goes (default std::cout)
  // After every epoch, save the whole run (model, optimizer, the callbacks' state such as an LR
  // scheduler's, epoch and step, RNG, history) to this file, atomically (see checkpoint.hpp).
  std::string checkpoint_path = {};
  // Continue the run saved in this checkpoint file: restore all of the above, then train the
  // epochs after the saved one up to `epochs`. The History returned holds every epoch. With the
  // same options and thread count the result is bit-identical to an uninterrupted run.
  std::string resume = {};
};

// ValueError for bad options (epochs < 1, validation_split outside [0, 1), an empty training set).
// Restores the model's training flag when done.
History fit(nn::Module& model, const nn::LossFn& loss, optim::Optimizer& optimizer, const data::Dataset& train_data,
            const FitOptions& options = {});

struct EvaluateOptions {
  int64_t batch_size = 256;
  Accuracy accuracy = Accuracy::Auto;
  double threshold = 0.5;
};
struct Evaluation {
  double loss;
  double accuracy;  // NaN when not measured (Accuracy::None, or a regression under Auto)
};
// In eval mode without recording; restores the training flag. ValueError for an empty dataset.
Evaluation evaluate(nn::Module& model, const nn::LossFn& loss, const data::Dataset& data,
                    const EvaluateOptions& options = {});

// The model's outputs for inputs [N, ...] (or a dataset's inputs), batch by batch, in eval mode
// without recording, concatenated along dim 0.
Tensor predict(nn::Module& model, const Tensor& inputs, int64_t batch_size = 256);
Tensor predict(nn::Module& model, const data::Dataset& data, int64_t batch_size = 256);

}  // namespace xgrad::train
