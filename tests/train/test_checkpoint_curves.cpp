// model.bin: round trips of every dtype, loading into a model in place, strictness and the errors
// of damaged files. Curves: nice ticks, and an SVG with both panels, legends and dashed validation.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "../dataio/temp_dir.hpp"
#include "xgrad/nn/nn.hpp"
#include "xgrad/train/checkpoint.hpp"
#include "xgrad/train/curves.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::train {
namespace {

using xgrad::testing::message_of;
using xgrad::testing::read_bytes;
using xgrad::testing::TempDir;
using xgrad::testing::write_bytes;

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(SaveTensors, RoundTripsEveryDtypeAndShape) {
  TempDir dir;
  const NamedTensors saved = {{"w", tensor({{1.5f, -2.0f}, {3.0f, 4.25f}})},
                              {"b", tensor({1e-300, 2.0})},
                              {"steps", tensor({7, 8, 9})},
                              {"mask", tensor<bool>({true, false})},
                              {"scalar", scalar_tensor(3.0)}};
  save_tensors(saved, dir.file("t.bin"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("t.bin.tmp")));
  const NamedTensors loaded = load_tensors(dir.file("t.bin"));
  ASSERT_EQ(loaded.size(), saved.size());
  for (size_t i = 0; i < saved.size(); ++i) {
    EXPECT_EQ(loaded[i].first, saved[i].first);
    EXPECT_EQ(loaded[i].second.dtype(), saved[i].second.dtype());
    EXPECT_EQ(loaded[i].second.shape(), saved[i].second.shape());
    EXPECT_EQ(loaded[i].second.to_vector<double>(), saved[i].second.to_vector<double>());
  }
}

TEST(LoadParameters, CopiesIntoTheModelInPlace) {
  TempDir dir;
  manual_seed(1);
  nn::Sequential a({nn::Linear({.in = 3, .out = 2}), nn::ReLU(), nn::Linear({.in = 2, .out = 1})});
  nn::Sequential b({nn::Linear({.in = 3, .out = 2}), nn::ReLU(), nn::Linear({.in = 2, .out = 1})});
  save_parameters(a, dir.file("model.bin"));
  const Tensor handle = b.parameters()[0];
  ASSERT_NE(handle.to_vector<float>(), a.parameters()[0].to_vector<float>());
  load_parameters(b, dir.file("model.bin"));
  EXPECT_TRUE(handle.is_same(b.parameters()[0]));  // same tensor, new values
  for (size_t i = 0; i < a.parameters().size(); ++i)
    EXPECT_EQ(b.parameters()[i].to_vector<float>(), a.parameters()[i].to_vector<float>());
  EXPECT_TRUE(b.parameters()[0].requires_grad());
}

TEST(LoadParameters, StrictNamesAndShapes) {
  TempDir dir;
  nn::Sequential small({nn::Linear({.in = 3, .out = 2})});
  nn::Sequential big({nn::Linear({.in = 3, .out = 2}), nn::Linear({.in = 2, .out = 1})});
  nn::Sequential wide({nn::Linear({.in = 4, .out = 2})});
  save_parameters(small, dir.file("small.bin"));
  save_parameters(big, dir.file("big.bin"));
  std::string message = message_of<IOError>([&] { load_parameters(big, dir.file("small.bin")); });
  EXPECT_NE(message.find("missing from the file: 1.weight, 1.bias"), std::string::npos) << message;
  message = message_of<IOError>([&] { load_parameters(small, dir.file("big.bin")); });
  EXPECT_NE(message.find("not in the model: 1.bias, 1.weight"), std::string::npos) << message;
  const std::vector<float> before = big.parameters()[2].to_vector<float>();
  load_parameters(big, dir.file("small.bin"), /*strict=*/false);  // loads what matches
  EXPECT_EQ(big.parameters()[0].to_vector<float>(), small.parameters()[0].to_vector<float>());
  EXPECT_EQ(big.parameters()[2].to_vector<float>(), before);
  message = message_of<IOError>([&] { load_parameters(wide, dir.file("small.bin")); });
  EXPECT_NE(message.find("'0.weight' is saved as float32 [2, 3] but the model has float32 [2, 4]"), std::string::npos)
      << message;
}

TEST(LoadParameters, DamagedFiles) {
  TempDir dir;
  nn::Linear layer({.in = 4, .out = 3});
  EXPECT_NE(message_of<IOError>([&] { load_parameters(layer, dir.file("none.bin")); }).find("no such file"),
            std::string::npos);
  write_bytes(dir.file("text.bin"), {'h', 'e', 'l', 'l', 'o', '!', '!', '!', 1, 0, 0, 0});
  EXPECT_NE(message_of<IOError>([&] { load_parameters(layer, dir.file("text.bin")); }).find("bad magic"),
            std::string::npos);
  save_parameters(layer, dir.file("model.bin"));
  auto bytes = read_bytes(dir.file("model.bin"));
  auto cut = bytes;
  cut.resize(bytes.size() - 5);
  write_bytes(dir.file("cut.bin"), cut);
  const std::string message = message_of<IOError>([&] { load_parameters(layer, dir.file("cut.bin")); });
  EXPECT_NE(message.find(dir.file("cut.bin") + ": truncated file (while reading the values of 'bias')"),
            std::string::npos)
      << message;
  bytes.push_back(0);
  write_bytes(dir.file("long.bin"), bytes);
  EXPECT_THROW(load_parameters(layer, dir.file("long.bin")), IOError);
  EXPECT_THROW(save_parameters(layer, dir.file("no/such/dir/model.bin")), IOError);
}

TEST(NiceTicks, StepsOfOneTwoOrFive) {
  EXPECT_EQ(nice_ticks(0, 1, 5), std::vector<double>({0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  const auto t = nice_ticks(0.23, 0.91, 5);
  EXPECT_NEAR(t.front(), 0.2, 1e-12);
  EXPECT_NEAR(t.back(), 1.0, 1e-12);
  EXPECT_NEAR(t[1] - t[0], 0.1, 1e-12);  // a range of 0.68 in about 5 steps: 0.136 rounds to 0.1
  const auto big = nice_ticks(1, 20, 6);
  EXPECT_EQ(big, std::vector<double>({0, 5, 10, 15, 20}));
  const auto flat = nice_ticks(3, 3);  // a flat range still gets an axis
  EXPECT_EQ(flat.front(), 3.0);
  EXPECT_NEAR(flat.back(), 4.0, 1e-12);
  EXPECT_THROW(nice_ticks(2, 1), ValueError);
  EXPECT_THROW(nice_ticks(0, INFINITY), ValueError);
}

History sample_history() {
  History h;
  for (int e = 0; e < 5; ++e)
    h.append({{"loss", 1.0 / (e + 1)},
              {"accuracy", 0.5 + 0.08 * e},
              {"val_loss", 1.2 / (e + 1)},
              {"val_accuracy", 0.45 + 0.08 * e}});
  return h;
}

TEST(CurvesSvg, TwoPanelsWithLegendsAndDashedValidation) {
  const std::string svg = curves_svg(sample_history(), {.title = "A & B"});
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"920\" height=\"350\""), std::string::npos);
  EXPECT_NE(svg.find(">A &amp; B</text>"), std::string::npos);
  EXPECT_NE(svg.find(">Loss</text>"), std::string::npos);
  EXPECT_NE(svg.find(">Accuracy</text>"), std::string::npos);
  EXPECT_EQ(count_of(svg, "<polyline"), 4u);
  EXPECT_EQ(count_of(svg, "stroke-dasharray"), 4u);  // two validation curves and their legend lines
  EXPECT_EQ(count_of(svg, ">training</text>"), 2u);
  EXPECT_EQ(count_of(svg, ">validation</text>"), 2u);
  EXPECT_EQ(count_of(svg, "<circle"), 20u);
  EXPECT_EQ(count_of(svg, ">epoch</text>"), 2u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
}

TEST(CurvesSvg, LossOnlyAndGaps) {
  History h;
  h.append({{"loss", 2.0}});
  h.append({{"loss", NAN}});
  h.append({{"loss", 1.0}});
  h.append({{"loss", 0.5}});
  const std::string svg = curves_svg(h);
  EXPECT_NE(svg.find("width=\"460\""), std::string::npos);
  EXPECT_EQ(svg.find(">Accuracy</text>"), std::string::npos);
  EXPECT_EQ(count_of(svg, "<polyline"), 2u);  // the NaN splits the curve
  EXPECT_EQ(count_of(svg, "<circle"), 3u);
}

TEST(CurvesSvg, ErrorsAndFile) {
  EXPECT_THROW(curves_svg(History()), ValueError);
  History no_loss;
  no_loss.append({{"accuracy", 0.5}});
  EXPECT_THROW(curves_svg(no_loss), ValueError);
  TempDir dir;
  write_curves_svg(sample_history(), dir.file("curves.svg"));
  const auto bytes = read_bytes(dir.file("curves.svg"));
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), curves_svg(sample_history()));
  EXPECT_THROW(write_curves_svg(sample_history(), dir.file("no/such/dir/c.svg")), IOError);
}

}  // namespace
}  // namespace xgrad::train
