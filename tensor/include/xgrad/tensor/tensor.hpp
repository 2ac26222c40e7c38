#pragma once
// The tensor/ module: values, shapes, dtypes, errors, random generators and kernels.
#include "xgrad/tensor/array.hpp"
#include "xgrad/tensor/dtype.hpp"
#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"
#include "xgrad/tensor/parallel.hpp"
#include "xgrad/tensor/random.hpp"
#include "xgrad/tensor/shape.hpp"
