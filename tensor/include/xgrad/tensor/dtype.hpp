#pragma once
// Runtime element types and the one place that turns a runtime dtype into a C++ type.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "xgrad/tensor/error.hpp"

namespace xgrad {

enum class DType : uint8_t { Bool, Int64, Float32, Float64 };

inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;
inline constexpr DType kInt64 = DType::Int64;
inline constexpr DType kBool = DType::Bool;

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::Bool: return "bool";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}

constexpr size_t itemsize(DType t) {
  switch (t) {
    case DType::Bool: return 1;
    case DType::Int64: return 8;
    case DType::Float32: return 4;
    case DType::Float64: return 8;
  }
  return 0;
}

constexpr bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }

// The dtype of a binary op's result, as PyTorch promotes: bool < int64 < float32 < float64.
constexpr DType promote(DType a, DType b) { return a > b ? a : b; }

template <typename T> struct dtype_of;
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <typename T> inline constexpr DType dtype_v = dtype_of<T>::value;

// Calls fn.template operator()<T>() with T the C++ type of `t`:
//   dispatch(x.dtype(), [&]<typename T>() { ... });
template <typename Fn> decltype(auto) dispatch(DType t, Fn&& fn) {
  switch (t) {
    case DType::Bool: return fn.template operator()<bool>();
    case DType::Int64: return fn.template operator()<int64_t>();
    case DType::Float32: return fn.template operator()<float>();
    case DType::Float64: break;
  }
  return fn.template operator()<double>();
}

// The same for ops defined on floating types only; `op` names the caller in the error.
template <typename Fn> decltype(auto) dispatch_floating(std::string_view op, DType t, Fn&& fn) {
  if (t == DType::Float32) return fn.template operator()<float>();
  if (t != DType::Float64)
    throw DTypeError(std::string(op) + ": expected a floating dtype (float32 or float64), got " +
                     std::string(dtype_name(t)));
  return fn.template operator()<double>();
}

}  // namespace xgrad
