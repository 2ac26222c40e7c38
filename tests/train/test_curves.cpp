// Curves: nice ticks, and an SVG with both panels, legends and dashed validation.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "../dataio/temp_dir.hpp"
#include "xgrad/train/curves.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::train {
namespace {

using xgrad::testing::read_bytes;
using xgrad::testing::TempDir;

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
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
