// safetensors: round trips of every dtype and shape, the exact bytes of a hand-checked file, the
// dtypes only read (F16, BF16, the integers), and a FormatError naming the source, the tensor and
// the fault for every kind of damage.
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "dataio/temp_dir.hpp"
#include "io_checks.hpp"
#include "support/expect.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::io {
namespace {

using xgrad::testing::expect_error;
using xgrad::testing::expect_error_message;
using xgrad::testing::TempDir;

// A file of `header` (not padded) and `data`.
std::string file_of(const std::string& header, const std::string& data = "") {
  const uint64_t n = header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

void expect_format_error(const std::string& file, std::initializer_list<std::string> fragments) {
  expect_error<FormatError>([&] { from_safetensors(file, "bad.safetensors"); }, fragments);
}

TEST(Safetensors, RoundTripsEveryDtypeAndShape) {
  const NamedTensors tensors = {
      {"weight", tensor(std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f, 4.0f, -0.5f}, {2, 3})},
      {"scalar", scalar_tensor(2.5, {.dtype = kFloat64})},
      {"steps", tensor(std::vector<int64_t>{-3, 0, int64_t{1} << 40, 7}, {4})},
      {"mask", tensor(std::vector<double>{1, 0, 0, 1}, {2, 2}).to(kBool)},
      {"empty", zeros({0, 3})},
  };
  const Metadata metadata = {{"format", "pt"}, {"epoch", "3"}};
  const SafetensorsFile loaded = from_safetensors(to_safetensors(tensors, metadata));
  EXPECT_EQ(loaded.metadata, metadata);
  ASSERT_EQ(loaded.tensors.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = loaded.tensors[i];
    EXPECT_EQ(name, tensors[i].first);  // the saved order
    EXPECT_EQ(t.dtype(), tensors[i].second.dtype()) << name;
    EXPECT_EQ(t.shape(), tensors[i].second.shape()) << name;
    EXPECT_EQ(t.to_vector<double>(), tensors[i].second.to_vector<double>()) << name;
    EXPECT_FALSE(t.requires_grad()) << name;
    EXPECT_TRUE(t.is_leaf()) << name;
  }
  EXPECT_EQ(loaded.tensors[0].second.to_vector<float>(), std::vector<float>({1.5f, -2.0f, 3.25f, 0.0f, 4.0f, -0.5f}));
  EXPECT_EQ(loaded.tensors[2].second.to_vector<int64_t>(), std::vector<int64_t>({-3, 0, int64_t{1} << 40, 7}));
}

TEST(Safetensors, LoadedTensorsOwnTheirMemory) {
  const Tensor original = tensor({1.0f, 2.0f});
  const std::string saved = to_safetensors({{"x", original}});
  const SafetensorsFile a = from_safetensors(saved), b = from_safetensors(saved);
  a.tensors[0].second.data_ptr<float>()[0] = 9.0f;
  EXPECT_EQ(b.tensors[0].second.to_vector<float>(), std::vector<float>({1.0f, 2.0f}));
  EXPECT_EQ(original.to_vector<float>(), std::vector<float>({1.0f, 2.0f}));
}

TEST(Safetensors, NonContiguousTensorSavesItsValues) {
  const Tensor matrix = arange(6).reshape({2, 3}).to(kFloat32);
  const Tensor transposed = matrix.transpose(0, 1);  // [[0, 3], [1, 4], [2, 5]], a view
  ASSERT_FALSE(transposed.is_contiguous());
  const Tensor back = from_safetensors(to_safetensors({{"t", transposed}})).tensors[0].second;
  EXPECT_EQ(back.shape(), Shape({3, 2}));
  EXPECT_EQ(back.to_vector<float>(), std::vector<float>({0, 3, 1, 4, 2, 5}));
}

// The spec by hand: N = 80 (79 bytes of JSON and one space of padding to a multiple of 8),
// little-endian; the values 1.0f = 0x3F800000 and -2.0f = 0xC0000000, little-endian.
TEST(Safetensors, HeaderBytesMatchTheSpec) {
  const std::string expected = std::string("\x50\x00\x00\x00\x00\x00\x00\x00", 8) +
                               R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} )" +
                               std::string("\x00\x00\x80\x3F\x00\x00\x00\xC0", 8);
  EXPECT_EQ(to_safetensors({{"a", tensor({1.0f, -2.0f})}}, {{"k", "v"}}), expected);
  // Without metadata, a scalar and an empty tensor: 91 bytes of JSON and 5 spaces; no data bytes.
  const std::string header =
      R"({"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"e":{"dtype":"BOOL","shape":[0],"data_offsets":[8,8]}})";
  ASSERT_EQ(header.size(), 107u);
  EXPECT_EQ(to_safetensors({{"s", scalar_tensor(1.0, {.dtype = kFloat64})}, {"e", zeros({0}, {.dtype = kBool})}}),
            std::string("\x70\x00\x00\x00\x00\x00\x00\x00", 8) + header + "     " +
                std::string("\x00\x00\x00\x00\x00\x00\xF0\x3F", 8));
}

TEST(Safetensors, ReadsFloat16AndBFloat16AsFloat32) {
  // F16: 0x3C00 = 1, 0xC000 = -2, 0x7BFF = 65504 (the largest), 0x0001 = 2^-24 (the smallest
  // subnormal), 0x3555 = 0.333251953125, 0x8000 = -0, 0x7C00 = inf. BF16: 0x3F80 = 1, 0xC040 = -3,
  // 0x4049 = 3.140625.
  const std::string header = R"({"h":{"dtype":"F16","shape":[7],"data_offsets":[0,14]},)"
                             R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[14,20]}})";
  const std::string data = bytes({0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x01, 0x00, 0x55, 0x35,
                                  0x00, 0x80, 0x00, 0x7C, 0x80, 0x3F, 0x40, 0xC0, 0x49, 0x40});
  const SafetensorsFile f = from_safetensors(file_of(header, data));
  const Tensor& h = f.tensors[0].second;
  EXPECT_EQ(h.dtype(), kFloat32);
  const std::vector<float> hv = h.to_vector<float>();
  EXPECT_EQ(hv[0], 1.0f);
  EXPECT_EQ(hv[1], -2.0f);
  EXPECT_EQ(hv[2], 65504.0f);
  EXPECT_EQ(hv[3], std::ldexp(1.0f, -24));
  EXPECT_EQ(hv[4], 0.333251953125f);
  EXPECT_EQ(hv[5], 0.0f);
  EXPECT_TRUE(std::signbit(hv[5]));
  EXPECT_EQ(hv[6], std::numeric_limits<float>::infinity());
  EXPECT_EQ(f.tensors[1].second.to_vector<float>(), std::vector<float>({1.0f, -3.0f, 3.140625f}));
  // NaN stays NaN.
  const Tensor nan =
      from_safetensors(file_of(R"({"n":{"dtype":"F16","shape":[],"data_offsets":[0,2]}})", bytes({0x00, 0x7E})))
          .tensors[0]
          .second;
  EXPECT_TRUE(std::isnan(nan.item()));
}

TEST(Safetensors, ReadsSmallIntegersAsInt64) {
  const std::string header = R"({"u8":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                             R"("i8":{"dtype":"I8","shape":[2],"data_offsets":[2,4]},)"
                             R"("u16":{"dtype":"U16","shape":[1],"data_offsets":[4,6]},)"
                             R"("i16":{"dtype":"I16","shape":[1],"data_offsets":[6,8]},)"
                             R"("u32":{"dtype":"U32","shape":[1],"data_offsets":[8,12]},)"
                             R"("i32":{"dtype":"I32","shape":[1],"data_offsets":[12,16]},)"
                             R"("u64":{"dtype":"U64","shape":[1],"data_offsets":[16,24]}})";
  const std::string data = bytes({0xFF, 0x07, 0xFF, 0x80, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                  0x00, 0x00, 0x00, 0x80, 0x01, 0,    0,    0,    0,    0,    0,    0x40});
  const SafetensorsFile f = from_safetensors(file_of(header, data));
  const std::vector<std::vector<int64_t>> expected = {
      {255, 7}, {-1, -128}, {65535}, {-2}, {4294967295}, {-2147483648}, {(int64_t{1} << 62) + 1}};
  ASSERT_EQ(f.tensors.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(f.tensors[i].second.dtype(), kInt64) << f.tensors[i].first;
    EXPECT_EQ(f.tensors[i].second.to_vector<int64_t>(), expected[i]) << f.tensors[i].first;
  }
  expect_format_error(
      file_of(R"({"u":{"dtype":"U64","shape":[1],"data_offsets":[0,8]}})", bytes({0, 0, 0, 0, 0, 0, 0, 0x80})),
      {"bad.safetensors: tensor 'u'", "U64 value 9223372036854775808", "does not fit in int64"});
}

TEST(Safetensors, BoolBytesOtherThanZeroAndOneReadAsTrue) {
  const Tensor b =
      from_safetensors(file_of(R"({"b":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})", bytes({0, 1, 7})))
          .tensors[0]
          .second;
  EXPECT_EQ(b.to_vector<int64_t>(), std::vector<int64_t>({0, 1, 1}));
}

TEST(Safetensors, ReadsTensorsInAnyOffsetOrder) {
  // The header's order is kept even when the data is laid out in another order.
  const std::string header = R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                             R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  const SafetensorsFile f = from_safetensors(file_of(header, bytes({0, 0, 0x80, 0x3F, 0, 0, 0, 0x40})));
  EXPECT_EQ(f.tensors[0].first, "b");
  EXPECT_EQ(f.tensors[0].second.item(), 2.0);
  EXPECT_EQ(f.tensors[1].second.item(), 1.0);
}

TEST(Safetensors, SavesAndLoadsFiles) {
  TempDir dir;
  const std::string path = dir.file("model.safetensors");
  save_safetensors(path, {{"w", ones({2, 2})}}, {{"k", "v"}});
  const SafetensorsFile f = load_safetensors(path);
  EXPECT_EQ(f.tensors[0].second.to_vector<float>(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(f.metadata.at("k"), "v");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);  // no temporary file left
  expect_error<IOError>([&] { load_safetensors(dir.file("absent.safetensors")); },
                        {"load_safetensors: " + dir.file("absent.safetensors"), "cannot open", "No such file"});
  std::string cut = xgrad::io::read_file(path);
  cut.resize(cut.size() - 3);
  xgrad::io::write_file_atomic(path, cut);
  expect_error<FormatError>([&] { load_safetensors(path); }, {"load_safetensors: " + path + ": tensor 'w'"});
}

TEST(Safetensors, SavesLargeAndNonContiguousTensorsStreamed) {
  // save_safetensors streams values past its 64 KiB buffer; to_safetensors builds the same bytes.
  TempDir dir;
  Generator gen(5);
  const Tensor big = randn({300, 300}, gen, {.dtype = kFloat64});
  const NamedTensors tensors = {
      {"big", big}, {"view", big.slice(1, 10, 20).t()}, {"flag", ones({1}, {.dtype = kBool})}};
  save_safetensors(dir.file("big.safetensors"), tensors, {{"k", "v"}});
  EXPECT_EQ(xgrad::io::read_file(dir.file("big.safetensors")), to_safetensors(tensors, {{"k", "v"}}));
  const SafetensorsFile f = load_safetensors(dir.file("big.safetensors"));
  EXPECT_EQ(f.tensors[0].second.to_vector<double>(), big.to_vector<double>());
  EXPECT_EQ(f.tensors[1].second.shape(), Shape({10, 300}));
  EXPECT_EQ(f.tensors[1].second.to_vector<double>(), big.slice(1, 10, 20).t().to_vector<double>());
}

TEST(Safetensors, SaveRejectsBadInput) {
  expect_error<ValueError>([] { to_safetensors({{"a", Tensor()}}); }, {"to_safetensors", "tensor 'a' is undefined"});
  expect_error<ValueError>([] { to_safetensors({{"a", ones({1})}, {"a", ones({1})}}); }, {"tensor 'a' appears twice"});
  expect_error<ValueError>([] { to_safetensors({{"__metadata__", ones({1})}}); }, {"reserved for metadata"});
  expect_error<ValueError>([] { to_safetensors({{"bad\xFF", ones({1})}}); }, {"is not valid UTF-8"});
  expect_error<ValueError>([] { to_safetensors({}, {{"k", "\xC3"}}); }, {"metadata key 'k'", "not valid UTF-8"});
  EXPECT_EQ(from_safetensors(to_safetensors({{"caf\xC3\xA9 \"q\"\n", ones({1})}})).tensors[0].first,
            "caf\xC3\xA9 \"q\"\n");  // escaped in JSON, read back the same
}

// ---- bad files: one test per fault ------------------------------------------------------------

TEST(SafetensorsBadFile, TooShortForTheHeaderLength) {
  expect_format_error("abc", {"from_safetensors: bad.safetensors: a file of 3 bytes is too short"});
}

TEST(SafetensorsBadFile, HeaderLengthBeyondTheFile) {
  std::string f = file_of("{}");
  f[0] = 100;
  expect_format_error(f, {"header length 100 runs past the end of the file (10 bytes)"});
}

TEST(SafetensorsBadFile, HeaderLengthOverTheLimit) {
  std::string f = file_of("{}");
  f[5] = 1;  // 2^40 + 2
  expect_format_error(f, {"header length 1099511627778 exceeds the limit of 100000000 bytes"});
}

TEST(SafetensorsBadFile, HeaderNotJson) {
  expect_format_error(file_of("{\"a\": "), {"the header is not valid JSON"});
  expect_format_error(file_of(""), {"the header is not valid JSON"});
  expect_format_error(file_of("{\"\xFF\": 1}"), {"the header is not valid JSON"});  // not UTF-8
  expect_format_error(file_of(std::string("{}\0\0", 4)), {"the header is not valid JSON"});
}

TEST(SafetensorsBadFile, HeaderNotAnObject) {
  expect_format_error(file_of("[1, 2]"), {"the header is a JSON array, not an object"});
  expect_format_error(file_of("\"x\""), {"the header is a JSON string, not an object"});
}

TEST(SafetensorsBadFile, EntryNotAnObject) {
  expect_format_error(file_of(R"({"a": [1]})"), {"tensor 'a': the entry is a JSON array, not an object"});
}

TEST(SafetensorsBadFile, EntryMissingAKey) {
  expect_format_error(file_of(R"({"a":{"shape":[1],"data_offsets":[0,4]}})"), {"tensor 'a'", "no \"dtype\""});
  expect_format_error(file_of(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", "1234"), {"no \"shape\""});
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[1]}})", "1234"), {"no \"data_offsets\""});
}

TEST(SafetensorsBadFile, UnknownDtype) {
  expect_format_error(file_of(R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", "x"),
                      {"tensor 'a': unknown dtype 'F8_E4M3' (known: BOOL, U8"});
  expect_format_error(file_of(R"({"a":{"dtype":4,"shape":[1],"data_offsets":[0,1]}})", "x"),
                      {"\"dtype\" is a JSON number, not a string"});
}

TEST(SafetensorsBadFile, ShapeWithNegativeOrNonIntegerDims) {
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})"),
                      {"tensor 'a'", "holds -1, not a dim"});
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", "1234"),
                      {"holds 1.5, not a dim"});
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", "12345678"),
                      {"not a dim"});
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,0]}})"),
                      {"not a dim"});
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":3,"data_offsets":[0,12]}})", std::string(12, 'x')),
                      {"\"shape\" is a JSON number, not an array"});
}

TEST(SafetensorsBadFile, ElementCountOverflow) {
  expect_format_error(file_of(R"({"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})"),
                      {"tensor 'a': shape [4294967296, 4294967296]: the element count overflows int64"});
  // A zero dim makes the count 0, but the strides of the other dims would still overflow.
  expect_format_error(file_of(R"({"a":{"dtype":"U8","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}})"),
                      {"overflows int64"});
  expect_format_error(file_of(R"({"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}})"),
                      {"the byte count overflows int64"});
}

TEST(SafetensorsBadFile, OffsetsDisagreeWithTheShape) {
  expect_error_message<FormatError>(
      [] {
        from_safetensors(
            file_of(R"({"fc1.weight":{"dtype":"F32","shape":[5,6],"data_offsets":[0,100]}})", std::string(100, '\0')),
            "model.safetensors");
      },
      "from_safetensors: model.safetensors: tensor 'fc1.weight': data_offsets [0, 100] give 100 bytes but F32 [5, 6] "
      "needs 120");
}

TEST(SafetensorsBadFile, OffsetsNotAPairOfNonNegativeIntegers) {
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", "1234"),
                      {"\"data_offsets\" [0] is not a pair [begin, end]"});
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", "1234"),
                      {"holds something else than integers >= 0"});
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":"0,4"}})", "1234"), {"is not a pair"});
}

TEST(SafetensorsBadFile, OffsetsReversed) {
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", "1234"),
                      {"tensor 'a': data_offsets [4, 0] are reversed"});
}

TEST(SafetensorsBadFile, OffsetsOutOfRange) {
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", "1234"),
                      {"tensor 'a': data_offsets [8, 12] run past the end of the data buffer (4 bytes)"});
  expect_format_error(
      file_of(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615]}})"),
      {"holds something else than integers >= 0"});
}

TEST(SafetensorsBadFile, TruncatedData) {
  std::string f = to_safetensors({{"a", ones({4})}});
  f.resize(f.size() - 1);
  expect_format_error(f,
                      {"tensor 'a': data_offsets [0, 16] run past the end of the data buffer (15 bytes)", "truncated"});
}

TEST(SafetensorsBadFile, OverlappingOffsets) {
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                              std::string(12, '\0')),
                      {"tensor 'b': data_offsets [4, 12] overlap those of tensor 'a' [0, 8]"});
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                              R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                              std::string(4, '\0')),
                      {"overlap"});
}

TEST(SafetensorsBadFile, HoleInTheDataBuffer) {
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                              R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                              std::string(12, '\0')),
                      {"bytes [4, 8) of the data buffer belong to no tensor (a hole before tensor 'b')"});
}

TEST(SafetensorsBadFile, TrailingBytesAfterTheLastTensor) {
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", std::string(6, '\0')),
                      {"the data buffer holds 6 bytes but the tensors cover only 4"});
}

TEST(SafetensorsBadFile, DuplicateNames) {
  // nlohmann would keep the last of two equal keys; we refuse the file.
  expect_format_error(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                              R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                              std::string(8, '\0')),
                      {"bad.safetensors: tensor 'a' appears twice in the header"});
  expect_format_error(file_of(R"({"a":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}})", "1234"),
                      {"key 'dtype' appears twice in one header entry"});
  expect_format_error(file_of(R"({"__metadata__":{"k":"1","k":"2"}})"), {"key 'k' appears twice"});
}

TEST(SafetensorsBadFile, MetadataNotStrings) {
  expect_format_error(file_of(R"({"__metadata__":[1]})"), {"\"__metadata__\" is a JSON array, not an object"});
  expect_format_error(file_of(R"({"__metadata__":{"epoch":3}})"),
                      {"\"__metadata__\" entry 'epoch' is a JSON number, not a string"});
}

TEST(SafetensorsBadFile, DeeplyNestedJson) {
  const std::string deep = R"({"__metadata__":)" + std::string(10000, '[') + std::string(10000, ']') + "}";
  expect_format_error(file_of(deep), {"nests deeper than 16 levels"});
}

// Every cut of a valid file and every one-byte change either loads or throws FormatError: no
// crash, no other exception (the fuzz target explores much more of this).
TEST(SafetensorsBadFile, EveryTruncationAndByteFlipFailsCleanly) {
  testing::expect_every_cut_and_flip_fails_cleanly(
      to_safetensors({{"a", tensor({1.0f, 2.0f})}, {"b", tensor({3})}}, {{"k", "v"}}),
      [](const std::string& bytes) { from_safetensors(bytes); });
}

}  // namespace
}  // namespace xgrad::io
