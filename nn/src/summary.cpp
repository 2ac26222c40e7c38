// Module::operator() and the Keras-style summary. summary() runs one forward pass of zeros with a
// tracer installed for the thread; every module called through operator() during it leaves a row
// (its state, type and output shape) in call order. Outside summary() the tracer is null and
// operator() is a plain virtual call.
#include <algorithm>
#include <iostream>
#include <sstream>
#include <unordered_map>

#include "module_access.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

namespace detail {
struct TraceRow {
  const ModuleState* module;
  std::string type;
  Shape output;
};
struct Tracer {
  std::vector<TraceRow> rows;
};
thread_local Tracer* active_tracer = nullptr;
}  // namespace detail

Tensor Module::operator()(const Tensor& input) {
  detail::Tracer* tracer = detail::active_tracer;
  if (tracer == nullptr) return forward(input);
  const size_t row = tracer->rows.size();
  tracer->rows.push_back({state_.get(), type_name(), {}});
  Tensor output = forward(input);
  if (output.defined()) tracer->rows[row].output = output.shape();
  return output;
}

namespace {

// 1234567 -> "1,234,567"
std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

int64_t count(const std::vector<Tensor>& params) {
  int64_t n = 0;
  for (const Tensor& p : params) n += p.numel();
  return n;
}

std::string pad_right(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}
std::string pad_left(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

}  // namespace

std::string Module::summary(const Shape& input_shape) {
  using detail::ModuleAccess;
  const auto named = named_modules();
  std::unordered_map<const detail::ModuleState*, std::pair<std::string, Module*>> by_state;
  for (const auto& [name, m] : named) by_state.emplace(&ModuleAccess::state(*m), std::make_pair(name, m));

  // Trace a forward of zeros in eval mode (no dropout, so no random numbers are drawn), then put
  // back the training flags and the tracer, even when the forward throws.
  struct Restore {
    std::vector<std::pair<detail::ModuleState*, bool>> flags;
    detail::Tracer* previous = detail::active_tracer;
    ~Restore() {
      for (auto [state, training] : flags) state->training = training;
      detail::active_tracer = previous;
    }
  } restore;
  for (const auto& entry : named) {
    detail::ModuleState& s = ModuleAccess::state(*entry.second);
    restore.flags.emplace_back(&s, s.training);
  }
  eval();
  DType dtype = kFloat32;
  for (const Tensor& p : parameters())
    if (p.is_floating_point()) {
      dtype = p.dtype();
      break;
    }
  detail::Tracer tracer;
  detail::active_tracer = &tracer;
  Tensor output;
  {
    NoGradGuard no_grad;
    output = (*this)(zeros(input_shape, {.dtype = dtype}));
  }
  detail::active_tracer = restore.previous;

  // Rows: the leaf modules, in call order (a module called twice gets two rows, its parameters
  // counted on the first). A model that is itself a leaf is its own row.
  struct Row {
    std::string layer, shape, params;
  };
  std::vector<Row> rows;
  std::unordered_map<const detail::ModuleState*, bool> counted;
  const bool root_is_leaf = state_->children.empty();
  for (const detail::TraceRow& r : tracer.rows) {
    const bool leaf = r.module->children.empty();
    if (!leaf && !(root_is_leaf && r.module == state_.get())) continue;
    auto it = by_state.find(r.module);
    const std::string name = it == by_state.end() ? "" : it->second.first;
    int64_t params = 0;
    if (it != by_state.end() && !counted[r.module]) params = count(it->second.second->parameters());
    counted[r.module] = true;
    rows.push_back(
        {name.empty() ? r.type : name + " (" + r.type + ")", xgrad::to_string(r.output), with_commas(params)});
  }

  const auto all = parameters();
  int64_t trainable = 0;
  for (const Tensor& p : all)
    if (p.requires_grad()) trainable += p.numel();
  const int64_t total = count(all);

  size_t w_layer = 28, w_shape = 22, w_params = 12;
  for (const Row& r : rows) {
    w_layer = std::max(w_layer, r.layer.size() + 3);
    w_shape = std::max(w_shape, r.shape.size() + 3);
    w_params = std::max(w_params, r.params.size() + 1);
  }
  const size_t width = 1 + w_layer + w_shape + w_params;
  std::ostringstream os;
  os << "Model: \"" << type_name() << "\"\n";
  os << std::string(width, '_') << "\n";
  os << " " << pad_right("Layer (type)", w_layer) << pad_right("Output Shape", w_shape) << pad_left("Param #", w_params)
     << "\n";
  os << std::string(width, '=') << "\n";
  for (const Row& r : rows)
    os << " " << pad_right(r.layer, w_layer) << pad_right(r.shape, w_shape) << pad_left(r.params, w_params) << "\n";
  os << std::string(width, '=') << "\n";
  os << "Input shape: " << xgrad::to_string(input_shape) << ", output shape: " << xgrad::to_string(output.shape())
     << "\n";
  os << "Total params: " << with_commas(total) << "\n";
  os << "Trainable params: " << with_commas(trainable) << "\n";
  os << "Non-trainable params: " << with_commas(total - trainable) << "\n";
  os << std::string(width, '_') << "\n";
  return os.str();
}

void Module::print_summary(const Shape& input_shape) { print_summary(input_shape, std::cout); }
void Module::print_summary(const Shape& input_shape, std::ostream& os) { os << summary(input_shape); }

}  // namespace xgrad::nn
