#pragma once
// A reference-counted, 64-byte aligned block of memory shared by an array and its views.
// The version counter counts in-place writes, so autograd can tell when a value it saved
// for backward has been overwritten.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace xgrad {

class Storage {
 public:
  explicit Storage(size_t nbytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_;
  size_t nbytes_;
  uint64_t version_ = 0;
};

}  // namespace xgrad
