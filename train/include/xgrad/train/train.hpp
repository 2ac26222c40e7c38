#pragma once
// The train/ module: fit / evaluate / predict, metrics, callbacks, the progress bar, the history
// and its curves, and saving a model's parameters.
#include "xgrad/train/callbacks.hpp"
#include "xgrad/train/checkpoint.hpp"
#include "xgrad/train/curves.hpp"
#include "xgrad/train/fit.hpp"
#include "xgrad/train/history.hpp"
#include "xgrad/train/metrics.hpp"
#include "xgrad/train/progress.hpp"
