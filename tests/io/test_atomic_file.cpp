// write_file_atomic / read_file: the file appears whole or not at all, a failing writer leaves the
// old file and no temporary behind, and errors name the path and the system's reason.
#include <filesystem>
#include <stdexcept>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "dataio/temp_dir.hpp"
#include "support/expect.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::io {
namespace {

using xgrad::testing::expect_error;
using xgrad::testing::TempDir;

std::vector<std::string> listing(const TempDir& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(AtomicFile, WritesAndReadsBack) {
  TempDir dir;
  const std::string path = dir.file("a.bin");
  const std::string bytes("binary\0data\xFF", 12);
  write_file_atomic(path, bytes);
  EXPECT_EQ(read_file(path), bytes);
  EXPECT_EQ(listing(dir), std::vector<std::string>({"a.bin"}));
  write_file_atomic(path, "");  // an empty file replaces it
  EXPECT_EQ(read_file(path), "");
}

TEST(AtomicFile, StreamsLargeAndSmallWrites) {
  TempDir dir;
  const std::string path = dir.file("big.bin");
  std::string expected;
  for (int i = 0; i < 100000; ++i) expected += static_cast<char>(i * 7);
  const std::string large(300000, 'L');
  expected += large;
  write_file_atomic(path, [&](std::ostream& out) {
    for (int i = 0; i < 100000; ++i) out.put(static_cast<char>(i * 7));   // through the buffer
    out.write(large.data(), static_cast<std::streamsize>(large.size()));  // past it
  });
  EXPECT_EQ(read_file(path), expected);
}

TEST(AtomicFile, FailingWriterLeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  const std::string path = dir.file("model.safetensors");
  write_file_atomic(path, "old contents");
  EXPECT_THROW(write_file_atomic(path,
                                 [](std::ostream& out) {
                                   out << std::string(100000, 'x');  // halfway: some of it already on disk
                                   throw std::runtime_error("the writer failed");
                                 }),
               std::runtime_error);
  EXPECT_EQ(read_file(path), "old contents");
  EXPECT_EQ(listing(dir), std::vector<std::string>({"model.safetensors"}));
}

TEST(AtomicFile, ReplacedFileKeepsItsMode) {
  TempDir dir;
  const std::string path = dir.file("secret");
  write_file_atomic(path, "1");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  write_file_atomic(path, "2");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(AtomicFile, UnwritableFolderThrowsIOErrorNamingThePath) {
  TempDir dir;
  const std::string path = dir.file("no/such/folder/x.bin");
  expect_error<IOError>(
      [&] { write_file_atomic(path, "x"); },
      {"write_file_atomic: " + path, "cannot create the temporary file", "No such file or directory"});
  expect_error<IOError>([&] { save_safetensors(path, {{"a", ones({1})}}); }, {"save_safetensors: " + path});
  EXPECT_TRUE(listing(dir).empty());
}

TEST(AtomicFile, ReadErrorsNameThePath) {
  TempDir dir;
  expect_error<IOError>([&] { read_file(dir.file("absent")); },
                        {"read_file: " + dir.file("absent"), "cannot open: No such file or directory"});
  expect_error<IOError>([&] { read_file(dir.path().string()); }, {"Is a directory"});
}

TEST(AtomicFile, FailedSaveLeavesTheOldFile) {
  TempDir dir;
  const std::string path = dir.file("m.safetensors");
  save_safetensors(path, {{"w", ones({2})}});
  EXPECT_THROW(save_safetensors(path, {{"w", ones({2})}, {"v", Tensor()}}), ValueError);
  EXPECT_EQ(load_safetensors(path).tensors.size(), 1u);
  EXPECT_EQ(listing(dir), std::vector<std::string>({"m.safetensors"}));
}

}  // namespace
}  // namespace xgrad::io
