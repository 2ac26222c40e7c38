#include "xgrad/optim/optimizer.hpp"

#include <string>

#include "xgrad/autograd/node.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::optim {

Optimizer::Optimizer(std::string name, std::vector<ParamGroup> groups, Defaults defaults,
                     std::vector<std::string> buffers)
    : name_(std::move(name)), defaults_(defaults), buffer_names_(std::move(buffers)) {
  for (ParamGroup& g : groups) add_param_group(std::move(g));
}

std::vector<ParamGroup> Optimizer::one_group(std::vector<Tensor> params) {
  std::vector<ParamGroup> groups(1);
  groups[0].params = std::move(params);
  return groups;
}

Optimizer::~Optimizer() = default;

void Optimizer::add_param_group(ParamGroup group) {
  const std::string where = name() + ": parameter group " + std::to_string(groups_.size());
  if (group.lr < 0) group.lr = defaults_.lr;
  if (group.weight_decay < 0) group.weight_decay = defaults_.weight_decay;
  if (group.momentum < 0) group.momentum = defaults_.momentum;
  if (!(group.lr >= 0)) throw ValueError(where + ": invalid learning rate " + std::to_string(group.lr));
  if (!(group.weight_decay >= 0))
    throw ValueError(where + ": invalid weight_decay " + std::to_string(group.weight_decay));
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    if (!p.defined()) throw ValueError(where + ": parameter " + std::to_string(i) + " is undefined");
    if (!p.is_floating_point())
      throw DTypeError(where + ": parameter " + std::to_string(i) + " is " + std::string(dtype_name(p.dtype())) +
                       ", optimizers update floating tensors only");
    if (!p.is_leaf())
      throw ValueError(where + ": parameter " + std::to_string(i) + " is not a leaf tensor (it was made by " +
                       std::string(p.grad_fn()->name()) + ")");
    for (const ParamGroup& other : groups_)
      for (const Tensor& q : other.params)
        if (q.is_same(p)) throw ValueError(where + ": parameter " + std::to_string(i) + " is already in another group");
  }
  groups_.push_back(std::move(group));
}

void Optimizer::zero_grad() {
  for (const ParamGroup& g : groups_)
    for (const Tensor& p : g.params) p.set_grad(Tensor());
}

Optimizer::ParamState& Optimizer::state(const Tensor& param) {
  ParamState& s = state_[param.impl().get()];
  if (s.buffers.size() < buffer_names_.size()) s.buffers.resize(buffer_names_.size());
  return s;
}

Array& Optimizer::buffer(ParamState& s, size_t i, const Tensor& param, double fill) {
  Array& b = s.buffers[i];
  if (!b.defined())
    b = kernels::full(param.shape(), fill, param.dtype());
  else if (b.dtype() != param.dtype())
    b = b.to(param.dtype()).contiguous();  // the model was cast since
  return b;
}

// ---- state_dict --------------------------------------------------------------------------------------

namespace {
std::string group_key(size_t g, const char* field) { return "param_groups." + std::to_string(g) + "." + field; }
std::string state_key(size_t i, const std::string& field) { return "state." + std::to_string(i) + "." + field; }
}  // namespace

OptimizerState Optimizer::state_dict() const {
  OptimizerState out;
  size_t index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const ParamGroup& group = groups_[g];
    out.scalars[group_key(g, "lr")] = group.lr;
    out.scalars[group_key(g, "weight_decay")] = group.weight_decay;
    out.scalars[group_key(g, "momentum")] = group.momentum;
    out.scalars[group_key(g, "initial_lr")] = group.initial_lr;
    out.scalars[group_key(g, "size")] = static_cast<double>(group.params.size());
    for (const Tensor& p : group.params) {
      auto it = state_.find(p.impl().get());
      if (it != state_.end()) {
        out.scalars[state_key(index, "step")] = static_cast<double>(it->second.step);
        for (size_t b = 0; b < it->second.buffers.size(); ++b)
          if (it->second.buffers[b].defined())
            out.tensors[state_key(index, buffer_names_[b])] = Tensor(it->second.buffers[b].clone());
      }
      ++index;
    }
  }
  return out;
}

void Optimizer::load_state_dict(const OptimizerState& state) {
  const std::string op = name() + "::load_state_dict";
  auto scalar = [&](const std::string& key) {
    auto it = state.scalars.find(key);
    if (it == state.scalars.end()) throw ValueError(op + ": the state has no '" + key + "'");
    return it->second;
  };
  // Check everything before changing anything.
  if (state.scalars.count(group_key(groups_.size(), "size")))
    throw ValueError(op + ": the state has more parameter groups than the optimizer (" +
                     std::to_string(groups_.size()) + ")");
  size_t index = 0;
  std::unordered_map<const TensorImpl*, ParamState> loaded;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const double size = scalar(group_key(g, "size"));
    if (size != static_cast<double>(groups_[g].params.size()))
      throw ValueError(op + ": parameter group " + std::to_string(g) + " has " +
                       std::to_string(groups_[g].params.size()) + " parameters, the state has " +
                       std::to_string(static_cast<int64_t>(size)));
    for (const Tensor& p : groups_[g].params) {
      auto step = state.scalars.find(state_key(index, "step"));
      if (step != state.scalars.end()) {
        ParamState s;
        s.step = static_cast<int64_t>(step->second);
        s.buffers.resize(buffer_names_.size());
        for (size_t b = 0; b < buffer_names_.size(); ++b) {
          auto t = state.tensors.find(state_key(index, buffer_names_[b]));
          if (t == state.tensors.end()) continue;
          if (t->second.shape() != p.shape())
            throw ShapeError(op + ": '" + t->first + "' has shape " + to_string(t->second.shape()) +
                             ", its parameter has shape " + to_string(p.shape()));
          Array a = t->second.array().to(p.dtype()).contiguous();
          if (a.storage() == t->second.array().storage()) a = a.clone();  // never alias the saved state
          s.buffers[b] = std::move(a);
        }
        loaded.emplace(p.impl().get(), std::move(s));
      }
      ++index;
    }
  }
  for (size_t g = 0; g < groups_.size(); ++g) {
    groups_[g].lr = scalar(group_key(g, "lr"));
    groups_[g].weight_decay = scalar(group_key(g, "weight_decay"));
    groups_[g].momentum = scalar(group_key(g, "momentum"));
    groups_[g].initial_lr = scalar(group_key(g, "initial_lr"));
  }
  state_ = std::move(loaded);
}

}  // namespace xgrad::optim
