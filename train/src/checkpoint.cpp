#include "xgrad/train/checkpoint.hpp"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "xgrad/nn/module.hpp"
#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::train {
namespace {

static_assert(std::endian::native == std::endian::little, "the model.bin writer assumes a little-endian host");

constexpr char kMagic[8] = {'X', 'G', 'R', 'A', 'D', 'P', 'R', 'M'};
constexpr uint32_t kVersion = 1;

uint8_t dtype_code(DType t) {
  switch (t) {
    case DType::Bool: return 0;
    case DType::Int64: return 1;
    case DType::Float32: return 2;
    case DType::Float64: return 3;
  }
  return 255;
}

class In {
 public:
  explicit In(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    if (!std::filesystem::exists(path)) fail("no such file");
    if (!in_) fail(std::string("cannot open: ") + std::strerror(errno));
  }
  [[noreturn]] void fail(const std::string& what) const { throw IOError("load_parameters: " + path_ + ": " + what); }
  void read(void* data, size_t n, const char* what) {
    in_.read(static_cast<char*>(data), static_cast<std::streamsize>(n));
    if (static_cast<size_t>(in_.gcount()) != n) fail(std::string("truncated file (while reading ") + what + ")");
  }
  template <typename T> T get(const char* what) {
    T v{};
    read(&v, sizeof v, what);
    return v;
  }
  bool at_end() { return in_.peek() == std::char_traits<char>::eof(); }

 private:
  std::string path_;
  std::ifstream in_;
};

template <typename T> void put(std::ofstream& out, T v) { out.write(reinterpret_cast<const char*>(&v), sizeof v); }

NamedTensors state_of(const nn::Module& model) {
  NamedTensors all = model.named_parameters();
  for (auto& named : model.named_buffers()) all.push_back(std::move(named));
  return all;
}

}  // namespace

void save_tensors(const NamedTensors& tensors, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IOError("save_parameters: " + path + ": cannot open for writing: " + std::strerror(errno));
    out.write(kMagic, sizeof kMagic);
    put<uint32_t>(out, kVersion);
    put<uint64_t>(out, tensors.size());
    for (const auto& [name, tensor] : tensors) {
      if (!tensor.defined()) throw ValueError("save_parameters: tensor '" + name + "' is undefined");
      put<uint32_t>(out, static_cast<uint32_t>(name.size()));
      out.write(name.data(), static_cast<std::streamsize>(name.size()));
      put<uint8_t>(out, dtype_code(tensor.dtype()));
      put<uint32_t>(out, static_cast<uint32_t>(tensor.dim()));
      for (int64_t size : tensor.shape()) put<int64_t>(out, size);
      const Array values = tensor.array().contiguous();
      out.write(static_cast<const char*>(values.raw_data()),
                static_cast<std::streamsize>(static_cast<size_t>(values.numel()) * itemsize(values.dtype())));
    }
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw IOError("save_parameters: " + path + ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw IOError("save_parameters: " + path + ": cannot move the written file into place: " + ec.message());
}

NamedTensors load_tensors(const std::string& path) {
  In in(path);
  char magic[8];
  in.read(magic, sizeof magic, "the magic");
  if (std::memcmp(magic, kMagic, sizeof magic) != 0) in.fail("bad magic (not an xgrad parameter file)");
  const auto version = in.get<uint32_t>("the version");
  if (version != kVersion) in.fail("unsupported format version " + std::to_string(version));
  const auto count = in.get<uint64_t>("the tensor count");
  NamedTensors tensors;
  for (uint64_t i = 0; i < count; ++i) {
    const auto length = in.get<uint32_t>("a name length");
    if (length > 4096) in.fail("corrupt: a name of " + std::to_string(length) + " bytes");
    std::string name(length, '\0');
    in.read(name.data(), length, "a name");
    const auto code = in.get<uint8_t>("a dtype");
    if (code > 3) in.fail("corrupt: unknown dtype code " + std::to_string(code) + " for '" + name + "'");
    const DType dtype = code == 0 ? kBool : code == 1 ? kInt64 : code == 2 ? kFloat32 : kFloat64;
    const auto ndim = in.get<uint32_t>("a dim count");
    if (ndim > 64) in.fail("corrupt: " + std::to_string(ndim) + " dims for '" + name + "'");
    Shape shape;
    int64_t n = 1;
    for (uint32_t d = 0; d < ndim; ++d) {
      shape.push_back(in.get<int64_t>("a dim"));
      if (shape.back() < 0 || shape.back() > (int64_t{1} << 40)) in.fail("corrupt: bad dims for '" + name + "'");
      n *= shape.back();
      if (n > (int64_t{1} << 36)) in.fail("corrupt: implausibly large tensor '" + name + "'");
    }
    Array values(shape, dtype);
    in.read(values.raw_data(), static_cast<size_t>(n) * itemsize(dtype), ("the values of '" + name + "'").c_str());
    tensors.emplace_back(std::move(name), Tensor(values));
  }
  if (!in.at_end()) in.fail("corrupt: data after the last tensor");
  return tensors;
}

void save_parameters(const nn::Module& model, const std::string& path) { save_tensors(state_of(model), path); }

void load_parameters(nn::Module& model, const std::string& path, bool strict) {
  std::map<std::string, Tensor> saved;
  for (auto& [name, tensor] : load_tensors(path)) saved.emplace(name, tensor);
  // Check everything first, so that a failed load leaves the model unchanged.
  std::vector<std::pair<Tensor, Tensor>> copies;  // (model tensor, saved value)
  std::string missing;
  for (const auto& [name, target] : state_of(model)) {
    const auto it = saved.find(name);
    if (it == saved.end()) {
      missing += (missing.empty() ? "" : ", ") + name;
      continue;
    }
    const Tensor& value = it->second;
    if (value.shape() != target.shape() || value.dtype() != target.dtype())
      throw IOError("load_parameters: " + path + ": '" + name + "' is saved as " +
                    std::string(dtype_name(value.dtype())) + " " + to_string(value.shape()) + " but the model has " +
                    std::string(dtype_name(target.dtype())) + " " + to_string(target.shape()));
    copies.emplace_back(target, value);
    saved.erase(it);
  }
  if (strict && !missing.empty()) throw IOError("load_parameters: " + path + ": missing from the file: " + missing);
  if (strict && !saved.empty()) {
    std::string unexpected;
    for (const auto& [name, tensor] : saved) unexpected += (unexpected.empty() ? "" : ", ") + name;
    throw IOError("load_parameters: " + path + ": not in the model: " + unexpected);
  }
  for (const auto& [target, value] : copies) {
    kernels::copy_(target.array(), value.array());
    target.array().bump_version();
  }
}

}  // namespace xgrad::train
