// .npy: round trips, byte-for-byte agreement with files NumPy wrote (tests/data/make_npz_fixture.py),
// the dtypes and layouts only read (float16, small integers, big-endian, Fortran order), and a
// FormatError naming the source and the fault for every kind of damage.
#include <cstring>

#include <gtest/gtest.h>

#include "dataio/temp_dir.hpp"
#include "io_checks.hpp"
#include "support/expect.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::io {
namespace {

using testing::fixture;
using xgrad::testing::expect_error;
using xgrad::testing::TempDir;

// A .npy file of version `major`.0 with this header dict (unpadded) and data.
std::string npy(const std::string& dict, const std::string& data = "", int major = 1) {
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const size_t n = dict.size();
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + dict + data;
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

void expect_format_error(const std::string& file, std::initializer_list<std::string> fragments) {
  expect_error<FormatError>([&] { from_npy(file, "bad.npy"); }, fragments);
}

TEST(Npy, RoundTripsEveryDtypeAndShape) {
  const std::vector<Tensor> tensors = {
      tensor(std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f, 4.0f, -0.5f}, {2, 3}),
      scalar_tensor(2.5, {.dtype = kFloat64}),
      tensor(std::vector<int64_t>{-3, int64_t{1} << 40}, {2, 1}),
      tensor(std::vector<double>{1, 0, 1}, {3}).to(kBool),
      zeros({0, 3}),
      zeros({2, 0, 1}, {.dtype = kInt64}),
  };
  for (const Tensor& t : tensors) {
    const Tensor back = from_npy(to_npy(t));
    EXPECT_EQ(back.dtype(), t.dtype());
    EXPECT_EQ(back.shape(), t.shape());
    EXPECT_EQ(back.to_vector<double>(), t.to_vector<double>());
    EXPECT_FALSE(back.requires_grad());
  }
}

TEST(Npy, NonContiguousTensorSavesItsValues) {
  const Tensor t = arange(6).reshape({2, 3}).transpose(0, 1);
  const Tensor back = from_npy(to_npy(t));
  EXPECT_EQ(back.shape(), Shape({3, 2}));
  EXPECT_EQ(back.to_vector<int64_t>(), std::vector<int64_t>({0, 3, 1, 4, 2, 5}));
}

TEST(Npy, BytesMatchNumpysSave) {
  EXPECT_EQ(to_npy(tensor(std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f, 4.0f, -0.5f}, {2, 3})),
            fixture("numpy_f32_2x3.npy"));
  EXPECT_EQ(to_npy(scalar_tensor(2.5, {.dtype = kFloat64})), fixture("numpy_scalar_f64.npy"));
  EXPECT_EQ(to_npy(tensor(std::vector<double>{1, 0, 1}, {3}).to(kBool)), fixture("numpy_bool_3.npy"));
  EXPECT_EQ(to_npy(tensor(std::vector<int64_t>{-3, int64_t{1} << 40}, {2, 1})), fixture("numpy_i64_2x1.npy"));
}

TEST(Npy, HeaderByHand) {
  // numpy 1.24's layout: magic, version 1.0, the header length, the 57-byte dict, room for the
  // first dim to grow to 21 digits (20 spaces after "3"), then spaces and a newline up to the next
  // multiple of 64: 10 + 57 + 20 + 1 = 88 -> 128, so the header length is 118 = 0x76.
  const std::string dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }";
  ASSERT_EQ(dict.size(), 57u);
  std::string expected = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict + std::string(20, ' ');
  expected.append(128 - expected.size() - 1, ' ');
  expected += '\n';
  expected += bytes({1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  EXPECT_EQ(to_npy(tensor({1, 2, -3})), expected);
}

TEST(Npy, ReadsFloat16AndSmallIntegersAndBigEndian) {
  const Tensor h = from_npy(
      npy("{'descr': '<f2', 'fortran_order': False, 'shape': (3,)}", bytes({0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00})));
  EXPECT_EQ(h.dtype(), kFloat32);
  EXPECT_EQ(h.to_vector<float>(), std::vector<float>({1.0f, -2.0f, std::ldexp(1.0f, -24)}));
  const Tensor i4 = from_npy(npy("{'descr': '>i4', 'fortran_order': False, 'shape': (2,)}",
                                 bytes({0x00, 0x00, 0x01, 0x02, 0xFF, 0xFF, 0xFF, 0xFE})));
  EXPECT_EQ(i4.dtype(), kInt64);
  EXPECT_EQ(i4.to_vector<int64_t>(), std::vector<int64_t>({258, -2}));
  const Tensor u1 = from_npy(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2,)}", bytes({255, 1})));
  EXPECT_EQ(u1.to_vector<int64_t>(), std::vector<int64_t>({255, 1}));
  const Tensor f8 = from_npy(npy("{'descr': '>f8', 'fortran_order': False, 'shape': ()}",
                                 bytes({0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18})));
  EXPECT_EQ(f8.item(), 3.141592653589793);
  // Version 2.0 (a 4-byte header length), double quotes, no trailing comma, key order free.
  const Tensor v2 =
      from_npy(npy("{\"shape\": (1, 1), \"fortran_order\": False, \"descr\": \"<f4\"}", bytes({0, 0, 0x80, 0x3F}), 2));
  EXPECT_EQ(v2.shape(), Shape({1, 1}));
  EXPECT_EQ(v2.item(), 1.0);
}

TEST(Npy, ReadsFortranOrderTransposed) {
  // Column-major [[0, 1, 2], [3, 4, 5]] is stored 0 3 1 4 2 5.
  const Tensor t = from_npy(npy("{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3), }",
                                bytes({0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                                       4, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0})));
  EXPECT_EQ(t.shape(), Shape({2, 3}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.to_vector<int64_t>(), std::vector<int64_t>({0, 1, 2, 3, 4, 5}));
  // Three dims: element (i, j, k) of a [2, 2, 2] array sits at i + 2 j + 4 k.
  std::string data;
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 2; ++i) data += static_cast<char>(100 * i + 10 * j + k);
  const Tensor t3 = from_npy(npy("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2, 2), }", data));
  EXPECT_EQ(t3.to_vector<int64_t>(), std::vector<int64_t>({0, 1, 10, 11, 100, 101, 110, 111}));
}

TEST(Npy, SavesAndLoadsFiles) {
  TempDir dir;
  save_npy(dir.file("a.npy"), ones({2}));
  EXPECT_EQ(load_npy(dir.file("a.npy")).to_vector<float>(), std::vector<float>({1.0f, 1.0f}));
  EXPECT_EQ(load_npy(std::string(XGRAD_TEST_DATA_DIR) + "/numpy_f32_2x3.npy").to_vector<float>(),
            std::vector<float>({1.5f, -2.0f, 3.25f, 0.0f, 4.0f, -0.5f}));
  expect_error<IOError>([&] { load_npy(dir.file("absent.npy")); },
                        {"load_npy: " + dir.file("absent.npy"), "cannot open"});
  expect_error<ValueError>([] { to_npy(Tensor()); }, {"to_npy: the tensor is undefined"});
}

// ---- bad files: one test per fault ------------------------------------------------------------

TEST(NpyBadFile, NoMagic) {
  expect_format_error("PK\x03\x04", {"from_npy: bad.npy: not a .npy file"});
  expect_format_error("", {"not a .npy file"});
}

TEST(NpyBadFile, UnsupportedVersion) {
  expect_format_error(npy("{}", "", 4), {"unsupported .npy version 4.0"});
  std::string f = npy("{}");
  f[7] = 1;
  expect_format_error(f, {"unsupported .npy version 1.1"});
}

TEST(NpyBadFile, HeaderLengthBeyondTheFile) {
  std::string f = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "abcd");
  f[8] = '\x7F';
  expect_format_error(f, {"header length 127 runs past the end of the file"});
  expect_format_error(std::string("\x93NUMPY\x01\x00\x05", 9), {"truncated in the header length"});
  std::string huge = npy("{}", "", 2);
  huge[11] = '\x7F';
  expect_format_error(huge, {"exceeds the limit"});
}

TEST(NpyBadFile, HeaderNotTheDict) {
  expect_format_error(npy("[1, 2]"), {"bad header: expected '{'"});
  expect_format_error(npy("{'descr': '<f4'"), {"bad header"});
  expect_format_error(npy("{'descr: '<f4'}"), {"bad header"});
  expect_format_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "abcd"),
                      {"unexpected text after the dict"});
  expect_format_error(npy("{'descr': 'a\\'b', 'fortran_order': False, 'shape': ()}"), {"escapes"});
}

TEST(NpyBadFile, MissingUnknownOrRepeatedKey) {
  expect_format_error(npy("{'descr': '<f4', 'shape': (1,)}", "abcd"), {"the dict lacks 'fortran_order'"});
  expect_format_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "abcd"),
                      {"unknown key 'extra'"});
  expect_format_error(npy("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", "abcd"),
                      {"key 'descr' appears twice"});
  expect_format_error(npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", "abcd"), {"expected True or False"});
}

TEST(NpyBadFile, UnsupportedDescr) {
  expect_format_error(npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", "abcdefgh"),
                      {"unsupported descr '|O'", "pickled Python objects"});
  expect_format_error(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", "abcdefgh"),
                      {"unsupported descr '<c8'", "supported: b1, f2"});
  expect_format_error(npy("{'descr': '|f4', 'fortran_order': False, 'shape': (1,)}", "abcd"), {"unsupported descr"});
  expect_format_error(npy("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,)}", "abcd"),
                      {"structured dtypes are not supported"});
}

TEST(NpyBadFile, BadShape) {
  expect_format_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"), {"expected a dim"});
  expect_format_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}"), {"bad header"});
  expect_format_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3)}"), {"needs a trailing comma"});
  expect_format_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': 3}"), {"expected '('"});
  expect_format_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}"),
                      {"a dim overflows int64"});
}

TEST(NpyBadFile, ElementCountOverflow) {
  expect_format_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}"),
                      {"bad.npy: shape [4294967296, 4294967296]: the element count overflows int64"});
  expect_format_error(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296)}"),
                      {"overflows int64"});
}

TEST(NpyBadFile, TruncatedOrTrailingData) {
  expect_format_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", std::string(20, 'x')),
                      {"shape [2, 3] needs 24 bytes of data but the file holds 20 (truncated?)"});
  expect_format_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': ()}", std::string(5, 'x')),
                      {"shape [] needs 4 bytes of data but the file holds 5 (trailing bytes)"});
}

TEST(NpyBadFile, EveryTruncationAndByteFlipFailsCleanly) {
  testing::expect_every_cut_and_flip_fails_cleanly(to_npy(tensor(std::vector<float>{1, 2, 3, 4}, {2, 2})),
                                                   [](const std::string& bytes) { from_npy(bytes); });
}

}  // namespace
}  // namespace xgrad::io
