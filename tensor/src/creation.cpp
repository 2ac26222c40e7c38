// Creation kernels: constant, range and identity arrays, random arrays from an explicit
// Generator, and the two in-place writers fill_ and copy_.
#include <cmath>
#include <numbers>
#include <string>

#include "elementwise_loops.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::kernels {
namespace {

void check_shape(std::string_view op, const Shape& shape) {
  for (int64_t d : shape)
    if (d < 0) throw ShapeError(std::string(op) + ": negative dimension in shape " + to_string(shape));
}

// Writes gen(i) for i = 0..n-1 into a fresh contiguous array, converted to dtype.
template <typename Gen> Array generate(const Shape& shape, DType dtype, Gen gen) {
  Array out(shape, dtype);
  dispatch(dtype, [&]<typename T>() {
    T* p = out.data<T>();
    const int64_t n = out.numel();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(gen(i));
  });
  return out;
}

// A double in [0, 1) from the top 53 bits of one engine draw.
double unit_double(std::mt19937_64& engine) { return static_cast<double>(engine() >> 11) * 0x1.0p-53; }

}  // namespace

Array full(const Shape& shape, double value, DType dtype) {
  check_shape("full", shape);
  Array out(shape, dtype);
  fill_(out, value);
  return out;
}

Array arange(double start, double end, double step, DType dtype) {
  if (step == 0 || !std::isfinite(step))
    throw ValueError("arange: step must be finite and nonzero, got " + std::to_string(step));
  if (!std::isfinite(start) || !std::isfinite(end))
    throw ValueError("arange: start and end must be finite, got " + std::to_string(start) + " and " +
                     std::to_string(end));
  if ((end - start) * step < 0)
    throw ValueError("arange: the step " + std::to_string(step) + " does not go from " + std::to_string(start) +
                     " to " + std::to_string(end));
  const auto n = static_cast<int64_t>(std::ceil((end - start) / step));
  return generate({n}, dtype, [start, step](int64_t i) { return start + static_cast<double>(i) * step; });
}

Array linspace(double start, double end, int64_t steps, DType dtype) {
  if (steps < 0) throw ValueError("linspace: steps must be non-negative, got " + std::to_string(steps));
  if (steps == 1) return full({1}, start, dtype);
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  const int64_t half = steps / 2;
  // Filled from both ends (as PyTorch) so that the last value is exactly `end`.
  return generate({steps}, dtype, [=](int64_t i) {
    return i < half ? start + step * static_cast<double>(i) : end - step * static_cast<double>(steps - 1 - i);
  });
}

Array eye(int64_t n, int64_t m, DType dtype) {
  if (m < 0) m = n;
  if (n < 0) throw ValueError("eye: n must be non-negative, got " + std::to_string(n));
  return generate({n, m}, dtype, [m](int64_t i) { return i / m == i % m ? 1.0 : 0.0; });
}

Array uniform(const Shape& shape, double low, double high, DType dtype, Generator& gen) {
  check_shape("uniform", shape);
  if (!is_floating(dtype))
    throw DTypeError("uniform: expected a floating dtype, got " + std::string(dtype_name(dtype)));
  if (!(low <= high) || !std::isfinite(high - low))
    throw ValueError("uniform: expected finite low <= high, got " + std::to_string(low) + " and " +
                     std::to_string(high));
  const double width = high - low;
  return dispatch_floating("uniform", dtype, [&]<typename T>() {
    // Rounding to T can reach `high`; those draws move to the largest value below it.
    const T top = std::nextafter(static_cast<T>(high), static_cast<T>(low));
    return generate(shape, dtype, [&](int64_t) {
      const T v = static_cast<T>(low + width * unit_double(gen.engine()));
      return v >= static_cast<T>(high) && width > 0 ? top : v;
    });
  });
}

Array normal(const Shape& shape, double mean, double stddev, DType dtype, Generator& gen) {
  check_shape("normal", shape);
  if (!is_floating(dtype)) throw DTypeError("normal: expected a floating dtype, got " + std::string(dtype_name(dtype)));
  if (!(stddev >= 0)) throw ValueError("normal: stddev must be non-negative, got " + std::to_string(stddev));
  // Box-Muller, two values per pair of draws.
  double spare = 0;
  bool has_spare = false;
  return generate(shape, dtype, [&](int64_t) {
    if (has_spare) {
      has_spare = false;
      return mean + stddev * spare;
    }
    const double u1 = 1.0 - unit_double(gen.engine());  // (0, 1]: log is finite
    const double u2 = unit_double(gen.engine());
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare = r * std::sin(2 * std::numbers::pi * u2);
    has_spare = true;
    return mean + stddev * r * std::cos(2 * std::numbers::pi * u2);
  });
}

Array randint(const Shape& shape, int64_t low, int64_t high, Generator& gen) {
  check_shape("randint", shape);
  if (high <= low)
    throw ValueError("randint: expected low < high, got " + std::to_string(low) + " and " + std::to_string(high));
  std::uniform_int_distribution<int64_t> dist(low, high - 1);
  return generate(shape, kInt64, [&](int64_t) { return dist(gen.engine()); });
}

void fill_(const Array& a, double value) {
  dispatch(a.dtype(), [&]<typename T>() {
    const T v = static_cast<T>(value);
    if (a.is_contiguous()) {
      T* p = static_cast<T*>(a.raw_data());
      const int64_t n = a.numel();
      for (int64_t i = 0; i < n; ++i) p[i] = v;
      return;
    }
    detail::for_each_run<1>(a.shape(), {a.strides()}, {static_cast<char*>(a.raw_data())}, {sizeof(T)},
                            [v](const detail::Run<1>& r) {
                              char* p = r.ptr[0];
                              for (int64_t i = 0; i < r.n; ++i, p += r.stride[0]) *reinterpret_cast<T*>(p) = v;
                            });
  });
  a.bump_version();
}

void copy_(const Array& dst, const Array& src) {
  if (broadcast_shapes("copy_", dst.shape(), src.shape()) != dst.shape())
    throw ShapeError("copy_: source shape " + to_string(src.shape()) + " cannot broadcast to the destination shape " +
                     to_string(dst.shape()));
  // A source that shares memory with the destination is read from a copy (x.copy_(x.t())).
  const bool same_view = src.storage() == dst.storage() && src.offset() == dst.offset() &&
                         src.strides() == dst.strides() && src.shape() == dst.shape() && src.dtype() == dst.dtype();
  if (same_view) {
    dst.bump_version();
    return;
  }
  Array src_copy;
  const Array& s = src.storage() == dst.storage() ? (src_copy = src.clone()) : src;
  if (dst.is_contiguous() && s.is_contiguous() && s.shape() == dst.shape() && s.dtype() == dst.dtype()) {
    std::memcpy(dst.raw_data(), s.raw_data(), static_cast<size_t>(dst.numel()) * itemsize(dst.dtype()));
  } else {
    dispatch(dst.dtype(), [&]<typename D>() {
      dispatch(s.dtype(), [&]<typename S>() {
        // binary_loop with the destination as its own first operand: dst = convert(src).
        detail::binary_loop<D, D, S>(dst, dst, s, [](D, S v) { return static_cast<D>(v); });
      });
    });
  }
  dst.bump_version();
}

}  // namespace xgrad::kernels
