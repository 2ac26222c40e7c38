// IDX reader and writer over zlib: the reader reads the whole file and hands the bytes to
// detail::parse_idx (idx_format.cpp), which inflates a gzip stream and passes a plain one
// through; the writer uses gzopen's "wb" (gzip) or "wbT" (plain).
#include "xgrad/data/idx.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <zlib.h>

#include "idx_format.hpp"
#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::data {
namespace {

constexpr uint8_t kUnsignedByte = 0x08;

// Writes through zlib's gz* API: "wb" compresses, "wbT" writes a plain file.
class GzWriter {
 public:
  GzWriter(const std::string& path, bool gzip) : path_(path) {
    errno = 0;
    file_ = gzopen(path.c_str(), gzip ? "wb" : "wbT");
    if (!file_)
      fail(std::string("cannot open: ") + (errno ? std::strerror(errno) : "zlib could not allocate its state"));
  }
  ~GzWriter() {
    if (file_) gzclose(file_);
  }
  GzWriter(const GzWriter&) = delete;
  GzWriter& operator=(const GzWriter&) = delete;

  void write(const void* data, int64_t n) {
    const auto* in = static_cast<const unsigned char*>(data);
    for (int64_t done = 0; done < n;) {
      const auto chunk = static_cast<unsigned>(std::min<int64_t>(n - done, int64_t{1} << 30));
      const int put = gzwrite(file_, in + done, chunk);
      if (put <= 0) {
        int errnum = Z_OK;
        const char* message = gzerror(file_, &errnum);
        fail(errnum == Z_ERRNO ? std::string("write error: ") + std::strerror(errno) : std::string(message));
      }
      done += put;
    }
  }

  void close() {
    const int rc = gzclose(std::exchange(file_, nullptr));
    if (rc != Z_OK) fail("closing the file failed (zlib error " + std::to_string(rc) + ")");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw IOError("write_idx: " + path_ + ": " + what); }
  std::string path_;
  gzFile file_ = nullptr;
};

void check_readable(const std::string& path, const char* who) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) throw IOError(std::string(who) + ": " + path + ": no such file");
  if (std::filesystem::is_directory(status)) throw IOError(std::string(who) + ": " + path + ": is a directory");
}

// The whole file: IDX parsing works on bytes (detail::parse_idx), so that a file and a buffer
// (from_idx) share one hardened parser.
std::string read_all(const std::string& path, const char* who) {
  errno = 0;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw IOError(std::string(who) + ": " + path + ": cannot open: " + std::strerror(errno));
  std::string bytes;
  char chunk[1 << 16];
  while (true) {
    const size_t got = std::fread(chunk, 1, sizeof chunk, file);
    bytes.append(chunk, got);
    if (got < sizeof chunk) break;
  }
  const bool failed = std::ferror(file);
  const int error = errno;
  std::fclose(file);
  if (failed) throw IOError(std::string(who) + ": " + path + ": read error: " + std::strerror(error));
  return bytes;
}

}  // namespace

Tensor read_idx(const std::string& path) {
  check_readable(path, "read_idx");
  return Tensor(detail::parse_idx("read_idx", path, read_all(path, "read_idx")));
}

Tensor from_idx(std::string_view bytes, const std::string& source) {
  return Tensor(detail::parse_idx("from_idx", source, bytes));
}

void write_idx(const std::string& path, const Tensor& values, bool gzip) {
  if (!values.defined()) throw ValueError("write_idx: values are undefined");
  if (values.dim() < 1 || values.dim() > 255)
    throw ShapeError("write_idx: IDX needs 1 to 255 dims, got shape " + to_string(values.shape()));
  for (int64_t size : values.shape())
    if (size > int64_t{0xFFFFFFFF})
      throw ShapeError("write_idx: a dim of " + std::to_string(size) + " exceeds 2^32 - 1");
  const bool floating = values.is_floating_point();
  const Array v = values.array().to(kFloat64).contiguous();
  const double* p = v.data<double>();
  std::vector<unsigned char> bytes(static_cast<size_t>(v.numel()));
  for (int64_t i = 0; i < v.numel(); ++i) {
    const double x = floating ? std::round(p[i] * 255.0) : p[i];
    if (!(x >= 0.0 && x <= 255.0))
      throw ValueError("write_idx: value " + std::to_string(p[i]) + " at flat index " + std::to_string(i) +
                       (floating ? " is outside [0, 1]" : " is outside [0, 255]"));
    bytes[static_cast<size_t>(i)] = static_cast<unsigned char>(x);
  }
  std::vector<unsigned char> header = {0, 0, kUnsignedByte, static_cast<unsigned char>(values.dim())};
  for (int64_t size : values.shape())
    for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<unsigned char>((size >> shift) & 0xFF));

  GzWriter file(path, gzip);
  file.write(header.data(), static_cast<int64_t>(header.size()));
  file.write(bytes.data(), static_cast<int64_t>(bytes.size()));
  file.close();
}

TensorDataset load_idx_dataset(const std::string& images_path, const std::string& labels_path) {
  Tensor images = read_idx(images_path);
  Tensor labels = read_idx(labels_path);
  if (images.dim() < 2)
    throw IOError("load_idx_dataset: " + images_path + ": expected images (an IDX file of 2 or more dims), got shape " +
                  to_string(images.shape()));
  if (labels.dim() != 1)
    throw IOError("load_idx_dataset: " + labels_path + ": expected labels (a 1-d IDX file), got shape " +
                  to_string(labels.shape()));
  if (images.size(0) != labels.size(0))
    throw IOError("load_idx_dataset: dimension mismatch: " + images_path + " holds " + std::to_string(images.size(0)) +
                  " images but " + labels_path + " holds " + std::to_string(labels.size(0)) + " labels");
  return TensorDataset(images, labels);
}

namespace {

std::string find_idx(const std::string& dir, const std::string& name, const char* who) {
  namespace fs = std::filesystem;
  for (const std::string& candidate : {name + ".gz", name})
    if (fs::exists(fs::path(dir) / candidate)) return (fs::path(dir) / candidate).string();
  if (!fs::is_directory(dir)) throw IOError(std::string(who) + ": " + dir + ": no such directory");
  throw IOError(std::string(who) + ": " + dir + ": neither " + name + ".gz nor " + name + " found");
}

TrainTestData load_mnist_files(const std::string& dir, const char* who) {
  return {
      load_idx_dataset(find_idx(dir, "train-images-idx3-ubyte", who), find_idx(dir, "train-labels-idx1-ubyte", who)),
      load_idx_dataset(find_idx(dir, "t10k-images-idx3-ubyte", who), find_idx(dir, "t10k-labels-idx1-ubyte", who))};
}

}  // namespace

TrainTestData load_mnist(const std::string& dir) { return load_mnist_files(dir, "load_mnist"); }
TrainTestData load_fashion_mnist(const std::string& dir) { return load_mnist_files(dir, "load_fashion_mnist"); }

const std::array<std::string, 10>& fashion_mnist_classes() {
  static const std::array<std::string, 10> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

}  // namespace xgrad::data
