#pragma once
// Random numbers: explicit generator objects and one global, seedable default. The same seed
// gives the same values on every run of the same build.
#include <cstdint>
#include <random>
#include <string>

namespace xgrad {

class Generator {
 public:
  explicit Generator(uint64_t seed = 5489u) : engine_(seed) {}
  void manual_seed(uint64_t seed) { engine_.seed(seed); }
  std::mt19937_64& engine() { return engine_; }
  // The whole state as text (std::mt19937_64's stream form), for checkpoints.
  std::string state() const;
  void set_state(const std::string& state);

 private:
  std::mt19937_64 engine_;
};

Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace xgrad
