#pragma once
// Private: direct (im2col-free) SIMD kernels for the common convolutions: stride 1, no dilation, one
// group, a natural output size and padding below the kernel size (3x3 / padding 1 and the like).
// conv.cpp asks *_fits first and falls back to im2col + BLAS GEMM otherwise.
#include "xgrad/tensor/conv_kernels.hpp"

namespace xgrad::kernels::detail {

// Whether each direction has a direct kernel that wastes little work on this geometry, for T.
template <typename T> bool direct_forward_fits(const ConvGeometry& g);
template <typename T> bool direct_input_grad_fits(const ConvGeometry& g);
template <typename T> bool direct_weight_grad_fits(const ConvGeometry& g);

// The three directions over contiguous arrays (see conv_kernels.hpp); bias may be null.
template <typename T> void direct_conv_forward(const T* x, const T* w, const T* bias, T* y, const ConvGeometry& g);
template <typename T> void direct_conv_input_grad(const T* dy, const T* w, const T* bias, T* dx, const ConvGeometry& g);
template <typename T> void direct_conv_weight_grad(const T* x, const T* dy, T* dw, const ConvGeometry& g);

}  // namespace xgrad::kernels::detail
