#pragma once
// nn::functional for convolution, pooling, resampling and normalisation, with PyTorch's options:
//   F::conv2d(x, w, b, {.stride = 2, .padding = 1});
//   F::conv2d(x, w, {}, {.padding = "same"});
//   F::max_pool2d(x, {.kernel_size = 2});
//   F::interpolate(x, {.scale_factor = 2.0, .mode = UpsampleMode::Bilinear});
// Inputs may be batched ([N, C, H, W], [N, C, L]) or not ([C, H, W], [C, L]), as in PyTorch.
// Also the option types the layers share: ExpandingArray (one number or one per dim) and
// ConvPadding (numbers, "same" or "valid").
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "xgrad/autograd/ops/conv.hpp"
#include "xgrad/autograd/ops/norm.hpp"
#include "xgrad/autograd/tensor.hpp"

namespace xgrad::nn {

// D values given as one number for every dim (kernel_size = 3) or one per dim ({3, 5}); default
// constructed it holds none (an option left unset, such as a pool's stride).
template <size_t D, typename T = int64_t> class ExpandingArray {
 public:
  ExpandingArray() = default;
  ExpandingArray(T value) : given_(true), scalar_(true) { values_.fill(value); }     // NOLINT: implicit on purpose
  ExpandingArray(std::initializer_list<T> values);                                   // exactly D values
  ExpandingArray(const std::array<T, D>& values) : values_(values), given_(true) {}  // NOLINT

  bool has_value() const { return given_; }
  bool is_scalar() const { return scalar_; }  // given as one number
  T operator[](size_t i) const { return values_[i]; }
  const std::array<T, D>& values() const { return values_; }
  // Python's repr of what PyTorch stores: the tuple "(3, 3)" / "(3,)", or "3" when `as_given` and
  // it was given as one number.
  std::string repr(bool as_given = false) const;
  bool operator==(const ExpandingArray& other) const { return values_ == other.values_; }

 private:
  std::array<T, D> values_{};
  bool given_ = false;
  bool scalar_ = false;
};

// A convolution's padding: zeros on both sides (one number or one per dim), "valid" (none) or
// "same" (the output keeps the input's size; stride 1 only; an odd total pads one more at the
// right / bottom, as PyTorch does).
template <size_t D> class ConvPadding {
 public:
  enum class Mode { Explicit, Valid, Same };
  ConvPadding(int64_t value) : amounts_(value) {}                           // NOLINT: implicit on purpose
  ConvPadding(std::initializer_list<int64_t> values) : amounts_(values) {}  // NOLINT
  ConvPadding(const ExpandingArray<D>& values) : amounts_(values) {}        // NOLINT
  template <size_t N> ConvPadding(const char (&mode)[N]) : ConvPadding(std::string(mode)) {}  // NOLINT
  ConvPadding(const std::string& mode);                                                       // NOLINT

  Mode mode() const { return mode_; }
  const ExpandingArray<D>& amounts() const { return amounts_; }  // Explicit only
  std::string repr() const;                                      // "(1, 1)", "same" or "valid"

 private:
  Mode mode_ = Mode::Explicit;
  ExpandingArray<D> amounts_ = 0;
};

namespace detail {
// Python's repr of a float: 2.0, 0.1, 1e-05.
std::string python_float(double value);
// A bool as Linear prints it: "true" / "false".
inline std::string bool_repr(bool value) { return value ? "true" : "false"; }
// fn(x) for a batched input of `spatial` spatial dims ([N, C, spatial...]); an unbatched one
// ([C, spatial...]) gets a batch dim of 1 around the call, as in PyTorch. ShapeError names `op`.
Tensor batched(std::string_view op, const Tensor& x, int64_t spatial, const std::function<Tensor(const Tensor&)>& fn);
}  // namespace detail

}  // namespace xgrad::nn

namespace xgrad::nn::functional {

struct Conv1dFuncOptions {
  ExpandingArray<1> stride = 1;
  ConvPadding<1> padding = 0;
  ExpandingArray<1> dilation = 1;
  int64_t groups = 1;
};
struct Conv2dFuncOptions {
  ExpandingArray<2> stride = 1;
  ConvPadding<2> padding = 0;
  ExpandingArray<2> dilation = 1;
  int64_t groups = 1;
};
struct ConvTranspose2dFuncOptions {
  ExpandingArray<2> stride = 1;
  ExpandingArray<2> padding = 0;
  ExpandingArray<2> output_padding = 0;
  int64_t groups = 1;
  ExpandingArray<2> dilation = 1;
};

// x [N, C_in, L], weight [C_out, C_in / groups, k], bias [C_out] or undefined.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const Conv1dFuncOptions& options = {});
// x [N, C_in, H, W], weight [C_out, C_in / groups, kH, kW], bias [C_out] or undefined.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const Conv2dFuncOptions& options = {});
// x [N, C_in, H, W], weight [C_in, C_out / groups, kH, kW], bias [C_out] or undefined.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
                        const ConvTranspose2dFuncOptions& options = {});

template <size_t D> struct MaxPoolFuncOptions {
  ExpandingArray<D> kernel_size = {};  // required
  ExpandingArray<D> stride = {};       // unset: the kernel size
  ExpandingArray<D> padding = 0;
  ExpandingArray<D> dilation = 1;
  bool ceil_mode = false;
};
template <size_t D> struct AvgPoolFuncOptions {
  ExpandingArray<D> kernel_size = {};  // required
  ExpandingArray<D> stride = {};       // unset: the kernel size
  ExpandingArray<D> padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
};
using MaxPool1dFuncOptions = MaxPoolFuncOptions<1>;
using MaxPool2dFuncOptions = MaxPoolFuncOptions<2>;
using AvgPool1dFuncOptions = AvgPoolFuncOptions<1>;
using AvgPool2dFuncOptions = AvgPoolFuncOptions<2>;

Tensor max_pool1d(const Tensor& x, const MaxPool1dFuncOptions& options);
Tensor max_pool2d(const Tensor& x, const MaxPool2dFuncOptions& options);
Tensor avg_pool1d(const Tensor& x, const AvgPool1dFuncOptions& options);
Tensor avg_pool2d(const Tensor& x, const AvgPool2dFuncOptions& options);
Tensor adaptive_avg_pool2d(const Tensor& x, const ExpandingArray<2>& output_size);
Tensor adaptive_max_pool2d(const Tensor& x, const ExpandingArray<2>& output_size);

struct InterpolateFuncOptions {
  ExpandingArray<2> size = {};                  // the output size, or
  ExpandingArray<2, double> scale_factor = {};  // a factor per spatial dim (exactly one of the two)
  UpsampleMode mode = UpsampleMode::Nearest;
  std::optional<bool> align_corners = std::nullopt;  // bilinear only (false when unset)
};
// x [N, C, H, W] (or [C, H, W]) resized to `size` or by `scale_factor`.
Tensor interpolate(const Tensor& x, const InterpolateFuncOptions& options);

// Normalisation: the xgrad ops themselves.
using xgrad::batch_norm;
using xgrad::group_norm;
using xgrad::layer_norm;

}  // namespace xgrad::nn::functional

// ---- template definitions -----------------------------------------------------------------------
namespace xgrad::nn {

namespace detail {
[[noreturn]] void throw_expanding_size(size_t expected, size_t got);
[[noreturn]] void throw_padding_mode(const std::string& mode);
template <typename T> std::string value_repr(T value) {
  if constexpr (std::is_floating_point_v<T>)
    return python_float(static_cast<double>(value));
  else
    return std::to_string(value);
}
}  // namespace detail

template <size_t D, typename T> ExpandingArray<D, T>::ExpandingArray(std::initializer_list<T> values) : given_(true) {
  if (values.size() != D) detail::throw_expanding_size(D, values.size());
  size_t i = 0;
  for (T v : values) values_[i++] = v;
}

template <size_t D, typename T> std::string ExpandingArray<D, T>::repr(bool as_given) const {
  if (as_given && scalar_) return detail::value_repr(values_[0]);
  std::string s = "(";
  for (size_t i = 0; i < D; ++i) s += (i ? ", " : "") + detail::value_repr(values_[i]);
  return s + (D == 1 ? ",)" : ")");
}

template <size_t D> ConvPadding<D>::ConvPadding(const std::string& mode) {
  if (mode == "same")
    mode_ = Mode::Same;
  else if (mode == "valid")
    mode_ = Mode::Valid;
  else
    detail::throw_padding_mode(mode);
}

template <size_t D> std::string ConvPadding<D>::repr() const {
  if (mode_ == Mode::Same) return "same";
  if (mode_ == Mode::Valid) return "valid";
  return amounts_.repr();
}

}  // namespace xgrad::nn
