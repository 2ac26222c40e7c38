#include "support/grad_cases.hpp"

namespace xgrad::testing {

std::vector<GradCase>& grad_cases() {
  static std::vector<GradCase> cases;
  return cases;
}

bool register_grad_case(GradCase c) {
  grad_cases().push_back(std::move(c));
  return true;
}

Inputs make_inputs(const GradCase& c, uint64_t seed) {
  Generator gen(seed);
  Inputs inputs;
  for (const Shape& shape : c.shapes) {
    Tensor u = rand(shape, gen, {.dtype = kFloat64});  // [0, 1)
    Tensor x;
    switch (c.domain) {
      case Domain::Any: x = u * 4.0 - 2.0; break;
      case Domain::Positive: x = u * 1.5 + 0.5; break;
      case Domain::Unit: x = u * 1.8 - 0.9; break;
      case Domain::AwayFromZero: {
        Tensor sign = where(rand(shape, gen, {.dtype = kFloat64}) < 0.5, full(shape, -1.0, {.dtype = kFloat64}),
                            full(shape, 1.0, {.dtype = kFloat64}));
        x = (u * 1.7 + 0.3) * sign;
        break;
      }
    }
    inputs.push_back(x.detach().contiguous().requires_grad_());
  }
  return inputs;
}

}  // namespace xgrad::testing
