#include "xgrad/tensor/random.hpp"

#include <sstream>

#include "xgrad/tensor/error.hpp"

namespace xgrad {

std::string Generator::state() const {
  std::ostringstream os;
  os << engine_;
  return os.str();
}

void Generator::set_state(const std::string& state) {
  std::istringstream is(state);
  std::mt19937_64 engine;
  is >> engine;
  if (!is) throw ValueError("Generator::set_state: the text is not a generator state");
  engine_ = engine;
}

Generator& default_generator() {
  static Generator generator(0);
  return generator;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace xgrad
