#include "xgrad/tensor/array.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <optional>
#include <sstream>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "strided_loop.hpp"

namespace xgrad {

namespace {

// Large blocks are recycled by exact (page-rounded) size: a training loop asks for the same sizes
// every step, and a fresh block from the OS costs a page fault per 4 KiB on first touch.
class BlockCache {
 public:
  static constexpr size_t kLargeBlock = 64 * 1024;
  static constexpr size_t kMaxCachedBytes = size_t{512} << 20;

  static size_t rounded(size_t nbytes) { return (nbytes + 4095) / 4096 * 4096; }

  void* take(size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(size);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_bytes_ -= size;
    return p;
  }

  bool give(void* p, size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_bytes_ + size > kMaxCachedBytes) return false;
    free_[size].push_back(p);
    cached_bytes_ += size;
    return true;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_bytes_ = 0;
};

BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache();  // never destroyed: storages may outlive statics
  return *cache;
}

}  // namespace

Storage::Storage(size_t nbytes) : nbytes_(nbytes) {
  // Small buffers come from malloc (aligned_alloc costs ~10x more there and SIMD loads are
  // unaligned anyway); large ones are cache-line aligned and recycled.
  if (nbytes < BlockCache::kLargeBlock) {
    data_ = std::malloc(std::max<size_t>(nbytes, 1));
  } else {
    const size_t size = BlockCache::rounded(nbytes);
    data_ = block_cache().take(size);
    if (!data_) data_ = std::aligned_alloc(64, size);
  }
  if (!data_) throw std::bad_alloc();
}

Storage::~Storage() {
  if (nbytes_ >= BlockCache::kLargeBlock && block_cache().give(data_, BlockCache::rounded(nbytes_))) return;
  std::free(data_);
}

Array::Array(Shape shape, DType dtype)
    : storage_(std::make_shared<Storage>(static_cast<size_t>(xgrad::numel(shape)) * itemsize(dtype))),
      shape_(std::move(shape)),
      strides_(contiguous_strides(shape_)),
      numel_(xgrad::numel(shape_)),
      dtype_(dtype) {
  for (int64_t d : shape_)
    if (d < 0) throw ShapeError("array: negative dimension in shape " + xgrad::to_string(shape_));
}

Array::Array(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset, DType dtype)
    : storage_(std::move(storage)),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      offset_(offset),
      numel_(xgrad::numel(shape_)),
      dtype_(dtype) {}

int64_t Array::size(int64_t d) const { return shape_[normalize_dim("size", d, dim())]; }

bool Array::is_contiguous() const {
  if (numel_ == 0) return true;  // no element to misplace, whatever the strides
  int64_t expected = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] == 1) continue;
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

void Array::throw_dtype_mismatch(DType requested) const {
  throw DTypeError("data: array has dtype " + std::string(dtype_name(dtype_)) + ", requested " +
                   std::string(dtype_name(requested)));
}

Array Array::as_strided(Shape shape, Strides strides, int64_t offset) const {
  return Array(storage_, std::move(shape), std::move(strides), offset, dtype_);
}

namespace {

// Strides that let `shape` view an array of (from_shape, from_strides) without copying, or nothing.
// A view is possible when each run of merged input dims maps onto output dims (the same rule as
// PyTorch's computeStride): walk both shapes in chunks of equal element count. `chunk` is the
// stride of the innermost dim of the current run of mergeable input dims.
std::optional<Strides> view_strides(const Shape& from_shape, const Strides& from_strides, const Shape& shape) {
  const int64_t ndim = static_cast<int64_t>(from_shape.size());
  Strides out(shape.size());
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk = from_strides.empty() ? 1 : from_strides.back();
  int64_t tensor_numel = 1;
  int64_t view_numel = 1;
  for (int64_t d = ndim - 1; d >= 0; --d) {
    tensor_numel *= from_shape[d];
    if (d == 0 || (from_shape[d - 1] != 1 && from_strides[d - 1] != tensor_numel * chunk)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) chunk = from_strides[d - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  for (; view_d >= 0; --view_d) out[view_d] = 1;
  return out;
}

}  // namespace

Array Array::view(const Shape& target) const {
  Shape shape = infer_shape("view", target, numel_);
  if (is_contiguous() || numel_ == 0) return as_strided(shape, contiguous_strides(shape), offset_);
  std::optional<Strides> strides = view_strides(shape_, strides_, shape);
  if (!strides)
    throw ShapeError("view: shape " + xgrad::to_string(shape) + " is not compatible with the strides of a " +
                     xgrad::to_string(shape_) + " view; use reshape()");
  return as_strided(shape, std::move(*strides), offset_);
}

Array Array::reshape(const Shape& target) const {
  Shape shape = infer_shape("reshape", target, numel_);
  if (is_contiguous() || numel_ == 0) return as_strided(shape, contiguous_strides(shape), offset_);
  if (std::optional<Strides> strides = view_strides(shape_, strides_, shape))
    return as_strided(shape, std::move(*strides), offset_);
  return contiguous().view(shape);
}

Array Array::transpose(int64_t dim0, int64_t dim1) const {
  const int64_t a = normalize_dim("transpose", dim0, dim());
  const int64_t b = normalize_dim("transpose", dim1, dim());
  if (dim() == 0) return *this;
  Shape shape = shape_;
  Strides strides = strides_;
  std::swap(shape[a], shape[b]);
  std::swap(strides[a], strides[b]);
  return as_strided(shape, strides, offset_);
}

Array Array::permute(const Dims& order) const {
  if (static_cast<int64_t>(order.size()) != dim())
    throw ShapeError("permute: got " + std::to_string(order.size()) + " dims for a " + std::to_string(dim()) +
                     "-d tensor of shape " + xgrad::to_string(shape_));
  Shape shape(order.size());
  Strides strides(order.size());
  std::vector<bool> seen(order.size(), false);
  for (size_t i = 0; i < order.size(); ++i) {
    const int64_t d = normalize_dim("permute", order[i], dim());
    if (seen[d]) throw IndexError("permute: dim " + std::to_string(d) + " repeats in the order");
    seen[d] = true;
    shape[i] = shape_[d];
    strides[i] = strides_[d];
  }
  return as_strided(shape, strides, offset_);
}

Array Array::slice(int64_t d, int64_t start, int64_t stop, int64_t step) const {
  if (dim() == 0) throw IndexError("slice: a 0-d tensor has no dim to slice");
  d = normalize_dim("slice", d, dim());
  if (step <= 0) throw ValueError("slice: step must be positive, got " + std::to_string(step));
  const int64_t n = shape_[d];
  auto clampi = [n](int64_t i) { return i < 0 ? std::max<int64_t>(i + n, 0) : std::min(i, n); };
  start = clampi(start);
  stop = clampi(stop);
  const int64_t len = stop > start ? (stop - start + step - 1) / step : 0;
  Shape shape = shape_;
  Strides strides = strides_;
  shape[d] = len;
  strides[d] *= step;
  return as_strided(shape, strides, offset_ + start * strides_[d]);
}

Array Array::select(int64_t d, int64_t index) const {
  if (dim() == 0) throw IndexError("select: a 0-d tensor has no dim to select from");
  d = normalize_dim("select", d, dim());
  if (index < -shape_[d] || index >= shape_[d])
    throw IndexError("select: index " + std::to_string(index) + " is out of range for dim " + std::to_string(d) +
                     " of size " + std::to_string(shape_[d]));
  if (index < 0) index += shape_[d];
  Shape shape = shape_;
  Strides strides = strides_;
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return as_strided(shape, strides, offset_ + index * strides_[d]);
}

Array Array::expand(const Shape& target) const {
  if (target.size() < shape_.size())
    throw ShapeError("expand: cannot expand shape " + xgrad::to_string(shape_) + " to " + xgrad::to_string(target));
  Shape shape = target;
  const size_t lead = target.size() - shape_.size();
  for (size_t i = 0; i < shape_.size(); ++i) {
    if (target[lead + i] == -1)
      shape[lead + i] = shape_[i];
    else if (shape_[i] != 1 && shape_[i] != target[lead + i])
      throw ShapeError("expand: cannot expand shape " + xgrad::to_string(shape_) + " to " + xgrad::to_string(target));
  }
  for (size_t i = 0; i < lead; ++i)
    if (target[i] < 0)
      throw ShapeError("expand: cannot expand shape " + xgrad::to_string(shape_) + " to " + xgrad::to_string(target));
  Array base = as_strided(shape_, strides_, offset_);
  return as_strided(shape, detail::broadcast_strides(base, shape), offset_);
}

Array Array::squeeze(int64_t d) const {
  d = normalize_dim("squeeze", d, dim());
  if (dim() == 0 || shape_[d] != 1) return *this;
  Shape shape = shape_;
  Strides strides = strides_;
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return as_strided(shape, strides, offset_);
}

Array Array::unsqueeze(int64_t d) const {
  d = normalize_dim("unsqueeze", d, dim() + 1);
  Shape shape = shape_;
  Strides strides = strides_;
  const int64_t stride = d < dim() ? strides_[d] * shape_[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return as_strided(shape, strides, offset_);
}

namespace {

// Elements per thread below which a copy stays on the calling thread (256 KiB of float32).
constexpr int64_t kParallelCopy = int64_t{1} << 16;

// A large memcpy in parts on xgrad's threads: one core does not saturate the memory bus.
void copy_bytes(void* dst, const void* src, size_t nbytes) {
  const auto n = static_cast<int64_t>(nbytes);
  constexpr int64_t kGrain = kParallelCopy * 4;
  if (n < 2 * kGrain) {
    std::memcpy(dst, src, nbytes);
    return;
  }
  parallel_for(
      n, kGrain,
      [&](int64_t begin, int64_t end) {
        std::memcpy(static_cast<char*>(dst) + begin, static_cast<const char*>(src) + begin,
                    static_cast<size_t>(end - begin));
      },
      64);
}

// Copies src into dst (same shape), converting the element type.
void copy_convert(const Array& src, const Array& dst) {
  dispatch(src.dtype(), [&]<typename S>() {
    dispatch(dst.dtype(), [&]<typename D>() {
      detail::parallel_for_each_run<2>(
          dst.shape(), {dst.strides(), src.strides()},
          {static_cast<char*>(dst.raw_data()), static_cast<char*>(src.raw_data())}, {sizeof(D), sizeof(S)},
          kParallelCopy, [](const detail::Run<2>& r) {
            char* d = r.ptr[0];
            const char* s = r.ptr[1];
            if (r.stride[0] == sizeof(D) && r.stride[1] == sizeof(S)) {
              D* dp = reinterpret_cast<D*>(d);
              const S* sp = reinterpret_cast<const S*>(s);
              if constexpr (std::is_same_v<D, S>) {
                std::memcpy(dp, sp, static_cast<size_t>(r.n) * sizeof(D));
              } else {
                for (int64_t i = 0; i < r.n; ++i) dp[i] = static_cast<D>(sp[i]);
              }
              return;
            }
            if (r.stride[0] == sizeof(D) && r.stride[1] == 0) {  // a broadcast value: a fill
              std::fill_n(reinterpret_cast<D*>(d), r.n, static_cast<D>(*reinterpret_cast<const S*>(s)));
              return;
            }
            for (int64_t i = 0; i < r.n; ++i, d += r.stride[0], s += r.stride[1])
              *reinterpret_cast<D*>(d) = static_cast<D>(*reinterpret_cast<const S*>(s));
          });
    });
  });
}

}  // namespace

Array Array::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Array Array::clone() const {
  Array out(shape_, dtype_);
  if (is_contiguous()) {
    copy_bytes(out.raw_data(), raw_data(), static_cast<size_t>(numel_) * itemsize(dtype_));
    return out;
  }
  copy_convert(*this, out);
  return out;
}

Array Array::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Array out(shape_, dtype);
  copy_convert(*this, out);
  return out;
}

int64_t Array::element_offset(const Shape& index) const {
  if (static_cast<int64_t>(index.size()) != dim())
    throw IndexError("at: index " + xgrad::to_string(index) + " has " + std::to_string(index.size()) +
                     " entries for a tensor of shape " + xgrad::to_string(shape_));
  int64_t off = offset_;
  for (size_t i = 0; i < index.size(); ++i) {
    int64_t k = index[i];
    if (k < -shape_[i] || k >= shape_[i])
      throw IndexError("at: index " + xgrad::to_string(index) + " is out of range for shape " +
                       xgrad::to_string(shape_));
    if (k < 0) k += shape_[i];
    off += k * strides_[i];
  }
  return off;
}

double Array::at(const Shape& index) const {
  const int64_t off = element_offset(index);
  return dispatch(dtype_, [&]<typename T>() { return static_cast<double>(static_cast<T*>(storage_->data())[off]); });
}

void Array::set(const Shape& index, double value) const {
  const int64_t off = element_offset(index);
  dispatch(dtype_, [&]<typename T>() { static_cast<T*>(storage_->data())[off] = static_cast<T>(value); });
  bump_version();
}

double Array::item() const {
  if (numel_ != 1)
    throw ValueError("item: only a tensor with one element converts to a number, got shape " +
                     xgrad::to_string(shape_));
  return dispatch(dtype_, [&]<typename T>() { return static_cast<double>(*static_cast<T*>(raw_data())); });
}

namespace {

void print_values(std::ostringstream& os, const Array& a, int64_t d, Shape& index, int indent) {
  const int64_t n = a.shape()[d];
  const bool last = d == a.dim() - 1;
  const int64_t edge = 3;  // like NumPy: long dims show their first and last three entries
  const bool summarize = a.numel() > 1000 && n > 2 * edge;
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && i == edge) {
      os << (last ? "..., " : "...,\n" + std::string(indent + 1, ' '));
      i = n - edge;
    }
    index[d] = i;
    if (last) {
      const double v = a.at(index);
      if (a.dtype() == DType::Bool)
        os << (v != 0 ? "true" : "false");
      else if (a.dtype() == DType::Int64)
        os << static_cast<int64_t>(v);
      else
        os << v;
    } else {
      print_values(os, a, d + 1, index, indent + 1);
    }
    if (i + 1 < n) os << (last ? ", " : ",\n" + std::string(indent + 1, ' '));
  }
  os << ']';
}

}  // namespace

std::string Array::to_string() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  os.precision(6);
  os << "tensor(";
  if (dim() == 0) {
    os << item();
  } else {
    Shape index(shape_.size(), 0);
    if (numel_ == 0)
      os << "[]";
    else
      print_values(os, *this, 0, index, 7);
  }
  os << ", shape=" << xgrad::to_string(shape_) << ", dtype=" << dtype_name(dtype_) << ')';
  return os.str();
}

}  // namespace xgrad
