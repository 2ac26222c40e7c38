// The IDX parser (see xgrad/data/idx.hpp for the format). The bytes go through one reader that
// inflates a gzip stream and passes plain bytes through. We drive inflate() ourselves rather than
// through gzread: gzread reports a stream cut inside its 8-byte trailer as a clean end of file, and
// a cut file must be an error. Concatenated gzip members are read one after the other, as gunzip
// does. The values buffer grows with the data that really arrives, so a forged header cannot
// make us allocate more than the file holds.
#include "idx_format.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <zlib.h>

#include "xgrad/tensor/error.hpp"

namespace xgrad::data::detail {
namespace {

constexpr uint8_t kUnsignedByte = 0x08;
constexpr int64_t kMaxBytes = int64_t{1} << 34;  // 16 GiB: a header claiming more is corrupt

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

class Reader {
 public:
  Reader(std::string_view who, std::string_view source, std::string_view bytes)
      : prefix_(std::string(who) + ": " + std::string(source) + ": "), in_(bytes) {
    gzip_ = in_.size() >= 2 && static_cast<unsigned char>(in_[0]) == 0x1f && static_cast<unsigned char>(in_[1]) == 0x8b;
    if (gzip_) {
      if (inflateInit2(&stream_, 15 + 16) != Z_OK) fail("zlib could not initialise inflate");
      inflating_ = true;
    }
  }
  ~Reader() {
    if (inflating_) inflateEnd(&stream_);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  [[noreturn]] void fail(const std::string& what) const { throw FormatError(prefix_ + what); }

  // Up to n bytes; fewer only at the end of the data. A damaged stream throws.
  int64_t read(void* buffer, int64_t n) {
    auto* out = static_cast<unsigned char*>(buffer);
    int64_t total = 0;
    while (total < n) {
      if (pos_ == in_.size()) {
        if (gzip_ && !member_done_) fail("gzip stream error: truncated compressed data (unexpected end of file)");
        break;
      }
      if (!gzip_) {
        const auto take = static_cast<size_t>(std::min<int64_t>(n - total, static_cast<int64_t>(in_.size() - pos_)));
        std::memcpy(out + total, in_.data() + pos_, take);
        pos_ += take;
        total += static_cast<int64_t>(take);
        continue;
      }
      if (member_done_) {  // more input after a complete member: another member, or garbage
        if (static_cast<unsigned char>(in_[pos_]) != 0x1f)
          fail("gzip stream error: unexpected data after the end of the compressed stream");
        inflateReset(&stream_);
        member_done_ = false;
      }
      stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in_.data() + pos_));
      stream_.avail_in = static_cast<uInt>(std::min<size_t>(in_.size() - pos_, size_t{1} << 30));
      stream_.next_out = out + total;
      stream_.avail_out = static_cast<uInt>(std::min<int64_t>(n - total, int64_t{1} << 30));
      const uInt in_before = stream_.avail_in, out_before = stream_.avail_out;
      const int rc = inflate(&stream_, Z_NO_FLUSH);
      pos_ += in_before - stream_.avail_in;
      total += out_before - stream_.avail_out;
      if (rc == Z_STREAM_END) {
        member_done_ = true;
      } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
        fail(std::string("gzip stream error: ") + (stream_.msg ? stream_.msg : "corrupt compressed data"));
      } else if (rc == Z_MEM_ERROR) {
        fail("gzip stream error: out of memory");
      } else if (in_before == stream_.avail_in && out_before == stream_.avail_out) {
        fail("gzip stream error: the stream makes no progress");
      }
    }
    return total;
  }

 private:
  std::string prefix_;
  std::string_view in_;
  size_t pos_ = 0;
  bool gzip_ = false, inflating_ = false, member_done_ = false;
  z_stream stream_{};
};

}  // namespace

Array parse_idx(std::string_view who, std::string_view source, std::string_view bytes) {
  Reader file(who, source, bytes);
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

  unsigned char dims_raw[4 * 255];
  const int64_t dims_got = file.read(dims_raw, 4 * ndim);
  if (dims_got < 4 * ndim)
    file.fail("truncated: the header declares " + std::to_string(ndim) + " dims but holds " + std::to_string(dims_got) +
              " of their " + std::to_string(4 * ndim) + " bytes");
  Shape shape;
  int64_t nonzero = 1;  // the product of the non-zero dims: bounded too, so that no stride overflows
  bool empty = false;
  for (int64_t d = 0; d < ndim; ++d) {
    const unsigned char* p = dims_raw + 4 * d;
    const int64_t size = (int64_t{p[0]} << 24) | (int64_t{p[1]} << 16) | (int64_t{p[2]} << 8) | p[3];
    shape.push_back(size);
    empty = empty || size == 0;
    if (size != 0 && (__builtin_mul_overflow(nonzero, size, &nonzero) || nonzero > kMaxBytes))
      file.fail("corrupt header: dims " + to_string(shape) + (d + 1 < ndim ? "..." : "") + " are implausibly large");
  }
  const int64_t count = empty ? 0 : nonzero;

  std::vector<unsigned char> values;
  int64_t values_got = 0;
  while (values_got < count) {  // doubling chunks: memory follows the data that really arrives
    const int64_t want = std::min<int64_t>(count - values_got, std::max<int64_t>(values_got, int64_t{1} << 16));
    values.resize(static_cast<size_t>(values_got + want));
    const int64_t read = file.read(values.data() + values_got, want);
    values_got += read;
    if (read < want) break;
  }
  if (values_got < count)
    file.fail("truncated: the header declares " + to_string(shape) + " = " + std::to_string(count) +
              " values but the file holds " + std::to_string(values_got));
  unsigned char extra = 0;
  if (file.read(&extra, 1) != 0)
    file.fail("corrupt: data continues after the " + std::to_string(count) + " values the header declares (" +
              to_string(shape) + ")");

  if (ndim == 1) {
    Array labels(shape, kInt64);
    int64_t* out = labels.data<int64_t>();
    for (int64_t i = 0; i < count; ++i) out[i] = values[static_cast<size_t>(i)];
    return labels;
  }
  Array images(shape, kFloat32);
  float* out = images.data<float>();
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<float>(values[static_cast<size_t>(i)]) / 255.0f;
  return images;
}

}  // namespace xgrad::data::detail
