#pragma once
// Sequential: children named "0", "1", ... called in order.
//   auto net = nn::Sequential({nn::Linear({.in = 2, .out = 10}), nn::ReLU(), nn::Linear({.in = 10, .out = 1})});
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

// Any module handle (a layer, a user model, a shared_ptr to one), for Sequential's lists.
class AnyModule {
 public:
  template <class M>
  requires std::derived_from<M, Module> AnyModule(M module)
      : ptr_(std::make_shared<M>(std::move(module))) {}                   // NOLINT: implicit on purpose
  AnyModule(std::shared_ptr<Module> module) : ptr_(std::move(module)) {}  // NOLINT
  const std::shared_ptr<Module>& ptr() const { return ptr_; }

 private:
  std::shared_ptr<Module> ptr_;
};

class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<AnyModule> modules);
  explicit Sequential(const std::vector<AnyModule>& modules);

  // Appends a module named by its position.
  Sequential& push_back(const AnyModule& module);
  size_t size() const { return state().children.size(); }
  bool empty() const { return size() == 0; }
  // The i-th module; IndexError when out of range.
  std::shared_ptr<Module> operator[](size_t i) const;
  // The i-th module as its own type: seq.at<Linear>(0).weight. ValueError when it is another type.
  template <class M> M& at(size_t i) const {
    auto* m = dynamic_cast<M*>((*this)[i].get());
    if (m == nullptr) throw_wrong_type(i);
    return *m;
  }

  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }

 private:
  [[noreturn]] void throw_wrong_type(size_t i) const;
};

}  // namespace xgrad::nn
