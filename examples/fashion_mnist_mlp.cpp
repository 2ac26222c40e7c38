// The main demo: a multi-layer perceptron trained on Fashion-MNIST (Zalando's 70,000 28x28
// grey-scale images of ten kinds of clothing), evaluated on the 10,000 test images.
//
//   fashion_mnist_mlp [--data DIR] [--epochs N] [--batch-size N] [--lr X] [--seed N] [--threads N] [--out DIR]
//                     [--resume]
//
// It prints the model summary, a progress bar per epoch, the confusion matrix on the test set and,
// as its last line, `test accuracy: 0.XXXX`; it writes history.csv, curves.svg, model.safetensors (the
// weights of the epoch with the best validation accuracy, which are the ones tested, in PyTorch's
// names, so they load into the same network written in PyTorch) and
// checkpoint.safetensors (the whole run after the last epoch, for --resume) to --out.
// The same seed gives the same result.
#include <cstdio>
#include <memory>
#include <string>

#include <xgrad/xgrad.hpp>

#include "demo_common.hpp"

namespace data = xg::data;
namespace nn = xg::nn;
namespace optim = xg::optim;
namespace train = xg::train;

namespace {

// 784 -> 256 -> 128 -> 10 with ReLU and dropout; the logits go to the cross-entropy loss.
struct Mlp : nn::Module {
  Mlp() {
    flatten = register_module("flatten", nn::Flatten());
    fc1 = register_module("fc1", nn::Linear({.in = 784, .out = 256}));
    drop1 = register_module("drop1", nn::Dropout(0.2));
    fc2 = register_module("fc2", nn::Linear({.in = 256, .out = 128}));
    drop2 = register_module("drop2", nn::Dropout(0.2));
    fc3 = register_module("fc3", nn::Linear({.in = 128, .out = 10}));
  }
  xg::Tensor forward(const xg::Tensor& x) override {
    xg::Tensor h = drop1(xg::relu(fc1(flatten(x))));
    h = drop2(xg::relu(fc2(h)));
    return fc3(h);
  }
  nn::Flatten flatten;
  nn::Linear fc1, fc2, fc3;
  nn::Dropout drop1, drop2;
};

}  // namespace

int main(int argc, char** argv) {
  const demo::Stopwatch stopwatch;
  demo::RunArgs args{.out = "runs/fashion-mnist-mlp"};
  demo::CommandLine cl("fashion_mnist_mlp",
                       "Trains an MLP (784-256-128-10, ReLU, dropout 0.2) on Fashion-MNIST with Adam and a cosine "
                       "learning\nrate decay, keeps the weights of the epoch with the best validation accuracy and "
                       "tests them.");
  demo::add_run_options(cl, args, "Adam's initial learning rate");
  cl.parse(argc, argv);
  demo::set_threads(args.threads);
  return demo::run(cl, [&] {
    // Images [n, 28, 28] in [0, 1], normalised with the training set's mean and deviation.
    const demo::FashionMnist d = demo::load_fashion_mnist(cl, args);
    const demo::RunFiles files(args.out);
    xg::manual_seed(args.seed);  // initial weights and dropout masks
    Mlp model;
    model.print_summary({args.batch_size, 28, 28});

    optim::Adam optimizer(model.parameters(), {.lr = args.lr});
    optim::CosineAnnealingLR schedule(optimizer, {.t_max = args.epochs, .eta_min = args.lr / 50});
    if (args.resume) std::printf("resuming from %s\n", files.checkpoint().c_str());
    auto checkpoint = std::make_shared<train::ModelCheckpoint>(
        train::ModelCheckpoint::Options{.path = files.weights(), .monitor = "val_accuracy"});
    const nn::CrossEntropyLoss loss;

    std::printf("\n");
    const train::History history =
        train::fit(model, loss, optimizer, *d.train,
                   {.epochs = args.epochs,
                    .batch_size = args.batch_size,
                    .validation_data = d.validation.get(),
                    .callbacks = {std::make_shared<train::LRSchedulerCallback>(schedule), checkpoint},
                    .seed = args.seed,
                    .checkpoint_path = files.checkpoint(),
                    .resume = args.resume ? files.checkpoint() : std::string()});

    demo::finish(model, history, files, *checkpoint, d.test, "Fashion-MNIST MLP 784-256-128-10", stopwatch);
  });
}
