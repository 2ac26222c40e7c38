// data::from_idx, the byte-level IDX parser that read_idx and the fuzz target share: the same
// values as read_idx, and forged headers that fail without allocating what they claim.
#include <gtest/gtest.h>

#include "dataio/temp_dir.hpp"
#include "support/expect.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::data {
namespace {

using xgrad::testing::expect_error;
using xgrad::testing::TempDir;

std::string idx(const std::vector<uint32_t>& dims, const std::string& data = "") {
  std::string h = {0, 0, 0x08, static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) h += static_cast<char>((d >> shift) & 0xFF);
  return h + data;
}

TEST(FromIdx, MatchesReadIdxPlainAndGzip) {
  TempDir dir;
  const Tensor labels = tensor({4, 2, 7});
  write_idx(dir.file("labels.gz"), labels, /*gzip=*/true);
  const std::string gz = io::read_file(dir.file("labels.gz"));
  EXPECT_EQ(from_idx(gz).to_vector<int64_t>(), std::vector<int64_t>({4, 2, 7}));
  EXPECT_EQ(from_idx(idx({3}, "\x04\x02\x07")).to_vector<int64_t>(), std::vector<int64_t>({4, 2, 7}));
  const Tensor images = from_idx(idx({1, 2}, std::string("\x00\xFF", 2)));
  EXPECT_EQ(images.dtype(), kFloat32);
  EXPECT_EQ(images.to_vector<float>(), std::vector<float>({0.0f, 1.0f}));
}

TEST(FromIdx, ErrorsNameTheSource) {
  expect_error<FormatError>([] { from_idx("abc", "labels.bin"); },
                            {"from_idx: labels.bin: truncated: 3 bytes is too short for an IDX header"});
}

TEST(FromIdx, ForgedSizesFailWithoutAllocatingThem) {
  // 65535 x 65535 x 3 bytes (12.9 GB) declared by a 16-byte file: truncated, and only a small
  // buffer is ever allocated.
  expect_error<FormatError>(
      [] {
        from_idx(idx({65535, 65535, 3}));
      },
      {"declares [65535, 65535, 3] = 12884508675 values but the file holds 0"});
  // A zero dim makes 0 values, but the strides of the other dims would overflow int64.
  expect_error<FormatError>([] { from_idx(idx({0, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF})); }, {"implausibly large"});
  expect_error<FormatError>([] { from_idx(idx({0xFFFFFFFF, 0xFFFFFFFF})); }, {"implausibly large"});
}

TEST(FromIdx, GzipStreamFollowedByGarbage) {
  TempDir dir;
  write_idx(dir.file("l.gz"), tensor({1, 2}), true);
  expect_error<FormatError>([&] { from_idx(io::read_file(dir.file("l.gz")) + "junk"); },
                            {"unexpected data after the end of the compressed stream"});
  // Two gzip members one after the other read as one stream, as gunzip does.
  const std::string gz = io::read_file(dir.file("l.gz"));
  expect_error<FormatError>([&] { from_idx(gz + gz); }, {"data continues after the 2 values"});
}

}  // namespace
}  // namespace xgrad::data
