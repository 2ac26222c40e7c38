// IDX reader and writer over zlib: the reader inflates a gzip file and passes a plain one
// through, so one code path reads both; the writer uses gzopen's "wb" (gzip) or "wbT" (plain).
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

#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::data {
namespace {

constexpr uint8_t kUnsignedByte = 0x08;
constexpr int64_t kMaxBytes = int64_t{1} << 34;  // 16 GiB: a header claiming more is corrupt

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

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

// Reads a file, inflating it when it starts with the gzip magic (1f 8b). We drive inflate()
// ourselves rather than through gzread: gzread reports a stream cut inside its 8-byte trailer
// as a clean end of file, and a cut file must be an error. Concatenated gzip members are read
// one after the other, as gunzip does.
class Reader {
 public:
  Reader(const std::string& path, const char* who) : path_(path), who_(who) {
    errno = 0;
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) fail(std::string("cannot open: ") + std::strerror(errno));
    fill();
    gzip_ = in_.size() >= 2 && in_[0] == 0x1f && in_[1] == 0x8b;
    if (gzip_) {
      if (inflateInit2(&stream_, 15 + 16) != Z_OK) fail("zlib could not initialise inflate");
      inflating_ = true;
    }
  }
  ~Reader() {
    if (inflating_) inflateEnd(&stream_);
    if (file_) std::fclose(file_);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  [[noreturn]] void fail(const std::string& what) const { throw IOError(who_ + ": " + path_ + ": " + what); }

  // Up to n bytes; fewer only at the end of the data. A damaged stream throws.
  int64_t read(void* buffer, int64_t n) {
    auto* out = static_cast<unsigned char*>(buffer);
    int64_t total = 0;
    while (total < n) {
      if (in_pos_ == in_.size() && !fill()) {
        if (gzip_ && !member_done_) fail("gzip stream error: truncated compressed data (unexpected end of file)");
        break;
      }
      if (!gzip_) {
        const auto take = static_cast<size_t>(std::min<int64_t>(n - total, static_cast<int64_t>(in_.size() - in_pos_)));
        std::memcpy(out + total, in_.data() + in_pos_, take);
        in_pos_ += take;
        total += static_cast<int64_t>(take);
        continue;
      }
      if (member_done_) {  // more input after a complete member: another member, or garbage
        if (in_[in_pos_] != 0x1f) fail("gzip stream error: unexpected data after the end of the compressed stream");
        inflateReset(&stream_);
        member_done_ = false;
      }
      stream_.next_in = in_.data() + in_pos_;
      stream_.avail_in = static_cast<uInt>(in_.size() - in_pos_);
      stream_.next_out = out + total;
      stream_.avail_out = static_cast<uInt>(std::min<int64_t>(n - total, int64_t{1} << 30));
      const uInt before = stream_.avail_out;
      const int rc = inflate(&stream_, Z_NO_FLUSH);
      in_pos_ = in_.size() - stream_.avail_in;
      total += before - stream_.avail_out;
      if (rc == Z_STREAM_END) {
        member_done_ = true;
      } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
        fail(std::string("gzip stream error: ") + (stream_.msg ? stream_.msg : "corrupt compressed data"));
      } else if (rc == Z_MEM_ERROR) {
        fail("gzip stream error: out of memory");
      }
    }
    return total;
  }

 private:
  // Refills the input buffer; false at the end of the file.
  bool fill() {
    in_.resize(1 << 16);
    const size_t got = std::fread(in_.data(), 1, in_.size(), file_);
    if (got == 0 && std::ferror(file_)) fail(std::string("read error: ") + std::strerror(errno));
    in_.resize(got);
    in_pos_ = 0;
    return got > 0;
  }

  std::string path_, who_;
  std::FILE* file_ = nullptr;
  std::vector<unsigned char> in_;
  size_t in_pos_ = 0;
  bool gzip_ = false, inflating_ = false, member_done_ = false;
  z_stream stream_{};
};

void check_readable(const std::string& path, const char* who) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) throw IOError(std::string(who) + ": " + path + ": no such file");
  if (std::filesystem::is_directory(status)) throw IOError(std::string(who) + ": " + path + ": is a directory");
}

}  // namespace

Tensor read_idx(const std::string& path) {
  check_readable(path, "read_idx");
  Reader file(path, "read_idx");
  unsigned char header[4];
  const int64_t got = file.read(header, 4);
  if (got < 4) file.fail("truncated: " + std::to_string(got) + " bytes is too short for an IDX header");
  const uint32_t magic =
      (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) | (uint32_t{header[2]} << 8) | header[3];
  const int64_t ndim = header[3];
  if (header[0] != 0 || header[1] != 0 || ndim == 0)
    file.fail("bad magic number " + hex32(magic) +
              " (not an IDX file: expected 0x00000801 for labels, 0x00000803 for images)");
  if (header[2] != kUnsignedByte)
    file.fail("unsupported IDX data type 0x" + hex32(header[2]).substr(8) + " in magic number " + hex32(magic) +
              " (only unsigned bytes, 0x08, are supported)");

  std::vector<unsigned char> dims_raw(static_cast<size_t>(4 * ndim));
  const int64_t dims_got = file.read(dims_raw.data(), 4 * ndim);
  if (dims_got < 4 * ndim)
    file.fail("truncated: the header declares " + std::to_string(ndim) + " dims but holds " + std::to_string(dims_got) +
              " of their " + std::to_string(4 * ndim) + " bytes");
  Shape shape;
  int64_t count = 1;
  for (int64_t d = 0; d < ndim; ++d) {
    const unsigned char* p = dims_raw.data() + 4 * d;
    const int64_t size = (int64_t{p[0]} << 24) | (int64_t{p[1]} << 16) | (int64_t{p[2]} << 8) | p[3];
    shape.push_back(size);
    count *= size;
    if (count > kMaxBytes) file.fail("corrupt header: dims " + to_string(Shape(shape)) + "... are implausibly large");
  }

  std::vector<unsigned char> bytes(static_cast<size_t>(count));
  const int64_t data_got = file.read(bytes.data(), count);
  if (data_got < count)
    file.fail("truncated: the header declares " + to_string(shape) + " = " + std::to_string(count) +
              " values but the file holds " + std::to_string(data_got));
  unsigned char extra = 0;
  if (file.read(&extra, 1) != 0)
    file.fail("corrupt: data continues after the " + std::to_string(count) + " values the header declares (" +
              to_string(shape) + ")");

  if (ndim == 1) {
    Array labels(shape, kInt64);
    int64_t* out = labels.data<int64_t>();
    for (int64_t i = 0; i < count; ++i) out[i] = bytes[static_cast<size_t>(i)];
    return Tensor(labels);
  }
  Array images(shape, kFloat32);
  float* out = images.data<float>();
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<float>(bytes[static_cast<size_t>(i)]) / 255.0f;
  return Tensor(images);
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
