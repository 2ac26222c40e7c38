#pragma once
// Private: the loop nest under every elementwise kernel. It walks N operands over one shape,
// merges dims that are contiguous in every operand and hands the innermost run to a callback,
// so a contiguous case is one call with a long run and a broadcast row is many short runs
// with a zero stride.
#include <algorithm>
#include <array>
#include <cstdint>

#include "xgrad/tensor/array.hpp"
#include "xgrad/tensor/parallel.hpp"

namespace xgrad::detail {

// Strides (in elements) that read `a` as if it had shape `out` (NumPy broadcasting: 0 on
// broadcast dims). `out` must be a broadcast of a.shape().
inline Strides broadcast_strides(const Array& a, const Shape& out) {
  Strides s(out.size(), 0);
  const size_t lead = out.size() - a.shape().size();
  for (size_t i = 0; i < a.shape().size(); ++i)
    s[lead + i] = a.shape()[i] == 1 && out[lead + i] != 1 ? 0 : a.strides()[i];
  return s;
}

template <size_t N> struct Run {
  std::array<char*, N> ptr;       // first element of the run, per operand
  std::array<int64_t, N> stride;  // byte stride along the run, per operand
  int64_t n;                      // elements in the run
};

inline constexpr int kMaxLoopDims = 16;  // more dims (after dropping size-1 ones): peel the first
inline constexpr int64_t kCacheLine = 64;
// A transposed operand is walked in tiles of kTileRows runs of kTileCols elements: each cache line
// it loads then serves the next runs before it is evicted. Few columns, because a power-of-two
// row stride maps a column's lines to one cache set (measured on 2048x2048: 8 beats 16 to 64).
inline constexpr int64_t kTileRows = 256;
inline constexpr int64_t kTileCols = 8;

inline int64_t abs_stride(int64_t s) { return s < 0 ? -s : s; }

// Calls `body(Run<N>)` for every innermost run of `shape`. strides are in elements, `itemsize`
// per operand. Operand 0 is the one written: the dims are walked in its memory order (largest
// stride outermost, as NumPy's nditer and PyTorch's TensorIterator do), so its writes are
// sequential whatever its layout; an operand that is then strided across the run but contiguous
// along an outer dim (a transpose) is walked in tiles. Every element is visited once, so results
// do not depend on the order; an operand 0 with a zero stride (written more than once) keeps
// the logical order, so the last write stays the logical last.
template <size_t N, typename Body> void for_each_run(const Shape& shape, const std::array<Strides, N>& strides,
                                                     std::array<char*, N> base, const std::array<int64_t, N>& item,
                                                     Body&& body) {
  // The dims that matter (size > 1), in walking order.
  int order[kMaxLoopDims];
  int count = 0;
  bool writes_twice = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) return;
    if (shape[i] == 1) continue;
    if (count == kMaxLoopDims) {  // deeper than the fixed nest: peel the first dim, recurse on the rest
      const Shape inner(shape.begin() + 1, shape.end());
      std::array<Strides, N> inner_strides;
      for (size_t k = 0; k < N; ++k) inner_strides[k] = Strides(strides[k].begin() + 1, strides[k].end());
      for (int64_t j = 0; j < shape[0]; ++j) {
        std::array<char*, N> p;
        for (size_t k = 0; k < N; ++k) p[k] = base[k] + j * strides[k][0] * item[k];
        for_each_run<N>(inner, inner_strides, p, item, body);
      }
      return;
    }
    writes_twice |= strides[0][i] == 0;
    order[count++] = static_cast<int>(i);
  }
  if (!writes_twice)  // a stable insertion sort: a handful of dims
    for (int i = 1; i < count; ++i)
      for (int j = i; j > 0 && abs_stride(strides[0][order[j - 1]]) < abs_stride(strides[0][order[j]]); --j)
        std::swap(order[j - 1], order[j]);

  // Collapse: merge a dim into the previous one when every operand is contiguous across them.
  int64_t dims[kMaxLoopDims];
  int64_t st[N][kMaxLoopDims];  // byte strides
  int nd = 0;
  for (int j = 0; j < count; ++j) {
    const int i = order[j];
    bool merge = nd > 0;
    for (size_t k = 0; k < N && merge; ++k) merge = st[k][nd - 1] == strides[k][i] * item[k] * shape[i];
    if (merge) {
      dims[nd - 1] *= shape[i];
      for (size_t k = 0; k < N; ++k) st[k][nd - 1] = strides[k][i] * item[k];
    } else {
      dims[nd] = shape[i];
      for (size_t k = 0; k < N; ++k) st[k][nd] = strides[k][i] * item[k];
      ++nd;
    }
  }

  Run<N> run;
  if (nd == 0) {  // a single element
    run.ptr = base;
    for (size_t k = 0; k < N; ++k) run.stride[k] = item[k];
    run.n = 1;
    body(run);
    return;
  }
  for (size_t k = 0; k < N; ++k) run.stride[k] = st[k][nd - 1];

  // Tiles: the first operand that steps beyond a cache line along the run but within one along
  // an outer dim; that dim moves next to the innermost and the two are walked in tiles.
  bool tiled = false;
  if (!writes_twice && nd >= 2) {
    for (size_t k = 0; k < N && !tiled; ++k) {
      const int64_t along = abs_stride(st[k][nd - 1]);
      if (along <= kCacheLine) continue;
      int best = -1;
      for (int d = 0; d < nd - 1; ++d) {
        const int64_t s = abs_stride(st[k][d]);
        if (s != 0 && s <= kCacheLine && (best < 0 || s < abs_stride(st[k][best]))) best = d;
      }
      if (best < 0) continue;
      std::rotate(dims + best, dims + best + 1, dims + nd - 1);
      for (size_t q = 0; q < N; ++q) std::rotate(st[q] + best, st[q] + best + 1, st[q] + nd - 1);
      tiled = true;
    }
  }

  // The innermost one dim (runs) or two (tiles), from base pointers p.
  const auto inner = [&](const std::array<char*, N>& p) {
    if (!tiled) {
      run.ptr = p;
      run.n = dims[nd - 1];
      body(run);
      return;
    }
    const int64_t rows = dims[nd - 2], cols = dims[nd - 1];
    for (int64_t r0 = 0; r0 < rows; r0 += kTileRows) {
      const int64_t r1 = std::min(rows, r0 + kTileRows);
      for (int64_t c0 = 0; c0 < cols; c0 += kTileCols) {
        run.n = std::min(kTileCols, cols - c0);
        for (size_t k = 0; k < N; ++k) run.ptr[k] = p[k] + r0 * st[k][nd - 2] + c0 * st[k][nd - 1];
        for (int64_t r = r0; r < r1; ++r) {
          body(run);
          for (size_t k = 0; k < N; ++k) run.ptr[k] += st[k][nd - 2];
        }
      }
    }
  };

  // An odometer over the remaining outer dims.
  const int outer = nd - (tiled ? 2 : 1);
  int64_t counter[kMaxLoopDims] = {};
  std::array<char*, N> p = base;
  while (true) {
    inner(p);
    int d = outer - 1;
    for (; d >= 0; --d) {
      if (++counter[d] < dims[d]) {
        for (size_t k = 0; k < N; ++k) p[k] += st[k][d];
        break;
      }
      for (size_t k = 0; k < N; ++k) p[k] -= st[k][d] * (dims[d] - 1);
      counter[d] = 0;
    }
    if (d < 0) return;
  }
}

// for_each_run over parts of one dim on xgrad's threads when the loop has at least 2 * grain
// elements. The split dim is operand 0's outermost in memory, and operand 0 must write each element
// once (no zero stride), so parts never share an output element and bodies that write only through
// operand 0 may run concurrently. Otherwise, and for small loops, it is for_each_run itself.
template <size_t N, typename Body>
void parallel_for_each_run(const Shape& shape, const std::array<Strides, N>& strides, std::array<char*, N> base,
                           const std::array<int64_t, N>& item, int64_t grain, Body&& body) {
  const int64_t n = xgrad::numel(shape);
  int split = -1;
  if (n >= 2 * grain && get_num_threads() > 1) {
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1) continue;
      if (strides[0][d] == 0) {
        split = -1;
        break;
      }
      if (split < 0 || abs_stride(strides[0][d]) > abs_stride(strides[0][split])) split = static_cast<int>(d);
    }
  }
  if (split < 0) {
    for_each_run<N>(shape, strides, base, item, body);
    return;
  }
  const int64_t rows = shape[split];
  parallel_for(
      rows, std::max<int64_t>(1, grain / (n / rows)),
      [&](int64_t begin, int64_t end) {
        Shape part = shape;
        part[split] = end - begin;
        std::array<char*, N> p = base;
        for (size_t k = 0; k < N; ++k) p[k] += begin * strides[k][split] * item[k];
        for_each_run<N>(part, strides, p, item, body);
      },
      1);
}

}  // namespace xgrad::detail
