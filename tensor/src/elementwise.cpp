// Elementwise kernels: unary math on xsimd batches, binary ops with NumPy broadcasting and
// dtype promotion, where / masked_fill, and the anomaly check. Every kernel has a straight
// contiguous loop (the common case, and the one that must cost next to nothing on 16 elements)
// and falls back to detail::for_each_run for strided and broadcast operands.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "elementwise_loops.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::kernels {
namespace {

using detail::map1;
using detail::simd_map;

std::string_view unary_name(Unary op) {
  switch (op) {
    case Unary::Neg: return "neg";
    case Unary::Abs: return "abs";
    case Unary::Sign: return "sign";
    case Unary::Exp: return "exp";
    case Unary::Log: return "log";
    case Unary::Log1p: return "log1p";
    case Unary::Sqrt: return "sqrt";
    case Unary::Rsqrt: return "rsqrt";
    case Unary::Sin: return "sin";
    case Unary::Cos: return "cos";
    case Unary::Tanh: return "tanh";
    case Unary::Sigmoid: return "sigmoid";
    case Unary::Relu: return "relu";
    case Unary::Gelu: return "gelu";
    case Unary::GeluTanh: return "gelu";
    case Unary::Silu: return "silu";
    case Unary::Softplus: return "softplus";
    case Unary::Reciprocal: return "reciprocal";
    case Unary::Square: return "square";
    case Unary::LogicalNot: return "logical_not";
    case Unary::Floor: return "floor";
    case Unary::Ceil: return "ceil";
    case Unary::Round: return "round";
    case Unary::Erf: return "erf";
  }
  return "unary";
}

[[noreturn]] void throw_not_floating(std::string_view op, DType t) {
  throw DTypeError(std::string(op) + ": expected a floating dtype (float32 or float64), got " +
                   std::string(dtype_name(t)));
}

// Runs a floating op as f(batch) over a fresh contiguous result. A strided input is first copied
// into the result, which the op then overwrites in place: one buffer, one extra pass.
// Or over x itself when `in_place` (x contiguous).
template <typename T, typename F> Array map_floating(const Array& x, bool in_place, F f) {
  if (in_place) {
    simd_map<T>(x.data<T>(), x.data<T>(), x.numel(), f);
    return x;
  }
  const bool contiguous = x.is_contiguous();
  Array out = contiguous ? Array(x.shape(), x.dtype()) : x.clone();
  const T* src = contiguous ? x.data<T>() : out.data<T>();
  simd_map<T>(src, out.data<T>(), out.numel(), f);
  return out;
}

template <typename T, typename F> Array map_floating(const Array& x, F f) { return map_floating<T>(x, false, f); }

// The floating unary ops, written once for xsimd batches of float and double.
template <typename T> Array unary_floating(Unary op, const Array& x, bool in_place) {
  using B = xsimd::batch<T>;
  switch (op) {
    case Unary::Neg: return map_floating<T>(x, in_place, [](B v) { return -v; });
    case Unary::Abs: return map_floating<T>(x, in_place, [](B v) { return xsimd::abs(v); });
    case Unary::Sign:  // 0 stays 0 (with its sign), NaN stays NaN
      return map_floating<T>(x, in_place,
                             [](B v) { return xsimd::select(v > B(0), B(1), xsimd::select(v < B(0), B(-1), v)); });
    case Unary::Exp: return map_floating<T>(x, in_place, [](B v) { return xsimd::exp(v); });
    case Unary::Log: return map_floating<T>(x, in_place, [](B v) { return xsimd::log(v); });
    case Unary::Log1p: return map_floating<T>(x, in_place, [](B v) { return xsimd::log1p(v); });
    case Unary::Sqrt: return map_floating<T>(x, in_place, [](B v) { return xsimd::sqrt(v); });
    case Unary::Rsqrt: return map_floating<T>(x, in_place, [](B v) { return B(1) / xsimd::sqrt(v); });
    case Unary::Sin: return map_floating<T>(x, in_place, [](B v) { return xsimd::sin(v); });
    case Unary::Cos: return map_floating<T>(x, in_place, [](B v) { return xsimd::cos(v); });
    case Unary::Tanh: return map_floating<T>(x, in_place, [](B v) { return xsimd::tanh(v); });
    case Unary::Sigmoid:  // exp(-v) overflows to inf for very negative v, giving exactly 0
      return map_floating<T>(x, in_place, [](B v) { return B(1) / (B(1) + xsimd::exp(-v)); });
    case Unary::Relu:  // NaN < 0 is false, so NaN propagates as in PyTorch
      return map_floating<T>(x, in_place, [](B v) { return xsimd::select(v < B(0), B(0), v); });
    case Unary::Gelu:
      return map_floating<T>(x, in_place,
                             [](B v) { return B(0.5) * v * (B(1) + xsimd::erf(v * B(T(0.70710678118654752440)))); });
    case Unary::GeluTanh:
      return map_floating<T>(x, in_place, [](B v) {
        const B inner = B(T(0.79788456080286535588)) * (v + B(T(0.044715)) * v * v * v);
        return B(0.5) * v * (B(1) + xsimd::tanh(inner));
      });
    case Unary::Silu: return map_floating<T>(x, in_place, [](B v) { return v / (B(1) + xsimd::exp(-v)); });
    case Unary::Softplus:  // PyTorch's default beta = 1, threshold = 20: linear above the threshold
      return map_floating<T>(x, in_place, [](B v) { return xsimd::select(v > B(20), v, xsimd::log1p(xsimd::exp(v))); });
    case Unary::Reciprocal: return map_floating<T>(x, in_place, [](B v) { return B(1) / v; });
    case Unary::Square: return map_floating<T>(x, in_place, [](B v) { return v * v; });
    case Unary::Floor: return map_floating<T>(x, in_place, [](B v) { return xsimd::floor(v); });
    case Unary::Ceil: return map_floating<T>(x, in_place, [](B v) { return xsimd::ceil(v); });
    case Unary::Round: return map_floating<T>(x, in_place, [](B v) { return xsimd::nearbyint(v); });  // half to even
    case Unary::Erf: return map_floating<T>(x, in_place, [](B v) { return xsimd::erf(v); });
    case Unary::LogicalNot: break;  // handled by the caller for every dtype
  }
  throw ValueError("unary: unknown op");
}

// The subset defined on int64: sign-like ops and the rounding ones (which copy).
Array unary_int64(Unary op, const Array& x) {
  using T = int64_t;
  switch (op) {
    case Unary::Neg: return map1<T, T>(x, kInt64, [](T v) { return -v; });
    case Unary::Abs: return map1<T, T>(x, kInt64, [](T v) { return v < 0 ? -v : v; });
    case Unary::Sign: return map1<T, T>(x, kInt64, [](T v) { return static_cast<T>((v > 0) - (v < 0)); });
    case Unary::Relu: return map1<T, T>(x, kInt64, [](T v) { return v < 0 ? T{0} : v; });
    case Unary::Square: return map1<T, T>(x, kInt64, [](T v) { return v * v; });
    case Unary::Floor:
    case Unary::Ceil:
    case Unary::Round: return x.clone();
    default: throw_not_floating(unary_name(op), kInt64);
  }
}

// Integer power by squaring; a negative exponent truncates toward zero like C division.
int64_t ipow(int64_t base, int64_t e) {
  if (e < 0) return base == 1 ? 1 : base == -1 ? (e % 2 ? -1 : 1) : 0;
  int64_t r = 1;
  while (e) {
    if (e & 1) r *= base;
    base *= base;
    e >>= 1;
  }
  return r;
}

bool is_integral_value(double v) { return std::isfinite(v) && v == std::floor(v) && std::abs(v) < 9.2e18; }

bool is_comparison(Binary op) { return op >= Binary::Eq && op <= Binary::Ge; }
bool is_logical(Binary op) { return op >= Binary::LogicalAnd; }

// The scalar function of a binary op on compute type T, result type R.
template <typename T> T apply_max(T x, T y) {
  if constexpr (std::is_floating_point_v<T>)
    return (x != x || x > y) ? x : y;  // NaN propagates
  else
    return x > y ? x : y;
}
template <typename T> T apply_min(T x, T y) {
  if constexpr (std::is_floating_point_v<T>)
    return (x != x || x < y) ? x : y;
  else
    return x < y ? x : y;
}
template <typename T> T apply_pow(T x, T y) {
  if constexpr (std::is_floating_point_v<T>)
    return std::pow(x, y);
  else
    return static_cast<T>(ipow(static_cast<int64_t>(x), static_cast<int64_t>(y)));
}

// Calls `run(functor, result_dtype_tag)` with the functor of `op` on T; bool-valued ops give R = bool.
template <typename T, typename Run> void with_binary_fn(Binary op, Run&& run) {
  switch (op) {
    case Binary::Add: return run.template operator()<T>([](T x, T y) { return static_cast<T>(x + y); });
    case Binary::Sub: return run.template operator()<T>([](T x, T y) { return static_cast<T>(x - y); });
    case Binary::Mul: return run.template operator()<T>([](T x, T y) { return static_cast<T>(x * y); });
    case Binary::Div:
      if constexpr (std::is_floating_point_v<T>) return run.template operator()<T>([](T x, T y) { return x / y; });
      break;
    case Binary::Pow: return run.template operator()<T>([](T x, T y) { return apply_pow<T>(x, y); });
    case Binary::Maximum: return run.template operator()<T>([](T x, T y) { return apply_max<T>(x, y); });
    case Binary::Minimum: return run.template operator()<T>([](T x, T y) { return apply_min<T>(x, y); });
    case Binary::Eq: return run.template operator()<bool>([](T x, T y) { return x == y; });
    case Binary::Ne: return run.template operator()<bool>([](T x, T y) { return x != y; });
    case Binary::Lt: return run.template operator()<bool>([](T x, T y) { return x < y; });
    case Binary::Le: return run.template operator()<bool>([](T x, T y) { return x <= y; });
    case Binary::Gt: return run.template operator()<bool>([](T x, T y) { return x > y; });
    case Binary::Ge: return run.template operator()<bool>([](T x, T y) { return x >= y; });
    case Binary::LogicalAnd: return run.template operator()<bool>([](T x, T y) { return x != T{} && y != T{}; });
    case Binary::LogicalOr: return run.template operator()<bool>([](T x, T y) { return x != T{} || y != T{}; });
    case Binary::LogicalXor: return run.template operator()<bool>([](T x, T y) { return (x != T{}) != (y != T{}); });
  }
  throw ValueError("binary: op " + std::string(name(op)) + " is not defined on " + std::string(dtype_name(dtype_v<T>)));
}

// The dtype arithmetic happens in: promoted, floating for true division; comparisons and logic
// compare in the promoted type too. Throws for ops the dtype does not support.
DType compute_dtype(Binary op, DType a, DType b) {
  const DType t = promote(a, b);
  if (op == Binary::Div && !is_floating(t)) return kFloat32;
  if (t == kBool && (op == Binary::Sub || op == Binary::Pow))
    throw DTypeError(std::string(name(op)) + ": not supported on bool tensors" +
                     (op == Binary::Sub ? ", use logical_xor" : ""));
  return t;
}

DType result_dtype(Binary op, DType compute) { return is_comparison(op) || is_logical(op) ? kBool : compute; }

}  // namespace

std::string_view name(Binary op) {
  switch (op) {
    case Binary::Add: return "add";
    case Binary::Sub: return "sub";
    case Binary::Mul: return "mul";
    case Binary::Div: return "div";
    case Binary::Pow: return "pow";
    case Binary::Maximum: return "maximum";
    case Binary::Minimum: return "minimum";
    case Binary::Eq: return "eq";
    case Binary::Ne: return "ne";
    case Binary::Lt: return "lt";
    case Binary::Le: return "le";
    case Binary::Gt: return "gt";
    case Binary::Ge: return "ge";
    case Binary::LogicalAnd: return "logical_and";
    case Binary::LogicalOr: return "logical_or";
    case Binary::LogicalXor: return "logical_xor";
  }
  return "binary";
}

// ---- unary ----------------------------------------------------------------------------------

Array unary(Unary op, const Array& x) {
  if (op == Unary::LogicalNot)
    return dispatch(x.dtype(), [&]<typename T>() { return map1<T, bool>(x, kBool, [](T v) { return v == T{}; }); });
  switch (x.dtype()) {
    case DType::Float32: return unary_floating<float>(op, x, false);
    case DType::Float64: return unary_floating<double>(op, x, false);
    case DType::Int64: return unary_int64(op, x);
    case DType::Bool: break;
  }
  throw DTypeError(std::string(unary_name(op)) + ": not supported on bool tensors");
}

void unary_(Unary op, const Array& x) {
  if (!is_floating(x.dtype()) || !x.is_contiguous() || op == Unary::LogicalNot)
    throw ValueError(std::string(unary_name(op)) + "_: in place needs a contiguous floating array, got " +
                     std::string(dtype_name(x.dtype())) + (x.is_contiguous() ? "" : " (strided)"));
  if (x.dtype() == kFloat32)
    unary_floating<float>(op, x, true);
  else
    unary_floating<double>(op, x, true);
  x.bump_version();
}

Array leaky_relu(const Array& x, double slope) {
  return dispatch_floating("leaky_relu", x.dtype(), [&]<typename T>() {
    using B = xsimd::batch<T>;
    const B s(static_cast<T>(slope));
    return map_floating<T>(x, [s](B v) { return xsimd::select(v < B(0), v * s, v); });
  });
}

Array elu(const Array& x, double alpha) {
  return dispatch_floating("elu", x.dtype(), [&]<typename T>() {
    using B = xsimd::batch<T>;
    const B a(static_cast<T>(alpha));
    return map_floating<T>(x, [a](B v) { return xsimd::select(v > B(0), v, a * xsimd::expm1(v)); });
  });
}

Array clamp(const Array& x, double low, double high) {
  if (std::isnan(low) || std::isnan(high)) throw ValueError("clamp: bounds must not be NaN");
  if (x.dtype() == kInt64) {
    // The integers within [low, high]; an infinite bound leaves that side open.
    constexpr double kMax = 9.2e18;
    const int64_t lo = low <= -kMax ? std::numeric_limits<int64_t>::min() : static_cast<int64_t>(std::ceil(low));
    const int64_t hi = high >= kMax ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(std::floor(high));
    return map1<int64_t, int64_t>(x, kInt64, [lo, hi](int64_t v) {
      const int64_t t = v < lo ? lo : v;
      return t > hi ? hi : t;
    });
  }
  return dispatch_floating("clamp", x.dtype(), [&]<typename T>() {
    using B = xsimd::batch<T>;
    const B lo(static_cast<T>(low)), hi(static_cast<T>(high));
    // max then min as PyTorch (low > high gives high everywhere); NaN compares false and stays.
    return map_floating<T>(x, [lo, hi](B v) {
      const B t = xsimd::select(v < lo, lo, v);
      return xsimd::select(t > hi, hi, t);
    });
  });
}

Array pow_scalar(const Array& x, double e) {
  if (x.dtype() == kBool) throw DTypeError("pow: not supported on bool tensors");
  if (x.dtype() == kInt64) {
    if (!is_integral_value(e)) return pow_scalar(x.to(kFloat32), e);
    if (e < 0) throw ValueError("pow: integers to negative integer powers are not allowed");
    const auto k = static_cast<int64_t>(e);
    return map1<int64_t, int64_t>(x, kInt64, [k](int64_t v) { return ipow(v, k); });
  }
  return dispatch_floating("pow", x.dtype(), [&]<typename T>() {
    using B = xsimd::batch<T>;
    // The common exponents get exact, cheap forms.
    if (e == 1) return x.clone();
    if (e == 2) return map_floating<T>(x, [](B v) { return v * v; });
    if (e == 3) return map_floating<T>(x, [](B v) { return v * v * v; });
    if (e == 0.5) return map_floating<T>(x, [](B v) { return xsimd::sqrt(v); });
    if (e == -1) return map_floating<T>(x, [](B v) { return B(1) / v; });
    if (e == -0.5) return map_floating<T>(x, [](B v) { return B(1) / xsimd::sqrt(v); });
    if (e == -2) return map_floating<T>(x, [](B v) { return B(1) / (v * v); });
    const B eb(static_cast<T>(e));
    return map_floating<T>(x, [eb](B v) { return xsimd::pow(v, eb); });
  });
}

// ---- binary ---------------------------------------------------------------------------------

Array binary(Binary op, const Array& a, const Array& b) {
  Shape broadcast;
  const Shape& shape =
      a.shape() == b.shape() ? a.shape() : (broadcast = broadcast_shapes(name(op), a.shape(), b.shape()));
  const DType ct = compute_dtype(op, a.dtype(), b.dtype());
  Array a_converted, b_converted;  // only filled when a dtype changes; no handle copies otherwise
  const Array& ac = a.dtype() == ct ? a : (a_converted = a.to(ct));
  const Array& bc = b.dtype() == ct ? b : (b_converted = b.to(ct));
  Array out(shape, result_dtype(op, ct));
  dispatch(ct, [&]<typename T>() {
    with_binary_fn<T>(op, [&]<typename R>(auto f) { detail::binary_loop<R, T, T>(out, ac, bc, f); });
  });
  return out;
}

void binary_(Binary op, const Array& a, const Array& b) {
  const std::string op_name = std::string(name(op)) + "_";
  if (a.shape() != b.shape() && broadcast_shapes(op_name, a.shape(), b.shape()) != a.shape())
    throw ShapeError(op_name + ": shape " + to_string(b.shape()) + " cannot broadcast to the in-place shape " +
                     to_string(a.shape()));
  if (is_comparison(op) || is_logical(op)) {  // the bool result, stored in a's dtype
    copy_(a, binary(op, a, b));
    return;
  }
  const DType ct = compute_dtype(op, a.dtype(), b.dtype());
  if (ct != a.dtype() && !(is_floating(a.dtype()) && is_floating(ct)))
    throw DTypeError(op_name + ": the result type " + std::string(dtype_name(ct)) +
                     " cannot be stored in a tensor of dtype " + std::string(dtype_name(a.dtype())));
  // b may alias a (x += x.t()): read from a copy unless it is the very same view.
  const bool same_view =
      b.storage() == a.storage() && b.offset() == a.offset() && b.strides() == a.strides() && b.shape() == a.shape();
  Array b_copy;
  const Array& bc = b.dtype() != a.dtype()                     ? (b_copy = b.to(a.dtype()))
                    : b.storage() == a.storage() && !same_view ? (b_copy = b.clone())
                                                               : b;
  dispatch(a.dtype(), [&]<typename T>() {
    with_binary_fn<T>(op, [&]<typename R>(auto f) {
      if constexpr (std::is_same_v<R, T>) detail::binary_loop<T, T, T>(a, a, bc, f);
    });
  });
  a.bump_version();
}

Array binary_scalar(Binary op, const Array& a, double s) {
  if (op == Binary::Pow) return pow_scalar(a, s);
  DType ct = a.dtype();
  if (is_logical(op))
    ct = kBool;
  else if (is_comparison(op) && !is_floating(ct))
    ct = is_integral_value(s) ? kInt64 : kFloat64;  // compare exactly
  else
    ct = compute_dtype(op, a.dtype(), a.dtype());
  Array a_converted;
  const Array& ac = a.dtype() == ct ? a : (a_converted = a.to(ct));
  return dispatch(ct, [&]<typename T>() {
    const T sv = static_cast<T>(s);
    Array out;
    with_binary_fn<T>(op,
                      [&]<typename R>(auto f) { out = map1<T, R>(ac, dtype_v<R>, [f, sv](T v) { return f(v, sv); }); });
    return out;
  });
}

Array where(const Array& condition, const Array& a, const Array& b) {
  if (condition.dtype() != kBool)
    throw DTypeError("where: condition must be bool, got " + std::string(dtype_name(condition.dtype())));
  const Shape shape = broadcast_shapes("where", broadcast_shapes("where", condition.shape(), a.shape()), b.shape());
  const DType t = promote(a.dtype(), b.dtype());
  Array a_converted, b_converted;
  const Array& ac = a.dtype() == t ? a : (a_converted = a.to(t));
  const Array& bc = b.dtype() == t ? b : (b_converted = b.to(t));
  Array out(shape, t);
  dispatch(t, [&]<typename T>() {
    detail::ternary_loop<T, bool, T, T>(out, condition, ac, bc, [](bool c, T x, T y) { return c ? x : y; });
  });
  return out;
}

Array masked_fill(const Array& a, const Array& mask, double value) {
  if (mask.dtype() != kBool)
    throw DTypeError("masked_fill: mask must be bool, got " + std::string(dtype_name(mask.dtype())));
  Shape broadcast;
  const Shape& shape =
      a.shape() == mask.shape() ? a.shape() : (broadcast = broadcast_shapes("masked_fill", a.shape(), mask.shape()));
  Array out(shape, a.dtype());
  dispatch(a.dtype(), [&]<typename T>() {
    const T v = static_cast<T>(value);
    detail::binary_loop<T, T, bool>(out, a, mask, [v](T x, bool m) { return m ? v : x; });
  });
  return out;
}

namespace {

// out = x cmp t ? g : 0 over contiguous x (g contiguous too, or one value), as vector selects: a
// branch per element mispredicts on about half of a relu's inputs.
template <typename T, typename Cmp>
void mul_mask_contiguous(const T* g, bool g_single, const T* x, T t, T* out, int64_t n, Cmp cmp) {
  using B = xsimd::batch<T>;
  constexpr auto kWidth = static_cast<int64_t>(B::size);
  detail::split_range(n, [&](int64_t begin, int64_t end) {
    const B threshold(t), zero(T(0)), g_value(g_single ? *g : T(0));
    int64_t i = begin;
    for (; i + kWidth <= end; i += kWidth) {
      const B gv = g_single ? g_value : B::load_unaligned(g + i);
      xsimd::select(cmp(B::load_unaligned(x + i), threshold), gv, zero).store_unaligned(out + i);
    }
    for (; i < end; ++i) out[i] = cmp(x[i], t) ? g[g_single ? 0 : i] : T(0);
  });
}

// The fast case of mul_mask: one floating dtype, x contiguous, the threshold exact in it.
bool mul_mask_fast(const Array& g, const Array& x, Binary compare, double threshold, Array& out) {
  const bool g_single = detail::single_value(g);
  if (!is_floating(x.dtype()) || g.dtype() != x.dtype() || out.shape() != x.shape() || !x.is_contiguous() ||
      !(g_single || (g.shape() == x.shape() && g.is_contiguous())))
    return false;
  return dispatch_floating("mul_mask", x.dtype(), [&]<typename T>() {
    const auto t = static_cast<T>(threshold);
    if (static_cast<double>(t) != threshold) return false;
    const T* pg = static_cast<const T*>(g.raw_data());
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const int64_t n = x.numel();
    switch (compare) {
      case Binary::Gt: mul_mask_contiguous(pg, g_single, px, t, po, n, [](auto a, auto b) { return a > b; }); break;
      case Binary::Ge: mul_mask_contiguous(pg, g_single, px, t, po, n, [](auto a, auto b) { return a >= b; }); break;
      case Binary::Lt: mul_mask_contiguous(pg, g_single, px, t, po, n, [](auto a, auto b) { return a < b; }); break;
      case Binary::Le: mul_mask_contiguous(pg, g_single, px, t, po, n, [](auto a, auto b) { return a <= b; }); break;
      default: return false;  // == and != stay on the general loop
    }
    return true;
  });
}

}  // namespace

Array mul_mask(const Array& g, const Array& x, Binary compare, double threshold) {
  if (!is_comparison(compare))
    throw ValueError("mul_mask: compare must be a comparison, got " + std::string(name(compare)));
  Shape broadcast;
  const Shape& shape =
      g.shape() == x.shape() ? g.shape() : (broadcast = broadcast_shapes("mul_mask", g.shape(), x.shape()));
  Array out(shape, g.dtype());
  if (mul_mask_fast(g, x, compare, threshold, out)) return out;
  dispatch(g.dtype(), [&]<typename G>() {
    dispatch(x.dtype(), [&]<typename X>() {
      // Compared in double: exact for float32, float64 and int64 values.
      with_binary_fn<double>(compare, [&]<typename R>(auto cmp) {
        if constexpr (std::is_same_v<R, bool>)
          detail::binary_loop<G, G, X>(
              out, g, x, [cmp, threshold](G gv, X xv) { return cmp(static_cast<double>(xv), threshold) ? gv : G{}; });
      });
    });
  });
  return out;
}

bool mul_backward(const Array& g, const Array& a, const Array& b, Array& grad_a, Array& grad_b) {
  const Shape& shape = g.shape();
  const DType dtype = g.dtype();
  const bool g_single = detail::single_value(g);
  if (!is_floating(dtype) || a.dtype() != dtype || b.dtype() != dtype || a.shape() != shape || b.shape() != shape ||
      !a.is_contiguous() || !b.is_contiguous() || !(g.is_contiguous() || g_single))
    return false;
  grad_a = Array(shape, dtype);
  grad_b = Array(shape, dtype);
  dispatch_floating("mul_backward", dtype, [&]<typename T>() {
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* da = grad_a.data<T>();
    T* db = grad_b.data<T>();
    if (g_single) {
      const T s = *static_cast<const T*>(g.raw_data());
      detail::split_range(g.numel(), [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) da[i] = s * pb[i], db[i] = s * pa[i];
      });
    } else {
      const T* pg = g.data<T>();
      detail::split_range(g.numel(), [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) da[i] = pg[i] * pb[i], db[i] = pg[i] * pa[i];
      });
    }
  });
  return true;
}

bool has_nonfinite(const Array& x) {
  if (!is_floating(x.dtype())) return false;
  return dispatch_floating("has_nonfinite", x.dtype(), [&]<typename T>() {
    bool bad = false;
    detail::for_each_run<1>(
        x.shape(), {x.strides()}, {static_cast<char*>(x.raw_data())}, {sizeof(T)}, [&](const detail::Run<1>& r) {
          if (bad) return;
          const char* p = r.ptr[0];
          bool run_bad = false;  // branch-free so the loop vectorizes
          if (r.stride[0] == sizeof(T)) {
            const T* q = reinterpret_cast<const T*>(p);
            for (int64_t i = 0; i < r.n; ++i) run_bad |= !(std::abs(q[i]) <= std::numeric_limits<T>::max());
          } else {
            for (int64_t i = 0; i < r.n; ++i, p += r.stride[0])
              run_bad |= !(std::abs(*reinterpret_cast<const T*>(p)) <= std::numeric_limits<T>::max());
          }
          bad = run_bad;
        });
    return bad;
  });
}

}  // namespace xgrad::kernels
