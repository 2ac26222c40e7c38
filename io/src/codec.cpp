// Element types of files and their conversion to and from Arrays, shared by every format.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <ostream>

#include "format.hpp"

namespace xgrad::io::detail {

std::string shown(std::string_view s, size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
    }
  }
  return s.size() > max ? out + "..." : out;
}

static_assert(std::endian::native == std::endian::little, "the io/ formats assume a little-endian host");
static_assert(sizeof(bool) == 1, "bool tensors are saved as one byte per value");

size_t elem_size(Elem e) {
  switch (e) {
    case Elem::Bool:
    case Elem::U8:
    case Elem::I8: return 1;
    case Elem::U16:
    case Elem::I16:
    case Elem::F16:
    case Elem::BF16: return 2;
    case Elem::U32:
    case Elem::I32:
    case Elem::F32: return 4;
    case Elem::U64:
    case Elem::I64:
    case Elem::F64: return 8;
  }
  return 1;
}

DType loaded_dtype(Elem e) {
  switch (e) {
    case Elem::Bool: return kBool;
    case Elem::F16:
    case Elem::BF16:
    case Elem::F32: return kFloat32;
    case Elem::F64: return kFloat64;
    default: return kInt64;
  }
}

Elem elem_of(DType t) {
  switch (t) {
    case DType::Bool: return Elem::Bool;
    case DType::Int64: return Elem::I64;
    case DType::Float32: return Elem::F32;
    case DType::Float64: return Elem::F64;
  }
  return Elem::F32;
}

std::string list_string(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

int64_t checked_numel(const Context& ctx, const Shape& shape, Elem e) {
  bool zero = false;
  int64_t product = 1;
  for (int64_t d : shape) {
    if (d < 0) ctx.fail("shape " + list_string(shape) + " has a negative dim");
    if (d == 0) {
      zero = true;
      continue;
    }
    if (__builtin_mul_overflow(product, d, &product))
      ctx.fail("shape " + list_string(shape) + ": the element count overflows int64");
  }
  // Room for the widest of the file's and the loaded element, so that no byte count or stride overflows.
  const auto widest = static_cast<int64_t>(std::max(elem_size(e), itemsize(loaded_dtype(e))));
  int64_t bytes = 0;
  if (__builtin_mul_overflow(product, widest, &bytes))
    ctx.fail("shape " + list_string(shape) + ": the byte count overflows int64");
  return zero ? 0 : product;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));  // inf, NaN
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));         // rebias 15 -> 127
}

float bfloat16_to_float(uint16_t h) { return std::bit_cast<float>(uint32_t{h} << 16); }

namespace {

template <typename U> U load(const char* p, bool big_endian) {
  U v;
  std::memcpy(&v, p, sizeof v);
  if (!big_endian) return v;
  if constexpr (sizeof(U) == 2) return static_cast<U>(__builtin_bswap16(v));
  if constexpr (sizeof(U) == 4) return static_cast<U>(__builtin_bswap32(v));
  if constexpr (sizeof(U) == 8) return static_cast<U>(__builtin_bswap64(v));
  return v;
}

// Stored integers of type S (read through its unsigned twin U) to int64.
template <typename S, typename U> void integers(int64_t* out, const char* src, int64_t n, bool big_endian) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<S>(load<U>(src + i * int64_t{sizeof(U)}, big_endian));
}

}  // namespace

Array decode(const Context& ctx, Elem e, bool big_endian, const char* src, const Shape& shape) {
  Array out(shape, loaded_dtype(e));
  const int64_t n = out.numel();
  if (n == 0) return out;
  if (!big_endian && (e == Elem::F32 || e == Elem::F64 || e == Elem::I64)) {
    std::memcpy(out.raw_data(), src, static_cast<size_t>(n) * elem_size(e));
    return out;
  }
  switch (e) {
    case Elem::Bool: {
      bool* p = out.data<bool>();
      for (int64_t i = 0; i < n; ++i) p[i] = src[i] != 0;  // any other byte than 0 or 1 would be UB as a bool
      break;
    }
    case Elem::U8: integers<uint8_t, uint8_t>(out.data<int64_t>(), src, n, false); break;
    case Elem::I8: integers<int8_t, uint8_t>(out.data<int64_t>(), src, n, false); break;
    case Elem::U16: integers<uint16_t, uint16_t>(out.data<int64_t>(), src, n, big_endian); break;
    case Elem::I16: integers<int16_t, uint16_t>(out.data<int64_t>(), src, n, big_endian); break;
    case Elem::U32: integers<uint32_t, uint32_t>(out.data<int64_t>(), src, n, big_endian); break;
    case Elem::I32: integers<int32_t, uint32_t>(out.data<int64_t>(), src, n, big_endian); break;
    case Elem::I64: integers<int64_t, uint64_t>(out.data<int64_t>(), src, n, big_endian); break;
    case Elem::U64: {
      int64_t* p = out.data<int64_t>();
      for (int64_t i = 0; i < n; ++i) {
        const auto v = load<uint64_t>(src + 8 * i, big_endian);
        if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
          ctx.fail("U64 value " + std::to_string(v) + " at flat index " + std::to_string(i) + " does not fit in int64");
        p[i] = static_cast<int64_t>(v);
      }
      break;
    }
    case Elem::F16: {
      float* p = out.data<float>();
      for (int64_t i = 0; i < n; ++i) p[i] = half_to_float(load<uint16_t>(src + 2 * i, big_endian));
      break;
    }
    case Elem::BF16: {
      float* p = out.data<float>();
      for (int64_t i = 0; i < n; ++i) p[i] = bfloat16_to_float(load<uint16_t>(src + 2 * i, big_endian));
      break;
    }
    case Elem::F32: {
      float* p = out.data<float>();
      for (int64_t i = 0; i < n; ++i) p[i] = std::bit_cast<float>(load<uint32_t>(src + 4 * i, big_endian));
      break;
    }
    case Elem::F64: {
      double* p = out.data<double>();
      for (int64_t i = 0; i < n; ++i) p[i] = std::bit_cast<double>(load<uint64_t>(src + 8 * i, big_endian));
      break;
    }
  }
  return out;
}

void write_values(std::ostream& out, const Array& a) {
  const Array c = a.contiguous();
  if (c.numel() == 0) return;
  const auto* p = static_cast<const char*>(c.raw_data());
  const size_t n = static_cast<size_t>(c.numel()) * itemsize(c.dtype());
  for (size_t done = 0; done < n;) {  // streamsize chunks, whatever its width
    const size_t chunk = std::min<size_t>(n - done, size_t{1} << 30);
    out.write(p + done, static_cast<std::streamsize>(chunk));
    done += chunk;
  }
}

void append_values(std::string& out, const Array& a) {
  const Array c = a.contiguous();
  if (c.numel() == 0) return;
  // bool is one byte holding 0 or 1, the other dtypes are IEEE-754 / two's complement, little-endian.
  out.append(static_cast<const char*>(c.raw_data()), static_cast<size_t>(c.numel()) * itemsize(c.dtype()));
}

}  // namespace xgrad::io::detail
