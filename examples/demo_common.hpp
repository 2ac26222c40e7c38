#pragma once
// What the Fashion-MNIST demos share: the command line (options, --help, errors), the thread
// count, loading, normalising and splitting the data, the files of a run, and the end of a run:
// the best weights tested, the confusion matrix, wall time and peak memory, and as the last line
// `test accuracy: 0.XXXX`.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <sys/resource.h>

#include <xgrad/io/model_io.hpp>
#include <xgrad/xgrad.hpp>

#ifndef XGRAD_DATASETS_DIR
#define XGRAD_DATASETS_DIR "/usr/share/datasets"
#endif

namespace demo {

namespace data = xg::data;
namespace io = xg::io;
namespace nn = xg::nn;
namespace train = xg::train;

// "--name value", "--name=value" and flags, with a usage text made from the options in the order
// they were added: "  --name META    help    [default]".
class CommandLine {
 public:
  CommandLine(std::string program, std::string description)
      : program_(std::move(program)), description_(std::move(description)) {}

  void option(const std::string& name, std::string& value, const std::string& meta, const std::string& help) {
    add(name, meta, help, value, [&value](const std::string& v) { value = v; });
  }
  // Whole numbers >= min.
  void option(const std::string& name, int64_t& value, const std::string& help, int64_t min = 1) {
    add(name, "N", help, std::to_string(value), [&value, min](const std::string& v) { value = whole(v, min); });
  }
  void option(const std::string& name, int& value, const std::string& help, int64_t min = 1) {
    add(name, "N", help, std::to_string(value),
        [&value, min](const std::string& v) { value = static_cast<int>(whole(v, min)); });
  }
  void option(const std::string& name, uint64_t& value, const std::string& help) {
    add(name, "N", help, std::to_string(value),
        [&value](const std::string& v) { value = static_cast<uint64_t>(whole(v, 0)); });
  }
  // Numbers > 0.
  void option(const std::string& name, double& value, const std::string& help) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    add(name, "X", help, text, [&value](const std::string& v) {
      size_t used = 0;
      const double x = std::stod(v, &used);
      if (used != v.size() || !(x > 0)) throw std::invalid_argument(v);
      value = x;
    });
  }
  // A flag: present or not.
  void flag(const std::string& name, bool& value, const std::string& help) {
    options_.push_back({name, "", help, "", [&value](const std::string&) { value = true; }, true});
  }

  void usage(std::FILE* to) const {
    std::fprintf(to, "%s\n\nusage: %s [options]\n", description_.c_str(), program_.c_str());
    for (const Option& o : options_) {
      const std::string left = o.name + (o.meta.empty() ? "" : " " + o.meta);
      if (o.is_flag || o.default_text.empty())
        std::fprintf(to, "  %-17s %s\n", left.c_str(), o.help.c_str());
      else
        std::fprintf(to, "  %-17s %-34s [%s]\n", left.c_str(), o.help.c_str(), o.default_text.c_str());
    }
    std::fprintf(to, "  %-17s %s\n", "--help", "this text");
  }

  [[noreturn]] void bad_usage(const std::string& message) const {
    std::fprintf(stderr, "%s: %s\n\n", program_.c_str(), message.c_str());
    usage(stderr);
    std::exit(2);
  }

  void parse(int argc, char** argv) const {
    for (int i = 1; i < argc; ++i) {
      std::string name = argv[i], value;
      if (name == "--help" || name == "-h") {
        usage(stdout);
        std::exit(0);
      }
      const Option* option = find(name);
      if (option && option->is_flag) {
        option->set("");
        continue;
      }
      if (const size_t eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        option = find(name);
      } else if (option && i + 1 < argc) {
        value = argv[++i];
      } else if (option) {
        bad_usage("option " + name + " needs a value");
      }
      if (!option || option->is_flag) bad_usage("unknown option " + name);
      try {
        option->set(value);
      } catch (const std::logic_error&) {  // std::invalid_argument, std::out_of_range
        bad_usage("bad value '" + value + "' for " + name);
      }
    }
  }

  const std::string& program() const { return program_; }

 private:
  struct Option {
    std::string name, meta, help, default_text;
    std::function<void(const std::string&)> set;
    bool is_flag = false;
  };

  static long long whole(const std::string& v, long long min) {
    size_t used = 0;
    const long long x = std::stoll(v, &used);
    if (used != v.size() || x < min) throw std::invalid_argument(v);
    return x;
  }
  void add(const std::string& name, const std::string& meta, const std::string& help, std::string default_text,
           std::function<void(const std::string&)> set) {
    options_.push_back({name, meta, help, std::move(default_text), std::move(set), false});
  }
  const Option* find(const std::string& name) const {
    for (const Option& o : options_)
      if (o.name == name) return &o;
    return nullptr;
  }

  std::string program_, description_;
  std::vector<Option> options_;
};

// The options every demo has.
struct RunArgs {
  std::string data_dir = XGRAD_DATASETS_DIR "/fashion-mnist";
  int64_t epochs = 20;
  int64_t batch_size = 128;
  double lr = 1e-3;
  uint64_t seed = 1;
  int threads = 0;  // 0: the default (one per core)
  std::string out;
  int64_t validation = 5000;
  bool resume = false;
};

// Adds them in the order --help lists them.
inline void add_run_options(CommandLine& cl, RunArgs& args, const std::string& lr_help = "the initial learning rate",
                            const std::string& seed_help = "weights, dropout, split and order") {
  cl.option("--data", args.data_dir, "DIR", "the four IDX files (.gz or not)");
  cl.option("--epochs", args.epochs, "passes over the training images");
  cl.option("--batch-size", args.batch_size, "images per optimizer step");
  cl.option("--lr", args.lr, lr_help);
  cl.option("--seed", args.seed, seed_help);
  cl.option("--threads", args.threads, "threads (0: one per core)", 0);
  cl.option("--out", args.out, "DIR", "where the results go");
  cl.flag("--resume", args.resume, "continue the run saved in DIR/checkpoint.safetensors");
  cl.option("--validation", args.validation, "training images held out");
}

// Threads for the BLAS and xgrad's own kernels (one pool; see xgrad/tensor/parallel.hpp).
inline void set_threads(int threads) {
  if (threads > 0) xg::set_num_threads(threads);
}

// Since the start of main(), for the final report.
class Stopwatch {
 public:
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

inline double peak_memory_mib() {
  rusage now{};
  getrusage(RUSAGE_SELF, &now);
  return static_cast<double>(now.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// Fashion-MNIST normalised with the training set's mean and deviation, `validation` training
// images held out (a split fixed by the seed), and optionally only the first `limit` of the rest.
struct FashionMnist {
  data::MeanStd stats;
  std::shared_ptr<data::TensorDataset> all_train;
  std::shared_ptr<data::Subset> train;
  std::shared_ptr<data::Subset> validation;
  data::TensorDataset test;
};

// Images come as [n, 28, 28] or, with `image_shape`, as [n, image_shape...] (e.g. {1, 28, 28}).
inline FashionMnist load_fashion_mnist(const CommandLine& cl, const RunArgs& args, const xg::Shape& image_shape = {},
                                       int64_t limit = 0) {
  FashionMnist d;
  const auto shaped = [&](const data::TensorDataset& set) {
    if (image_shape.empty()) return set;
    xg::Shape shape = image_shape;
    shape.insert(shape.begin(), set.size());
    return data::TensorDataset(xg::Tensor(set.inputs().array().reshape(shape)), set.targets());
  };
  {  // the raw images are dropped once normalised
    const data::TrainTestData raw = data::load_fashion_mnist(args.data_dir);
    d.stats = data::compute_mean_std(raw.train);
    const data::Normalize normalize(d.stats.mean, d.stats.std);
    d.all_train = std::make_shared<data::TensorDataset>(shaped(data::transform_inputs(raw.train, normalize)));
    d.test = shaped(data::transform_inputs(raw.test, normalize));
  }
  if (args.validation >= d.all_train->size()) cl.bad_usage("--validation must be below the training set's size");
  auto [train_set, val_set] = data::train_test_split(d.all_train, {.test_size = args.validation, .seed = args.seed});
  std::vector<int64_t> train_indices = train_set.indices();
  if (limit > 0 && limit < static_cast<int64_t>(train_indices.size())) train_indices.resize(static_cast<size_t>(limit));
  d.train = std::make_shared<data::Subset>(d.all_train, std::move(train_indices));
  d.validation = std::make_shared<data::Subset>(std::move(val_set));
  std::printf("Fashion-MNIST from %s: %lld training, %lld validation, %lld test images (mean %.4f, std %.4f)\n\n",
              args.data_dir.c_str(), static_cast<long long>(d.train->size()),
              static_cast<long long>(d.validation->size()), static_cast<long long>(d.test.size()), d.stats.mean.item(),
              d.stats.std.item());
  return d;
}

// The files of a run, in --out.
struct RunFiles {
  explicit RunFiles(const std::string& out) : dir(out) { std::filesystem::create_directories(dir); }
  std::string weights() const { return (dir / "model.safetensors").string(); }          // the best epoch's
  std::string checkpoint() const { return (dir / "checkpoint.safetensors").string(); }  // the last epoch's run
  std::string history() const { return (dir / "history.csv").string(); }
  std::string curves() const { return (dir / "curves.svg").string(); }
  std::filesystem::path dir;
};

// Ends fit() after `epochs` epochs (0: never) as if the run had been interrupted there, its
// checkpoint written: --resume then continues it. (Running fewer --epochs instead would not do:
// the learning rate schedule depends on --epochs.)
class StopAfter : public train::Callback {
 public:
  explicit StopAfter(int64_t epochs) : epochs_(epochs) {}
  void on_epoch_end(train::FitState& state, int64_t epoch, const train::Logs& /*logs*/) override {
    if (epochs_ > 0 && epoch + 1 >= epochs_) state.stop_training = true;
  }

 private:
  int64_t epochs_;
};

// After fit(): the history and curves written, the best validation epoch's weights loaded and
// tested, the confusion matrix, and the closing lines, `test accuracy: 0.XXXX` last.
inline void finish(nn::Module& model, const train::History& history, const RunFiles& files,
                   const train::ModelCheckpoint& checkpoint, const data::TensorDataset& test,
                   const std::string& curves_title, const Stopwatch& stopwatch, int64_t predict_batch = 1000) {
  history.to_csv(files.history());
  train::write_curves_svg(history, files.curves(), {.title = curves_title});

  io::load_model(model, files.weights());
  const xg::Tensor logits = train::predict(model, test.inputs(), predict_batch);
  const xg::Tensor cm = train::confusion_matrix(logits, test.targets(), 10);
  const auto& names = data::fashion_mnist_classes();
  std::printf("\nConfusion matrix on the %lld test images (best validation epoch: %lld):\n%s\n",
              static_cast<long long>(test.size()), static_cast<long long>(checkpoint.best_epoch() + 1),
              train::format_confusion_matrix(cm, {names.begin(), names.end()}).c_str());

  std::printf("wrote %s/{history.csv, curves.svg, model.safetensors, checkpoint.safetensors}\n",
              files.dir.string().c_str());
  std::printf("wall time: %.1f s, peak memory: %.0f MiB\n", stopwatch.seconds(), peak_memory_mib());
  std::printf("test accuracy: %.4f\n", train::accuracy(logits, test.targets()));
}

// Runs a demo's body: an xgrad error is reported (with a hint when the data is missing) and
// gives exit status 1.
inline int run(const CommandLine& cl, const std::function<void()>& body) {
  try {
    body();
  } catch (const xg::Error& e) {
    std::fprintf(stderr, "%s: %s\n", cl.program().c_str(), e.what());
    if (dynamic_cast<const xg::IOError*>(&e))
      std::fprintf(stderr, "(install Debian's dataset-fashion-mnist, or pass --data DIR)\n");
    return 1;
  }
  return 0;
}

}  // namespace demo
