#include "xgrad/io/model_io.hpp"

namespace xgrad::io {

void save_model(const nn::Module& model, const std::string& path, const Metadata& metadata) {
  save_safetensors(path, model.state_dict(), metadata);
}

nn::LoadStateDictResult load_model(nn::Module& model, const std::string& path, bool strict) {
  return model.load_state_dict(load_safetensors(path).tensors, strict);
}

}  // namespace xgrad::io
