#pragma once
// CSV files of numbers (parsed by xtensor's xt::load_csv), with an optional header row of column
// names, and a dataset made of their columns.
//
//   auto table = xg::data::read_csv("iris.csv");                 // header row on by default
//   auto data = xg::data::csv_dataset(table, "species", xg::kInt64);
#include <cstdint>
#include <string>
#include <vector>

#include "xgrad/data/dataset.hpp"

namespace xgrad::data {

struct CsvOptions {
  char delimiter = ',';
  bool header = true;          // the first row names the columns
  DType dtype = kFloat32;      // of the values: float32 or float64
  std::string comments = "#";  // lines starting with this are skipped (as are blank lines)
};

struct CsvTable {
  std::vector<std::string> columns;  // names from the header row (empty without one)
  Tensor values;                     // [rows, columns]
  // The index of a named column; IndexError naming the known columns otherwise.
  int64_t column(const std::string& name) const;
};

// IOError naming the file (and the line, where one is at fault) for a missing file, rows of
// different lengths, a header that disagrees with the rows, or a cell that is not a number.
CsvTable read_csv(const std::string& path, const CsvOptions& options = {});

// Every column but `target` as the inputs [rows, columns - 1] and `target` as the targets [rows],
// converted to target_dtype (kInt64 for class labels: ValueError when a label is not a whole
// number).
TensorDataset csv_dataset(const CsvTable& table, const std::string& target, DType target_dtype = kFloat32);
TensorDataset csv_dataset(const CsvTable& table, int64_t target_column, DType target_dtype = kFloat32);

}  // namespace xgrad::data
