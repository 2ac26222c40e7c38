// CSV reading: we split lines (to drop blank lines and '\r', keep line numbers and read the
// header), xt::load_csv parses the numbers, and when it fails a second pass finds the line and
// cell at fault so that the error can name them.
#include "xgrad/data/csv.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <xtensor/xcsv.hpp>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "xgrad/tensor/error.hpp"
#include "xgrad/tensor/kernels.hpp"

namespace xgrad::data {
namespace {

struct Line {
  int64_t number;  // 1-based, in the file
  std::string text;
};

std::string trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\"");
  if (first == std::string::npos) return "";
  const size_t last = s.find_last_not_of(" \t\"");
  return s.substr(first, last - first + 1);
}

std::vector<std::string> split(const std::string& line, char delimiter) {
  std::vector<std::string> cells;
  std::stringstream stream(line);
  std::string cell;
  while (std::getline(stream, cell, delimiter)) cells.push_back(cell);
  return cells;
}

bool is_number(const std::string& cell) {
  const std::string t = trim(cell);
  if (t.empty()) return false;
  char* end = nullptr;
  std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size();
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IOError("read_csv: " + path + ": " + what);
}

// Finds what made the parse fail and throws an error naming it.
[[noreturn]] void diagnose(const std::string& path, const std::vector<Line>& rows, char delimiter,
                           const std::string& parser_message) {
  size_t width = 0;
  for (const Line& row : rows) {
    const std::vector<std::string> cells = split(row.text, delimiter);
    for (size_t c = 0; c < cells.size(); ++c)
      if (!is_number(cells[c]))
        fail(path, "line " + std::to_string(row.number) + ", column " + std::to_string(c + 1) + ": '" + trim(cells[c]) +
                       "' is not a number");
    if (width == 0) width = cells.size();
    if (cells.size() != width)
      fail(path, "line " + std::to_string(row.number) + " has " + std::to_string(cells.size()) + " fields but line " +
                     std::to_string(rows.front().number) + " has " + std::to_string(width));
  }
  fail(path, "cannot parse (" + parser_message + ")");
}

}  // namespace

int64_t CsvTable::column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return static_cast<int64_t>(i);
  std::string known;
  for (const std::string& c : columns) known += (known.empty() ? "" : ", ") + c;
  throw IndexError("CsvTable::column: no column named '" + name + "' (columns: " + known + ")");
}

CsvTable read_csv(const std::string& path, const CsvOptions& options) {
  if (options.dtype != kFloat32 && options.dtype != kFloat64)
    throw DTypeError("read_csv: dtype must be float32 or float64, got " + std::string(dtype_name(options.dtype)));
  std::ifstream file(path, std::ios::binary);
  if (!file) fail(path, std::string("cannot open: ") + std::strerror(errno));

  CsvTable table;
  std::vector<Line> rows;
  std::string text;
  bool have_header = !options.header;
  for (int64_t number = 1; std::getline(file, text); ++number) {
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    if (!options.comments.empty() && text.compare(0, options.comments.size(), options.comments) == 0) continue;
    if (!have_header) {
      for (const std::string& name : split(text, options.delimiter)) table.columns.push_back(trim(name));
      have_header = true;
      continue;
    }
    rows.push_back({number, std::move(text)});
  }
  if (file.bad()) fail(path, std::string("read error: ") + std::strerror(errno));
  if (options.header && !have_header) fail(path, "empty file: no header row");

  const auto ncols = static_cast<int64_t>(options.header ? table.columns.size() : 0);
  if (rows.empty()) {
    table.values = Tensor(Array({0, ncols}, options.dtype));
    return table;
  }
  std::stringstream joined;
  for (const Line& row : rows) joined << row.text << '\n';

  xt::xtensor<double, 2> parsed;
  try {
    parsed = xt::load_csv<double>(joined, options.delimiter);
  } catch (const std::exception& e) {
    diagnose(path, rows, options.delimiter, e.what());
  }
  if (static_cast<int64_t>(parsed.shape()[0]) != static_cast<int64_t>(rows.size()))
    diagnose(path, rows, options.delimiter, "row count");
  const auto width = static_cast<int64_t>(parsed.shape()[1]);
  if (options.header && width != ncols)
    fail(path, "the header names " + std::to_string(ncols) + " columns but the rows have " + std::to_string(width) +
                   " fields");

  Array values({static_cast<int64_t>(rows.size()), width}, kFloat64);
  std::copy(parsed.begin(), parsed.end(), values.data<double>());
  table.values = Tensor(options.dtype == kFloat64 ? values : values.to(options.dtype));
  return table;
}

TensorDataset csv_dataset(const CsvTable& table, const std::string& target, DType target_dtype) {
  return csv_dataset(table, table.column(target), target_dtype);
}

TensorDataset csv_dataset(const CsvTable& table, int64_t target_column, DType target_dtype) {
  if (!table.values.defined() || table.values.dim() != 2)
    throw ShapeError("csv_dataset: expected a table of [rows, columns] values");
  const int64_t rows = table.values.size(0), cols = table.values.size(1);
  if (target_column < 0 || target_column >= cols)
    throw IndexError("csv_dataset: target column " + std::to_string(target_column) + " is out of range for " +
                     std::to_string(cols) + " columns");
  const Array all = table.values.array().contiguous();
  std::vector<Array> parts;
  if (target_column > 0) parts.push_back(all.slice(1, 0, target_column));
  if (target_column + 1 < cols) parts.push_back(all.slice(1, target_column + 1, cols));
  Array inputs = parts.empty()       ? Array({rows, 0}, all.dtype())
                 : parts.size() == 1 ? parts[0].contiguous()
                                     : kernels::cat(parts, 1);
  const Array column = all.select(1, target_column).to(kFloat64).contiguous();
  if (target_dtype == kInt64) {
    const double* p = column.data<double>();
    for (int64_t r = 0; r < rows; ++r)
      if (p[r] != std::floor(p[r]))
        throw ValueError("csv_dataset: target " + std::to_string(p[r]) + " in row " + std::to_string(r) +
                         " is not a whole number (class labels must be)");
  }
  return TensorDataset(Tensor(inputs), Tensor(column.to(target_dtype)));
}

}  // namespace xgrad::data
