#pragma once
// Every differentiable op.
#include "xgrad/autograd/ops/conv.hpp"
#include "xgrad/autograd/ops/elementwise.hpp"
#include "xgrad/autograd/ops/linalg.hpp"
#include "xgrad/autograd/ops/norm.hpp"
#include "xgrad/autograd/ops/reduce.hpp"
#include "xgrad/autograd/ops/shape.hpp"
