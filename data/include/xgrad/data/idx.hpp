#pragma once
// The IDX format of (Fashion-)MNIST, plain or gzip-compressed (read through zlib, which passes
// uncompressed files through unchanged).
//
// IDX: a big-endian header: two zero bytes, a type code (0x08 = unsigned byte), the number of
// dims, then each dim as a 32-bit size; then the values, row-major. MNIST's image files have magic
// 0x00000803 ([n, 28, 28] ubyte), its label files 0x00000801 ([n] ubyte).
//
// Every problem throws IOError naming the file and what is wrong: a missing file, a bad magic
// number, truncated or trailing data, a gzip stream error, images and labels that disagree.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "xgrad/data/dataset.hpp"

namespace xgrad::data {

// An IDX file of unsigned bytes: a 1-d file (labels) gives int64 values as stored; a file of two
// or more dims (images) gives float32 values scaled to [0, 1] (divided by 255).
Tensor read_idx(const std::string& path);
// The same from the file's bytes (plain or gzip); errors name `source` instead of a path. Every
// fault of the bytes is a FormatError (an IOError).
Tensor from_idx(std::string_view bytes, const std::string& source = "<memory>");

// Writes an IDX file of unsigned bytes (gzip-compressed when `gzip`): int64 or bool values as they
// are, floating values as round(255 x) (the inverse of read_idx). ValueError for a value outside
// [0, 255] (or [0, 1] for floats), IOError when the file cannot be written.
void write_idx(const std::string& path, const Tensor& values, bool gzip = false);

// An image file and a label file of one size as a dataset (IOError naming both files otherwise).
TensorDataset load_idx_dataset(const std::string& images_path, const std::string& labels_path);

struct TrainTestData {
  TensorDataset train;
  TensorDataset test;
};
// The four files of (Fashion-)MNIST in `dir`: train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each with or without a .gz suffix. Images
// are [n, 28, 28] float32 in [0, 1], labels [n] int64.
TrainTestData load_mnist(const std::string& dir);
TrainTestData load_fashion_mnist(const std::string& dir);  // the same files, another data set

// The names of Fashion-MNIST's ten classes, in label order.
const std::array<std::string, 10>& fashion_mnist_classes();

}  // namespace xgrad::data
