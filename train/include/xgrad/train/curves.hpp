#pragma once
// Learning curves as a self-contained SVG: a loss panel (loss, val_loss) and, when recorded, an
// accuracy panel (accuracy, val_accuracy), each with axes, ticks, grid lines and a legend.
// Training curves are solid, validation curves dashed.
#include <string>
#include <vector>

#include "xgrad/train/history.hpp"

namespace xgrad::train {

struct CurvesOptions {
  std::string title = "";  // drawn above the panels when not empty
  int panel_width = 460;
  int panel_height = 320;
};

// The SVG text. ValueError when the history has no epochs or no "loss".
std::string curves_svg(const History& history, const CurvesOptions& options = {});
// Writes curves_svg to `path`; IOError when it cannot be written.
void write_curves_svg(const History& history, const std::string& path, const CurvesOptions& options = {});

// "Nice" axis ticks (steps of 1, 2 or 5 times a power of ten) covering [low, high], about `count`.
std::vector<double> nice_ticks(double low, double high, int count = 5);

}  // namespace xgrad::train
