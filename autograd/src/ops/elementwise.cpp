// Differentiable elementwise ops. Each computes its forward with one kernel (or a short chain of
// kernels) and records a node whose backward is written in xgrad ops, so second order works.
// Factors that are piecewise constant in the input (relu's mask, sign(x) in abs, clamp's window,
// maximum's selector) enter the backward as constants: their derivative is zero almost everywhere.
// Broadcast gradients go back through sum_to, mixed-dtype gradients through to().
#include "xgrad/autograd/ops/elementwise.hpp"

#include <cmath>
#include <limits>
#include <numbers>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/node.hpp"
#include "xgrad/autograd/ops/reduce.hpp"
#include "xgrad/autograd/ops/shape.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad {
namespace {

using kernels::Binary;
using kernels::Unary;

// A value that takes no part in the graph.
Tensor constant(Array a) { return Tensor(std::move(a)); }

// The gradient for input i: a broadcast summed back to its shape, in its dtype.
Tensor to_input(const Tensor& g, const Backward& c, size_t i) {
  Tensor r = sum_to(g, c.input_shape(i));
  return r.dtype() == c.input_dtype(i) ? r : to(r, c.input_dtype(i));
}

// For a backward linear in dy with a factor constant in the inputs (relu, clamp): whether it must
// build a graph (create_graph and dy requires grad); when not, a fused kernel can stand in for ops.
bool builds_graph(const Tensor& g) { return is_grad_enabled() && g.requires_grad(); }

// g * mask, the mask (bool) taken as a constant of g's dtype.
Tensor times_mask(const Tensor& g, const Array& mask) { return g * constant(mask.to(g.dtype())); }

bool is_integral_value(double v) { return std::isfinite(v) && v == std::floor(v); }

// A temporary nothing else can see (`a * b` in `a * b + c`): this handle is its only one, and no
// view, saved value or leaf shares its buffer. An op consuming it may write its result there when
// the result has its shape and dtype: the same values, one stream of memory traffic fewer than a
// fresh buffer (which the CPU must first read into its cache before writing it).
bool reusable_temporary(const Tensor& t, const Shape& shape, DType dtype) {
  if (!t.defined() || t.impl().use_count() != 1 || t.shape() != shape || t.dtype() != dtype) return false;
  const Array& value = t.array();
  return value.storage().use_count() == 1 && value.is_contiguous() && !(t.requires_grad() && t.is_leaf());
}

// a op b (add or sub; b may broadcast), into a's buffer when `a_is_temporary` allows it.
Array additive_value(Binary op, const Tensor& a, const Tensor& b, bool a_is_temporary) {
  const auto b_fits = [&] {
    return a.shape() == b.shape() ||
           (b.dim() <= a.dim() && broadcast_shapes(kernels::name(op), a.shape(), b.shape()) == a.shape());
  };
  if (a_is_temporary && reusable_temporary(a, a.shape(), promote(a.dtype(), b.dtype())) && b_fits()) {
    kernels::binary_(op, a.array(), b.array());
    return a.array();
  }
  return kernels::binary(op, a.array(), b.array());
}

// The dtype a tensor computes in with a Python-like scalar: floating tensors keep theirs; integer
// and bool tensors become int64 with an integral scalar and float32 with a fractional one (as PyTorch).
DType with_scalar(DType t, double s) {
  if (is_floating(t)) return t;
  return is_integral_value(s) ? kInt64 : kFloat32;
}

// The operand of a scalar op: the tensor's array, converted only when with_scalar says so.
const Array& scalar_operand(const Tensor& a, double s, Array& converted) {
  const DType t = with_scalar(a.dtype(), s);
  return t == a.dtype() ? a.array() : (converted = a.array().to(t));
}

// Phi(x), the standard normal CDF, for the exact gelu's backward. It records under "gelu" (the op
// it serves; ops.def has no erf).    y = (1 + erf(x / sqrt2)) / 2    dx = dy * phi(x)
Tensor normal_pdf(const Tensor& x) {
  return exp(square(x) * -0.5) * (0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
}
Tensor normal_cdf(const Tensor& x) {
  Array v = kernels::unary(Unary::Erf, kernels::binary_scalar(Binary::Mul, x.array(), 0.5 * std::numbers::sqrt2));
  v = kernels::binary_scalar(Binary::Mul, kernels::binary_scalar(Binary::Add, v, 1.0), 0.5);
  return record("gelu", std::move(v), {x}, Save::Inputs,
                [](const Backward& c) -> Grads { return {c.grad * normal_pdf(c.input(0))}; });
}

// dy * w, the share of maximum's (or minimum's) gradient that goes to a: w = 1 where a wins, 1/2 on
// a tie, 0 where b wins.    maximum: w = (1 + sign(a - b)) / 2    minimum: w = (1 - sign(a - b)) / 2
Tensor select_gradient(const Backward& c, bool maximum) {
  const Array s = kernels::unary(Unary::Sign, kernels::binary(Binary::Sub, c.input(0).array(), c.input(1).array()));
  const Array w = kernels::binary_scalar(
      Binary::Mul, kernels::binary_scalar(maximum ? Binary::Add : Binary::Sub, s, 1.0), maximum ? 0.5 : -0.5);
  return c.grad * constant(w.dtype() == c.grad.dtype() ? w : w.to(c.grad.dtype()));
}

constexpr double kGeluK0 = 0.79788456080286535588;  // sqrt(2 / pi)
constexpr double kGeluK1 = 0.044715;

}  // namespace

// ---- unary ------------------------------------------------------------------------------------

// y = -x    dx = -dy
Tensor neg(const Tensor& x) {
  return record("neg", kernels::unary(Unary::Neg, x.array()), {x}, Save::Nothing,
                [](const Backward& c) -> Grads { return {neg(c.grad)}; });
}

// y = |x|    dx = dy * sign(x)
Tensor abs(const Tensor& x) {
  return record("abs", kernels::unary(Unary::Abs, x.array()), {x}, Save::Inputs, [](const Backward& c) -> Grads {
    return {c.grad * constant(kernels::unary(Unary::Sign, c.input(0).array()))};
  });
}

// y = sign(x)    dx = 0
Tensor sign(const Tensor& x) {
  return record("sign", kernels::unary(Unary::Sign, x.array()), {x}, Save::Nothing, [](const Backward& c) -> Grads {
    return {constant(kernels::full(c.input_shape(0), 0.0, c.input_dtype(0)))};
  });
}

// y = e^x    dx = dy * y
Tensor exp(const Tensor& x) {
  return record("exp", kernels::unary(Unary::Exp, x.array()), {x}, Save::Output,
                [](const Backward& c) -> Grads { return {c.grad * c.output()}; });
}

// y = ln x    dx = dy / x
Tensor log(const Tensor& x) {
  return record("log", kernels::unary(Unary::Log, x.array()), {x}, Save::Inputs,
                [](const Backward& c) -> Grads { return {c.grad / c.input(0)}; });
}

// y = ln(1 + x)    dx = dy / (1 + x)
Tensor log1p(const Tensor& x) {
  return record("log1p", kernels::unary(Unary::Log1p, x.array()), {x}, Save::Inputs,
                [](const Backward& c) -> Grads { return {c.grad / (c.input(0) + 1.0)}; });
}

// y = sqrt(x)    dx = dy / (2 y)
Tensor sqrt(const Tensor& x) {
  return record("sqrt", kernels::unary(Unary::Sqrt, x.array()), {x}, Save::Output,
                [](const Backward& c) -> Grads { return {c.grad / (c.output() * 2.0)}; });
}

// y = x^(-1/2)    dx = -dy * y^3 / 2
Tensor rsqrt(const Tensor& x) {
  return record("rsqrt", kernels::unary(Unary::Rsqrt, x.array()), {x}, Save::Output,
                [](const Backward& c) -> Grads { return {c.grad * pow(c.output(), 3.0) * -0.5}; });
}

// y = sin x    dx = dy * cos x
Tensor sin(const Tensor& x) {
  return record("sin", kernels::unary(Unary::Sin, x.array()), {x}, Save::Inputs,
                [](const Backward& c) -> Grads { return {c.grad * cos(c.input(0))}; });
}

// y = cos x    dx = -dy * sin x
Tensor cos(const Tensor& x) {
  return record("cos", kernels::unary(Unary::Cos, x.array()), {x}, Save::Inputs,
                [](const Backward& c) -> Grads { return {neg(c.grad * sin(c.input(0)))}; });
}

// y = tanh x    dx = dy * (1 - y^2)
Tensor tanh(const Tensor& x) {
  return record("tanh", kernels::unary(Unary::Tanh, x.array()), {x}, Save::Output, [](const Backward& c) -> Grads {
    const Tensor y = c.output();
    if (!is_grad_enabled()) {  // no graph to build (y depends on x): g - g y y in three passes, two buffers
      Array gyy = kernels::binary(Binary::Mul, c.grad.array(), y.array());
      kernels::binary_(Binary::Mul, gyy, y.array());
      return {constant(kernels::binary(Binary::Sub, c.grad.array(), gyy))};
    }
    return {c.grad * (1.0 - y * y)};
  });
}

// y = 1 / (1 + e^-x)    dx = dy * y * (1 - y)
Tensor sigmoid(const Tensor& x) {
  return record("sigmoid", kernels::unary(Unary::Sigmoid, x.array()), {x}, Save::Output,
                [](const Backward& c) -> Grads {
                  const Tensor y = c.output();
                  if (!is_grad_enabled()) {  // no graph to build: g y - g y y in three passes, two buffers
                    Array gy = kernels::binary(Binary::Mul, c.grad.array(), y.array());
                    kernels::binary_(Binary::Sub, gy, kernels::binary(Binary::Mul, gy, y.array()));
                    return {constant(std::move(gy))};
                  }
                  return {c.grad * (y * (1.0 - y))};
                });
}

// y = max(x, 0)    dx = dy * (y > 0)
static Tensor relu(const Tensor& x, bool x_is_temporary) {
  Array y;
  if (x_is_temporary && x.is_floating_point() && reusable_temporary(x, x.shape(), x.dtype())) {
    kernels::unary_(Unary::Relu, x.array());
    y = x.array();
  } else {
    y = kernels::unary(Unary::Relu, x.array());
  }
  return record("relu", std::move(y), {x}, Save::Output, [](const Backward& c) -> Grads {
    const Tensor out = c.output();
    if (builds_graph(c.grad)) return {times_mask(c.grad, kernels::binary_scalar(Binary::Gt, out.array(), 0.0))};
    return {constant(kernels::mul_mask(c.grad.array(), out.array(), Binary::Gt, 0.0))};  // one fused pass
  });
}
Tensor relu(const Tensor& x) { return relu(x, false); }
Tensor relu(Tensor&& x) {
  const Tensor input = std::move(x);
  return relu(input, true);
}

// y = x > 0 ? x : slope * x    dx = x > 0 ? dy : slope * dy
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return record(
      "leaky_relu", kernels::leaky_relu(x.array(), negative_slope), {x}, Save::Inputs,
      [negative_slope](const Backward& c) -> Grads {
        const Tensor xi = c.input(0);
        const DType t = c.grad.dtype();
        return {c.grad * constant(kernels::where(kernels::binary_scalar(Binary::Gt, xi.array(), 0.0),
                                                 kernels::full({}, 1.0, t), kernels::full({}, negative_slope, t)))};
      });
}

// y = x > 0 ? x : alpha (e^x - 1)    dx = x > 0 ? dy : dy * (y + alpha)
Tensor elu(const Tensor& x, double alpha) {
  return record("elu", kernels::elu(x.array(), alpha), {x}, Save::InputsAndOutput, [alpha](const Backward& c) -> Grads {
    const Tensor positive = constant(kernels::binary_scalar(Binary::Gt, c.input(0).array(), 0.0));
    return {where(positive, c.grad, c.grad * (c.output() + alpha))};
  });
}

// exact:  y = x Phi(x)    dx = dy * (Phi(x) + x phi(x))
// tanh:   y = x (1 + tanh u) / 2, u = k0 (x + k1 x^3)
//         dx = dy * ((1 + t) / 2 + x (1 - t^2) k0 (1 + 3 k1 x^2) / 2), t = tanh u
Tensor gelu(const Tensor& x, GeluApproximate approximate) {
  if (approximate == GeluApproximate::Tanh)
    return record("gelu", kernels::unary(Unary::GeluTanh, x.array()), {x}, Save::Inputs,
                  [](const Backward& c) -> Grads {
                    const Tensor xi = c.input(0);
                    const Tensor x2 = square(xi);
                    const Tensor t = tanh((xi + x2 * xi * kGeluK1) * kGeluK0);
                    const Tensor du = (x2 * (3 * kGeluK1) + 1.0) * kGeluK0;
                    return {c.grad * ((t + 1.0) * 0.5 + xi * (1.0 - t * t) * du * 0.5)};
                  });
  return record("gelu", kernels::unary(Unary::Gelu, x.array()), {x}, Save::Inputs, [](const Backward& c) -> Grads {
    const Tensor xi = c.input(0);
    return {c.grad * (normal_cdf(xi) + xi * normal_pdf(xi))};
  });
}

// y = x s(x), s = sigmoid    dx = dy * s (1 + x (1 - s))
Tensor silu(const Tensor& x) {
  return record("silu", kernels::unary(Unary::Silu, x.array()), {x}, Save::Inputs, [](const Backward& c) -> Grads {
    const Tensor xi = c.input(0);
    const Tensor s = sigmoid(xi);
    return {c.grad * (s * (xi * (1.0 - s) + 1.0))};
  });
}

// y = ln(1 + e^(beta x)) / beta, or x where beta x > threshold
// dx = beta x > threshold ? dy : dy * sigmoid(beta x)
Tensor softplus(const Tensor& x, double beta, double threshold) {
  Array y;
  if (beta == 1.0 && threshold == 20.0) {
    y = kernels::unary(Unary::Softplus, x.array());  // PyTorch's defaults are the kernel's
  } else {
    const Array bx = kernels::binary_scalar(Binary::Mul, x.array(), beta);
    y = kernels::binary_scalar(Binary::Div, kernels::unary(Unary::Softplus, bx), beta);
    y = kernels::where(kernels::binary_scalar(Binary::Gt, bx, threshold), x.array(), y);
  }
  return record("softplus", std::move(y), {x}, Save::Inputs, [beta, threshold](const Backward& c) -> Grads {
    const Tensor bx = c.input(0) * beta;
    const Tensor linear = constant(kernels::binary_scalar(Binary::Gt, bx.array(), threshold));
    return {where(linear, c.grad, c.grad * sigmoid(bx))};
  });
}

// y = x^2    dx = 2 x dy
Tensor square(const Tensor& x) {
  return record("square", kernels::unary(Unary::Square, x.array()), {x}, Save::Inputs,
                [](const Backward& c) -> Grads { return {c.grad * (c.input(0) * 2.0)}; });
}

// y = 1 / x    dx = -dy * y^2
Tensor reciprocal(const Tensor& x) {
  return record("reciprocal", kernels::unary(Unary::Reciprocal, x.array()), {x}, Save::Output,
                [](const Backward& c) -> Grads { return {neg(c.grad * square(c.output()))}; });
}

// y = min(max(x, lo), hi)    dx = dy * (lo <= x <= hi)
Tensor clamp(const Tensor& x, double min, double max) {
  const bool open_low = std::isinf(min) && min < 0;
  const bool open_high = std::isinf(max) && max > 0;
  Array converted;
  const bool fractional = (!open_low && !is_integral_value(min)) || (!open_high && !is_integral_value(max));
  const Array& xa = !is_floating(x.dtype()) && fractional ? (converted = x.array().to(kFloat32)) : x.array();
  return record("clamp", kernels::clamp(xa, min, max), {x}, Save::Inputs,
                [min, max, open_low, open_high](const Backward& c) -> Grads {
                  const Array xi = c.input(0).array();
                  if (!builds_graph(c.grad) && (open_low || open_high))  // one side: one fused pass
                    return {constant(open_high ? kernels::mul_mask(c.grad.array(), xi, Binary::Ge, min)
                                               : kernels::mul_mask(c.grad.array(), xi, Binary::Le, max))};
                  Array inside;
                  if (!open_low) inside = kernels::binary_scalar(Binary::Ge, xi, min);
                  if (!open_high) {
                    Array below = kernels::binary_scalar(Binary::Le, xi, max);
                    inside = inside.defined() ? kernels::binary(Binary::LogicalAnd, inside, below) : std::move(below);
                  }
                  return {inside.defined() ? times_mask(c.grad, inside) : c.grad};
                });
}

Tensor clamp_min(const Tensor& x, double min) { return clamp(x, min, std::numeric_limits<double>::infinity()); }
Tensor clamp_max(const Tensor& x, double max) { return clamp(x, -std::numeric_limits<double>::infinity(), max); }

// y = x^e    dx = dy * e * x^(e-1)
Tensor pow(const Tensor& x, double exponent) {
  return record("pow_scalar", kernels::pow_scalar(x.array(), exponent), {x}, Save::Inputs,
                [exponent](const Backward& c) -> Grads {
                  if (exponent == 0) return {constant(kernels::full(c.input_shape(0), 0.0, c.input_dtype(0)))};
                  if (exponent == 1) return {c.grad};
                  if (exponent == 2) return {c.grad * (c.input(0) * 2.0)};
                  return {c.grad * (pow(c.input(0), exponent - 1) * exponent)};
                });
}

// ---- binary -----------------------------------------------------------------------------------

// y = a + b (broadcast)    da = sum_to(dy, a.shape)    db = sum_to(dy, b.shape)
static Tensor add(const Tensor& a, const Tensor& b, bool a_is_temporary) {
  Array y = additive_value(Binary::Add, a, b, a_is_temporary);  // before record copies the handle of a
  return record("add", std::move(y), {a, b}, Save::Nothing, [](const Backward& c) -> Grads {
    return {c.needs(0) ? to_input(c.grad, c, 0) : Tensor{}, c.needs(1) ? to_input(c.grad, c, 1) : Tensor{}};
  });
}
Tensor add(const Tensor& a, const Tensor& b) { return add(a, b, false); }
Tensor add(Tensor&& a, const Tensor& b) {
  const Tensor input = std::move(a);  // the caller's temporary lets go, so the buffer has one owner
  return add(input, b, true);
}

// y = a - b (broadcast)    da = sum_to(dy, a.shape)    db = -sum_to(dy, b.shape)
static Tensor sub(const Tensor& a, const Tensor& b, bool a_is_temporary) {
  Array y = additive_value(Binary::Sub, a, b, a_is_temporary);  // before record copies the handle of a
  return record("sub", std::move(y), {a, b}, Save::Nothing, [](const Backward& c) -> Grads {
    return {c.needs(0) ? to_input(c.grad, c, 0) : Tensor{}, c.needs(1) ? neg(to_input(c.grad, c, 1)) : Tensor{}};
  });
}
Tensor sub(const Tensor& a, const Tensor& b) { return sub(a, b, false); }
Tensor sub(Tensor&& a, const Tensor& b) {
  const Tensor input = std::move(a);
  return sub(input, b, true);
}

// y = a * b (broadcast)    da = sum_to(dy * b, a.shape)    db = sum_to(dy * a, b.shape)
Tensor mul(const Tensor& a, const Tensor& b) {
  return record("mul", kernels::binary(Binary::Mul, a.array(), b.array()), {a, b}, Save::Inputs,
                [](const Backward& c) -> Grads {
                  // Without a graph to build, both gradients of a same-shape product in one pass.
                  Array da, db;
                  if (c.needs(0) && c.needs(1) && !is_grad_enabled() &&
                      kernels::mul_backward(c.grad.array(), c.input(0).array(), c.input(1).array(), da, db))
                    return {constant(std::move(da)), constant(std::move(db))};
                  return {c.needs(0) ? to_input(c.grad * c.input(1), c, 0) : Tensor{},
                          c.needs(1) ? to_input(c.grad * c.input(0), c, 1) : Tensor{}};
                });
}

// y = a / b (broadcast)    da = sum_to(dy / b, a.shape)    db = -sum_to(dy a / b^2, b.shape)
Tensor div(const Tensor& a, const Tensor& b) {
  return record("div", kernels::binary(Binary::Div, a.array(), b.array()), {a, b}, Save::Inputs,
                [](const Backward& c) -> Grads {
                  const Tensor bi = c.input(1);
                  const Tensor g = c.grad / bi;
                  return {c.needs(0) ? to_input(g, c, 0) : Tensor{},
                          c.needs(1) ? to_input(neg(g * c.input(0) / bi), c, 1) : Tensor{}};
                });
}

// y = a^b (broadcast)    da = sum_to(dy b a^(b-1), a.shape)    db = sum_to(dy y ln a, b.shape), 0 where a = 0, b >= 0
Tensor pow(const Tensor& a, const Tensor& b) {
  return record("pow", kernels::binary(Binary::Pow, a.array(), b.array()), {a, b}, Save::InputsAndOutput,
                [](const Backward& c) -> Grads {
                  const Tensor ai = c.input(0), bi = c.input(1);
                  Tensor da, db;
                  if (c.needs(0)) da = to_input(c.grad * bi * pow(ai, bi - 1.0), c, 0);
                  if (c.needs(1)) {
                    // As PyTorch: 0^b has derivative 0 in b for b >= 0 (not 0 * -inf).
                    const Tensor zero_base = constant(
                        kernels::binary(Binary::LogicalAnd, kernels::binary_scalar(Binary::Eq, ai.array(), 0.0),
                                        kernels::binary_scalar(Binary::Ge, bi.array(), 0.0)));
                    db = to_input(masked_fill(c.grad * c.output() * log(ai), zero_base, 0.0), c, 1);
                  }
                  return {da, db};
                });
}

// y = max(a, b)    da = sum_to(dy w, a.shape)    db = sum_to(dy (1 - w), b.shape), w = [a > b] + [a = b] / 2
Tensor maximum(const Tensor& a, const Tensor& b) {
  return record(
      "maximum", kernels::binary(Binary::Maximum, a.array(), b.array()), {a, b}, Save::Inputs,
      [](const Backward& c) -> Grads {
        const Tensor ga = select_gradient(c, true);
        return {c.needs(0) ? to_input(ga, c, 0) : Tensor{}, c.needs(1) ? to_input(c.grad - ga, c, 1) : Tensor{}};
      });
}

// y = min(a, b)    da = sum_to(dy w, a.shape)    db = sum_to(dy (1 - w), b.shape), w = [a < b] + [a = b] / 2
Tensor minimum(const Tensor& a, const Tensor& b) {
  return record(
      "minimum", kernels::binary(Binary::Minimum, a.array(), b.array()), {a, b}, Save::Inputs,
      [](const Backward& c) -> Grads {
        const Tensor ga = select_gradient(c, false);
        return {c.needs(0) ? to_input(ga, c, 0) : Tensor{}, c.needs(1) ? to_input(c.grad - ga, c, 1) : Tensor{}};
      });
}

// ---- with a scalar (no tensor made for it) ------------------------------------------------------

// y = a + s    da = dy
Tensor add(const Tensor& a, double b) {
  Array converted;
  return record("add", kernels::binary_scalar(Binary::Add, scalar_operand(a, b, converted), b), {a}, Save::Nothing,
                [](const Backward& c) -> Grads { return {c.grad}; });
}

// y = a - s    da = dy
Tensor sub(const Tensor& a, double b) {
  Array converted;
  return record("sub", kernels::binary_scalar(Binary::Sub, scalar_operand(a, b, converted), b), {a}, Save::Nothing,
                [](const Backward& c) -> Grads { return {c.grad}; });
}

// y = a * s    da = dy * s
Tensor mul(const Tensor& a, double b) {
  Array converted;
  return record("mul", kernels::binary_scalar(Binary::Mul, scalar_operand(a, b, converted), b), {a}, Save::Nothing,
                [b](const Backward& c) -> Grads { return {c.grad * b}; });
}

// y = a / s    da = dy / s
Tensor div(const Tensor& a, double b) {
  Array converted;
  return record("div", kernels::binary_scalar(Binary::Div, scalar_operand(a, b, converted), b), {a}, Save::Nothing,
                [b](const Backward& c) -> Grads { return {c.grad / b}; });
}

Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator+(Tensor&& a, const Tensor& b) { return add(std::move(a), b); }
Tensor operator-(Tensor&& a, const Tensor& b) { return sub(std::move(a), b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double b) { return add(a, b); }
Tensor operator-(const Tensor& a, double b) { return sub(a, b); }
Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
Tensor operator/(const Tensor& a, double b) { return div(a, b); }
Tensor operator+(double a, const Tensor& b) { return add(b, a); }
Tensor operator*(double a, const Tensor& b) { return mul(b, a); }

// y = s - b    db = -dy
Tensor operator-(double a, const Tensor& b) {
  const Array s = kernels::full({}, a, with_scalar(b.dtype(), a));  // one element, read as a scalar by the kernel
  return record("sub", kernels::binary(Binary::Sub, s, b.array()), {b}, Save::Nothing,
                [](const Backward& c) -> Grads { return {neg(c.grad)}; });
}

// y = s / b    db = -dy * s / b^2
Tensor operator/(double a, const Tensor& b) {
  const Array s = kernels::full({}, a, with_scalar(b.dtype(), a));
  return record("div", kernels::binary(Binary::Div, s, b.array()), {b}, Save::Inputs,
                [a](const Backward& c) -> Grads { return {c.grad / square(c.input(0)) * -a}; });
}

// ---- comparisons and logic: values only, no node ---------------------------------------------

Tensor eq(const Tensor& a, const Tensor& b) { return constant(kernels::binary(Binary::Eq, a.array(), b.array())); }
Tensor ne(const Tensor& a, const Tensor& b) { return constant(kernels::binary(Binary::Ne, a.array(), b.array())); }
Tensor lt(const Tensor& a, const Tensor& b) { return constant(kernels::binary(Binary::Lt, a.array(), b.array())); }
Tensor le(const Tensor& a, const Tensor& b) { return constant(kernels::binary(Binary::Le, a.array(), b.array())); }
Tensor gt(const Tensor& a, const Tensor& b) { return constant(kernels::binary(Binary::Gt, a.array(), b.array())); }
Tensor ge(const Tensor& a, const Tensor& b) { return constant(kernels::binary(Binary::Ge, a.array(), b.array())); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, double b) { return constant(kernels::binary_scalar(Binary::Eq, a.array(), b)); }
Tensor operator!=(const Tensor& a, double b) { return constant(kernels::binary_scalar(Binary::Ne, a.array(), b)); }
Tensor operator<(const Tensor& a, double b) { return constant(kernels::binary_scalar(Binary::Lt, a.array(), b)); }
Tensor operator<=(const Tensor& a, double b) { return constant(kernels::binary_scalar(Binary::Le, a.array(), b)); }
Tensor operator>(const Tensor& a, double b) { return constant(kernels::binary_scalar(Binary::Gt, a.array(), b)); }
Tensor operator>=(const Tensor& a, double b) { return constant(kernels::binary_scalar(Binary::Ge, a.array(), b)); }
Tensor logical_and(const Tensor& a, const Tensor& b) {
  return constant(kernels::binary(Binary::LogicalAnd, a.array(), b.array()));
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return constant(kernels::binary(Binary::LogicalOr, a.array(), b.array()));
}
Tensor logical_xor(const Tensor& a, const Tensor& b) {
  return constant(kernels::binary(Binary::LogicalXor, a.array(), b.array()));
}
Tensor logical_not(const Tensor& x) { return constant(kernels::unary(Unary::LogicalNot, x.array())); }

// ---- selection ----------------------------------------------------------------------------------

// y = cond ? a : b (broadcast)    da = sum_to(cond ? dy : 0, a.shape)    db = sum_to(cond ? 0 : dy, b.shape)
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  return record("where", kernels::where(condition.array(), a.array(), b.array()), {a, b}, Save::Nothing,
                [cond = condition.array()](const Backward& c) -> Grads {
                  const Tensor m = constant(cond);
                  return {c.needs(0) ? to_input(masked_fill(c.grad, logical_not(m), 0.0), c, 0) : Tensor{},
                          c.needs(1) ? to_input(masked_fill(c.grad, m, 0.0), c, 1) : Tensor{}};
                });
}

// y = mask ? v : x (broadcast)    dx = sum_to(mask ? 0 : dy, x.shape)
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  return record("masked_fill", kernels::masked_fill(x.array(), mask.array(), value), {x}, Save::Nothing,
                [m = mask.array()](const Backward& c) -> Grads {
                  return {to_input(masked_fill(c.grad, constant(m), 0.0), c, 0)};
                });
}

}  // namespace xgrad
