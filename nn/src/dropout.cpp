#include "xgrad/nn/dropout.hpp"

#include <sstream>

#include "xgrad/nn/functional.hpp"

namespace xgrad::nn {

Dropout::Dropout(double p) : p_(p) {
  if (!(p >= 0.0 && p <= 1.0)) throw ValueError("Dropout: p must be in [0, 1], got " + std::to_string(p));
}

Tensor Dropout::forward(const Tensor& x) { return functional::dropout(x, p_, is_training()); }

std::string Dropout::extra_repr() const {
  std::ostringstream os;
  os << "p=" << p_;
  return os.str();
}

Dropout2d::Dropout2d(double p) : p_(p) {
  if (!(p >= 0.0 && p <= 1.0)) throw ValueError("Dropout2d: p must be in [0, 1], got " + std::to_string(p));
}

Tensor Dropout2d::forward(const Tensor& x) { return functional::dropout2d(x, p_, is_training()); }

std::string Dropout2d::extra_repr() const {
  std::ostringstream os;
  os << "p=" << p_;
  return os.str();
}

}  // namespace xgrad::nn
