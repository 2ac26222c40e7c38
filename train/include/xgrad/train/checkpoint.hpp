#pragma once
// Checkpoints: everything a training run needs to continue exactly where it stopped (model
// weights and buffers, optimizer state, LR scheduler state, epoch and step counts, the default
// RNG's state, the history so far and any callback state), in one safetensors file
// (see xgrad/io/checkpoint_file.hpp for the layout). Saving is atomic: a process killed in the
// middle of a save leaves the previous checkpoint whole and loadable.
//
//   train::save_checkpoint("runs/x/checkpoint.safetensors", model, &opt, &sched, {.epoch = 2, .step = 938});
//   train::Progress p = train::load_checkpoint("runs/x/checkpoint.safetensors", model, &opt, &sched);
//
// fit() does this itself with FitOptions::checkpoint_path and FitOptions::resume.
#include <cstdint>
#include <map>
#include <string>

#include "xgrad/train/history.hpp"

namespace xgrad::nn {
class Module;
}
namespace xgrad::optim {
class Optimizer;
class LRScheduler;
}  // namespace xgrad::optim

namespace xgrad::train {

// Where a run stands, besides the objects' own state.
struct Progress {
  int64_t epoch = 0;  // epochs completed
  int64_t step = 0;   // optimizer steps taken
  History history = {};
  std::map<std::string, double> numbers = {};     // anything else (fit stores callback state here)
  std::map<std::string, std::string> texts = {};  // likewise, as text
};

// optimizer and scheduler may be null (not saved). The default generator's state is saved too.
void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer* optimizer,
                     const optim::LRScheduler* scheduler, const Progress& progress);

// Restores the model (strict), then the optimizer and scheduler when given (the file must then
// hold their state) and the default generator, and returns the progress. The file is checked
// whole first; if restoring fails part way (an optimizer over other parameters, say), the model's
// previous values are put back before the error propagates. IOError for a bad or missing file,
// ValueError / ShapeError for a checkpoint of another model or optimizer, naming the entry.
Progress load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer* optimizer = nullptr,
                         optim::LRScheduler* scheduler = nullptr);

}  // namespace xgrad::train
