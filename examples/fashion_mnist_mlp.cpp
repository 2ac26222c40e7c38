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
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <dlfcn.h>
#include <sys/resource.h>

#include <xgrad/xgrad.hpp>

#ifndef XGRAD_DATASETS_DIR
#define XGRAD_DATASETS_DIR "/usr/share/datasets"
#endif

namespace data = xg::data;
namespace nn = xg::nn;
namespace optim = xg::optim;
namespace train = xg::train;

namespace {

struct Args {
  std::string data_dir = XGRAD_DATASETS_DIR "/fashion-mnist";
  int64_t epochs = 20;
  int64_t batch_size = 128;
  double lr = 1e-3;
  uint64_t seed = 1;
  int threads = 0;  // 0: OpenBLAS's default (one per core)
  std::string out = "runs/fashion-mnist-mlp";
  int64_t validation = 5000;
  bool resume = false;
};

void usage(std::FILE* to) {
  const Args d;
  std::fprintf(to,
               "Trains an MLP (784-256-128-10, ReLU, dropout 0.2) on Fashion-MNIST with Adam and a cosine learning\n"
               "rate decay, keeps the weights of the epoch with the best validation accuracy and tests them.\n\n"
               "usage: fashion_mnist_mlp [options]\n"
               "  --data DIR        the four IDX files (.gz or not)    [%s]\n"
               "  --epochs N        passes over the training images    [%lld]\n"
               "  --batch-size N    images per optimizer step           [%lld]\n"
               "  --lr X            Adam's initial learning rate       [%g]\n"
               "  --seed N          weights, dropout, split and order  [%llu]\n"
               "  --threads N       BLAS threads (0: one per core)     [%d]\n"
               "  --out DIR         where the results go                [%s]\n"
               "  --resume          continue the run saved in DIR/checkpoint.safetensors\n"
               "  --validation N    training images held out           [%lld]\n"
               "  --help            this text\n",
               d.data_dir.c_str(), static_cast<long long>(d.epochs), static_cast<long long>(d.batch_size), d.lr,
               static_cast<unsigned long long>(d.seed), d.threads, d.out.c_str(), static_cast<long long>(d.validation));
}

[[noreturn]] void bad_usage(const std::string& message) {
  std::fprintf(stderr, "fashion_mnist_mlp: %s\n\n", message.c_str());
  usage(stderr);
  std::exit(2);
}

// Parses "--name value" and "--name=value".
Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i], value;
    if (name == "--help" || name == "-h") {
      usage(stdout);
      std::exit(0);
    }
    if (name == "--resume") {
      args.resume = true;
      continue;
    }
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      bad_usage("option " + name + " needs a value");
    }
    try {
      size_t used = 0;
      const auto whole = [&](long long min) {
        const long long v = std::stoll(value, &used);
        if (used != value.size() || v < min) throw std::invalid_argument(value);
        return v;
      };
      if (name == "--data")
        args.data_dir = value;
      else if (name == "--out")
        args.out = value;
      else if (name == "--epochs")
        args.epochs = whole(1);
      else if (name == "--batch-size")
        args.batch_size = whole(1);
      else if (name == "--seed")
        args.seed = static_cast<uint64_t>(whole(0));
      else if (name == "--threads")
        args.threads = static_cast<int>(whole(0));
      else if (name == "--validation")
        args.validation = whole(1);
      else if (name == "--lr") {
        args.lr = std::stod(value, &used);
        if (used != value.size() || !(args.lr > 0)) throw std::invalid_argument(value);
      } else {
        bad_usage("unknown option " + name);
      }
    } catch (const std::logic_error&) {
      bad_usage("bad value '" + value + "' for " + name);
    }
  }
  return args;
}

// OpenBLAS reads its thread count at load time; this sets it afterwards, when OpenBLAS is the BLAS
// that libxgrad loaded (looked up at run time: the program does not link OpenBLAS itself).
void set_blas_threads(int threads) {
  if (threads <= 0) return;
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set(threads);
  else
    std::fprintf(stderr, "fashion_mnist_mlp: --threads ignored: the BLAS is not OpenBLAS\n");
}

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
  const Args args = parse(argc, argv);
  const auto started = std::chrono::steady_clock::now();
  set_blas_threads(args.threads);
  try {
    // Images [n, 28, 28] in [0, 1], normalised with the training set's mean and deviation.
    // (The raw images are dropped once normalised.)
    data::MeanStd stats;
    std::shared_ptr<data::TensorDataset> all_train;
    data::TensorDataset test;
    {
      const data::TrainTestData raw = data::load_fashion_mnist(args.data_dir);
      stats = data::compute_mean_std(raw.train);
      const data::Normalize normalize(stats.mean, stats.std);
      all_train = std::make_shared<data::TensorDataset>(data::transform_inputs(raw.train, normalize));
      test = data::transform_inputs(raw.test, normalize);
    }
    if (args.validation >= all_train->size()) bad_usage("--validation must be below the training set's size");
    const auto [train_set, val_set] =
        data::train_test_split(all_train, {.test_size = args.validation, .seed = args.seed});
    std::printf("Fashion-MNIST from %s: %lld training, %lld validation, %lld test images (mean %.4f, std %.4f)\n\n",
                args.data_dir.c_str(), static_cast<long long>(train_set.size()), static_cast<long long>(val_set.size()),
                static_cast<long long>(test.size()), stats.mean.item(), stats.std.item());

    std::filesystem::create_directories(args.out);
    xg::manual_seed(args.seed);  // initial weights and dropout masks
    Mlp model;
    model.print_summary({args.batch_size, 28, 28});

    optim::Adam optimizer(model.parameters(), {.lr = args.lr});
    optim::CosineAnnealingLR schedule(optimizer, {.t_max = args.epochs, .eta_min = args.lr / 50});
    const std::string weights = (std::filesystem::path(args.out) / "model.safetensors").string();
    const std::string run_state = (std::filesystem::path(args.out) / "checkpoint.safetensors").string();
    if (args.resume) std::printf("resuming from %s\n", run_state.c_str());
    auto checkpoint = std::make_shared<train::ModelCheckpoint>(
        train::ModelCheckpoint::Options{.path = weights, .monitor = "val_accuracy"});
    const nn::CrossEntropyLoss loss;

    std::printf("\n");
    const train::History history =
        train::fit(model, loss, optimizer, train_set,
                   {.epochs = args.epochs,
                    .batch_size = args.batch_size,
                    .validation_data = &val_set,
                    .callbacks = {std::make_shared<train::LRSchedulerCallback>(schedule), checkpoint},
                    .seed = args.seed,
                    .checkpoint_path = run_state,
                    .resume = args.resume ? run_state : std::string()});

    history.to_csv((std::filesystem::path(args.out) / "history.csv").string());
    train::write_curves_svg(history, (std::filesystem::path(args.out) / "curves.svg").string(),
                            {.title = "Fashion-MNIST MLP 784-256-128-10"});

    // The weights of the best validation epoch.
    io::load_model(model, weights);
    const xg::Tensor logits = train::predict(model, test.inputs(), 1000);
    const xg::Tensor cm = train::confusion_matrix(logits, test.targets(), 10);
    const auto& names = data::fashion_mnist_classes();
    std::printf("\nConfusion matrix on the %lld test images (best validation epoch: %lld):\n%s\n",
                static_cast<long long>(test.size()), static_cast<long long>(checkpoint->best_epoch() + 1),
                train::format_confusion_matrix(cm, {names.begin(), names.end()}).c_str());

    rusage usage_now{};
    getrusage(RUSAGE_SELF, &usage_now);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("wrote %s/{history.csv, curves.svg, model.safetensors, checkpoint.safetensors}\n", args.out.c_str());
    std::printf("wall time: %.1f s, peak memory: %.0f MiB\n", seconds,
                static_cast<double>(usage_now.ru_maxrss) / 1024.0);
    std::printf("test accuracy: %.4f\n", train::accuracy(logits, test.targets()));
  } catch (const xg::Error& e) {
    std::fprintf(stderr, "fashion_mnist_mlp: %s\n", e.what());
    if (dynamic_cast<const xg::IOError*>(&e))
      std::fprintf(stderr, "(install Debian's dataset-fashion-mnist, or pass --data DIR)\n");
    return 1;
  }
  return 0;
}
