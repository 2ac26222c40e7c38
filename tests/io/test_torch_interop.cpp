// Weights move between PyTorch and xgrad unchanged. tests/data/make_torch_fixture.py (Debian's
// python3-torch) wrote torch_net.safetensors, the state dict of a small conv + batch-norm network,
// and torch_net_io.safetensors, an input with PyTorch's outputs; the same network built with xgrad
// loads the weights and reproduces the outputs. The other direction: xgrad writes its weights and
// outputs, and the script (when PyTorch is installed) loads them into PyTorch and checks.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "../dataio/temp_dir.hpp"
#include "../support/expect.hpp"
#include "xgrad/io/io.hpp"
#include "xgrad/io/model_io.hpp"
#include "xgrad/nn/nn.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::io {
namespace {

const std::string kData = XGRAD_TEST_DATA_DIR;

// The Net of make_torch_fixture.py, with the same attribute names.
struct Net : nn::Module {
  Net() {
    conv = register_module("conv", nn::Conv2d({.in_channels = 1, .out_channels = 4, .kernel_size = 3, .padding = 1}));
    bn = register_module("bn", nn::BatchNorm2d(4));
    fc1 = register_module("fc1", nn::Linear(4 * 3 * 3, 8));
    bn1 = register_module("bn1", nn::BatchNorm1d(8));
    fc2 = register_module("fc2", nn::Linear(8, 3));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = max_pool2d(relu(bn(conv(x))), {.kernel_size = {2, 2}});
    h = relu(bn1(fc1(h.flatten(1))));
    return fc2(h);
  }
  nn::Conv2d conv;
  nn::BatchNorm2d bn;
  nn::Linear fc1, fc2;
  nn::BatchNorm1d bn1;
};

double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  return (a.to(kFloat64) - b.to(kFloat64)).abs().max().item();
}

TEST(TorchInterop, PyTorchWeightsReproducePyTorchOutputs) {
  Net net;
  const nn::LoadStateDictResult result = load_model(net, kData + "/torch_net.safetensors");  // strict
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(net.state_dict().size(), 16u);  // conv 2, bn 5, fc1 2, bn1 5, fc2 2: all present
  const SafetensorsFile file = load_safetensors(kData + "/torch_net.safetensors");
  EXPECT_NE(file.metadata.at("producer").find("PyTorch"), std::string::npos);
  // The buffers came across too (three training steps in PyTorch).
  const auto state = net.state_dict();
  for (const auto& [name, t] : state)
    if (name == "bn.num_batches_tracked") {
      EXPECT_EQ(t.dtype(), kInt64);
      EXPECT_EQ(t.item(), 3.0);
    }

  const SafetensorsFile io = load_safetensors(kData + "/torch_net_io.safetensors");
  std::map<std::string, Tensor> values(io.tensors.begin(), io.tensors.end());
  const Tensor x = values.at("input");
  NoGradGuard no_grad;
  net.eval();
  EXPECT_LT(max_abs_diff(net(x), values.at("eval_output")), 1e-5);
  net.train();  // batch statistics
  EXPECT_LT(max_abs_diff(net(x), values.at("train_output")), 1e-5);
}

// Writes xgrad's weights and outputs where make_torch_fixture.py --check reads them.
void export_net(const std::string& dir) {
  manual_seed(21);
  Net net;
  optim::SGD opt(net.parameters(), {.lr = 0.1});
  for (int step = 0; step < 2; ++step) {  // non-default running statistics
    opt.zero_grad();
    nn::functional::cross_entropy(net(randn({5, 1, 6, 6})), tensor({0, 1, 2, 1, 0})).backward();
    opt.step();
  }
  const Tensor x = randn({2, 1, 6, 6});
  NoGradGuard no_grad;
  net.eval();
  const Tensor eval_out = net(x);
  Net copy;
  copy.load_state_dict(net.state_dict());
  copy.train();
  const Tensor train_out = copy(x);
  save_model(net, dir + "/xgrad_net.safetensors", {{"producer", "xgrad"}});
  save_safetensors(dir + "/xgrad_net_io.safetensors",
                   {{"input", x}, {"eval_output", eval_out}, {"train_output", train_out}});
}

TEST(TorchInterop, XgradWeightsReloadAndPyTorchReproducesXgradOutputs) {
  testing::TempDir temp;
  const char* keep = std::getenv("XGRAD_EXPORT_DIR");  // set it to keep the files for the script
  const std::string dir = keep ? keep : temp.path().string();
  export_net(dir);
  Net reloaded;
  EXPECT_TRUE(load_model(reloaded, dir + "/xgrad_net.safetensors").ok());

  // With PyTorch at hand (Debian's python3-torch), the script checks PyTorch's outputs too.
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3-torch is not installed: the PyTorch side of the check did not run";
  const std::string command =
      "/usr/bin/python3 " + kData + "/make_torch_fixture.py --check " + dir + " > " + dir + "/check.txt 2>&1";
  const int status = std::system(command.c_str());
  std::string report;
  if (std::FILE* f = std::fopen((dir + "/check.txt").c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, f)) report += buf;
    std::fclose(f);
  }
  EXPECT_EQ(status, 0) << report;
  EXPECT_NE(report.find("OK: PyTorch reproduces xgrad's outputs"), std::string::npos) << report;
}

}  // namespace
}  // namespace xgrad::io
