// Upsample and nn::functional::interpolate, over the upsample op of autograd/ops/conv.hpp.
#include "xgrad/nn/upsample.hpp"

#include <cmath>
#include <string>

namespace xgrad::nn {
namespace {

void check(const char* op, const functional::InterpolateFuncOptions& o) {
  if (o.size.has_value() == o.scale_factor.has_value())
    throw ValueError(std::string(op) + (o.size.has_value() ? ": only one of size or scale_factor should be given"
                                                           : ": either size or scale_factor should be given"));
  if (o.size.has_value() && (o.size[0] <= 0 || o.size[1] <= 0))
    throw ValueError(std::string(op) + ": size must be positive, got " + o.size.repr());
  if (o.scale_factor.has_value())
    for (size_t d = 0; d < 2; ++d)
      if (!(o.scale_factor[d] > 0.0) || std::isinf(o.scale_factor[d]))
        throw ValueError(std::string(op) + ": scale_factor must be positive and finite, got " + o.scale_factor.repr());
  if (o.align_corners.has_value() && o.mode == UpsampleMode::Nearest)
    throw ValueError(std::string(op) + ": align_corners can only be set with the interpolating mode bilinear");
}

}  // namespace

namespace functional {

Tensor interpolate(const Tensor& x, const InterpolateFuncOptions& o) {
  check("interpolate", o);
  if (!x.defined()) throw ValueError("interpolate: input is undefined");
  if (x.dim() != 4)
    throw ShapeError("interpolate: expected a 4-d input [N, C, H, W], got shape " + to_string(x.shape()));
  std::optional<std::array<int64_t, 2>> size;
  std::optional<std::array<double, 2>> scale;
  if (o.size.has_value()) size = o.size.values();
  if (o.scale_factor.has_value()) scale = o.scale_factor.values();
  return xgrad::upsample(x, size, scale, o.mode, o.align_corners.value_or(false));
}

}  // namespace functional

Upsample::Upsample(Options options) : options_(options) { check("Upsample", options_); }

Tensor Upsample::forward(const Tensor& x) { return functional::interpolate(x, options_); }

std::string Upsample::extra_repr() const {
  const Options& o = options_;
  const std::string info =
      o.scale_factor.has_value() ? "scale_factor=" + o.scale_factor.repr(true) : "size=" + o.size.repr(true);
  return info + ", mode=" + (o.mode == UpsampleMode::Nearest ? "'nearest'" : "'bilinear'");
}

}  // namespace xgrad::nn
