#pragma once
// The checkpoint layout on Arrays (see xgrad/io/checkpoint_file.hpp), without autograd, so that the
// fuzz target links it with the other parsers only.
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format.hpp"

namespace xgrad::io::detail {

struct CheckpointArrays {
  NamedArrays model;
  std::map<std::string, Array> optimizer;
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> texts;
  std::vector<std::pair<std::string, std::vector<double>>> history;
};

std::string write_checkpoint(const CheckpointArrays& data);
CheckpointArrays parse_checkpoint(std::string_view who, std::string_view source, std::string_view bytes);

}  // namespace xgrad::io::detail
