// The IDX reader: values of hand-made files, plain and gzip-compressed, and an IOError naming the
// file and the fault for every kind of damage; the (Fashion-)MNIST loader on a small generated
// copy, and on the real files when they are installed.
#include <filesystem>

#include <gtest/gtest.h>

#include "temp_dir.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::data {
namespace {

using xgrad::testing::message_of;
using xgrad::testing::read_bytes;
using xgrad::testing::TempDir;
using xgrad::testing::write_bytes;

std::vector<unsigned char> header(unsigned char type, const std::vector<uint32_t>& dims) {
  std::vector<unsigned char> h = {0, 0, type, static_cast<unsigned char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) h.push_back(static_cast<unsigned char>(d >> shift));
  return h;
}

std::vector<unsigned char> concat(std::vector<unsigned char> a, const std::vector<unsigned char>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void expect_io_error(const std::string& path, const std::string& what) {
  const std::string message = message_of<IOError>([&] { read_idx(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find(what), std::string::npos) << message;
}

TEST(ReadIdx, LabelsAreInt64AsStored) {
  TempDir dir;
  write_bytes(dir.file("labels"), concat(header(0x08, {4}), {3, 0, 9, 255}));
  const Tensor labels = read_idx(dir.file("labels"));
  EXPECT_EQ(labels.dtype(), kInt64);
  EXPECT_EQ(labels.shape(), Shape({4}));
  EXPECT_EQ(labels.to_vector<int64_t>(), std::vector<int64_t>({3, 0, 9, 255}));
}

TEST(ReadIdx, ImagesAreFloat32ScaledToUnitRange) {
  TempDir dir;
  write_bytes(dir.file("images"), concat(header(0x08, {2, 2, 3}), {0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 6}));
  const Tensor images = read_idx(dir.file("images"));
  EXPECT_EQ(images.dtype(), kFloat32);
  EXPECT_EQ(images.shape(), Shape({2, 2, 3}));
  const auto v = images.to_vector<float>();
  EXPECT_FLOAT_EQ(v[0], 0.0f);
  EXPECT_FLOAT_EQ(v[1], 0.2f);
  EXPECT_FLOAT_EQ(v[5], 1.0f);
  EXPECT_FLOAT_EQ(v[11], 6.0f / 255.0f);
}

TEST(ReadIdx, ReadsGzipAndPlainAlike) {
  TempDir dir;
  const Tensor images = tensor(std::vector<float>{0.0f, 1.0f, 128 / 255.0f, 7 / 255.0f, 1.0f, 0.0f}, {3, 2});
  const Tensor labels = tensor({4, 2, 7});
  write_idx(dir.file("images.gz"), images, /*gzip=*/true);
  write_idx(dir.file("labels.gz"), labels, /*gzip=*/true);
  write_idx(dir.file("labels"), labels);
  const auto gz = read_bytes(dir.file("labels.gz"));
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(gz[0], 0x1f);  // the gzip magic: the file really is compressed
  EXPECT_EQ(gz[1], 0x8b);
  EXPECT_EQ(read_bytes(dir.file("labels")), concat(header(0x08, {3}), {4, 2, 7}));
  EXPECT_EQ(read_idx(dir.file("images.gz")).to_vector<float>(), images.to_vector<float>());
  EXPECT_EQ(read_idx(dir.file("labels.gz")).to_vector<int64_t>(), std::vector<int64_t>({4, 2, 7}));
  EXPECT_EQ(read_idx(dir.file("labels")).to_vector<int64_t>(), std::vector<int64_t>({4, 2, 7}));
}

TEST(ReadIdx, MissingFile) {
  TempDir dir;
  expect_io_error(dir.file("nope.gz"), "no such file");
  expect_io_error(dir.path().string(), "is a directory");
}

TEST(ReadIdx, BadMagicNumber) {
  TempDir dir;
  write_bytes(dir.file("text"), {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
  expect_io_error(dir.file("text"), "bad magic number 0x68656C6C");
  write_bytes(dir.file("zero_dims"), {0, 0, 8, 0});
  expect_io_error(dir.file("zero_dims"), "bad magic number 0x00000800");
}

TEST(ReadIdx, UnsupportedDataType) {
  TempDir dir;
  write_bytes(dir.file("floats"), concat(header(0x0D, {1}), {0, 0, 0, 0}));
  expect_io_error(dir.file("floats"), "unsupported IDX data type 0x0D");
}

TEST(ReadIdx, TruncatedHeaderAndData) {
  TempDir dir;
  write_bytes(dir.file("short"), {0, 0});
  expect_io_error(dir.file("short"), "truncated: 2 bytes is too short for an IDX header");
  auto dims_cut = header(0x08, {5, 28, 28});
  dims_cut.resize(9);
  write_bytes(dir.file("dims"), dims_cut);
  expect_io_error(dir.file("dims"), "truncated: the header declares 3 dims");
  write_bytes(dir.file("data"), concat(header(0x08, {2, 2, 2}), {1, 2, 3, 4, 5}));
  expect_io_error(dir.file("data"), "declares [2, 2, 2] = 8 values but the file holds 5");
}

TEST(ReadIdx, TrailingData) {
  TempDir dir;
  write_bytes(dir.file("long"), concat(header(0x08, {2}), {1, 2, 3}));
  expect_io_error(dir.file("long"), "data continues after the 2 values");
}

TEST(ReadIdx, TruncatedGzipStream) {
  TempDir dir;
  write_idx(dir.file("full.gz"), zeros({50, 28, 28}), true);
  auto bytes = read_bytes(dir.file("full.gz"));
  bytes.resize(bytes.size() / 2);
  write_bytes(dir.file("half.gz"), bytes);
  expect_io_error(dir.file("half.gz"), "gzip stream error: truncated compressed data");
  // Only the 8-byte trailer (CRC and length) missing: every value arrives, the check does not.
  bytes = read_bytes(dir.file("full.gz"));
  bytes.resize(bytes.size() - 4);
  write_bytes(dir.file("no_trailer.gz"), bytes);
  expect_io_error(dir.file("no_trailer.gz"), "gzip stream error");
}

TEST(ReadIdx, CorruptGzipStream) {
  TempDir dir;
  Generator gen(3);
  write_idx(dir.file("full.gz"), rand({20, 28, 28}, gen), true);
  auto bytes = read_bytes(dir.file("full.gz"));
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 16; ++i) bytes[i] ^= 0x5A;  // the header stays intact
  write_bytes(dir.file("bad.gz"), bytes);
  expect_io_error(dir.file("bad.gz"), "gzip stream error");
}

TEST(WriteIdx, RejectsValuesOutsideTheByteRange) {
  TempDir dir;
  EXPECT_THROW(write_idx(dir.file("a"), tensor({1.5f}), false), ValueError);
  EXPECT_THROW(write_idx(dir.file("b"), tensor({256}), false), ValueError);
  EXPECT_THROW(write_idx(dir.file("c"), scalar_tensor(1.0), false), ShapeError);
  const std::string message = message_of<IOError>([&] { write_idx(dir.file("no/such/dir/x"), tensor({1})); });
  EXPECT_NE(message.find("cannot open"), std::string::npos) << message;
}

TEST(LoadIdxDataset, DimensionMismatchNamesBothFiles) {
  TempDir dir;
  write_idx(dir.file("images"), zeros({3, 2, 2}));
  write_idx(dir.file("labels"), tensor({1, 2}));
  const std::string message = message_of<IOError>([&] { load_idx_dataset(dir.file("images"), dir.file("labels")); });
  EXPECT_NE(message.find("dimension mismatch"), std::string::npos) << message;
  EXPECT_NE(message.find(dir.file("images") + " holds 3 images"), std::string::npos) << message;
  EXPECT_NE(message.find(dir.file("labels") + " holds 2 labels"), std::string::npos) << message;
  // Labels where images belong and the reverse.
  EXPECT_THROW(load_idx_dataset(dir.file("labels"), dir.file("labels")), IOError);
  EXPECT_THROW(load_idx_dataset(dir.file("images"), dir.file("images")), IOError);
}

TEST(LoadFashionMnist, ReadsTheFourFilesGzippedOrNot) {
  TempDir dir;
  Generator gen(1);
  const Tensor train_images = rand({6, 28, 28}, gen), test_images = rand({4, 28, 28}, gen);
  write_idx(dir.file("train-images-idx3-ubyte.gz"), train_images, true);
  write_idx(dir.file("train-labels-idx1-ubyte.gz"), tensor({0, 1, 2, 3, 4, 9}), true);
  write_idx(dir.file("t10k-images-idx3-ubyte"), test_images);
  write_idx(dir.file("t10k-labels-idx1-ubyte"), tensor({5, 6, 7, 8}));
  const TrainTestData data = load_fashion_mnist(dir.path().string());
  EXPECT_EQ(data.train.size(), 6);
  EXPECT_EQ(data.test.size(), 4);
  EXPECT_EQ(data.train.inputs().shape(), Shape({6, 28, 28}));
  EXPECT_EQ(data.test.targets().to_vector<int64_t>(), std::vector<int64_t>({5, 6, 7, 8}));
  // Written as round(255 x), read as byte / 255: within half a step.
  const auto written = train_images.to_vector<float>(), read = data.train.inputs().to_vector<float>();
  for (size_t i = 0; i < written.size(); ++i) ASSERT_NEAR(written[i], read[i], 0.5f / 255.0f + 1e-6f);
}

TEST(LoadFashionMnist, NamesWhatIsMissing) {
  TempDir dir;
  write_idx(dir.file("train-images-idx3-ubyte.gz"), zeros({1, 28, 28}), true);
  std::string message = message_of<IOError>([&] { load_fashion_mnist(dir.path().string()); });
  EXPECT_NE(message.find("neither train-labels-idx1-ubyte.gz nor train-labels-idx1-ubyte found"), std::string::npos)
      << message;
  message = message_of<IOError>([&] { load_fashion_mnist(dir.file("absent")); });
  EXPECT_NE(message.find("no such directory"), std::string::npos) << message;
}

TEST(LoadFashionMnist, RealDataWhenInstalled) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const TrainTestData data = load_fashion_mnist(dir);
  EXPECT_EQ(data.train.inputs().shape(), Shape({60000, 28, 28}));
  EXPECT_EQ(data.test.inputs().shape(), Shape({10000, 28, 28}));
  std::vector<int64_t> counts(10, 0);
  for (int64_t label : data.train.targets().to_vector<int64_t>()) {
    ASSERT_GE(label, 0);
    ASSERT_LT(label, 10);
    ++counts[static_cast<size_t>(label)];
  }
  for (int64_t c : counts) EXPECT_EQ(c, 6000);  // the data set is balanced
  EXPECT_EQ(fashion_mnist_classes()[9], "Ankle boot");
}

}  // namespace
}  // namespace xgrad::data
