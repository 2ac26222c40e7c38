// Checkpoints: a whole run's state round-trips, bad files change nothing, a run resumed in a fresh
// process is bit-identical to one that never stopped, and a process killed in the middle of a save
// leaves the previous checkpoint loadable.
//
// The fresh processes are this test program itself, started again on one of the DISABLED_ worker
// tests below (they only run when asked for by name, with XGRAD_WORKER_DIR set).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../dataio/temp_dir.hpp"
#include "../support/expect.hpp"
#include "xgrad/io/checkpoint_file.hpp"
#include "xgrad/io/io.hpp"
#include "xgrad/io/model_io.hpp"
#include "xgrad/nn/nn.hpp"
#include "xgrad/optim/optim.hpp"
#include "xgrad/train/train.hpp"
#include "xgrad/xgrad.hpp"

extern char** environ;

namespace xgrad::train {
namespace {

using xgrad::testing::expect_error;
using xgrad::testing::TempDir;
namespace fs = std::filesystem;

// ---- a small run: dropout (so the RNG matters), Adam, a step schedule, validation --------------

struct Net : nn::Module {
  Net() {
    fc1 = register_module("fc1", nn::Linear(6, 16));
    drop = register_module("drop", nn::Dropout(0.3));
    fc2 = register_module("fc2", nn::Linear(16, 3));
    seen = register_buffer("seen", zeros({}, {.dtype = kInt64}));
  }
  Tensor forward(const Tensor& x) override { return fc2(drop(relu(fc1(x)))); }
  nn::Linear fc1, fc2;
  nn::Dropout drop;
  Tensor seen;
};

data::TensorDataset toy_data() {
  Generator gen(7);
  const Tensor x = randn({192, 6}, gen);
  const Tensor y = argmax(x.narrow(1, 0, 3), 1);  // the class is the largest of the first three inputs
  return data::TensorDataset(x, y);
}

// Trains `epochs` epochs from seed 3, resuming from `resume` when given; returns the history.
History toy_run(Net& net, int64_t epochs, const std::string& checkpoint_path, const std::string& resume) {
  optim::Adam opt(net.parameters(), {.lr = 0.01});
  optim::StepLR schedule(opt, {.step_size = 1, .gamma = 0.5});
  const data::TensorDataset data = toy_data();
  return fit(net, nn::CrossEntropyLoss(), opt, data,
             {.epochs = epochs,
              .batch_size = 16,
              .validation_split = 0.25,
              .callbacks = {std::make_shared<LRSchedulerCallback>(schedule)},
              .seed = 11,
              .verbose = 0,
              .checkpoint_path = checkpoint_path,
              .resume = resume});
}

std::vector<float> flat_weights(const nn::Module& m) {
  std::vector<float> out;
  for (const auto& [name, t] : m.state_dict())
    if (t.dtype() == kFloat32)
      for (float v : t.to_vector<float>()) out.push_back(v);
  return out;
}

// Starts this test program on one worker test with XGRAD_WORKER_DIR=dir; returns its pid.
pid_t spawn_worker(const std::string& test_name, const std::string& dir) {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string filter = "--gtest_filter=CheckpointWorker.DISABLED_" + test_name;
  std::vector<std::string> env_strings{"XGRAD_WORKER_DIR=" + dir};
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("XGRAD_WORKER_DIR=", 0) != 0) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string also = "--gtest_also_run_disabled_tests", brief = "--gtest_brief=1";
  std::vector<char*> argv{const_cast<char*>(self.c_str()), const_cast<char*>(filter.c_str()), also.data(), brief.data(),
                          nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0) ADD_FAILURE() << "spawn";
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char* worker_dir() { return std::getenv("XGRAD_WORKER_DIR"); }

// ---- round trip -------------------------------------------------------------------------------

TEST(Checkpoint, RoundTripsModelOptimizerSchedulerRngAndProgress) {
  TempDir dir;
  manual_seed(5);
  Net a;
  optim::Adam opt_a(a.parameters(), {.lr = 0.1});
  optim::StepLR sched_a(opt_a, {.step_size = 2, .gamma = 0.5});
  const Tensor x = randn({4, 6});
  for (int i = 0; i < 3; ++i) {
    opt_a.zero_grad();
    square(a(x)).mean().backward();
    opt_a.step();
    sched_a.step();
  }
  History history;
  history.append({{"loss", 0.5}, {"accuracy", 0.25}});
  history.append({{"loss", 0.1 + 0.2}, {"accuracy", std::nan("")}});
  save_checkpoint(
      dir.file("run.ckpt"), a, &opt_a, &sched_a,
      {.epoch = 2, .step = 3, .history = history, .numbers = {{"best", 1e-300}}, .texts = {{"note", "a b"}}});
  const double next_random_a = randn({1}).item();

  manual_seed(99);  // some other state, to be overwritten
  Net b;
  optim::Adam opt_b(b.parameters(), {.lr = 0.7});
  optim::StepLR sched_b(opt_b, {.step_size = 2, .gamma = 0.5});
  const Progress p = load_checkpoint(dir.file("run.ckpt"), b, &opt_b, &sched_b);
  EXPECT_EQ(p.epoch, 2);
  EXPECT_EQ(p.step, 3);
  EXPECT_EQ(p.numbers.at("best"), 1e-300);
  EXPECT_EQ(p.texts.at("note"), "a b");
  EXPECT_EQ(p.history.names(), (std::vector<std::string>{"loss", "accuracy"}));
  EXPECT_EQ(p.history["loss"][1], 0.1 + 0.2);  // exact, not rounded to print precision
  EXPECT_TRUE(std::isnan(p.history["accuracy"][1]));
  EXPECT_EQ(flat_weights(a), flat_weights(b));
  EXPECT_EQ(sched_b.last_epoch(), 3);
  EXPECT_EQ(opt_b.param_groups()[0].lr, opt_a.param_groups()[0].lr);
  EXPECT_EQ(randn({1}).item(), next_random_a);  // the RNG continues where it was saved

  // The optimizers continue identically (moments and step counts were restored).
  opt_a.zero_grad();
  square(a.eval()(x)).mean().backward();
  opt_a.step();
  opt_b.zero_grad();
  square(b.eval()(x)).mean().backward();
  opt_b.step();
  EXPECT_EQ(flat_weights(a), flat_weights(b));
}

TEST(Checkpoint, BadFilesAndMismatchesChangeNothing) {
  TempDir dir;
  Net net;
  optim::Adam opt(net.parameters());
  save_checkpoint(dir.file("model_only.ckpt"), net, nullptr, nullptr, {});
  const std::vector<float> before = flat_weights(net);

  expect_error<IOError>([&] { load_checkpoint(dir.file("missing.ckpt"), net); }, {"missing.ckpt"});
  expect_error<IOError>([&] { load_checkpoint(dir.file("model_only.ckpt"), net, &opt); }, {"no optimizer state"});
  // A plain weights file is not a checkpoint.
  io::save_model(net, dir.file("weights.safetensors"));
  expect_error<IOError>([&] { load_checkpoint(dir.file("weights.safetensors"), net); }, {"not an xgrad checkpoint"});
  // Another model: strict names and shapes, nothing loaded.
  nn::Linear other(6, 3);
  expect_error<ValueError>([&] { load_checkpoint(dir.file("model_only.ckpt"), other); }, {"missing key(s)"});
  // An optimizer over other parameters fails after the model loaded: the model is put back.
  Net saved_net;
  optim::Adam saved_opt(saved_net.parameters());
  saved_opt.zero_grad();
  saved_net(ones({1, 6})).sum().backward();
  saved_opt.step();
  save_checkpoint(dir.file("full.ckpt"), saved_net, &saved_opt, nullptr, {});
  optim::Adam partial({net.fc1.weight});
  EXPECT_THROW(load_checkpoint(dir.file("full.ckpt"), net, &partial), Error);
  EXPECT_EQ(flat_weights(net), before);
}

TEST(Checkpoint, CountsMustBeWholeNumbers) {
  TempDir dir;
  nn::Linear layer(2, 2);
  io::CheckpointData data;
  data.model = layer.state_dict();
  data.numbers = {{"epoch", 1.5}, {"step", 0}};
  data.texts = {{"rng/default", default_generator().state()}};
  io::save_checkpoint_file(dir.file("bad.ckpt"), data);
  expect_error<IOError>([&] { load_checkpoint(dir.file("bad.ckpt"), layer); }, {"'epoch'", "whole number"});
  data.numbers = {{"epoch", 1}, {"step", std::nan("")}};
  io::save_checkpoint_file(dir.file("bad.ckpt"), data);
  expect_error<IOError>([&] { load_checkpoint(dir.file("bad.ckpt"), layer); }, {"'step'"});
}

// ---- resume in a fresh process -------------------------------------------------------------------

TEST(CheckpointWorker, DISABLED_TrainTwoEpochs) {
  if (!worker_dir()) GTEST_SKIP() << "a worker: run by Checkpoint.ResumeInAFreshProcessIsBitIdentical";
  manual_seed(3);
  Net net;
  toy_run(net, 2, std::string(worker_dir()) + "/run.ckpt", "");
}

TEST(CheckpointWorker, DISABLED_ResumeForOneMore) {
  if (!worker_dir()) GTEST_SKIP() << "a worker: run by Checkpoint.ResumeInAFreshProcessIsBitIdentical";
  manual_seed(12345);  // whatever: the checkpoint restores the weights and the RNG
  Net net;
  const History h = toy_run(net, 3, "", std::string(worker_dir()) + "/run.ckpt");
  ASSERT_EQ(h.epochs(), 3);
  io::save_model(net, std::string(worker_dir()) + "/resumed.safetensors",
                 {{"loss_epoch3", std::to_string(h["loss"][2])}});
}

TEST(Checkpoint, ResumeInAFreshProcessIsBitIdentical) {
  TempDir dir;
  ASSERT_EQ(wait_exit_code(spawn_worker("TrainTwoEpochs", dir.path().string())), 0);
  ASSERT_TRUE(fs::exists(dir.file("run.ckpt")));
  ASSERT_EQ(wait_exit_code(spawn_worker("ResumeForOneMore", dir.path().string())), 0);

  manual_seed(3);
  Net straight;
  const History h = toy_run(straight, 3, "", "");
  Net resumed;
  const io::SafetensorsFile file = io::load_safetensors(dir.file("resumed.safetensors"));
  resumed.load_state_dict(file.tensors);
  EXPECT_EQ(flat_weights(resumed), flat_weights(straight));  // bit-identical
  EXPECT_EQ(resumed.seen.item(), straight.seen.item());
  EXPECT_EQ(file.metadata.at("loss_epoch3"), std::to_string(h["loss"][2]));
  EXPECT_NE(flat_weights(straight), flat_weights(Net()));  // it did train
}

// ---- a kill in the middle of a save ---------------------------------------------------------------

// A 16 MiB model whose every value is the save's number.
struct Big : nn::Module {
  Big() { w = register_parameter("w", zeros({2048, 2048})); }
  Tensor w;
};

TEST(CheckpointWorker, DISABLED_SaveForever) {
  if (!worker_dir()) GTEST_SKIP() << "a worker: run by Checkpoint.KilledDuringSaveLeavesThePreviousOneIntact";
  Big big;
  for (int k = 2;; ++k) {
    {
      NoGradGuard no_grad;
      big.w.fill_(k);
    }
    save_checkpoint(std::string(worker_dir()) + "/big.ckpt", big, nullptr, nullptr, {.epoch = k});
  }
}

// True when a temporary file of a save in progress holds at least `bytes`.
bool save_in_progress(const fs::path& dir, uintmax_t bytes) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().filename().string().find(".tmp") != std::string::npos && entry.file_size(ec) >= bytes) return true;
  return false;
}

TEST(Checkpoint, KilledDuringSaveLeavesThePreviousOneIntact) {
  TempDir dir;
  Big big;
  {
    NoGradGuard no_grad;
    big.w.fill_(1.0);
  }
  save_checkpoint(dir.file("big.ckpt"), big, nullptr, nullptr, {.epoch = 1});
  int killed_mid_write = 0;
  for (const uintmax_t threshold : {uintmax_t{1} << 16, uintmax_t{6} << 20, uintmax_t{14} << 20}) {
    const pid_t pid = spawn_worker("SaveForever", dir.path().string());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!save_in_progress(dir.path(), threshold) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    killed_mid_write += save_in_progress(dir.path(), 1);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));

    // The checkpoint is whole: it loads, and all its values come from one save.
    Big loaded;
    const Progress p = load_checkpoint(dir.file("big.ckpt"), loaded);
    const std::vector<float> values = loaded.w.to_vector<float>();
    ASSERT_EQ(values.size(), size_t{2048} * 2048);
    EXPECT_EQ(values.front(), static_cast<float>(p.epoch));
    EXPECT_EQ(std::count(values.begin(), values.end(), values.front()), static_cast<ptrdiff_t>(values.size()));
    for (const auto& entry : fs::directory_iterator(dir.path()))  // the killed save's leftover
      if (entry.path().filename().string().find(".tmp") != std::string::npos) fs::remove(entry.path());
  }
  EXPECT_GE(killed_mid_write, 2);  // the kills did land in the middle of writes
  std::printf(
      "[   INFO   ] %d of 3 kills landed in the middle of a save; the previous checkpoint loaded whole "
      "every time\n",
      killed_mid_write);
}

}  // namespace
}  // namespace xgrad::train
