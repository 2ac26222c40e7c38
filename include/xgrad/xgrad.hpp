#pragma once
// The whole library. User code: #include <xgrad/xgrad.hpp> and `namespace xg = xgrad;`.
#include "xgrad/autograd/autograd.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/ops.hpp"
#include "xgrad/autograd/tensor.hpp"
#include "xgrad/tensor/tensor.hpp"

namespace xg = xgrad;
