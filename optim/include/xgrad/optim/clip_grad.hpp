#pragma once
// Gradient clipping, in place on the parameters' .grad (parameters without a gradient are skipped).
#include <limits>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xgrad::optim {

// Scales all gradients by max_norm / (total + 1e-6) when the total norm (the norm_type-norm of all
// gradients seen as one vector; infinity for the largest magnitude) exceeds max_norm. Returns the
// total norm before clipping. With error_if_nonfinite, a NaN or infinite total throws ValueError.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);
// Clamps every gradient element to [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

inline constexpr double kInfNorm = std::numeric_limits<double>::infinity();

}  // namespace xgrad::optim
