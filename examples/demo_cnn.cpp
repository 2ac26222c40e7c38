// A small convolutional network with batch normalisation trained on Fashion-MNIST, with random
// crops and horizontal flips of the training images, evaluated on the 10,000 test images.
//
//   ./run.sh demo cnn [--epochs N] [--limit N] [--no-augment] [--profile] [--resume] [--help for all]
//
// Like the MLP demo (fashion_mnist_mlp.cpp), it prints the model summary, a progress bar per epoch,
// the confusion matrix on the test set and, as its last line, `test accuracy: 0.XXXX`; it writes
// history.csv, curves.svg, model.safetensors (the best validation epoch's weights, which are the
// ones tested, under the names of the same network written with torch.nn: conv1.weight,
// bn1.running_mean, fc1.weight, ...) and checkpoint.safetensors (the whole run after the last epoch,
// for --resume) to --out. The augmentation is a function of (seed, epoch, image), so a resumed run
// is bit-identical to an uninterrupted one.
//
// --profile runs a few training steps instead and prints where a step's time goes, layer by layer.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <xgrad/data/augment.hpp>
#include <xgrad/xgrad.hpp>

#include "demo_common.hpp"

namespace data = xg::data;
namespace nn = xg::nn;
namespace optim = xg::optim;
namespace train = xg::train;

namespace {

// [N, 1, 28, 28] -> [N, 10] logits: its layers are children called in registration order, so the
// state dict has the names of this torch.nn model (with the defaults c1 = 32, c2 = 64, hidden = 128):
//   conv1 = Conv2d(1, 32, 3, padding=1, bias=False), bn1 = BatchNorm2d(32), relu1 = ReLU(), pool1 = MaxPool2d(2),
//   conv2 = Conv2d(32, 64, 3, padding=1, bias=False), bn2 = BatchNorm2d(64), relu2, pool2,
//   flatten = Flatten(), fc1 = Linear(3136, 128, bias=False), bn3 = BatchNorm1d(128), relu3,
//   drop = Dropout(0.25), fc2 = Linear(128, 10)
// A bias before a batch norm would be cancelled by its mean, hence none. With augmentation, one
// dropout is enough regularisation for 15 epochs.
struct Cnn : nn::Module {
  Cnn(int64_t c1, int64_t c2, int64_t hidden, double dropout) {
    add("conv1", nn::Conv2d({.in_channels = 1, .out_channels = c1, .kernel_size = 3, .padding = 1, .bias = false}));
    add("bn1", nn::BatchNorm2d(c1));
    add("relu1", nn::ReLU());
    add("pool1", nn::MaxPool2d(2));
    add("conv2", nn::Conv2d({.in_channels = c1, .out_channels = c2, .kernel_size = 3, .padding = 1, .bias = false}));
    add("bn2", nn::BatchNorm2d(c2));
    add("relu2", nn::ReLU());
    add("pool2", nn::MaxPool2d(2));
    add("flatten", nn::Flatten());
    add("fc1", nn::Linear({.in = c2 * 7 * 7, .out = hidden, .bias = false}));
    add("bn3", nn::BatchNorm1d(hidden));
    add("relu3", nn::ReLU());
    add("drop", nn::Dropout(dropout));
    add("fc2", nn::Linear({.in = hidden, .out = 10}));
  }
  xg::Tensor forward(const xg::Tensor& x) override {
    xg::Tensor h = x;
    for (const auto& layer : layers) h = (*layer)(h);
    return h;
  }
  template <class M> void add(const std::string& name, M layer) {
    layers.push_back(register_module(name, std::shared_ptr<Module>(std::make_shared<M>(layer))));
  }
  std::vector<std::shared_ptr<nn::Module>> layers;
};

using Clock = std::chrono::steady_clock;
double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Where a training step's time goes: `steps` steps after two of warm-up. Forward: each layer's call
// timed. Backward: a hook on each layer's output notes when its gradient arrives; the layer's own
// backward runs from then until its input's gradient arrives (the end of backward() for the first).
void profile(Cnn& model, const nn::LossFn& loss, optim::Optimizer& optimizer, const data::Dataset& train_set,
             int64_t batch_size, uint64_t seed, int64_t steps) {
  const size_t n = model.layers.size();
  const auto names = model.named_children();
  std::vector<double> forward(n, 0.0), backward(n, 0.0);
  double loss_forward = 0, loss_backward = 0, step_time = 0, data_time = 0, total = 0;
  const int64_t warmup = 2;
  model.train();
  data::DataLoader loader(train_set, {.batch_size = batch_size, .shuffle = true, .seed = seed, .drop_last = true});
  auto batch = loader.begin();
  for (int64_t s = 0; s < warmup + steps; ++s) {
    if (batch == loader.end()) batch = loader.begin();
    const bool counted = s >= warmup;
    const Clock::time_point start = Clock::now();
    std::vector<Clock::time_point> arrived(n, start);
    optimizer.zero_grad();
    xg::Tensor h = batch->input;
    for (size_t i = 0; i < n; ++i) {
      const Clock::time_point t = Clock::now();
      h = (*model.layers[i])(h);
      if (counted) forward[i] += ms(Clock::now() - t);
      h.register_hook([&arrived, i](const xg::Tensor&) {
        arrived[i] = Clock::now();
        return xg::Tensor();
      });
    }
    Clock::time_point t = Clock::now();
    const xg::Tensor value = loss(h, batch->target);
    const Clock::time_point backward_start = Clock::now();
    value.backward();
    const Clock::time_point backward_end = Clock::now();
    optimizer.step();
    const Clock::time_point step_end = Clock::now();
    ++batch;  // waits for the loader's worker if the next batch is not ready
    const Clock::time_point end = Clock::now();
    if (!counted) continue;
    loss_forward += ms(backward_start - t);
    loss_backward += ms(arrived[n - 1] - backward_start);
    for (size_t i = 0; i < n; ++i) backward[i] += ms((i > 0 ? arrived[i - 1] : backward_end) - arrived[i]);
    step_time += ms(step_end - backward_end);
    data_time += ms(end - step_end);
    total += ms(end - start);
  }
  const auto k = static_cast<double>(steps);
  std::printf("\nProfile of %lld training steps of %lld images (after %lld of warm-up), mean ms per step:\n\n",
              static_cast<long long>(steps), static_cast<long long>(batch_size), static_cast<long long>(warmup));
  std::printf("%-10s %-12s %10s %10s %10s %7s\n", "layer", "type", "forward", "backward", "total", "share");
  const auto row = [&](const std::string& name, const std::string& type, double f, double b, bool split = true) {
    if (split)
      std::printf("%-10s %-12s %10.2f %10.2f %10.2f %6.1f%%\n", name.c_str(), type.c_str(), f / k, b / k, (f + b) / k,
                  100.0 * (f + b) / total);
    else
      std::printf("%-10s %-12s %10s %10s %10.2f %6.1f%%\n", name.c_str(), type.c_str(), "", "", (f + b) / k,
                  100.0 * (f + b) / total);
  };
  double sum_forward = loss_forward, sum_backward = loss_backward;
  for (size_t i = 0; i < n; ++i) {
    row(names[i].first, model.layers[i]->type_name(), forward[i], backward[i]);
    sum_forward += forward[i];
    sum_backward += backward[i];
  }
  row("loss", "CrossEntropy", loss_forward, loss_backward);
  row("optimizer", "AdamW step", 0, step_time, false);
  row("data", "loader wait", 0, data_time, false);
  std::printf("%-23s %10.2f %10.2f %10.2f (whole step: %.2f ms, %.0f images/s)\n", "sum", sum_forward / k,
              sum_backward / k, (sum_forward + sum_backward + step_time + data_time) / k, total / k,
              1000.0 * k * static_cast<double>(batch_size) / total);
}

}  // namespace

int main(int argc, char** argv) {
  const demo::Stopwatch stopwatch;
  demo::RunArgs args{.epochs = 15, .lr = 3e-3, .out = "runs/fashion-mnist-cnn"};
  int64_t limit = 0, stop_after = 0, width = 32, hidden = 128;
  bool no_augment = false, profile_only = false;
  demo::CommandLine cl("demo_cnn",
                       "Trains a CNN (two 3x3 convolutions with batch norm, ReLU and 2x2 max pooling, then a hidden\n"
                       "layer of 128 with batch norm and dropout) on Fashion-MNIST with random crops and flips, AdamW\n"
                       "and a one-cycle learning rate; keeps the weights of the epoch with the best validation\n"
                       "accuracy and tests them.");
  demo::add_run_options(cl, args, "AdamW's peak learning rate");
  cl.option("--limit", limit, "training images used (0: all)", 0);
  cl.option("--stop-after", stop_after, "stop after N epochs, as if killed", 0);
  cl.option("--width", width, "channels of conv1 (conv2: twice)");
  cl.option("--hidden", hidden, "units of the hidden layer");
  cl.flag("--no-augment", no_augment, "train on the images as they are");
  cl.flag("--profile", profile_only, "time ~20 training steps layer by layer, then stop");
  cl.parse(argc, argv);
  demo::set_threads(args.threads);
  return demo::run(cl, [&] {
    const demo::FashionMnist d = demo::load_fashion_mnist(cl, args, {1, 28, 28}, limit);
    // Random crops of 28 x 28 out of the image padded by 2 (shifts of up to 2 pixels, the border
    // filled with the background, 0 before normalisation) and left-right flips, training images only.
    const double background = -d.stats.mean.item() / d.stats.std.item();
    std::shared_ptr<const data::Dataset> train_set = d.train;
    if (!no_augment)
      train_set = std::make_shared<data::AugmentedDataset>(
          d.train,
          std::vector<data::RandomTransform>{data::RandomCrop({.size = 28, .padding = 2, .fill = background}),
                                             data::RandomHorizontalFlip()},
          args.seed);

    xg::manual_seed(args.seed);  // initial weights and dropout masks
    Cnn model(width, 2 * width, hidden, /*dropout=*/0.25);
    model.print_summary({args.batch_size, 1, 28, 28});

    optim::AdamW optimizer(model.parameters(), {.lr = args.lr, .weight_decay = 5e-2});
    const nn::CrossEntropyLoss loss;
    if (profile_only) {
      profile(model, loss, optimizer, *train_set, args.batch_size, args.seed, /*steps=*/20);
      return;
    }
    const demo::RunFiles files(args.out);
    const int64_t steps_per_epoch = (train_set->size() + args.batch_size - 1) / args.batch_size;
    optim::OneCycleLR schedule(optimizer,
                               {.max_lr = args.lr, .epochs = args.epochs, .steps_per_epoch = steps_per_epoch});
    if (args.resume) std::printf("resuming from %s\n", files.checkpoint().c_str());
    auto checkpoint = std::make_shared<train::ModelCheckpoint>(
        train::ModelCheckpoint::Options{.path = files.weights(), .monitor = "val_accuracy"});

    std::printf("\n");
    const train::History history =
        train::fit(model, loss, optimizer, *train_set,
                   {.epochs = args.epochs,
                    .batch_size = args.batch_size,
                    .validation_data = d.validation.get(),
                    .callbacks = {std::make_shared<train::LRSchedulerCallback>(
                                      schedule, train::LRSchedulerCallback::Options{.per_batch = true}),
                                  checkpoint, std::make_shared<demo::StopAfter>(stop_after)},
                    .seed = args.seed,
                    .checkpoint_path = files.checkpoint(),
                    .resume = args.resume ? files.checkpoint() : std::string()});

    demo::finish(model, history, files, *checkpoint, d.test, "Fashion-MNIST CNN", stopwatch, 500);
  });
}
