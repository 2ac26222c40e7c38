#pragma once
// The optim/ module: optimizers, learning-rate schedulers and gradient clipping.
#include "xgrad/optim/adagrad.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/clip_grad.hpp"
#include "xgrad/optim/optimizer.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/optim/scheduler.hpp"
#include "xgrad/optim/sgd.hpp"
