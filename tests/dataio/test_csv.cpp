// CSV: values and header of a fixture file (blank lines, a comment, a CRLF line), options, the
// dataset made of its columns, and errors that name the file and the line at fault.
#include <gtest/gtest.h>

#include "temp_dir.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::data {
namespace {

using xgrad::testing::message_of;
using xgrad::testing::TempDir;
using xgrad::testing::write_text;

const std::string kSmall = std::string(XGRAD_TEST_DATA_DIR) + "/small.csv";

std::string csv_error(const std::string& path, const CsvOptions& options = {}) {
  return message_of<IOError>([&] { read_csv(path, options); });
}

TEST(ReadCsv, ReadsHeaderAndValuesSkippingBlankAndCommentLines) {
  const CsvTable t = read_csv(kSmall);
  EXPECT_EQ(t.columns, std::vector<std::string>({"sepal_length", "sepal_width", "species"}));
  EXPECT_EQ(t.values.dtype(), kFloat32);
  EXPECT_EQ(t.values.shape(), Shape({4, 3}));
  EXPECT_EQ(t.values.to_vector<float>(),
            std::vector<float>({5.1f, 3.5f, 0, 4.9f, 3.0f, 0, 6.3f, 2.9f, 1, 5.8f, 2.7f, 2}));
  EXPECT_EQ(t.column("species"), 2);
  const std::string message = message_of<IndexError>([&] { t.column("petal"); });
  EXPECT_NE(message.find("columns: sepal_length, sepal_width, species"), std::string::npos) << message;
}

TEST(ReadCsv, OptionsForNoHeaderOtherDelimiterAndFloat64) {
  TempDir dir;
  write_text(dir.file("semi.csv"), "1;2.5\n-3;4e-1\n");
  const CsvTable t = read_csv(dir.file("semi.csv"), {.delimiter = ';', .header = false, .dtype = kFloat64});
  EXPECT_TRUE(t.columns.empty());
  EXPECT_EQ(t.values.dtype(), kFloat64);
  EXPECT_EQ(t.values.to_vector<double>(), std::vector<double>({1, 2.5, -3, 0.4}));
  EXPECT_THROW(read_csv(dir.file("semi.csv"), {.dtype = kInt64}), DTypeError);
}

TEST(ReadCsv, HeaderOnlyGivesZeroRows) {
  TempDir dir;
  write_text(dir.file("empty.csv"), "a,b\n");
  EXPECT_EQ(read_csv(dir.file("empty.csv")).values.shape(), Shape({0, 2}));
  write_text(dir.file("nothing.csv"), "");
  EXPECT_NE(csv_error(dir.file("nothing.csv")).find("empty file: no header row"), std::string::npos);
}

TEST(ReadCsv, MissingFile) {
  const std::string message = csv_error("/no/such/file.csv");
  EXPECT_NE(message.find("/no/such/file.csv: cannot open"), std::string::npos) << message;
}

TEST(ReadCsv, RaggedRowsNameTheLine) {
  TempDir dir;
  write_text(dir.file("ragged.csv"), "a,b\n1,2\n3,4\n5\n");
  const std::string message = csv_error(dir.file("ragged.csv"));
  EXPECT_NE(message.find(dir.file("ragged.csv")), std::string::npos) << message;
  EXPECT_NE(message.find("line 4 has 1 fields but line 2 has 2"), std::string::npos) << message;
}

TEST(ReadCsv, NonNumberNamesLineAndColumn) {
  TempDir dir;
  write_text(dir.file("words.csv"), "a,b\n1,2\n\n3,abc\n");
  const std::string message = csv_error(dir.file("words.csv"));
  EXPECT_NE(message.find("line 4, column 2: 'abc' is not a number"), std::string::npos) << message;
}

TEST(ReadCsv, HeaderAndRowsMustAgree) {
  TempDir dir;
  write_text(dir.file("wide.csv"), "a,b\n1,2,3\n");
  const std::string message = csv_error(dir.file("wide.csv"));
  EXPECT_NE(message.find("the header names 2 columns but the rows have 3 fields"), std::string::npos) << message;
}

TEST(CsvDataset, SplitsOffTheTargetColumn) {
  const TensorDataset d = csv_dataset(read_csv(kSmall), "species", kInt64);
  EXPECT_EQ(d.size(), 4);
  EXPECT_EQ(d.inputs().shape(), Shape({4, 2}));
  EXPECT_EQ(d.targets().dtype(), kInt64);
  EXPECT_EQ(d.targets().to_vector<int64_t>(), std::vector<int64_t>({0, 0, 1, 2}));
  const TensorDataset first = csv_dataset(read_csv(kSmall), 0);
  EXPECT_EQ(first.inputs().to_vector<float>()[0], 3.5f);
  EXPECT_FLOAT_EQ(first.targets().to_vector<float>()[2], 6.3f);
  const TensorDataset middle = csv_dataset(read_csv(kSmall), 1);
  EXPECT_EQ(middle.inputs().to_vector<float>()[1], 0.0f);  // row 0 without column 1: 5.1, 0
}

TEST(CsvDataset, RejectsBadTargets) {
  const CsvTable t = read_csv(kSmall);
  EXPECT_THROW(csv_dataset(t, 3), IndexError);
  EXPECT_THROW(csv_dataset(t, "nope"), IndexError);
  EXPECT_NE(message_of<ValueError>([&] { csv_dataset(t, 0, kInt64); }).find("not a whole number"), std::string::npos);
}

}  // namespace
}  // namespace xgrad::data
