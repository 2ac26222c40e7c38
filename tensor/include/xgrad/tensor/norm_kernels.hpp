#pragma once
// Value kernels of the normalisation ops (batch, layer and group norm): the statistics in one fused
// pass over memory, and the normalisation (with its optional affine map) in another. Floating
// dtypes only; float32 accumulates in double.
#include <cstdint>

#include "xgrad/tensor/array.hpp"

namespace xgrad::kernels {

// Mean, biased variance and rstd = 1 / sqrt(var + eps), in x's dtype.
struct Moments {
  Array mean;
  Array var;
  Array rstd;
};

// Per channel (dim 1) of x [N, C, ...] over every other dim: each of shape [C] (batch norm).
Moments channel_moments(const Array& x, double eps);
// Per run of `group_size` consecutive elements in row-major order: each of shape
// [x.numel() / group_size] (layer norm's rows, group norm's groups).
Moments group_moments(const Array& x, int64_t group_size, double eps);

// How normalize() sees x: as [outer, channels, inner] in row-major order, with the statistics of
// element (o, c, i) at index (per_outer ? o * groups : 0) + c / (channels / groups).
//   batch norm [N, C, S]:  {N, C, S, C, false}     layer norm [M, D]: {M, D, 1, 1, true}
//   group norm [N, C, S] with G groups:  {N, C, S, G, true}
struct NormLayout {
  int64_t outer = 1;
  int64_t channels = 1;
  int64_t inner = 1;
  int64_t groups = 1;
  bool per_outer = false;
};

// y = (x - mean[s]) * rstd[s] * weight[c] + bias[c], in x's shape and dtype. weight and bias
// ([channels], x's dtype) may be undefined: no scale, no shift.
Array normalize(const Array& x, const NormLayout& layout, const Array& mean, const Array& rstd, const Array& weight,
                const Array& bias);

// The gradients of y = normalize(x, layout, mean, rstd, weight, bias) where mean and rstd are the
// statistics of x itself (training mode), fused into two passes over memory: with xhat the
// normalised x, g = dy * weight and n the elements per statistic,
//   dx = rstd * (g - sum_s(g) / n - xhat * sum_s(g * xhat) / n)
//   dweight[c] = sum(dy * xhat),  dbias[c] = sum(dy)  over everything but channel c.
// Only the requested gradients are computed (the others stay undefined); dweight and dbias have
// shape [channels], dx that of x.
struct NormGrads {
  Array dx;
  Array dweight;
  Array dbias;
};
NormGrads normalize_backward(const Array& dy, const Array& x, const NormLayout& layout, const Array& mean,
                             const Array& rstd, const Array& weight, bool need_dx, bool need_dweight, bool need_dbias);

// running = (1 - momentum) * running + momentum * scale * stat, in place (bumps the version);
// stat converts to running's dtype.
void running_update_(const Array& running, const Array& stat, double momentum, double scale = 1.0);

}  // namespace xgrad::kernels
