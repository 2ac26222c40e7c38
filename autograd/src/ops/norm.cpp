// Normalisation ops. Each checks its inputs, computes the statistics in one fused pass
// (kernels::channel_moments / group_moments) and normalises in another (kernels::normalize), then
// records one node over {x, weight, bias}. In training the backward is the closed-form gradient
// through the statistics: with xhat = (x - mean) * rstd reduced over dims R and g = dy * weight,
//   dx = rstd * (g - mean_R(g) - xhat * mean_R(g * xhat))
// written in xgrad ops, which recompute the statistics from x so that second derivatives see how
// they depend on x. A first-order backward (nothing records, so no graph can see the difference)
// takes the same formula fused into two passes (kernels::normalize_backward) from the statistics
// the forward saved: several times faster than a dozen separate ops with permuted reductions.
#include "xgrad/autograd/ops/norm.hpp"

#include <algorithm>
#include <string>
#include <string_view>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/node.hpp"
#include "xgrad/autograd/ops/elementwise.hpp"
#include "xgrad/autograd/ops/reduce.hpp"
#include "xgrad/autograd/ops/shape.hpp"
#include "xgrad/tensor/kernels.hpp"
#include "xgrad/tensor/norm_kernels.hpp"

namespace xgrad {
namespace {

// How an op normalises x: the kernels' layout; the view of x in which the statistics reduce `dims`
// (kept as size 1 in `stat_shape`); the shape in which weight and bias broadcast against x.
struct Geometry {
  kernels::NormLayout layout;
  Shape view;
  Dims dims;
  Shape stat_shape;
  Shape affine_shape;
};

Tensor as_shape(const Tensor& t, const Shape& shape) { return t.shape() == shape ? t : reshape(t, shape); }

std::string shape_note(const Tensor& x) { return " (input shape " + to_string(x.shape()) + ")"; }

void check_input(std::string_view op, const Tensor& x) {
  if (!x.defined()) throw ValueError(std::string(op) + ": input is undefined");
  if (!x.is_floating_point())
    throw DTypeError(std::string(op) + ": expected a floating input (float32 or float64), got " +
                     std::string(dtype_name(x.dtype())) + shape_note(x));
}

void check_eps(std::string_view op, double eps) {
  if (!(eps >= 0.0)) throw ValueError(std::string(op) + ": eps must be non-negative, got " + std::to_string(eps));
}

// An optional per-channel (or per-element) tensor of shape `expected`: affine parameters must have
// x's dtype, running statistics any floating dtype.
void check_param(std::string_view op, const char* what, const Tensor& p, const Shape& expected, const Tensor& x,
                 bool affine) {
  if (!p.defined()) return;
  if (p.shape() != expected)
    throw ShapeError(std::string(op) + ": " + what + " of shape " + to_string(p.shape()) +
                     " does not match input of shape " + to_string(x.shape()) + " (expected " + to_string(expected) +
                     ")");
  if (affine ? p.dtype() != x.dtype() : !p.is_floating_point())
    throw DTypeError(std::string(op) + ": " + what + " has dtype " + std::string(dtype_name(p.dtype())) +
                     ", input has dtype " + std::string(dtype_name(x.dtype())));
}

// xhat = (x - mean) * rstd and rstd in the view, recomputed from x in xgrad ops (a recorded backward).
struct Normalised {
  Tensor xhat;
  Tensor rstd;
};
Normalised normalised(const Tensor& x, const Geometry& geo, double eps) {
  const Tensor xv = as_shape(x, geo.view);
  const Tensor rstd = rsqrt(var(xv, geo.dims, 0, true) + eps);
  return {(xv - mean(xv, geo.dims, true)) * rstd, rstd};
}

// The gradients of weight and bias, common to every mode: dw = sum_to(dy * xhat), db = sum_to(dy).
Tensor affine_grad(const Backward& c, size_t i, const Tensor& dy_times, const Geometry& geo) {
  return c.needs(i) ? as_shape(sum_to(dy_times, geo.affine_shape), c.input_shape(i)) : Tensor{};
}

// y = xhat * w + b with xhat = (x - mean_R(x)) * rstd, rstd = 1 / sqrt(var_R(x) + eps)
// dx = rstd * (g - mean_R(g) - xhat * mean_R(g * xhat)), g = dy * w    dw = sum_to(dy * xhat)    db = sum_to(dy)
Tensor record_normalisation(std::string_view name, Array y, const Tensor& x, const Tensor& weight, const Tensor& bias,
                            Geometry geo, Array mean_k, Array rstd_k, double eps) {
  return record(
      name, std::move(y), {x, weight, bias}, Save::Inputs,
      [geo = std::move(geo), mean_k = std::move(mean_k), rstd_k = std::move(rstd_k), eps,
       has_weight = weight.defined()](const Backward& c) -> Grads {
        if (!is_grad_enabled()) {  // first order: the fused kernel from the saved statistics
          const Tensor saved = c.input(0);
          kernels::NormGrads k = kernels::normalize_backward(
              c.grad.array().to(saved.dtype()), saved.array(), geo.layout, mean_k, rstd_k,
              has_weight ? c.input(1).array() : Array(), c.needs(0), c.needs(1), c.needs(2));
          auto grad_of = [&c](Array& a, size_t i) { return c.needs(i) ? Tensor(a.view(c.input_shape(i))) : Tensor{}; };
          return {grad_of(k.dx, 0), grad_of(k.dweight, 1), grad_of(k.dbias, 2)};
        }
        const Tensor db = affine_grad(c, 2, c.grad, geo);
        if (!c.needs(0) && !c.needs(1)) return {Tensor{}, Tensor{}, db};
        const Shape& xs = c.input_shape(0);
        const Normalised n = normalised(c.input(0), geo, eps);
        const Tensor dw = affine_grad(c, 1, c.grad * as_shape(n.xhat, xs), geo);
        if (!c.needs(0)) return {Tensor{}, dw, db};
        const Tensor g = as_shape(has_weight ? c.grad * as_shape(c.input(1), geo.affine_shape) : c.grad, geo.view);
        const Tensor dxv = n.rstd * (g - mean(g, geo.dims, true) - n.xhat * mean(g * n.xhat, geo.dims, true));
        return {as_shape(dxv, xs), dw, db};
      });
}

// x [N, C, ...] with one statistic per channel.
Geometry channel_geometry(const Tensor& x) {
  const int64_t c = x.size(1);
  Geometry geo;
  int64_t inner = 1;
  for (int64_t d = 2; d < x.dim(); ++d) inner *= x.size(d);
  geo.layout = {x.size(0), c, inner, c, false};
  geo.view = x.shape();
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d != 1) geo.dims.push_back(d);
  geo.stat_shape = Shape(static_cast<size_t>(x.dim()), 1);
  geo.stat_shape[1] = c;
  geo.affine_shape = Shape(static_cast<size_t>(x.dim() - 1), 1);
  geo.affine_shape[0] = c;
  return geo;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  check_input("batch_norm", x);
  if (x.dim() < 2)
    throw ShapeError("batch_norm: expected an input of at least 2 dims [N, C, ...], got shape " + to_string(x.shape()));
  const Shape channels{x.size(1)};
  check_param("batch_norm", "weight", weight, channels, x, true);
  check_param("batch_norm", "bias", bias, channels, x, true);
  check_param("batch_norm", "running_mean", running_mean, channels, x, false);
  check_param("batch_norm", "running_var", running_var, channels, x, false);
  check_eps("batch_norm", eps);
  if (running_mean.defined() != running_var.defined())
    throw ValueError("batch_norm: running_mean and running_var must be both defined or both undefined");
  if (!training && !running_mean.defined())
    throw ValueError("batch_norm: evaluation (training = false) needs running_mean and running_var" + shape_note(x));
  Geometry geo = channel_geometry(x);
  const int64_t count = geo.layout.outer * geo.layout.inner;
  if (training && count <= 1)
    throw ValueError("batch_norm: expected more than 1 value per channel when training" + shape_note(x));

  if (training) {
    kernels::Moments m = kernels::channel_moments(x.array(), eps);
    if (running_mean.defined()) {
      NoGradGuard no_grad;  // the running statistics are state, not part of the graph
      const double n = static_cast<double>(count);
      kernels::running_update_(running_mean.array(), m.mean, momentum);
      kernels::running_update_(running_var.array(), m.var, momentum, n / (n - 1.0));
    }
    Array y = kernels::normalize(x.array(), geo.layout, m.mean, m.rstd, weight.defined() ? weight.array() : Array(),
                                 bias.defined() ? bias.array() : Array());
    return record_normalisation("batch_norm", std::move(y), x, weight, bias, std::move(geo), std::move(m.mean),
                                std::move(m.rstd), eps);
  }

  // Evaluation: the running statistics are constants.
  // y = (x - rm) * rstd * w + b, rstd = 1 / sqrt(rv + eps)    dx = dy * w * rstd    dw = sum_to(dy * xhat)    db =
  // sum_to(dy)
  Array mean_k = running_mean.array().to(x.dtype()).contiguous();
  Array rstd_k = kernels::unary(kernels::Unary::Rsqrt,
                                kernels::binary_scalar(kernels::Binary::Add, running_var.array().to(x.dtype()), eps));
  Array y = kernels::normalize(x.array(), geo.layout, mean_k, rstd_k, weight.defined() ? weight.array() : Array(),
                               bias.defined() ? bias.array() : Array());
  return record("batch_norm", std::move(y), {x, weight, bias}, Save::Inputs,
                [geo = std::move(geo), mean_k = std::move(mean_k), rstd_k = std::move(rstd_k),
                 has_weight = weight.defined()](const Backward& c) -> Grads {
                  const Tensor db = affine_grad(c, 2, c.grad, geo);
                  const Tensor rstd(rstd_k.view(geo.stat_shape));
                  Tensor dw;
                  if (c.needs(1)) {
                    const Tensor xhat = (c.input(0) - Tensor(mean_k.view(geo.stat_shape))) * rstd;
                    dw = affine_grad(c, 1, c.grad * xhat, geo);
                  }
                  if (!c.needs(0)) return {Tensor{}, dw, db};
                  const Tensor scale = has_weight ? rstd * as_shape(c.input(1), geo.affine_shape) : rstd;
                  return {c.grad * scale, dw, db};
                });
}

Tensor layer_norm(const Tensor& x, const std::vector<int64_t>& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  check_input("layer_norm", x);
  const Shape ns(normalized_shape.begin(), normalized_shape.end());
  if (ns.empty()) throw ValueError("layer_norm: normalized_shape must have at least one dim" + shape_note(x));
  const int64_t k = static_cast<int64_t>(ns.size());
  if (x.dim() < k || !std::equal(ns.begin(), ns.end(), x.shape().end() - k))
    throw ShapeError("layer_norm: input of shape " + to_string(x.shape()) + " does not end in normalized_shape " +
                     to_string(ns));
  const int64_t d = numel(ns);
  if (d == 0) throw ValueError("layer_norm: normalized_shape " + to_string(ns) + " has no elements");
  check_param("layer_norm", "weight", weight, ns, x, true);
  check_param("layer_norm", "bias", bias, ns, x, true);
  check_eps("layer_norm", eps);

  const int64_t rows = x.numel() / d;
  Geometry geo{{rows, d, 1, 1, true}, {rows, d}, {1}, {rows, 1}, ns};
  kernels::Moments m = kernels::group_moments(x.array(), d, eps);
  Array y = kernels::normalize(x.array(), geo.layout, m.mean, m.rstd, weight.defined() ? weight.array() : Array(),
                               bias.defined() ? bias.array() : Array());
  return record_normalisation("layer_norm", std::move(y), x, weight, bias, std::move(geo), std::move(m.mean),
                              std::move(m.rstd), eps);
}

Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias, double eps) {
  check_input("group_norm", x);
  if (x.dim() < 2)
    throw ShapeError("group_norm: expected an input of at least 2 dims [N, C, ...], got shape " + to_string(x.shape()));
  if (groups <= 0) throw ValueError("group_norm: groups must be positive, got " + std::to_string(groups));
  const int64_t c = x.size(1);
  if (c % groups != 0)
    throw ShapeError("group_norm: the " + std::to_string(c) + " channels of input shape " + to_string(x.shape()) +
                     " do not divide into " + std::to_string(groups) + " groups");
  check_param("group_norm", "weight", weight, {c}, x, true);
  check_param("group_norm", "bias", bias, {c}, x, true);
  check_eps("group_norm", eps);

  Geometry geo = channel_geometry(x);
  const int64_t n = x.size(0);
  const int64_t group_size = c / groups * geo.layout.inner;
  geo.layout.groups = groups;
  geo.layout.per_outer = true;
  geo.view = {n, groups, group_size};
  geo.dims = {2};
  geo.stat_shape = {n, groups, 1};
  if (x.numel() == 0) {  // nothing to normalise (group_moments needs a positive group size)
    Array empty_stats({n * groups}, x.dtype());
    return record_normalisation("group_norm", Array(x.shape(), x.dtype()), x, weight, bias, std::move(geo), empty_stats,
                                empty_stats, eps);
  }
  kernels::Moments m = kernels::group_moments(x.array(), group_size, eps);
  Array y = kernels::normalize(x.array(), geo.layout, m.mean, m.rstd, weight.defined() ? weight.array() : Array(),
                               bias.defined() ? bias.array() : Array());
  return record_normalisation("group_norm", std::move(y), x, weight, bias, std::move(geo), std::move(m.mean),
                              std::move(m.rstd), eps);
}

}  // namespace xgrad
