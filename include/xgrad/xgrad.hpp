#pragma once
// The whole library. User code: #include <xgrad/xgrad.hpp> and `namespace xg = xgrad;`.
// No header here includes xtensor or BLAS, so a model file compiles fast.
#include "xgrad/autograd/autograd.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/ops.hpp"
#include "xgrad/autograd/tensor.hpp"
#include "xgrad/data/data.hpp"
#include "xgrad/io/io.hpp"
#include "xgrad/nn/nn.hpp"
#include "xgrad/optim/optim.hpp"
#include "xgrad/tensor/tensor.hpp"
#include "xgrad/train/train.hpp"

namespace xg = xgrad;
