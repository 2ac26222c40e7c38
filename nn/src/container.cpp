#include "xgrad/nn/container.hpp"

namespace xgrad::nn {

Sequential::Sequential(std::initializer_list<AnyModule> modules) {
  for (const AnyModule& m : modules) push_back(m);
}

Sequential::Sequential(const std::vector<AnyModule>& modules) {
  for (const AnyModule& m : modules) push_back(m);
}

Sequential& Sequential::push_back(const AnyModule& module) {
  register_module(std::to_string(size()), module.ptr());
  return *this;
}

std::shared_ptr<Module> Sequential::operator[](size_t i) const {
  if (i >= size())
    throw IndexError("Sequential: index " + std::to_string(i) + " is out of range for " + std::to_string(size()) +
                     " modules");
  return state().children[i].second;
}

void Sequential::throw_wrong_type(size_t i) const {
  throw ValueError("Sequential::at: module " + std::to_string(i) + " is a " + (*this)[i]->type_name() +
                   ", not the type asked for");
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& entry : state().children) y = (*entry.second)(y);
  return y;
}

}  // namespace xgrad::nn
