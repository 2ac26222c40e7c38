#pragma once
// The io/ module: atomic file writes; the safetensors, .npy and .npz formats; models' state dicts
// as safetensors (model_io.hpp); the checkpoint file (checkpoint_file.hpp).
#include "xgrad/io/atomic_file.hpp"
#include "xgrad/io/checkpoint_file.hpp"
#include "xgrad/io/model_io.hpp"
#include "xgrad/io/named_tensors.hpp"
#include "xgrad/io/npy.hpp"
#include "xgrad/io/npz.hpp"
#include "xgrad/io/safetensors.hpp"
