// .npz: round trips (stored and deflate), archives NumPy wrote (np.savez, np.savez_compressed, zip64;
// tests/data/make_npz_fixture.py), and a FormatError naming the source, the member and the fault
// for every kind of damage to the zip structure.
#include <cstring>
#include <map>

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

uint32_t get32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<size_t>(i)]);
  return v;
}
void put16(std::string& b, size_t at, uint32_t v) {
  for (size_t i = 0; i < 2; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put32(std::string& b, size_t at, uint64_t v) {
  for (size_t i = 0; i < 4; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// zlib's CRC-32 (polynomial 0xEDB88320), bit by bit.
uint32_t crc32_of(const std::string& data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (char c : data) {
    crc ^= static_cast<unsigned char>(c);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

size_t end_record(const std::string& zip) { return zip.rfind(std::string("PK\x05\x06", 4)); }
// The offset of central directory entry i.
size_t central(const std::string& zip, int i) {
  size_t at = get32(zip, end_record(zip) + 16);
  for (int k = 0; k < i; ++k)
    at += 46 + (get32(zip, at + 28) & 0xFFFF) + (get32(zip, at + 30) & 0xFFFF) + (get32(zip, at + 32) & 0xFFFF);
  return at;
}
// Replaces every occurrence of `from` by `to` (same length): renames members in both headers.
std::string renamed(std::string zip, const std::string& from, const std::string& to) {
  for (size_t at = zip.find(from); at != std::string::npos; at = zip.find(from, at + 1)) zip.replace(at, to.size(), to);
  return zip;
}

const NamedTensors& sample() {
  static const NamedTensors tensors = {
      {"weight", tensor(std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f, 4.0f, -0.5f}, {2, 3})},
      {"bias", zeros({3}, {.dtype = kFloat64})},
      {"steps", scalar_tensor(7, {.dtype = kInt64})},
      {"mask", tensor(std::vector<double>{1, 0}, {2}).to(kBool)},
      {"empty", zeros({0, 3})},
  };
  return tensors;
}

void expect_format_error(const std::string& file, std::initializer_list<std::string> fragments) {
  expect_error<FormatError>([&] { from_npz(file, "bad.npz"); }, fragments);
}

TEST(Npz, RoundTripsStoredAndCompressed) {
  for (bool compressed : {false, true}) {
    const std::string zip = to_npz(sample(), compressed);
    EXPECT_EQ(get32(zip, central(zip, 0) + 10) & 0xFFFF, compressed ? 8u : 0u);  // the compression method
    const NamedTensors back = from_npz(zip);
    ASSERT_EQ(back.size(), sample().size());
    for (size_t i = 0; i < back.size(); ++i) {
      EXPECT_EQ(back[i].first, sample()[i].first);
      EXPECT_EQ(back[i].second.dtype(), sample()[i].second.dtype());
      EXPECT_EQ(back[i].second.shape(), sample()[i].second.shape());
      EXPECT_EQ(back[i].second.to_vector<double>(), sample()[i].second.to_vector<double>());
    }
  }
  // Compression pays on repetitive data.
  const NamedTensors big = {{"z", zeros({1000})}};
  EXPECT_LT(to_npz(big, true).size(), to_npz(big, false).size() / 10);
}

TEST(Npz, NonContiguousTensorSavesItsValues) {
  const NamedTensors back = from_npz(to_npz({{"t", arange(6).reshape({2, 3}).transpose(0, 1)}}, true));
  EXPECT_EQ(back[0].second.to_vector<int64_t>(), std::vector<int64_t>({0, 3, 1, 4, 2, 5}));
}

// The values written by make_npz_fixture.py.
void expect_numpy_arrays(const NamedTensors& got) {
  std::map<std::string, Tensor> by_name(got.begin(), got.end());
  ASSERT_EQ(by_name.size(), 10u);
  EXPECT_EQ(got[0].first, "f32");  // the archive's order
  EXPECT_EQ(by_name["f32"].shape(), Shape({2, 3}));
  EXPECT_EQ(by_name["f32"].to_vector<float>(), std::vector<float>({1.5f, -2.0f, 3.25f, 0.0f, 4.0f, -0.5f}));
  EXPECT_EQ(by_name["f64"].to_vector<double>(), std::vector<double>({0.1, 1e300, -7.0}));
  EXPECT_EQ(by_name["i64"].shape(), Shape({2, 1}));
  EXPECT_EQ(by_name["i64"].to_vector<int64_t>(), std::vector<int64_t>({-3, int64_t{1} << 40}));
  EXPECT_EQ(by_name["flags"].dtype(), kBool);
  EXPECT_EQ(by_name["flags"].to_vector<int64_t>(), std::vector<int64_t>({1, 0, 1}));
  EXPECT_EQ(by_name["scalar"].shape(), Shape({}));
  EXPECT_EQ(by_name["scalar"].item(), 2.5);
  EXPECT_EQ(by_name["empty"].shape(), Shape({0, 3}));
  EXPECT_EQ(by_name["f16"].dtype(), kFloat32);
  EXPECT_EQ(by_name["f16"].to_vector<float>(), std::vector<float>({1.0f, -2.0f, 0.5f, 65504.0f}));
  EXPECT_EQ(by_name["fortran"].dtype(), kInt64);
  EXPECT_EQ(by_name["fortran"].shape(), Shape({2, 3}));
  EXPECT_EQ(by_name["fortran"].to_vector<int64_t>(), std::vector<int64_t>({0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(by_name["u8"].to_vector<int64_t>(), std::vector<int64_t>({0, 255, 7}));
  EXPECT_EQ(by_name["big_endian"].to_vector<double>(), std::vector<double>({1.0, -2.0}));
}

TEST(Npz, ReadsNumpySavez) { expect_numpy_arrays(load_npz(std::string(XGRAD_TEST_DATA_DIR) + "/numpy_arrays.npz")); }

TEST(Npz, ReadsNumpySavezCompressed) {
  const std::string zip = fixture("numpy_arrays_compressed.npz");
  EXPECT_EQ(get32(zip, central(zip, 0) + 10) & 0xFFFF, 8u);  // deflate
  expect_numpy_arrays(from_npz(zip));
}

TEST(Npz, ReadsZip64Archives) {
  // Sizes and offsets in zip64 extra fields, plus a zip64 end record (ignored while the classic
  // one holds the real values).
  const std::string zip = fixture("numpy_zip64.npz");
  EXPECT_EQ(get32(zip, central(zip, 0) + 20), 0xFFFFFFFFu);
  NamedTensors got = from_npz(zip);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].second.to_vector<float>(), std::vector<float>({1.5f, -2.0f, 3.25f, 0.0f, 4.0f, -0.5f}));
  EXPECT_EQ(got[1].second.to_vector<int64_t>(), std::vector<int64_t>({1, 0, 1}));
  // Saturate the classic end record: the zip64 one must be used.
  std::string saturated = zip;
  const size_t end = end_record(saturated);
  put16(saturated, end + 8, 0xFFFF);
  put16(saturated, end + 10, 0xFFFF);
  put32(saturated, end + 12, 0xFFFFFFFF);
  put32(saturated, end + 16, 0xFFFFFFFF);
  got = from_npz(saturated);
  EXPECT_EQ(got[1].first, "flags");
  // ... and without a zip64 locator that is an error.
  put32(saturated, end - 20, 0);
  expect_format_error(saturated, {"no zip64 locator"});
}

TEST(Npz, SavesAndLoadsFiles) {
  TempDir dir;
  save_npz(dir.file("a.npz"), sample(), true);
  EXPECT_EQ(load_npz(dir.file("a.npz")).size(), sample().size());
  expect_error<IOError>([&] { load_npz(dir.file("absent.npz")); },
                        {"load_npz: " + dir.file("absent.npz"), "cannot open"});
}

TEST(Npz, SaveRejectsBadInput) {
  expect_error<ValueError>([] { to_npz({{"a", Tensor()}}); }, {"to_npz: tensor 'a' is undefined"});
  expect_error<ValueError>([] { to_npz({{"a", ones({1})}, {"a", ones({1})}}); }, {"tensor 'a' appears twice"});
}

// ---- bad files: one test per fault ------------------------------------------------------------

TEST(NpzBadFile, NotAZipArchive) {
  expect_format_error("tiny", {"from_npz: bad.npz: a file of 4 bytes is too short for a zip archive"});
  expect_format_error(std::string(100, 'x'), {"no end of central directory record"});
  std::string zip = to_npz(sample());
  zip += "trailing";  // the end record no longer ends the file
  expect_format_error(zip, {"no end of central directory record"});
}

TEST(NpzBadFile, Truncated) {
  const std::string zip = to_npz(sample());
  expect_format_error(zip.substr(0, zip.size() / 2), {"no end of central directory record"});
  // Cut out of the middle, keeping the end record: the directory now points past it.
  const std::string cut = zip.substr(0, 40) + zip.substr(140);
  expect_format_error(cut, {"central directory"});
}

TEST(NpzBadFile, CentralDirectoryOutOfBounds) {
  std::string zip = to_npz(sample());
  put32(zip, end_record(zip) + 16, 0x7FFFFFF0);
  expect_format_error(zip, {"the central directory [2147483632, +", "runs past its end record"});
  zip = to_npz(sample());
  put16(zip, end_record(zip) + 8, 60000);
  put16(zip, end_record(zip) + 10, 60000);
  expect_format_error(zip, {"claims 60000 entries but holds"});
  zip = to_npz(sample());
  put16(zip, end_record(zip) + 8, 4);
  put16(zip, end_record(zip) + 10, 4);
  expect_format_error(zip, {"bytes after its 4 entries"});
}

TEST(NpzBadFile, DamagedDirectoryEntry) {
  std::string zip = to_npz(sample());
  put32(zip, central(zip, 1), 0x12345678);
  expect_format_error(zip, {"central directory entry 1 at", "is missing or damaged"});
  zip = to_npz(sample());
  put16(zip, central(zip, 4) + 28, 0xFFFF);  // the last entry's name runs past the directory
  expect_format_error(zip, {"central directory entry 4 runs past the end of the central directory"});
}

TEST(NpzBadFile, MultiDisk) {
  std::string zip = to_npz(sample());
  put16(zip, end_record(zip) + 4, 1);
  expect_format_error(zip, {"multi-disk"});
}

TEST(NpzBadFile, LocalHeaderOutOfBoundsOrWrong) {
  std::string zip = to_npz(sample());
  put32(zip, central(zip, 2) + 42, static_cast<uint64_t>(zip.size()) + 100);
  expect_format_error(zip, {"member 'steps.npy': no local header at offset"});
  zip = to_npz(sample());
  put32(zip, central(zip, 2) + 42, get32(zip, central(zip, 1) + 42));  // points at another member's header
  expect_format_error(zip, {"member 'steps.npy': the local header names another member"});
}

TEST(NpzBadFile, MemberDataBeyondTheArchive) {
  std::string zip = to_npz(sample());
  const size_t entry = central(zip, 4);
  put32(zip, entry + 20, 100000);  // compressed size
  put32(zip, entry + 24, 100000);
  expect_format_error(zip, {"member 'empty.npy': 100000 bytes of data at offset", "truncated?"});
}

TEST(NpzBadFile, OverlappingMembers) {
  // Member 0's sizes grown to cover member 1's local header: the "overlapping files" zip bomb.
  std::string zip = to_npz(sample());
  const size_t entry = central(zip, 0);
  const uint32_t size = get32(zip, entry + 20) + 40;
  put32(zip, entry + 20, size);
  put32(zip, entry + 24, size);
  expect_format_error(zip, {"members overlap"});
}

TEST(NpzBadFile, StoredSizesDiffer) {
  std::string zip = to_npz(sample());
  put32(zip, central(zip, 0) + 24, 1);
  expect_format_error(zip, {"member 'weight.npy': is stored uncompressed but its sizes differ"});
}

TEST(NpzBadFile, UnsupportedMethodOrEncryption) {
  std::string zip = to_npz(sample());
  put16(zip, central(zip, 1) + 10, 12);  // bzip2
  expect_format_error(zip, {"member 'bias.npy': compression method 12 is not supported"});
  zip = to_npz(sample());
  put16(zip, central(zip, 1) + 8, 1);
  expect_format_error(zip, {"member 'bias.npy': is encrypted"});
}

TEST(NpzBadFile, NotANpyMember) {
  expect_format_error(renamed(to_npz(sample()), "bias.npy", "bias.txt"), {"member 'bias.txt': is not a .npy file"});
}

TEST(NpzBadFile, DuplicateMembers) {
  expect_format_error(renamed(to_npz(sample()), "mask.npy", "bias.npy"), {"member 'bias.npy': appears twice"});
}

TEST(NpzBadFile, CrcMismatch) {
  std::string zip = to_npz({{"a", tensor({1.0f, 2.0f})}});
  zip[30 + 5 + 128] ^= 0x01;  // the first value byte (local header, name, 128-byte .npy header)
  expect_format_error(zip, {"member 'a.npy': CRC-32", "differs from the recorded"});
}

TEST(NpzBadFile, BadNpyInside) {
  // A member whose CRC is right but whose .npy header names a complex dtype.
  std::string zip = renamed(to_npz({{"a", tensor({1.0f, 2.0f})}}), "'<f4'", "'<c8'");
  const size_t member_start = 30 + 5, member_size = get32(zip, 22);
  const uint32_t crc = crc32_of(zip.substr(member_start, member_size));
  put32(zip, 14, crc);                    // local header
  put32(zip, central(zip, 0) + 16, crc);  // directory entry
  expect_format_error(zip, {"from_npz: bad.npz: member 'a.npy': unsupported descr '<c8'"});
}

TEST(NpzBadFile, DeflateSizesLie) {
  const NamedTensors zeros_only = {{"z", zeros({1000})}};
  std::string zip = to_npz(zeros_only, true);
  size_t entry = central(zip, 0);
  const uint32_t compressed = get32(zip, entry + 20), uncompressed = get32(zip, entry + 24);
  put32(zip, entry + 24, uint64_t{compressed} * 1032 + 5000);  // more than deflate can give
  expect_format_error(zip, {"member 'z.npy': declares", "more than deflate can produce"});
  zip = to_npz(zeros_only, true);
  put32(zip, entry + 24, uncompressed - 1);
  expect_format_error(zip,
                      {"member 'z.npy': inflates to more than the " + std::to_string(uncompressed - 1) + " bytes"});
  zip = to_npz(zeros_only, true);
  put32(zip, entry + 24, uncompressed + 1);
  expect_format_error(zip, {"inflates to " + std::to_string(uncompressed) + " bytes but its directory entry declares " +
                            std::to_string(uncompressed + 1)});
}

TEST(NpzBadFile, CorruptOrTruncatedDeflate) {
  std::string zip = to_npz({{"w", arange(100).to(kFloat32)}}, true);
  const size_t data = 30 + 5;  // local header and name "w.npy"
  for (size_t i = data; i < data + 8; ++i) zip[i] = '\xFF';
  expect_format_error(zip, {"member 'w.npy'"});
  zip = to_npz({{"w", arange(100).to(kFloat32)}}, true);
  const size_t entry = central(zip, 0);
  put32(zip, entry + 20, get32(zip, entry + 20) / 2);  // the directory gives half the compressed bytes
  expect_format_error(zip, {"member 'w.npy': truncated deflate data"});
}

TEST(NpzBadFile, Zip64FieldsMissing) {
  std::string zip = to_npz(sample());
  put32(zip, central(zip, 0) + 20, 0xFFFFFFFF);
  expect_format_error(zip, {"member 'weight.npy': sizes saturated at 0xFFFFFFFF but no zip64 extra field"});
}

TEST(NpzBadFile, EveryTruncationAndByteFlipFailsCleanly) {
  for (bool compressed : {false, true})
    testing::expect_every_cut_and_flip_fails_cleanly(
        to_npz({{"a", tensor({1.0f, 2.0f})}, {"b", tensor({3})}}, compressed),
        [](const std::string& bytes) { from_npz(bytes); });
}

}  // namespace
}  // namespace xgrad::io
